"""A case's workflow state is stored deflated when long (``StoredState``, migrations 0025 and 0033; issue 13).

On both backends: a running complaint's stored state is a raw deflate stream made with the preset
dictionary, under half its JSON; a short state is stored as JSON text; a state stored as JSON text before
0025 (TEXT on SQLite, the bytes of its text on PostgreSQL) or as a zlib stream before 0033 is read, runs on,
and takes the dictionary's form at its next write. 0033's downgrade writes every dictionary state back as a
zlib stream; 0025's writes every deflated state back as JSON text (PostgreSQL: into a ``json`` column again);
the upgrades read them all back the same.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import zlib
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, insert, select, text
from support import complaint_model
from support.complaint_model import FLOW, complete_step, start
from support.helpers import Persona

from service.store import json_columns
from service.store.migrate import alembic_config, upgrade
from service.store.models import Case
from service.store.types import DEFLATE_FROM, DICTIONARY_MARK, STATE_DICTIONARY, state_of, stored_state

#: batches of 500 the downgrade of 0033 goes through in its test (and one row more)
BATCHES = 2

#: fixtures of the complaint model (found by pytest by name)
engine, forms_dir, lanes = complaint_model.engine, complaint_model.forms_dir, complaint_model.lanes


def _raw(engine: Engine, case_id: str) -> bytes | str:
    with engine.connect() as conn:
        value = conn.execute(text("SELECT state FROM cases WHERE id = :c"), {"c": case_id}).scalar_one()
    return value if isinstance(value, str) else bytes(value)


def _with_dictionary(stored: bytes) -> bytes:
    """The JSON text of a state stored with the dictionary, inflated here without the code under test."""
    assert stored[:1] == DICTIONARY_MARK, stored[:1]
    unpacker = zlib.decompressobj(-zlib.MAX_WBITS, zdict=STATE_DICTIONARY)
    return unpacker.decompress(stored[1:]) + unpacker.flush()


def test_the_dictionary_never_changes() -> None:
    """Every state stored with it needs these very bytes to be read: another dictionary takes another
    mark byte (and a migration), never an edit of this one."""
    assert hashlib.sha256(STATE_DICTIONARY).hexdigest() == (
        "b3f3fcd66cfb2ca05cfd29950289d1101bc6eb8d7df92f166be5def8b5726971")
    assert DICTIONARY_MARK not in (b"{", b"x")  # neither JSON text nor a zlib stream's first byte


def test_a_long_state_is_deflated_and_a_short_one_kept_as_json() -> None:
    long_state = {"tasks": [["a" * 36, "Task_aduan", 16, 1.5]] * 20, "data": {"judul": "Pungutan liar"}}
    stored = stored_state(long_state)
    assert _with_dictionary(stored) == json_columns.dumps(long_state).encode()
    assert len(stored) < len(json_columns.dumps(long_state)) / 2
    short = {"data": {}, "tasks": []}
    assert len(json_columns.dumps(short)) <= DEFLATE_FROM
    assert stored_state(short) == json_columns.dumps(short).encode()
    for value in (long_state, short):  # back from what is stored, and from JSON text as str or bytes
        assert state_of(stored_state(value)) == value
        assert state_of(json.dumps(value)) == value == state_of(json.dumps(value).encode())


def test_a_finished_case_s_short_state_is_deflated_too() -> None:
    """Plain deflate left states up to 256 bytes as JSON text; with the dictionary they shrink as well."""
    pruned = {"data": {"judul": "Pungli di loket"}, "last_task": None, "success": True, "completed": True,
              "tasks": [[str(uuid.UUID(int=1)), "Start", 64, 1796402463.1659646]], "alur_state_format": 2,
              "spiff_serializer_version": "1.5", "pruned": True}
    text = json_columns.dumps(pruned).encode()
    assert DEFLATE_FROM < len(text) <= 256
    stored = stored_state(pruned)
    assert _with_dictionary(stored) == text and len(stored) < len(text) / 2, (len(stored), len(text))
    assert state_of(stored) == pruned


def test_a_running_state_is_stored_in_under_half_its_json_and_a_fifth_less_than_plain_deflate(
        client: Any, lanes: dict[str, Persona], engine: Engine) -> None:
    case_id = start(client, lanes)
    raw = _raw(engine, case_id)
    assert isinstance(raw, bytes)
    text = _with_dictionary(raw)
    assert json.loads(text) == state_of(raw)
    assert len(text) > 1_000 and len(raw) < len(text) * 0.5, (len(raw), len(text))
    assert len(raw) < len(zlib.compress(text, 6)) * 0.85, (len(raw), len(zlib.compress(text, 6)))


def test_a_state_stored_as_json_text_runs_on_and_is_deflated_at_its_next_write(
        client: Any, lanes: dict[str, Persona], engine: Engine) -> None:
    case_id = start(client, lanes)
    state = state_of(_raw(engine, case_id))
    postgres = engine.dialect.name == "postgresql"
    as_stored = "convert_to(:s, 'UTF8')" if postgres else ":s"  # as a row stored before migration 0025
    with engine.begin() as conn:
        conn.execute(text(f"UPDATE cases SET state = {as_stored} WHERE id = :c"),
                     {"s": json.dumps(state), "c": case_id})
    before = _raw(engine, case_id)
    assert (before[:1] == b"{") if postgres else isinstance(before, str)
    (lane, element, data), *rest = FLOW["steps"]
    complete_step(client, lanes, case_id, (lane, element, data))
    after = _raw(engine, case_id)
    assert isinstance(after, bytes) and after[:1] == DICTIONARY_MARK and state_of(after) != state
    for lane, element, data in rest:
        _task, body = complete_step(client, lanes, case_id, (lane, element, data))
    assert body["status"] == "completed"


def test_a_state_stored_as_a_zlib_stream_runs_on_and_takes_the_dictionary_at_its_next_write(
        client: Any, lanes: dict[str, Persona], engine: Engine) -> None:
    case_id = start(client, lanes)
    state = state_of(_raw(engine, case_id))
    with engine.begin() as conn:  # as a row stored between migrations 0025 and 0033
        conn.execute(text("UPDATE cases SET state = :s WHERE id = :c"),
                     {"s": zlib.compress(json.dumps(state).encode(), 1), "c": case_id})
    assert _raw(engine, case_id)[:1] == b"x"
    steps = iter(FLOW["steps"])
    complete_step(client, lanes, case_id, next(steps))
    assert _raw(engine, case_id)[:1] == DICTIONARY_MARK
    for step in steps:
        _task, body = complete_step(client, lanes, case_id, step)
    assert body["status"] == "completed"


def test_migration_0033_downgrade_writes_zlib_streams_back_and_the_service_runs_on_after_upgrade(
        client: Any, lanes: dict[str, Persona], engine: Engine, db_url: str) -> None:
    running = start(client, lanes)
    finished = start(client, lanes)
    for step in FLOW["steps"]:
        complete_step(client, lanes, finished, step)
    cases = Case.__table__
    with engine.begin() as conn:  # copies of the running case: more rows than one batch of the downgrade
        row = dict(conn.execute(select(cases).where(cases.c.id == running)).mappings().one())
        copies = [{**row, "id": str(uuid.uuid4()), "registration_number": None} for _ in range(BATCHES * 500 + 1)]
        conn.execute(insert(cases), copies)
    states = {case_id: state_of(_raw(engine, case_id)) for case_id in (running, finished)}
    states.update((copy["id"], states[running]) for copy in copies)
    assert {_raw(engine, case_id)[:1] for case_id in states} == {DICTIONARY_MARK}
    engine.dispose()
    command.downgrade(alembic_config(db_url), "0032")
    with engine.connect() as conn:
        stored = {str(case_id): value if isinstance(value, str) else bytes(value)
                  for case_id, value in conn.execute(text("SELECT id, state FROM cases")).all()}
    for case_id, state in states.items():  # what the release before 0033 reads: a zlib stream
        raw = stored[case_id]
        assert isinstance(raw, bytes) and json.loads(zlib.decompress(raw)) == state
    engine.dispose()
    upgrade(db_url)
    assert {case_id: state_of(_raw(engine, case_id)) for case_id in states} == states
    complete_step(client, lanes, running, FLOW["steps"][0])
    assert _raw(engine, running)[:1] == DICTIONARY_MARK


def test_migration_0025_downgrade_writes_json_text_back_and_upgrade_reads_it(
        client: Any, lanes: dict[str, Persona], engine: Engine, db_url: str) -> None:
    running = start(client, lanes)
    finished = start(client, lanes)
    for lane, element, data in FLOW["steps"]:
        complete_step(client, lanes, finished, (lane, element, data))
    states = {case_id: state_of(_raw(engine, case_id)) for case_id in (running, finished)}
    assert _raw(engine, running)[:1] == DICTIONARY_MARK
    postgres = engine.dialect.name == "postgresql"
    engine.dispose()
    command.downgrade(alembic_config(db_url), "0024")
    with engine.connect() as conn:
        if postgres:
            assert conn.execute(text("SELECT data_type FROM information_schema.columns "
                                     "WHERE table_name = 'cases' AND column_name = 'state'")).scalar_one() == "json"
            texts = dict(conn.execute(text("SELECT id, state::text FROM cases")).all())
        else:
            assert conn.execute(text("SELECT count(*) FROM cases WHERE typeof(state) <> 'text'")).scalar_one() == 0
            texts = dict(conn.execute(text("SELECT id, state FROM cases")).all())
    assert {case_id: json.loads(texts[case_id]) for case_id in states} == states
    engine.dispose()
    upgrade(db_url)
    assert {case_id: state_of(_raw(engine, case_id)) for case_id in states} == states
    (lane, element, data), *_ = FLOW["steps"]
    complete_step(client, lanes, running, (lane, element, data))  # the service runs on after both
    assert _raw(engine, running)[:1] == DICTIONARY_MARK


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_postgres_keeps_the_state_as_bytea_with_its_compression_method(engine: Engine) -> None:
    with engine.connect() as conn:
        kind, method = conn.execute(text(
            "SELECT format_type(atttypid, atttypmod), attcompression FROM pg_attribute "
            "WHERE attrelid = 'cases'::regclass AND attname = 'state'")).one()
        lz4 = "lz4" in (conn.execute(text(
            "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar() or [])
    assert kind == "bytea"
    assert method == ("l" if lz4 else "")
