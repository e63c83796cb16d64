"""The history chain's digests are stored as 32 bytes and read as 64 hex digits (``Digest``, migration 0026).

On both backends: a complaint's history rows store their digests as 32 bytes (the case row's head stays hex
text: the migration says why), the code
and the API see the hex they always saw, and the chain checks out; rows stored as hex text before the
migration (SQLite keeps them as they are) read the same; the migration's downgrade writes hex text back
and its upgrade reads it all back the same, with the chain intact and the case running on.
"""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text
from support import complaint_model
from support.complaint_model import FLOW, complete_step, history_chain, start
from support.helpers import Persona

from service.commands.history import GENESIS
from service.store.migrate import alembic_config, upgrade

#: fixtures of the complaint model (found by pytest by name)
engine, forms_dir, lanes = complaint_model.engine, complaint_model.forms_dir, complaint_model.lanes


def _raw(engine: Engine, case_id: str) -> list[Any]:
    with engine.connect() as conn:
        pairs = conn.execute(text("SELECT prev_hash, hash FROM history WHERE case_id = :c ORDER BY id"), {"c": case_id})
        return [value for row in pairs for value in row]


def test_digests_are_stored_as_32_bytes_and_read_as_hex(
        client: Any, lanes: dict[str, Persona], engine: Engine, admin: Persona) -> None:
    case_id = start(client, lanes)
    for step in FLOW["steps"]:
        complete_step(client, lanes, case_id, step)
    pairs, intact = history_chain(engine, case_id)
    assert intact and len(pairs) >= 4 and pairs[0][0] == GENESIS
    assert all(len(digest) == 64 and int(digest, 16) >= 0 for pair in pairs for digest in pair)
    raw = _raw(engine, case_id)
    assert all(isinstance(value, bytes | memoryview) and len(bytes(value)) == 32 for value in raw)
    assert [bytes(value).hex() for value in raw] == [d for pair in pairs for d in pair]
    shown = client.get(f"/api/cases/{case_id}", headers=admin.headers)
    assert shown.status_code == 200, shown.json
    assert [row["hash"] for row in shown.json["history"]] == [h for _p, h in pairs]


def test_migration_0026_downgrade_writes_hex_back_and_upgrade_reads_it(
        client: Any, lanes: dict[str, Persona], engine: Engine, db_url: str) -> None:
    case_id = start(client, lanes)
    first, *rest = FLOW["steps"]
    complete_step(client, lanes, case_id, first)
    before, intact = history_chain(engine, case_id)
    assert intact
    engine.dispose()
    command.downgrade(alembic_config(db_url), "0025")
    raw = _raw(engine, case_id)
    assert raw == [d for pair in before for d in pair]  # hex text again, on both backends
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            kinds = set(conn.execute(text(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attname IN ('hash', 'prev_hash') "
                "AND attrelid = 'history'::regclass"
            )).scalars())
        assert kinds == {"character varying(64)"}
    engine.dispose()
    upgrade(db_url)
    # SQLite keeps the hex rows as they are, PostgreSQL decoded them: read the same either way
    assert history_chain(engine, case_id) == (before, True)
    for step in rest:  # the chain goes on from the head read back
        complete_step(client, lanes, case_id, step)
    after, intact = history_chain(engine, case_id)
    assert intact and after[:len(before)] == before and after[len(before)][0] == before[-1][1]


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_postgres_stores_the_digests_as_bytea(engine: Engine) -> None:
    with engine.connect() as conn:
        kinds = dict(conn.execute(text(
            "SELECT attrelid::regclass::text || '.' || attname, format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attname IN ('hash', 'prev_hash', 'history_head') "
            "AND attrelid IN ('history'::regclass, 'cases'::regclass)")).all())
    assert kinds == {"history.hash": "bytea", "history.prev_hash": "bytea",
                     "cases.history_head": "character varying(64)"}
