"""Migrating running cases between revisions: dry run, bulk execution, SLA timers kept, revert.

200 cases of ``revision_v1.bpmn`` at four positions (one per task; the first three with a waiting
SLA boundary timer) move to ``revision_v2.bpmn``, which renames ``terima``, changes the form-less
step ``putuskan`` (Mutu Baku and timer), removes ``telaah`` and adds ``balas``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from support.helpers import ENGINE_DATA, PASSWORD, Persona, deploy_file

from service.commands import accounts
from service.commands import tasks as task_commands
from service.commands.calendars import calendar_for
from service.commands.cases import record_new_case
from service.commands.context import Actor, Services
from service.commands.definitions import startable
from service.commands.history import HistoryWriter
from service.commands.specs import compiled_for
from service.commands.sync import write_back
from service.engine import CaseRun, WorkCalendar, compile_definition
from service.engine.migrate import waiting_timer_values
from service.store.models import Case, CaseMigration, HistoryEntry, Task

BASE = "/api/definitions/revisi_uji"
COUNT = 200
#: tasks completed before the migration → where the case is
POSITION = {0: "terima", 1: "telaah", 2: "putuskan", 3: "arsip"}
V1 = compile_definition((ENGINE_DATA / "revision_v1.bpmn").read_bytes(), lambda key: True)
V2 = compile_definition((ENGINE_DATA / "revision_v2.bpmn").read_bytes(), lambda key: True)
STARTED = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 08:00 WIB


def _ready(services: Services, case_id: str) -> list[Task]:
    with services.db.reading() as session:
        return list(session.scalars(select(Task).where(Task.case_id == case_id, Task.status == "ready")))


def _complete_next(services: Services, actor: Actor, case_id: str) -> str:
    task = _ready(services, case_id)[0]
    task_commands.complete(services, actor, task.id, {})
    return task.element_id


def _snapshot(services: Services) -> dict[str, dict[str, Any]]:
    """Per case: revision, lock, state, the due dates of its open tasks and its timers' event values."""
    with services.db.reading() as session:
        cases = session.scalars(select(Case).where(Case.status == "running")).all()
        tasks = session.scalars(select(Task).where(Task.status == "ready")).all()
        due = {task.case_id: (task.element_id, task.name, task.due_at) for task in tasks}
        return {case.id: {
            "version": case.definition.version, "lock": case.lock_version, "state": case.state,
            "task": due[case.id], "next_timer_at": case.next_timer_at,
            "timers": dict(waiting_timer_values(CaseRun.restore(
                V1 if case.definition.version == 1 else V2, case.state, WorkCalendar()).workflow)),
        } for case in cases}


def _bulk_start(services: Services, count: int) -> dict[str, int]:
    """``count`` v1 cases, each started (and moved on) at its own time, inserted in one transaction.

    The engine runs each case under time travel; the rows are written the way ``start_case`` writes
    them (``record_new_case``). Case id → number of tasks completed.
    """
    steps: dict[str, int] = {}
    with services.db.transaction() as session:
        definition = startable(services, session, "revisi_uji", 1)
        calendar = calendar_for(session, definition.unit)
        for number in range(count):
            with time_machine.travel(STARTED + timedelta(minutes=9 * number), tick=False):
                run = CaseRun.start(V1, {"nomor": number}, calendar)
                for _ in range(number % 4):
                    run.complete(run.ready_tasks()[0].id, {})
                case = record_new_case(session, definition, run, "admin", started_by=None, business_key=None,
                                       data={"nomor": number})
            steps[case.id] = number % 4
    return steps


def _finish_on_engine(services: Services, case_id: str) -> list[str]:
    """Complete every task of a case in one transaction (the bulk counterpart of tasks.complete)."""
    path = []
    with services.db.transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        run = CaseRun.restore(compiled_for(services, session, case.definition), case.state,
                              calendar_for(session, case.unit))
        while ready := run.ready_tasks():
            path.append(ready[0].element_id)
            run.complete(ready[0].id, {})
        write_back(session, case, run, HistoryWriter(session, case.id, "admin"))
    return path


@pytest.fixture
def world(request: pytest.FixtureRequest, app: Any, client: Any, admin: Persona) -> dict[str, Any]:
    """v1 and v2 deployed; COUNT cases (or the test's ``cases`` mark) started on v1 at different
    times, at the four positions."""
    assert deploy_file(client, admin, ENGINE_DATA / "revision_v1.bpmn").status_code == 201
    assert deploy_file(client, admin, ENGINE_DATA / "revision_v2.bpmn").status_code == 201
    services: Services = app.extensions["alur.services"]
    actor = accounts.authenticate(services, "admin", PASSWORD)
    count = getattr(request, "param", COUNT)
    return {"services": services, "actor": actor, "steps": _bulk_start(services, count)}


def _migrate(client: Any, persona: Persona, **body: Any) -> Any:
    return client.post(f"{BASE}/migrations", headers=persona.headers,
                       json={"from_version": 1, "to_version": 2, **body})


def test_dry_run_execute_complete_and_revert(client: Any, admin: Persona, world: dict[str, Any]) -> None:
    services, actor, steps = world["services"], world["actor"], world["steps"]
    before = _snapshot(services)
    assert len(before) == COUNT

    dry = _migrate(client, admin, dry_run=True)
    assert dry.status_code == 200, dry.json
    assert dry.json["counts"] == {"movable": 150, "blocked": 50, "migrated": 0, "skipped": 0, "failed": 0}
    for report in dry.json["cases"]:
        at = POSITION[steps[report["case_id"]]]
        assert at in report["current"]
        if at == "telaah":
            assert (report["status"], report["can_move"]) == ("blocked", False)
            assert {b["element_id"] for b in report["blockers"]} == {"telaah", "sla_telaah"}
            assert "does not exist in the target revision" in report["reason"]
        else:
            assert (report["status"], report["can_move"], report["blockers"]) == ("movable", True, [])
    assert _snapshot(services) == before  # a dry run changes nothing

    done = _migrate(client, admin, dry_run=False)
    assert done.status_code == 200, done.json
    assert done.json["counts"] == {"movable": 0, "blocked": 50, "migrated": 150, "skipped": 0, "failed": 0}
    after = _snapshot(services)
    for case_id, was in before.items():
        now = after[case_id]
        if steps[case_id] == 1:  # at the removed task: reported and left alone
            assert now == was
            continue
        assert now["version"] == 2
        assert now["task"][2] == was["task"][2]  # the due date in the task projection
        assert now["timers"] == was["timers"]  # the waiting SLA timer's own due instant
        assert now["next_timer_at"] == was["next_timer_at"]
        if steps[case_id] == 0:
            assert now["task"][1] == "Terima dan catat pengaduan"
            assert was["timers"] and was["task"][2] is not None
        if steps[case_id] == 2:
            assert set(was["timers"]) == {"sla_putuskan"}
    with services.db.reading() as session:
        migrated = session.scalars(select(HistoryEntry).where(HistoryEntry.action == "migrated")).all()
        assert len(migrated) == 150
        assert migrated[0].data["from_version"] == 1 and migrated[0].data["to_version"] == 2
        assert len(session.scalars(select(CaseMigration)).all()) == 150

    # revert one case: back on v1 with its old state, names and timers
    reverted = next(case_id for case_id, n in steps.items() if n == 0)
    response = client.post(f"/api/cases/{reverted}/migration/revert", headers=admin.headers)
    assert response.status_code == 200, response.json
    assert response.json["version"] == 1
    assert response.json["tasks"][0]["name"] == "Terima pengaduan"
    assert response.json["history"][-1]["action"] == "migration_reverted"
    back = _snapshot(services)[reverted]
    assert (back["state"], back["timers"], back["task"]) == (before[reverted]["state"], before[reverted]["timers"],
                                                           before[reverted]["task"])
    assert client.post(f"/api/cases/{reverted}/migration/revert", headers=admin.headers).status_code == 409
    blocked = next(case_id for case_id, n in steps.items() if n == 1)
    assert client.post(f"/api/cases/{blocked}/migration/revert", headers=admin.headers).status_code == 409

    # every migrated case completes on v2, the reverted one on v1: one case per position through the
    # task command (and the revert of a case that moved on is refused), the others in bulk
    by_command = {n: next(c for c, m in steps.items() if m == n and c != reverted) for n in (0, 2, 3)}
    for case_id, n in steps.items():
        if n == 1:
            continue
        if case_id in by_command.values():
            path = [_complete_next(services, actor, case_id)]
            response = client.post(f"/api/cases/{case_id}/migration/revert", headers=admin.headers)
            assert response.status_code == 409  # it moved on since the migration
            while _ready(services, case_id):
                path.append(_complete_next(services, actor, case_id))
        else:
            path = _finish_on_engine(services, case_id)
        expected = ["terima", "telaah", "putuskan", "arsip"] if case_id == reverted else \
            ["terima", "putuskan", "balas", "arsip"][{0: 0, 2: 1, 3: 3}[n]:]
        assert path == expected, (case_id, n)
        with services.db.reading() as session:
            case = session.get(Case, case_id)
            assert case is not None and case.status == "completed"


@pytest.mark.parametrize("world", [12], indirect=True, ids=["12-cases"])
def test_selected_cases_and_refusals(client: Any, admin: Persona, make_persona: Any, world: dict[str, Any]) -> None:
    steps = world["steps"]
    chosen = [*[case_id for case_id, n in steps.items() if n == 2][:3], "bukan-kasus"]
    response = _migrate(client, admin, dry_run=False, case_ids=chosen)
    assert response.status_code == 200, response.json
    assert [r["status"] for r in response.json["cases"]] == ["migrated"] * 3 + ["skipped"]
    again = _migrate(client, admin, dry_run=True, case_ids=chosen[:1])
    assert again.json["cases"][0]["status"] == "skipped"  # no longer on version 1
    kasi = make_persona("kasi.a", "Kasi@unit-a")
    assert _migrate(client, kasi, dry_run=True).status_code == 403
    assert _migrate(client, admin, dry_run=True, to_version=1).status_code == 422
    assert _migrate(client, admin, dry_run=True, to_version=5).status_code == 404
    assert client.post(f"{BASE}/versions/2/retire", headers=admin.headers).status_code == 200
    assert _migrate(client, admin, dry_run=True).status_code == 409
