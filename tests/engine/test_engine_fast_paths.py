"""The engine's cheap ways (issue 13) against SpiffWorkflow's own, step by step.

:class:`SpiffWay` is a :class:`CaseRun` as it was before: SpiffWorkflow's ``do_engine_steps``,
``refresh_waiting_tasks`` and ``do_engine_steps`` again, its task iterators for every question, its
converters (:func:`dump_state_via_spiff`, :func:`load_state_via_spiff`). The same scenarios (timers,
messages, a multi-instance task, a call activity with a timer inside) are played both ways, the state
through JSON between steps, and must give the same tasks, timers, notifications and state at every
step. On the way, every state is also written and read both ways (the same JSON text, the same
workflow), and the tree walks give SpiffWorkflow's tasks in SpiffWorkflow's order.
"""

from __future__ import annotations

import json
import re
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util import task as spiff_task
from SpiffWorkflow.util.task import TaskIterator, TaskState
from support.helpers import ENGINE_DATA, review_variant

from service.engine import CaseRun, WorkCalendar, compile_definition, walk
from service.engine.budget import StepBudget
from service.engine.compiler import CompiledDefinition
from service.engine.serialization import (
    dump_state,
    dump_state_via_spiff,
    load_state,
    load_state_via_spiff,
)

FORMS = {"uji-pengaduan", "uji-verifikasi"}.__contains__
CALENDAR = WorkCalendar("Asia/Jakarta")
MONDAY = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)
REVIEW = compile_definition((ENGINE_DATA / "review.bpmn").read_bytes(), FORMS)
#: ``tindak_lanjut`` once per bidang, in parallel, its SLA timer on the whole activity
MULTI = compile_definition(review_variant("review", (
    "<bpmn:outgoing>f4</bpmn:outgoing>\n    </bpmn:userTask>",
    '<bpmn:outgoing>f4</bpmn:outgoing>\n      <bpmn:multiInstanceLoopCharacteristics camunda:collection="bidang_tujuan"'
    ' camunda:elementVariable="bidang"/>\n    </bpmn:userTask>')), FORMS)
#: ``tindak_lanjut`` calls the whole review (its own timers and message catch) as a subprocess
CALLER = compile_definition(review_variant("pemanggil", (
    '<bpmn:userTask id="tindak_lanjut" name="Tindak lanjut" camunda:candidateGroups="Kabid,Tim Audit">',
    '<bpmn:callActivity id="tindak_lanjut" name="Tindak lanjut" calledElement="sub">'),
    ("</bpmn:userTask>\n    <bpmn:boundaryEvent id=\"sla_tindak_lanjut\"",
     "</bpmn:callActivity>\n    <bpmn:boundaryEvent id=\"sla_tindak_lanjut\"")), FORMS, [review_variant("sub")])

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class SpiffWay(CaseRun):
    """A case run the way SpiffWorkflow does everything (the reference)."""

    def __init__(self, compiled: CompiledDefinition, workflow: BpmnWorkflow, calendar: WorkCalendar) -> None:
        super().__init__(compiled, workflow, calendar)
        vars(workflow).pop("update_waiting_tasks", None)  # SpiffWorkflow's own

    @classmethod
    def restore(cls, compiled: CompiledDefinition, state: Any, calendar: WorkCalendar) -> CaseRun:
        return cls(compiled, load_state_via_spiff(state, compiled.spec, compiled.subprocess_specs), calendar)

    def dump(self) -> dict[str, Any]:
        return dump_state_via_spiff(self.workflow)

    def _advance(self, budget: StepBudget | None = None) -> None:
        steps = budget or StepBudget()

        def did_complete(task: Any) -> None:
            steps(task)
            self._note_thrown(task)

        for sub in self.workflow.subprocesses.values():
            vars(sub).pop("update_waiting_tasks", None)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.workflow.do_engine_steps(did_complete_task=did_complete)
            self.workflow.refresh_waiting_tasks()
            self.workflow.do_engine_steps(did_complete_task=did_complete)
        self._open = None
        steps.check_all(self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING))

    def _open_tasks(self) -> list[tuple[Any, int]]:
        return [(task, -1) for task in self.workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)]

    def _waiting_timers(self) -> list[Any]:
        return [task for task in self.workflow.get_tasks(state=TaskState.WAITING)
                if getattr(task.task_spec, "event_definition", None) is not None
                and type(task.task_spec.event_definition).__name__.endswith("TimerEventDefinition")]


def canonical(state: dict[str, Any]) -> str:
    """The state's JSON with each task id replaced by the order it first appears in (new tasks get random ids)."""
    text = json.dumps(state)
    names: dict[str, str] = {}
    return UUID_TEXT.sub(lambda found: names.setdefault(found.group(0), f"#{len(names)}"), text)


def check_both_ways(run: CaseRun) -> None:
    """The state written and read directly is SpiffWorkflow's, and the walks find SpiffWorkflow's tasks."""
    workflow = run.workflow
    state = dump_state(workflow)
    assert json.dumps(state) == json.dumps(dump_state_via_spiff(workflow))
    stored = json.loads(json.dumps(state))
    text = json.dumps(stored)
    fast, slow = (load_state(stored, run.compiled.spec, run.compiled.subprocess_specs),
                  load_state_via_spiff(stored, run.compiled.spec, run.compiled.subprocess_specs))
    assert json.dumps(stored) == text  # reading does not change the stored state
    assert described(fast) == described(slow)
    for mask in (TaskState.READY, TaskState.WAITING, walk.OPEN, TaskState.ANY_MASK, TaskState.FINISHED_MASK):
        assert walk.walk(workflow.task_tree, mask) == workflow.get_tasks(state=mask)
    assert list(walk.waiting_as_they_come(workflow.task_tree)) == list(
        TaskIterator(workflow.task_tree, state=TaskState.WAITING))
    for sub in workflow.subprocesses.values():
        assert walk.ready_engine_tasks(sub) == [t for t in sub.get_tasks(state=TaskState.READY)
                                                if not t.task_spec.manual]


def described(workflow: BpmnWorkflow) -> dict[str, Any]:
    """Everything a restored workflow holds, as plain values."""
    def tasks(of: Any) -> list[Any]:
        return [(str(t.id), str(t._parent), [str(c) for c in t._children], t.state, t.task_spec.name,
                 t.last_state_change, t.triggered, repr(t.internal_data), repr(t.data),
                 t.parent is None or t.parent.id == t._parent) for t in of.tasks.values()]

    return {"tasks": tasks(workflow), "root": str(workflow.task_tree.id), "data": repr(workflow.data),
            "last": str(workflow.last_task.id) if workflow.last_task else None, "completed": workflow.completed,
            "subprocesses": {str(k): (str(v.parent_task_id), v.spec.name, tasks(v), repr(v.data), v.completed,
                                      str(v.last_task.id) if v.last_task else None)
                             for k, v in workflow.subprocesses.items()},
            "events": sorted(str(task_id) for task_id in workflow.event_manager.tasks),
            "bpmn_events": len(workflow.bpmn_events), "correlations": repr(workflow.correlations)}


Step = tuple[Any, ...]


def play(cls: type[CaseRun], compiled: CompiledDefinition, steps: list[Step], data: dict[str, Any]) -> Iterator[Any]:
    """Each step's observations: what the service reads from a case after it."""
    with time_machine.travel(MONDAY, tick=False):
        run = cls.start(compiled, data, CALENDAR)
        yield "start", observed(run)
        state = json.loads(json.dumps(run.dump()))
    for minutes, action, *args in steps:
        with time_machine.travel(MONDAY + timedelta(minutes=minutes), tick=False):
            run = cls.restore(compiled, state, CALENDAR)
            if cls is CaseRun:
                check_both_ways(run)
            if action == "fire":
                result: Any = run.fire_due_timers()
            elif action == "message":
                result = run.deliver_message(*args)
            else:
                element, answer = args
                ready = [task for task in run.ready_tasks() if task.element_id == element]
                run.complete(ready[0].id, answer)
                result = len(ready)
            yield action, result, observed(run)
            if cls is CaseRun:
                check_both_ways(run)
            state = json.loads(json.dumps(run.dump()))


def observed(run: CaseRun) -> Any:
    return ([(t.element_id, t.instance, t.due_at, t.roles) for t in run.ready_tasks()], run.next_timer_at(),
            sorted(run.waiting_messages()), [(n.name, n.payload, n.element_id) for n in run.take_notifications()],
            run.completed, canonical(run.dump()))


SCENARIOS = {
    "review: SLA fires, more information, working-day timer, done": (REVIEW, {"judul": "Pungli"}, [
        (5, "fire"), (11, "fire"), (12, "fire"), (13, "complete", "verifikasi", {"hasil": "kurang"}),
        (14, "message", "pesan_lain", {"x": 1}), (15, "message", "informasi_tambahan", {"lampiran": "ktp.pdf"}),
        (16, "complete", "verifikasi", {"hasil": "lengkap"}), (60 * 24 * 3, "fire"),
        (60 * 24 * 3 + 1, "complete", "tindak_lanjut", {"keterangan": "selesai"})]),
    "review: rejected": (REVIEW, {"judul": "Pungli"}, [(1, "complete", "verifikasi", {"hasil": "ditolak"})]),
    "multi-instance: three bidang answer in turn, the SLA fires between": (
        MULTI, {"judul": "Bansos", "bidang_tujuan": ["rehsos", "linjamsos", "dayasos"]}, [
            (1, "complete", "verifikasi", {"hasil": "lengkap"}),
            (2, "complete", "tindak_lanjut", {"keterangan": "satu"}), (60 * 24 * 3, "fire"),
            (60 * 24 * 3 + 1, "complete", "tindak_lanjut", {"keterangan": "dua"}),
            (60 * 24 * 3 + 2, "complete", "tindak_lanjut", {"keterangan": "tiga"})]),
    "call activity: the subprocess's own timer, message and end": (CALLER, {"judul": "Dana desa"}, [
        (1, "complete", "verifikasi", {"hasil": "lengkap"}), (13, "fire"),
        (14, "complete", "verifikasi", {"hasil": "kurang"}), (15, "message", "informasi_tambahan", {"ok": True}),
        (16, "complete", "verifikasi", {"hasil": "lengkap"}), (60 * 24 * 3, "fire"),
        (60 * 24 * 3 + 1, "complete", "tindak_lanjut", {"keterangan": "selesai"})]),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_engine_gives_what_spiffworkflow_gives_at_every_step(name: str) -> None:
    compiled, data, steps = SCENARIOS[name]
    ours = list(play(CaseRun, compiled, steps, data))
    theirs = list(play(SpiffWay, compiled, steps, data))
    assert ours == theirs
    assert len(ours) == len(steps) + 1
    assert ours[-1][-1][4], "the scenario runs the case to its end"


def test_the_scenarios_pass_through_what_they_name() -> None:
    """Each scenario reaches what it is there for (else the comparison above proves little)."""
    seen = {name: list(play(CaseRun, *SCENARIOS[name][:1], SCENARIOS[name][2], SCENARIOS[name][1]))
            for name in SCENARIOS}
    fired = [step[1] for step in seen["review: SLA fires, more information, working-day timer, done"]
             if step[0] == "fire"]
    assert [[t.element_id for t in f] for f in fired] == [[], ["sla_verifikasi"], [], ["sla_tindak_lanjut"]]
    multi = seen["multi-instance: three bidang answer in turn, the SLA fires between"]
    assert [t[1] for t in multi[1][2][0]] == [("bidang", b) for b in ("rehsos", "linjamsos", "dayasos")]
    call = seen["call activity: the subprocess's own timer, message and end"]
    assert [t.element_id for t in call[2][1]] == ["sla_verifikasi"]  # the subprocess's timer
    assert call[4][1] is True  # the subprocess's message catch


def test_a_tree_the_compact_rows_do_not_fit_goes_through_spiffworkflow() -> None:
    with time_machine.travel(MONDAY, tick=False):
        run = CaseRun.start(REVIEW, {"judul": "x"}, CALENDAR)
    root = run.workflow.task_tree
    root._children.append(root.children[0]._children[0])  # a task listed by two parents: format 1's mapping stays
    state = dump_state(run.workflow)
    assert isinstance(state["tasks"], dict) and json.dumps(state) == json.dumps(dump_state_via_spiff(run.workflow))
    assert described(load_state(state, REVIEW.spec, {})) == described(load_state_via_spiff(state, REVIEW.spec, {}))


def walks_of(action: Any) -> Counter[str]:
    """Walks of a whole task tree (from a workflow's root) while ``action`` runs: SpiffWorkflow's iterators
    and the engine's own."""
    counts: Counter[str] = Counter()
    iterator_init, walk_depths, lazy = TaskIterator.__init__, walk.walk_depths, walk.waiting_as_they_come

    def counted_iterator(self: Any, task: Any, *args: Any, **kwargs: Any) -> None:
        counts["spiff" if task.parent is None else "spiff subtree"] += 1
        iterator_init(self, task, *args, **kwargs)

    def counted_walk(root: Any, mask: int) -> Any:
        counts["ours"] += 1
        return walk_depths(root, mask)

    def counted_lazy(root: Any) -> Any:
        counts["ours, as they come"] += 1
        return lazy(root)

    spiff_task.TaskIterator.__init__ = counted_iterator  # type: ignore[method-assign]
    walk.walk_depths, walk.waiting_as_they_come = counted_walk, counted_lazy  # type: ignore[assignment]
    try:
        action()
    finally:
        spiff_task.TaskIterator.__init__ = iterator_init  # type: ignore[method-assign]
        walk.walk_depths, walk.waiting_as_they_come = walk_depths, lazy  # type: ignore[assignment]
    return counts


def test_walks_per_submit_and_per_timer_fire() -> None:
    """A submit (restore, complete, what the service reads, dump) and a fire walk the tree this often."""
    with time_machine.travel(MONDAY, tick=False):
        state = json.loads(json.dumps(CaseRun.start(REVIEW, {"judul": "x"}, CALENDAR).dump()))

    def served(run: CaseRun) -> None:
        run.ready_tasks(), run.take_notifications(), run.waiting_messages(), run.next_timer_at(), run.dump()

    def submit(cls: type[CaseRun] = CaseRun) -> None:
        run = cls.restore(REVIEW, state, CALENDAR)
        run.complete(run.ready_tasks()[0].id, {"hasil": "lengkap"})
        served(run)

    def fire(cls: type[CaseRun] = CaseRun) -> None:
        run = cls.restore(REVIEW, state, CALENDAR)
        assert len(run.fire_due_timers()) == 1
        served(run)

    with time_machine.travel(MONDAY + timedelta(minutes=5), tick=False):
        assert walks_of(submit) == {"ours": 2, "ours, as they come": 4, "spiff subtree": 2}
        assert walks_of(lambda: submit(SpiffWay)) == {"spiff": 13, "spiff subtree": 2}  # before issue 13's work
    with time_machine.travel(MONDAY + timedelta(minutes=11), tick=False):
        # the end of the escalation branch is a join that looks through the whole tree, twice
        assert walks_of(fire) == {"ours": 2, "ours, as they come": 2, "spiff": 2, "spiff subtree": 1}
        assert walks_of(lambda: fire(SpiffWay)) == {"spiff": 12, "spiff subtree": 1}
