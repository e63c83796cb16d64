"""One walk over a case's task tree, in SpiffWorkflow's order, for every caller in the engine.

SpiffWorkflow's ``BpmnTaskIterator`` (``workflow.get_tasks``) pops the head of a Python list at every
step, looks each task up in the subprocesses by its UUID (a hash computed in Python) and filters with
a chain of method calls. :func:`walk` visits the same tasks in the same order (depth first, a
subprocess's tree before the calling task's children) with the same pruning (no descent below a task
in a state under the filter's lowest one, nor deeper than :data:`~service.engine.limits.SPIFF_MAX_DEPTH`
levels) at a fraction of the cost, and gives each task's depth as :class:`~service.engine.budget.StepBudget`
counts it. :func:`waiting_as_they_come` is the lazy walk SpiffWorkflow's ``update_waiting_tasks`` makes
after every task it completes (:func:`quicken` puts the cheap one on a workflow), and
:func:`any_ready_engine_task` answers "is there anything for ``do_engine_steps`` to run?" by scanning
the task mappings, without a walk. ``tests/engine/test_engine_fast_paths.py`` compares each with
SpiffWorkflow's iterators.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from service.engine.limits import SPIFF_MAX_DEPTH

READY = TaskState.READY
WAITING = TaskState.WAITING
#: the states of the tasks a resting case may act on: user tasks (READY), timers and catches (WAITING)
OPEN = TaskState.READY | TaskState.WAITING


def _lowest_state(mask: int) -> int:
    """The lowest state a task must have for the iterator to look below it (``TaskIterator.min_state``)."""
    if mask & TaskState.PREDICTED_MASK:
        return TaskState.MAYBE
    if mask & TaskState.DEFINITE_MASK:
        return TaskState.FUTURE
    return TaskState.COMPLETED


def _callers(top: BpmnWorkflow) -> dict[int, Any]:
    """Subprocesses by the identity of the task that called them (an int key hashes in C)."""
    found: dict[int, Any] = {}
    for caller_id, subprocess in top.subprocesses.items():
        caller = top.tasks.get(caller_id)
        if caller is None:
            for other in top.subprocesses.values():
                caller = other.tasks.get(caller_id)
                if caller is not None:
                    break
        if caller is not None:
            found[id(caller)] = subprocess
    return found


def walk_depths(root: Task, mask: int) -> list[tuple[Task, int]]:
    """The tasks from ``root`` down whose state is in ``mask``, with their depth below ``root`` (0; a
    subprocess's root is one level below its calling task), in ``BpmnTaskIterator(root, state=mask)`` order."""
    top = root.workflow.top_workflow
    callers = _callers(top) if top.subprocesses else {}
    lowest = _lowest_state(mask)
    found: list[tuple[Task, int]] = []
    stack: list[tuple[Task, int]] = [(root, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        task, depth = pop()
        state = task._state
        if state & mask:
            found.append((task, depth))
        subprocess = callers.get(id(task)) if callers else None
        if depth < SPIFF_MAX_DEPTH and (subprocess is not None or (task._children and state >= lowest)):
            tasks = task.workflow.tasks
            for child_id in reversed(task._children):
                child = tasks.get(child_id)
                if child is not None:
                    push((child, depth + 1))
            if subprocess is not None:
                push((subprocess.task_tree, depth + 1))
    return found


def walk(root: Task, mask: int) -> list[Task]:
    """The tasks from ``root`` down whose state is in ``mask``, in ``BpmnTaskIterator`` order."""
    return [task for task, _ in walk_depths(root, mask)]


def waiting_as_they_come(root: Task) -> Iterator[Task]:
    """``TaskIterator(root, state=WAITING)``: the WAITING tasks of ``root``'s workflow (not its subprocesses),
    found as the caller goes (a task's children are read when it is reached, its state when it is given),
    as ``Workflow.update_waiting_tasks`` walks them while it updates each."""
    lowest = _lowest_state(WAITING)
    stack: list[tuple[Task, int]] = [(root, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        task, depth = pop()
        if depth < SPIFF_MAX_DEPTH and task._children and task._state >= lowest:
            tasks = task.workflow.tasks
            for child_id in reversed(task._children):
                child = tasks.get(child_id)
                if child is not None:
                    push((child, depth + 1))
        if task._state & WAITING:
            yield task


def update_waiting_tasks(workflow: Any) -> None:
    """``Workflow.update_waiting_tasks`` (SpiffWorkflow calls it on a workflow after each task it completes),
    over :func:`waiting_as_they_come`; :func:`quicken` puts it on a workflow."""
    for task in waiting_as_they_come(workflow.task_tree):
        task.task_spec._update(task)


def quicken(top: BpmnWorkflow) -> None:
    """Give ``top`` and its subprocesses :func:`update_waiting_tasks` in place of SpiffWorkflow's (the same
    tasks updated in the same order), on the instances: their class, and so their serialization, stays."""
    for workflow in (top, *top.subprocesses.values()):
        if "update_waiting_tasks" not in vars(workflow):
            workflow.update_waiting_tasks = partial(update_waiting_tasks, workflow)


def any_ready_engine_task(top: BpmnWorkflow) -> bool:
    """Whether a READY task that is not a user task is anywhere in the workflow or its subprocesses: what
    ``do_engine_steps`` would run (every task :func:`walk` can reach is in these mappings)."""
    for workflow in (top, *top.subprocesses.values()):
        for task in workflow.tasks.values():
            if task._state == READY and not task.task_spec.manual:
                return True
    return False


def ready_engine_tasks(workflow: Any) -> list[Task]:
    """The READY tasks that are not user tasks from ``workflow``'s root down, in SpiffWorkflow's order: what
    one pass of ``do_engine_steps`` runs in that workflow."""
    return [task for task in walk(workflow.task_tree, READY) if not task.task_spec.manual]
