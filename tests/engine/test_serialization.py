"""State-only serialization, and a frozen dump of format 1 that must keep loading.

``data/state_v1.json`` was written once (format 1, SpiffWorkflow 3.2) by starting ``review.bpmn``
on Monday 2 February 2026 02:00 UTC and dumping it at its first task. Never regenerate it: when
the format changes, add a migration and a new frozen file, and keep this test.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import time_machine
from support.helpers import ENGINE_DATA

from service.engine import CaseRun, WorkCalendar, compile_definition
from service.engine.serialization import FORMAT_KEY, FORMAT_VERSION, dump_state, expand_state, load_state

COMPILED = compile_definition((ENGINE_DATA / "review.bpmn").read_bytes(),
                              {"uji-pengaduan", "uji-verifikasi"}.__contains__)
CALENDAR = WorkCalendar("Asia/Jakarta")
FROZEN = json.loads((ENGINE_DATA / "state_v1.json").read_text(encoding="utf-8"))
FROZEN_TASK = "3ceaa985-eb1c-45f1-96cf-4c3706c15bb2"
STARTED = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)


def test_frozen_v1_dump_loads_and_runs_to_the_end() -> None:
    assert FROZEN[FORMAT_KEY] == 1
    run = CaseRun.restore(COMPILED, FROZEN, CALENDAR)
    (task,) = run.ready_tasks()
    assert (task.id, task.element_id, task.due_at) == (FROZEN_TASK, "verifikasi", STARTED + timedelta(minutes=10))
    assert run.next_timer_at() == STARTED + timedelta(minutes=10)
    assert run.workflow.get_task_from_id(UUID(FROZEN_TASK)).data == {"judul": "Pungli di loket"}

    with time_machine.travel(STARTED + timedelta(minutes=20), tick=False):
        assert [t.element_id for t in run.fire_due_timers()] == ["sla_verifikasi"]
        run.complete(FROZEN_TASK, {"hasil": "lengkap"})
    (follow,) = run.ready_tasks()
    run.complete(follow.id, {})
    assert run.completed


def test_loading_does_not_change_the_stored_dump() -> None:
    kept = copy.deepcopy(FROZEN)
    CaseRun.restore(COMPILED, FROZEN, CALENDAR)
    CaseRun.restore(COMPILED, FROZEN, CALENDAR)
    assert kept == FROZEN


def test_dump_carries_the_format_and_no_spec() -> None:
    with time_machine.travel(STARTED, tick=False):
        state = CaseRun.start(COMPILED, {"judul": "x"}, CALENDAR).dump()
    assert state[FORMAT_KEY] == FORMAT_VERSION
    assert "spec" not in state and "subprocess_specs" not in state
    assert len(json.dumps(state)) < 12_000  # the spec alone would be bigger than this


def _without_deltas(state: dict[str, Any]) -> dict[str, Any]:
    """SpiffWorkflow recomputes each task's data ``delta`` bookkeeping; the rest must survive."""
    tasks = {tid: {k: v for k, v in task.items() if k != "delta"} for tid, task in state["tasks"].items()}
    return {**state, "tasks": tasks}


def test_dump_load_dump_keeps_every_task_and_its_data() -> None:
    workflow = load_state(FROZEN, COMPILED.spec, COMPILED.subprocess_specs)
    again = expand_state(json.loads(json.dumps(dump_state(workflow))))  # format 2 is format 1 written compactly
    assert _without_deltas(again) == _without_deltas(FROZEN)


def test_a_dump_without_format_number_goes_through_the_migrations() -> None:
    from service.engine import serialization

    seen: list[int] = []
    old = {k: v for k, v in FROZEN.items() if k != FORMAT_KEY}
    original = dict(serialization.MIGRATIONS)
    serialization.MIGRATIONS[0] = lambda dct: seen.append(0)
    try:
        run = CaseRun.restore(COMPILED, old, CALENDAR)
    finally:
        serialization.MIGRATIONS.clear()
        serialization.MIGRATIONS.update(original)
    assert seen == [0] and [t.id for t in run.ready_tasks()] == [FROZEN_TASK]


def test_a_dump_with_reordered_keys_keeps_the_case_data() -> None:
    """As JSONB or ``jq -S`` would store it: SpiffWorkflow rebuilds task data parent by parent."""
    shuffled = json.loads(json.dumps(FROZEN, sort_keys=True))
    shuffled["tasks"] = dict(reversed(list(shuffled["tasks"].items())))
    run = CaseRun.restore(COMPILED, shuffled, CALENDAR)
    assert run.workflow.get_task_from_id(UUID(FROZEN_TASK)).data == {"judul": "Pungli di loket"}
    run.complete(FROZEN_TASK, {"hasil": "lengkap"})
    (follow,) = run.ready_tasks()
    assert run.workflow.get_task_from_id(UUID(follow.id)).data == {"judul": "Pungli di loket", "hasil": "lengkap"}
