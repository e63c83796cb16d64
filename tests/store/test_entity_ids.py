"""Case and task ids: PostgreSQL ``uuid`` columns, canonical text to the code (``EntityId``, migration 0027).

On both backends: the API sees the ids it always saw; an id that is not a UUID names nothing (a 404, never
a failed statement); the task list finds a case by the start of its id; the migration's downgrade turns the
columns back into text and its upgrade into ``uuid`` again, with the foreign keys, the history chain and
the running case intact.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, text
from support import complaint_model
from support.complaint_model import FLOW, complete_step, history_chain, start
from support.helpers import Persona, migration_module

from service.store.migrate import alembic_config, upgrade
from service.store.models import Base
from service.store.types import MAX_UUID, NIL_UUID, ids_starting_with, is_canonical_uuid

migration = migration_module("0027_case_and_task_ids_as_uuid.py")
#: fixtures of the complaint model (found by pytest by name)
engine, forms_dir, lanes = complaint_model.engine, complaint_model.forms_dir, complaint_model.lanes


def _step(client: Any, lanes: dict[str, Persona], case_id: str, step: list[Any]) -> None:
    task, _done = complete_step(client, lanes, case_id, step)
    assert is_canonical_uuid(task["id"]) and is_canonical_uuid(task["case_id"])


def _column_types(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text(
            "SELECT c.relname || '.' || a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace"
        )).all())


def _foreign_keys(engine: Engine) -> set[tuple[str, str]]:
    with engine.connect() as conn:
        return set(conn.execute(text(
            "SELECT conrelid::regclass::text, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f' "
            "AND confrelid IN ('cases'::regclass, 'tasks'::regclass)")).all())


def _referencing() -> set[str]:
    """``table.column`` of every column the models make refer to ``cases.id`` or ``tasks.id``."""
    return {f"{table.name}.{column.name}" for table in Base.metadata.sorted_tables for column in table.columns
            if any(key.target_fullname in ("cases.id", "tasks.id") for key in column.foreign_keys)}


def _id_columns() -> set[str]:
    return {f"{table}.{column}" for table, columns in migration.ID_COLUMNS.items() for column in columns}


def test_the_migration_covers_every_column_that_references_a_case_or_a_task() -> None:
    assert _referencing() | {"cases.id", "tasks.id"} <= _id_columns()


def test_ids_starting_with_bound_a_range_of_canonical_ids() -> None:
    case_id = str(uuid.uuid4())
    assert ids_starting_with(case_id) == (case_id, case_id)
    first, last = ids_starting_with(case_id[:10])
    assert first == case_id[:10] + NIL_UUID[10:] and last == case_id[:10] + MAX_UUID[10:]
    assert first <= case_id <= last
    assert ids_starting_with("") == (NIL_UUID, MAX_UUID)
    for not_a_start in ("zz", "001/dumas", case_id + "0", case_id[:8] + "x", "ABCD"):
        assert ids_starting_with(not_a_start) == (NIL_UUID, NIL_UUID), not_a_start


def test_an_id_that_is_not_a_uuid_names_nothing(client: Any, lanes: dict[str, Persona], admin: Persona) -> None:
    case_id = start(client, lanes)
    headers = admin.headers
    for wrong in ("nope", case_id.upper(), case_id + "0", "' OR 1=1 --", NIL_UUID):
        assert client.get(f"/api/cases/{wrong}", headers=headers).status_code == 404, wrong
        assert client.get(f"/api/tasks/{wrong}", headers=headers).status_code == 404, wrong
        done = client.post(f"/api/tasks/{wrong}/complete", headers=headers, json={"data": {}})
        assert done.status_code == 404, (wrong, done.json)
    assert client.get(f"/api/cases/{case_id}", headers=headers).status_code == 200


@pytest.mark.parametrize("db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_postgres_stores_case_and_task_ids_as_uuid(client: Any, lanes: dict[str, Persona], engine: Engine) -> None:
    start(client, lanes)
    kinds = _column_types(engine)
    assert {column: kinds[column] for column in _id_columns()} == dict.fromkeys(_id_columns(), "uuid")
    assert kinds["attachments.task_id"] == kinds["comments.task_id"] == "character varying(36)"
    keys = _foreign_keys(engine)
    assert len(keys) == len(_referencing()) == 13  # the foreign keys were created again, every one


def test_migration_0027_downgrade_and_upgrade_keep_the_case_running(
        client: Any, lanes: dict[str, Persona], engine: Engine, db_url: str) -> None:
    case_id = start(client, lanes)
    first, *rest = FLOW["steps"]
    _step(client, lanes, case_id, first)
    postgres = engine.dialect.name == "postgresql"
    keys = _foreign_keys(engine) if postgres else set()
    engine.dispose()
    command.downgrade(alembic_config(db_url), "0026")
    if postgres:
        kinds = _column_types(engine)
        assert {kinds[column] for column in _id_columns()} == {"character varying(36)"}
        assert _foreign_keys(engine) == {(table, key.replace("uuid", "character varying")) for table, key in keys}
    engine.dispose()
    upgrade(db_url)
    if postgres:
        assert _foreign_keys(engine) == keys
    for step in rest:
        _step(client, lanes, case_id, step)
    shown = client.get(f"/api/cases/{case_id}", headers=lanes["Pelapor"].headers)
    assert shown.status_code == 200 and shown.json["id"] == case_id
    pairs, intact = history_chain(engine, case_id)
    assert intact and len(pairs) >= 4
