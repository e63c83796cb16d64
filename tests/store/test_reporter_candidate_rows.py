"""A reporter's task list walks the candidate rows that name them (migration 0028, issue 13).

The reporter's row of a task carries who filed the case (``task_candidates.reporter_id``, the case's
``started_by``); every other row carries none. These tests show what the rows hold when cases are filed
through the API, that each reporter's list and count hold their own Pelapor tasks only (and a case filed
without an account is nobody's), and the migration filling the column for the open tasks and going back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text
from support.helpers import Persona, deploy_file, empty_database, insert_unit_and_revision, reflected, services_of

from service.store.migrate import alembic_config, upgrade
from service.store.models import Case, TaskCandidate, User

HOT_PATH = Path(__file__).resolve().parent.parent / "data" / "hot_path.bpmn"


@pytest.fixture
def people(client: Any, admin: Persona, make_persona: Callable[..., Persona]) -> dict[str, Persona]:
    """``hot_path`` (a Pelapor task, then a Kasi task) in unit A; two reporters and a Kasi there."""
    assert deploy_file(client, admin, HOT_PATH).status_code == 201
    return {"first": make_persona("pelapor.satu", "Pelapor@unit-a"),
            "second": make_persona("pelapor.dua", "Pelapor@unit-a"),
            "kasi": make_persona("kasi.hp", "Kasi@unit-a")}


def _file(client: Any, persona: Persona, title: str) -> dict[str, Any]:
    response = client.post("/api/cases", headers=persona.headers,
                           json={"definition_key": "hot_path", "data": {"judul": title}})
    assert response.status_code == 201, response.json
    return dict(response.json)


def _listed(client: Any, persona: Persona, **query: str) -> tuple[set[str], int]:
    body = client.get("/api/tasks", headers=persona.headers, query_string=query).json
    return {task["id"] for task in body["items"]}, body["total"]


def test_each_reporter_lists_the_pelapor_tasks_of_their_own_cases(client: Any, people: dict[str, Persona]) -> None:
    first = [_file(client, people["first"], f"Laporan {n}")["tasks"][0]["id"] for n in range(3)]
    second = _file(client, people["second"], "Laporan lain")["tasks"][0]["id"]
    services = services_of(client.application)
    with services.db.reading() as session:
        users = {name: user_id for name, user_id in session.execute(select(User.username, User.id))}
        rows = {(row.task_id, row.role): row.reporter_id for row in session.scalars(select(TaskCandidate))}
    assert rows == {**{(task, "Pelapor"): users["pelapor.satu"] for task in first},
                    (second, "Pelapor"): users["pelapor.dua"]}

    assert _listed(client, people["first"]) == (set(first), 3)
    assert _listed(client, people["first"], sort="-created_at", per_page="2")[1] == 3
    assert _listed(client, people["first"], lane="Pelapor") == (set(first), 3)
    assert _listed(client, people["second"]) == ({second}, 1)
    assert _listed(client, people["kasi"]) == (set(), 0)  # no Pelapor role: the reporters' rows are not theirs

    # the Pelapor task done, the Kasi task that follows is a staff row: it names no reporter
    done = client.post(f"/api/tasks/{first[0]}/complete", headers=people["first"].headers,
                       json={"data": {"judul": "Laporan 0", "uraian": "lengkap"}})
    assert done.status_code == 200, done.json
    kasi_task = done.json["tasks"][0]["id"]
    with services.db.reading() as session:
        assert session.scalar(select(TaskCandidate.reporter_id).where(TaskCandidate.task_id == kasi_task)) is None
    assert _listed(client, people["first"]) == (set(first[1:]), 2)
    assert _listed(client, people["kasi"]) == ({kasi_task}, 1)


def test_a_case_without_a_filer_is_no_reporters(client: Any, people: dict[str, Persona]) -> None:
    """A case nobody signed in filed (``started_by`` empty: public intake, a schedule) has a Pelapor row
    that names no reporter: no reporter account lists its task."""
    task = _file(client, people["first"], "Laporan")["tasks"][0]["id"]
    services = services_of(client.application)
    with services.db.transaction() as session:  # as if filed without an account
        session.execute(sa.update(Case).values(started_by=None))
        session.execute(sa.update(TaskCandidate).where(TaskCandidate.task_id == task).values(reporter_id=None))
    for persona in (people["first"], people["second"]):
        assert _listed(client, persona) == (set(), 0)


# --- the migration ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migration_0028_names_the_reporter_on_the_open_tasks_rows_and_downgrades(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from alembic import command

    url = empty_database(backend, request, tmp_path)
    upgrade(url, "0027")
    engine = sa.create_engine(url)
    tables = reflected(engine, "units", "users", "definitions", "cases", "tasks", "task_candidates")
    moment = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    filed, unfiled = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
    tasks = {n: f"00000000-0000-4000-8000-00000000010{n}" for n in range(3)}
    state: Any = b"{}" if backend == "postgres" else {}  # bytea on PostgreSQL since 0025, JSON on SQLite
    try:
        with engine.begin() as connection:
            insert_unit_and_revision(connection, tables, moment, "hot_path", user=(7, "pelapor"))
            connection.execute(sa.insert(tables["cases"]), [
                {"id": case_id, "definition_id": 1, "unit_id": 1, "status": "running", "state": state, "data": {},
                 "lock_version": 1, "created_at": moment, "updated_at": moment, "timer_failures": 0,
                 "started_by": started_by} for case_id, started_by in ((filed, 7), (unfiled, None))])
            # the filed case: a Pelapor task and a task of Kasi and Pelapor both; the other: a Pelapor task
            connection.execute(sa.insert(tables["tasks"]), [
                {"id": tasks[n], "case_id": case_id, "definition_key": "hot_path", "element_id": f"e{n}",
                 "name": "Langkah", "lane": lane, "unit_id": 1, "status": "ready", "created_at": moment}
                for n, case_id, lane in ((0, filed, "Pelapor"), (1, filed, "Kasi"), (2, unfiled, "Pelapor"))])
            connection.execute(sa.insert(tables["task_candidates"]), [
                {"task_id": tasks[n], "role": role, "unit_id": 1, "created_at": moment, "definition_key": "hot_path"}
                for n, role in ((0, "Pelapor"), (1, "Kasi"), (1, "Pelapor"), (2, "Pelapor"))])

        upgrade(url, "0028")
        with engine.connect() as connection:
            named = {(str(task), role): reporter for task, role, reporter in connection.execute(
                text("SELECT task_id, role, reporter_id FROM task_candidates"))}
            assert named == {(tasks[0], "Pelapor"): 7, (tasks[1], "Kasi"): None, (tasks[1], "Pelapor"): 7,
                             (tasks[2], "Pelapor"): None}
        indexes = {index["name"] for index in sa.inspect(engine).get_indexes("task_candidates")}
        assert {"ix_task_candidates_reporter_due", "ix_task_candidates_reporter_created"} <= indexes
        engine.dispose()

        command.downgrade(alembic_config(url), "0027")
        inspector = sa.inspect(engine)
        assert "reporter_id" not in {column["name"] for column in inspector.get_columns("task_candidates")}
        assert not any("reporter" in index["name"] for index in inspector.get_indexes("task_candidates"))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM task_candidates")).scalar_one() == 4
    finally:
        engine.dispose()
