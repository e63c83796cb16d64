"""Moving a running workflow to another revision, keeping its SLA timers' due instants."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
import time_machine
from support.helpers import ENGINE_DATA

from service.engine import CaseRun, WorkCalendar, compile_definition
from service.engine.migrate import check, migrate, waiting_timer_values

V1 = compile_definition((ENGINE_DATA / "revision_v1.bpmn").read_bytes(), lambda key: True)
V2 = compile_definition((ENGINE_DATA / "revision_v2.bpmn").read_bytes(), lambda key: True)
CALENDAR = WorkCalendar()
STARTED = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 09:00 WIB


def _case_after(steps: int) -> CaseRun:
    """A v1 case that completed ``steps`` tasks, passed through serialize/deserialize."""
    with time_machine.travel(STARTED, tick=False):
        run = CaseRun.start(V1, {"judul": "uji"}, CALENDAR)
        for step in range(steps):
            run.complete(run.ready_tasks()[0].id, {f"langkah_{step}": True})
    return CaseRun.restore(V1, run.dump(), CALENDAR)


def _finish(run: CaseRun) -> list[str]:
    done = []
    while not run.completed:
        task = run.ready_tasks()[0]
        run.complete(task.id, {})
        run = CaseRun.restore(run.compiled, run.dump(), CALENDAR)
        done.append(task.element_id)
    return done


@pytest.mark.parametrize(("steps", "at", "remaining"), [
    (0, "terima", ["terima", "putuskan", "balas", "arsip"]),
    (2, "putuskan", ["putuskan", "balas", "arsip"]),
    (3, "arsip", ["arsip"]),
], ids=["at-terima", "at-putuskan", "at-arsip"])
def test_case_moves_keeps_its_timer_and_finishes_on_the_new_revision(steps: int, at: str,
                                                                     remaining: list[str]) -> None:
    run = _case_after(steps)
    timers = dict(waiting_timer_values(run.workflow))
    due_before = {task.id: task.due_at for task in run.ready_tasks()}
    found = check(run.workflow, V2)
    assert found.can_move and at in found.current
    with time_machine.travel(datetime(2026, 3, 20, tzinfo=UTC), tick=False):  # weeks later
        migrate(run.workflow, V2)
        moved = CaseRun.restore(V2, run.dump(), CALENDAR)
    assert waiting_timer_values(moved.workflow) == timers
    assert {task.id: task.due_at for task in moved.ready_tasks()} == due_before
    assert moved.ready_tasks()[0].element_id == at
    data = dict(moved.workflow.get_task_from_id(UUID(moved.ready_tasks()[0].id)).data)
    assert data["judul"] == "uji" and all(data[f"langkah_{step}"] for step in range(steps))
    assert _finish(moved) == remaining


def test_renamed_task_takes_the_new_name() -> None:
    run = _case_after(0)
    migrate(run.workflow, V2)
    assert run.ready_tasks()[0].name == "Terima dan catat pengaduan"


def test_case_at_a_removed_task_is_blocked_and_not_changed() -> None:
    run = _case_after(1)
    state = run.dump()
    found = check(run.workflow, V2)
    assert not found.can_move
    assert {blocker.element_id for blocker in found.blockers} == {"telaah", "sla_telaah"}
    assert "does not exist in the target revision" in found.blockers[0].reason
    with pytest.raises(ValueError, match="telaah"):
        migrate(run.workflow, V2)
    assert run.dump() == state


def test_a_case_can_move_back_to_the_older_revision_when_it_is_at_a_shared_task() -> None:
    run = _case_after(0)
    migrate(run.workflow, V2)
    assert check(run.workflow, V1).can_move
    migrate(run.workflow, V1)
    assert _finish(CaseRun.restore(V1, run.dump(), CALENDAR)) == ["terima", "telaah", "putuskan", "arsip"]
