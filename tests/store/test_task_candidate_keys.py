"""Each candidate row holds a copy of its task's sort and filter columns (migration 0022, issue 13).

The task list walks the actor's ``task_candidates`` rows in the order of ``due_at``, ``created_at`` and
the task id, and filters on their ``due_at`` and ``definition_key``: the copies must equal the task's
columns whenever a candidate row exists. These tests check them after every way a task row is written
or changed while it is open (created, completed, cancelled, a due date that moves, a case moved to a
new revision) and after the migration fills the rows that were there before it, on both backends.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy import select
from support.diagrams import diagram, with_timer
from support.helpers import (
    deploy_bytes,
    empty_database,
    insert_unit_and_revision,
    reflected,
    review_variant,
    services_of,
    signed_in_now,
)

from service.commands.context import Services
from service.store.migrate import alembic_config, upgrade
from service.store.models import Task, TaskCandidate
from service.worker.loop import run_once

#: the copied columns, as the task list reads them
COPIED = ("unit_id", "due_at", "created_at", "definition_key")


#: a candidate row: (task id, role, its copies, its task's columns)
_Row = tuple[str, str, dict[str, Any], dict[str, Any]]


def _candidates(services: Services, case_id: str | None = None) -> list[_Row]:
    """(task id, role, the candidate's copies, the task's columns) of every candidate row (of a case)."""
    columns = [getattr(TaskCandidate, key) for key in COPIED] + [getattr(Task, key) for key in COPIED]
    statement = (select(TaskCandidate.task_id, TaskCandidate.role, *columns)
                 .join(Task, Task.id == TaskCandidate.task_id).order_by(TaskCandidate.task_id, TaskCandidate.role))
    if case_id is not None:
        statement = statement.where(Task.case_id == case_id)
    with services.db.reading() as session:
        rows = session.execute(statement).all()
    return [(row[0], row[1], dict(zip(COPIED, row[2:6], strict=True)), dict(zip(COPIED, row[6:], strict=True)))
            for row in rows]


def _in_step(services: Services, case_id: str | None = None) -> list[tuple[str, str]]:
    """The (task id, role) of every candidate row (of a case), after checking that its copies are its task's."""
    found = _candidates(services, case_id)
    for task_id, role, copies, task in found:
        assert copies == task, (task_id, role)
    return [(task_id, role) for task_id, role, _, _ in found]


def _start_at_start(client: Any, admin: Any, key: str) -> dict[str, Any]:
    """A case of ``key`` started at :data:`START` (the clock stopped there)."""
    with time_machine.travel(START, tick=False):
        started = client.post("/api/cases", headers=signed_in_now(client, admin).headers,
                              json={"definition_key": key})
    assert started.status_code == 201, started.json
    body: dict[str, Any] = started.json
    return body


def _ready(services: Services, case_id: str) -> dict[str, Task]:
    with services.db.reading() as session:
        rows = session.scalars(select(Task).where(Task.case_id == case_id, Task.status == "ready")).all()
        session.expunge_all()
    return {row.element_id: row for row in rows}


def test_a_new_task_and_the_next_one_carry_their_tasks_columns(client: Any, staff: dict[str, Any],
                                                              start_review: Any) -> None:
    services = services_of(client.application)
    case = start_review()
    first = case["tasks"][0]
    assert _in_step(services, case["id"]) == [(first["id"], "Kasi")]
    copies = _candidates(services, case["id"])[0][2]
    assert copies["definition_key"] == "review" and copies["due_at"] is not None
    assert copies["created_at"] == datetime.fromisoformat(first["created_at"])

    done = client.post(f"/api/tasks/{first['id']}/complete", headers=staff["kasi_a"].headers,
                       json={"data": {"hasil": "lengkap"}})
    assert done.status_code == 200, done.json
    follow_up = _ready(services, case["id"])["tindak_lanjut"]
    # the completed task has no candidates left; the next one's two candidate groups each hold the copies
    assert _in_step(services, case["id"]) == [(follow_up.id, "Kabid"), (follow_up.id, "Tim Audit")]
    assert _candidates(services, case["id"])[0][3]["due_at"] == follow_up.due_at


def test_a_cancelled_case_leaves_no_candidate_rows(client: Any, staff: dict[str, Any], start_review: Any) -> None:
    services = services_of(client.application)
    case, other = start_review(), start_review()
    response = client.post(f"/api/cases/{case['id']}/cancel", headers=staff["admin_a"].headers, json={})
    assert response.status_code == 200, response.json
    assert _in_step(services, case["id"]) == []
    assert _in_step(services) == [(other["tasks"][0]["id"], "Kasi")]


#: a Kasi task whose SLA timer repeats hourly, three times: its due date is the next firing
CYCLE = diagram("berulang", with_timer("timeCycle", "R3/PT1H"))
START = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)


def test_a_due_date_that_moves_moves_in_the_candidate_rows(client: Any, admin: Any, make_persona: Any) -> None:
    services = services_of(client.application)
    kasi = make_persona("kasi", "Kasi@unit-a")
    assert deploy_bytes(client, admin, CYCLE, name="berulang.bpmn").status_code == 201
    started = _start_at_start(client, admin, "berulang")
    case_id = started["id"]
    task_id = started["tasks"][0]["id"]
    first_due = _ready(services, case_id)["kerja"].due_at
    assert first_due == START + timedelta(hours=1)
    with time_machine.travel(START + timedelta(hours=1, minutes=1), tick=False):
        assert run_once(services) is True
        kasi_then = signed_in_now(client, kasi)
        listed = client.get("/api/tasks", headers=kasi_then.headers, query_string={"due_before": (
            START + timedelta(hours=1, minutes=30)).isoformat()}).json
    moved = _ready(services, case_id)["kerja"].due_at
    assert moved == START + timedelta(hours=2)  # the next firing
    assert _in_step(services, case_id) == [(task_id, "Kasi")]
    assert _candidates(services, case_id)[0][2]["due_at"] == moved
    # the list filters on the copy: no longer due before 03:30
    assert listed["total"] == 0 and listed["items"] == []


#: two parallel Kasi tasks, ``kerja`` with an hourly repeating SLA timer and ``lain`` without one
PARALLEL = diagram("sejajar", """
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="split" />
    <bpmn:parallelGateway id="split"><bpmn:incoming>f0</bpmn:incoming>
      <bpmn:outgoing>fa</bpmn:outgoing><bpmn:outgoing>fb</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:sequenceFlow id="fa" sourceRef="split" targetRef="kerja" />
    <bpmn:sequenceFlow id="fb" sourceRef="split" targetRef="lain" />
    <bpmn:userTask id="kerja" name="Kerja"><bpmn:incoming>fa</bpmn:incoming><bpmn:outgoing>fa2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:userTask id="lain" name="Lain"><bpmn:incoming>fb</bpmn:incoming><bpmn:outgoing>fb2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:boundaryEvent id="sla" name="SLA" attachedToRef="kerja" cancelActivity="false">
      <bpmn:timerEventDefinition id="td"><bpmn:timeCycle>R3/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="fa2" sourceRef="kerja" targetRef="join" />
    <bpmn:sequenceFlow id="fb2" sourceRef="lain" targetRef="join" />
    <bpmn:parallelGateway id="join"><bpmn:incoming>fa2</bpmn:incoming><bpmn:incoming>fb2</bpmn:incoming>
      <bpmn:outgoing>f_end</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:endEvent id="end"><bpmn:incoming>f_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_end" sourceRef="join" targetRef="end" />""")


def test_completing_one_branch_keeps_the_others_moved_due_date_in_step(client: Any, admin: Any,
                                                                       make_persona: Any) -> None:
    """The command completes ``lain`` after ``kerja``'s timer came due: the engine fires it within the
    command, ``kerja``'s due date moves, and its row (not read by the command) is updated by statement."""
    services = services_of(client.application)
    kasi = make_persona("kasi", "Kasi@unit-a")
    assert deploy_bytes(client, admin, PARALLEL, name="sejajar.bpmn").status_code == 201
    started = _start_at_start(client, admin, "sejajar")
    case_id = started["id"]
    ready = _ready(services, case_id)
    assert ready["kerja"].due_at == START + timedelta(hours=1) and ready["lain"].due_at is None
    with time_machine.travel(START + timedelta(hours=1, minutes=1), tick=False):
        done = client.post(f"/api/tasks/{ready['lain'].id}/complete", headers=signed_in_now(client, kasi).headers,
                           json={"data": {}})
        assert done.status_code == 200, done.json
        run_once(services)  # fires it here unless the command did
    kerja = _ready(services, case_id)["kerja"]
    assert kerja.due_at == START + timedelta(hours=2)
    assert _in_step(services, case_id) == [(kerja.id, "Kasi")]


def test_a_case_moved_to_a_new_revision_keeps_the_copies(client: Any, admin: Any, staff: dict[str, Any],
                                                         start_review: Any) -> None:
    services = services_of(client.application)
    case = start_review()
    renamed = review_variant("review", ('name="Verifikasi kelengkapan"', 'name="Verifikasi berkas"'))
    assert deploy_bytes(client, admin, renamed, name="review.bpmn").status_code == 201
    moved = client.post("/api/definitions/review/migrations", headers=admin.headers,
                        json={"from_version": 1, "to_version": 2, "dry_run": False})
    assert moved.status_code == 200 and moved.json["counts"]["migrated"] == 1, moved.json
    assert _in_step(services, case["id"]) == [(case["tasks"][0]["id"], "Kasi")]
    with services.db.reading() as session:
        assert session.scalar(select(Task.name).where(Task.id == case["tasks"][0]["id"])) == "Verifikasi berkas"


# --- the migration ------------------------------------------------------------------------------

def _indexes(engine: sa.Engine) -> set[str]:
    return {index["name"] or "" for index in sa.inspect(engine).get_indexes("task_candidates")}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migration_0022_fills_the_copies_of_existing_rows_and_downgrades(
        backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    from alembic import command

    url = empty_database(backend, request, tmp_path)
    upgrade(url, "0021")
    engine = sa.create_engine(url)
    tables = reflected(engine, "units", "definitions", "cases", "tasks", "task_candidates")
    moment = datetime(2026, 11, 30, 8, 15, 30, 123456, tzinfo=UTC)
    due = {"t-dated": moment + timedelta(days=2), "t-undated": None}
    try:
        with engine.begin() as connection:
            insert_unit_and_revision(connection, tables, moment)
            connection.execute(sa.insert(tables["cases"]).values(
                id="c-1", definition_id=1, unit_id=1, status="running", state={}, data={}, lock_version=1,
                created_at=moment, updated_at=moment, timer_failures=0))
            for number, (task_id, due_at) in enumerate(due.items()):
                connection.execute(sa.insert(tables["tasks"]).values(
                    id=task_id, case_id="c-1", definition_key="review", element_id="kerja", name="Kerja",
                    lane="Kasi", unit_id=1, status="ready", due_at=due_at,
                    created_at=moment + timedelta(minutes=number)))
                connection.execute(sa.insert(tables["task_candidates"]), [
                    {"task_id": task_id, "role": role, "unit_id": 1} for role in ("Kasi", "Kabid")])
        upgrade(url, "0022")
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT task_id, role, due_at, created_at, definition_key FROM task_candidates "
                "ORDER BY task_id, role")).all()
        assert len(rows) == 4
        engine.dispose()
        services_engine = sa.create_engine(url)  # read back through the models' own types (the columns of 0022)
        with sa.orm.Session(services_engine) as session:
            found = {(task_id, role): (due_at, created_at, definition_key)
                     for task_id, role, due_at, created_at, definition_key in session.execute(select(
                         TaskCandidate.task_id, TaskCandidate.role, TaskCandidate.due_at, TaskCandidate.created_at,
                         TaskCandidate.definition_key))}
        services_engine.dispose()
        assert found == {(task_id, role): (due_at, moment + timedelta(minutes=number), "review")
                         for number, (task_id, due_at) in enumerate(due.items()) for role in ("Kabid", "Kasi")}
        assert {"ix_task_candidates_due", "ix_task_candidates_created"} <= _indexes(engine)
        assert "ix_task_candidates_unit_role_task" not in _indexes(engine)

        command.downgrade(alembic_config(url), "0021")
        engine.dispose()
        columns = {column["name"] for column in sa.inspect(engine).get_columns("task_candidates")}
        assert columns == {"task_id", "role", "unit_id"}
        assert _indexes(engine) == {"ix_task_candidates_unit_role_task"}
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT count(*) FROM task_candidates")).scalar() == 4
    finally:
        engine.dispose()
