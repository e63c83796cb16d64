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
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from support import complaint_model
from support.complaint_model import FLOW, start
from support.helpers import Persona

from service.commands.history import GENESIS, check_chain
from service.store.migrate import alembic_config, upgrade
from service.store.models import Case, HistoryEntry

#: fixtures of the complaint model (found by pytest by name)
engine, forms_dir, lanes = complaint_model.engine, complaint_model.forms_dir, complaint_model.lanes


def _step(client: Any, lanes: dict[str, Persona], case_id: str, step: list[Any]) -> None:
    lane, element, data = step
    listed = client.get("/api/tasks", headers=lanes[lane].headers)
    (task,) = [t for t in listed.json["items"] if t["case_id"] == case_id and t["element_id"] == element]
    done = client.post(f"/api/tasks/{task['id']}/complete", headers=lanes[lane].headers, json={"data": data})
    assert done.status_code == 200, done.json


def _chain(engine: Engine, case_id: str) -> tuple[list[tuple[str, str]], bool]:
    """The case's (prev_hash, hash) pairs as the code reads them, and whether its chain checks out."""
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        entries = list(session.scalars(select(HistoryEntry).where(HistoryEntry.case_id == case_id)
                                       .order_by(HistoryEntry.id)))
        return [(e.prev_hash, e.hash) for e in entries], check_chain(case_id, entries, case.history_head).intact


def _raw(engine: Engine, case_id: str) -> list[Any]:
    with engine.connect() as conn:
        pairs = conn.execute(text("SELECT prev_hash, hash FROM history WHERE case_id = :c ORDER BY id"), {"c": case_id})
        return [value for row in pairs for value in row]


def test_digests_are_stored_as_32_bytes_and_read_as_hex(
        client: Any, lanes: dict[str, Persona], engine: Engine, admin: Persona) -> None:
    case_id = start(client, lanes)
    for step in FLOW["steps"]:
        _step(client, lanes, case_id, step)
    pairs, intact = _chain(engine, case_id)
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
    _step(client, lanes, case_id, first)
    before, intact = _chain(engine, case_id)
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
    assert _chain(engine, case_id) == (before, True)
    for step in rest:  # the chain goes on from the head read back
        _step(client, lanes, case_id, step)
    after, intact = _chain(engine, case_id)
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
