"""Moving a running case to another revision of its diagram.

SpiffWorkflow aligns the old and new task specs (``SpecDiff``) and ``migrate_workflow`` swaps the
specs and resets the READY and WAITING tasks so they are re-predicted from the new diagram. Two
things are added here:

* A case moves only when every task it is at (READY, WAITING, STARTED) still exists in the target
  under the same element id and of the same kind; :func:`check` says why not otherwise.
* The reset clears each task's ``internal_data`` — a waiting SLA timer would be re-armed from *now*.
  The original ``event_value`` of every waiting timer (and a user task's stored due date and data)
  is put back afterwards: migrating a case does not extend its deadlines.

Completed tasks whose element no longer exists are spliced out of the tree (their children move up
to their parent), predicted ones are dropped: their data lives on in the later tasks, and the case's
own history rows are kept by the caller.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.bpmn.util.subworkflow import BpmnBaseWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from service.engine.compiler import CompiledDefinition

#: task states a case "is at": they must exist in the target revision
CURRENT = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_KEPT_INTERNAL = ("event_value", "alur_due_at")


@dataclass(frozen=True)
class Blocker:
    element_id: str
    name: str | None
    state: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "name": self.name, "state": self.state, "reason": self.reason}


@dataclass(frozen=True)
class MigrationCheck:
    """Whether a case can move; ``current`` are the element ids it is at."""

    current: list[str]
    blockers: list[Blocker] = field(default_factory=list)

    @property
    def can_move(self) -> bool:
        return not self.blockers


@cache
def _registry() -> Any:
    """Converts task specs to dicts: ``SpecDiff`` compares them that way."""
    return BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG)


def _element(spec: TaskSpec) -> str:
    return str(getattr(spec, "bpmn_id", None) or spec.name)


def _workflows(workflow: BpmnWorkflow) -> Iterator[BpmnBaseWorkflow]:
    yield workflow
    yield from workflow.subprocesses.values()


def _target_spec(sub: BpmnBaseWorkflow, workflow: BpmnWorkflow, target: CompiledDefinition) -> BpmnProcessSpec | None:
    if sub is workflow:
        return target.spec
    return target.subprocess_specs.get(sub.spec.name)


def _current(sub: BpmnBaseWorkflow) -> list[Task]:
    return [task for task in sub.get_tasks(state=CURRENT, skip_subprocesses=True)
            if task.task_spec.name not in ("Start", "End") and not task.task_spec.name.endswith(".EndJoin")]


def check(workflow: BpmnWorkflow, target: CompiledDefinition) -> MigrationCheck:
    """Can this workflow move to ``target``? Reasons name the element that blocks it."""
    current: list[str] = []
    blockers: list[Blocker] = []
    for sub in _workflows(workflow):
        new_spec = _target_spec(sub, workflow, target)
        tasks = _current(sub)
        current += [_element(task.task_spec) for task in tasks]
        for task in tasks:
            spec = task.task_spec
            state = TaskState.get_name(task.state).lower()
            if new_spec is None:
                blockers.append(Blocker(_element(spec), spec.bpmn_name, state,
                                        f"the called process '{sub.spec.name}' is not part of the target revision"))
                continue
            candidate = new_spec.task_specs.get(spec.name)
            if candidate is None:
                blockers.append(Blocker(_element(spec), spec.bpmn_name, state,
                                        f"element '{_element(spec)}' does not exist in the target revision"))
            elif type(candidate) is not type(spec):
                blockers.append(Blocker(_element(spec), spec.bpmn_name, state,
                                        f"element '{_element(spec)}' is a {type(candidate).__name__} in the target, "
                                        f"not a {type(spec).__name__}"))
    return MigrationCheck(current, blockers)


def _splice(sub: BpmnBaseWorkflow, task: Task) -> None:
    """Remove a finished task from the tree, its children taking its place under its parent."""
    parent = task.parent
    if parent is None:
        return
    position = parent._children.index(task.id)
    for child in task.children:
        child._parent = parent.id
    parent._children[position:position + 1] = list(task._children)
    sub.tasks.pop(task.id)


def _prune_unaligned(sub: BpmnBaseWorkflow, diff: WorkflowDiff, new_spec: BpmnProcessSpec) -> None:
    for task in list(sub.tasks.values()):
        if task.id not in sub.tasks or new_spec.task_specs.get(task.task_spec.name) is not None:
            continue
        aligned = diff.alignment.get(task)
        if aligned is not None:
            continue
        if task.has_state(TaskState.PREDICTED_MASK):
            sub._remove_task(task.id)
        elif task.has_state(TaskState.FINISHED_MASK):
            _splice(sub, task)


_DIFFS: OrderedDict[tuple[int, int], tuple[BpmnProcessSpec, BpmnProcessSpec, SpecDiff]] = OrderedDict()
_DIFFS_LOCK = threading.Lock()


def _spec_diff(old: BpmnProcessSpec, new: BpmnProcessSpec) -> SpecDiff:
    """``SpecDiff`` of two compiled specs, computed once per pair: a bulk migration reuses it."""
    key = (id(old), id(new))
    with _DIFFS_LOCK:
        found = _DIFFS.get(key)
        if found is not None and found[0] is old and found[1] is new:
            return found[2]
    computed = SpecDiff(_registry(), old, new)
    with _DIFFS_LOCK:
        _DIFFS[key] = (old, new, computed)  # the specs are kept so their ids are not reused
        while len(_DIFFS) > 32:
            _DIFFS.popitem(last=False)
    return computed


def migrate(workflow: BpmnWorkflow, target: CompiledDefinition) -> MigrationCheck:
    """Move ``workflow`` to ``target`` in place, keeping its timers' due instants. Check first.

    Raises ``ValueError`` when :func:`check` finds blockers.
    """
    found = check(workflow, target)
    if not found.can_move:
        raise ValueError("; ".join(blocker.reason for blocker in found.blockers))
    kept: dict[Any, tuple[str, dict[str, Any], dict[str, Any]]] = {
        task.id: (_element(task.task_spec), {k: task.internal_data[k] for k in _KEPT_INTERNAL
                                             if k in task.internal_data}, dict(task.data))
        for sub in _workflows(workflow) for task in _current(sub)
    }
    for sub in list(_workflows(workflow)):
        new_spec = _target_spec(sub, workflow, target)
        if new_spec is None:  # check() made sure no current task is in it
            continue
        diff = WorkflowDiff(sub, _spec_diff(sub.spec, new_spec))
        _prune_unaligned(sub, diff, new_spec)
        migrate_workflow(diff, sub, new_spec)
    if hasattr(workflow, "subprocess_specs"):
        workflow.subprocess_specs = dict(target.subprocess_specs)
    for sub in _workflows(workflow):
        for task in _current(sub):
            element, internal, data = kept.get(task.id, ("", {}, {}))
            if element != _element(task.task_spec):
                continue
            task.internal_data.update(internal)
            if task.has_state(TaskState.READY):
                task.data = data
    return found


def waiting_timer_values(workflow: BpmnWorkflow) -> Mapping[str, Any]:
    """element id → ``event_value`` of every waiting timer (for checks and tests)."""
    return {
        _element(task.task_spec): task.internal_data.get("event_value")
        for sub in _workflows(workflow) for task in sub.get_tasks(state=TaskState.WAITING, skip_subprocesses=True)
        if "event_value" in task.internal_data
    }
