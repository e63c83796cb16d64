"""The engine steps one command may take, and how deep a case's task tree may grow.

A loop without a user task would run forever inside one request; a loop through a user task adds
levels to the task tree at every pass, and SpiffWorkflow does not look deeper than
:data:`~service.engine.limits.SPIFF_MAX_DEPTH` levels: past it, the open tasks become invisible
and the case reports itself completed with its work lost. A :class:`StepBudget` is passed as the
``did_complete_task`` callback of ``do_engine_steps`` and stops both with :class:`LimitExceeded`,
so the command is refused (422) or, for the worker, becomes an incident.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from SpiffWorkflow.task import Task

from service.engine import limits
from service.errors import LimitExceeded


def _element_id(task: Task) -> str:
    return str(task.task_spec.bpmn_id or task.task_spec.name)


def _caller(task: Task) -> Task | None:
    """The task above ``task`` as SpiffWorkflow's iterator sees it: its parent, or for the root of a
    subprocess the activity that called it."""
    if task.parent is not None:
        return task.parent
    caller_id = getattr(task.workflow, "parent_task_id", None)
    if caller_id is None:
        return None
    caller: Task | None = task.workflow.top_workflow.get_task_from_id(caller_id)
    return caller


class StepBudget:
    def __init__(self, bound: limits.Limits | None = None) -> None:
        self.limits = bound or limits.current()
        self.steps = 0
        self._depths: dict[UUID, int] = {}

    def depth(self, task: Task) -> int:
        """Levels above ``task`` (subprocesses included); remembered, so a chain is walked once."""
        chain: list[Task] = []
        node: Task | None = task
        while node is not None and node.id not in self._depths:
            chain.append(node)
            node = _caller(node)
        depth = -1 if node is None else self._depths[node.id]
        for item in reversed(chain):
            depth += 1
            self._depths[item.id] = depth
        return depth

    def check_depth(self, task: Task) -> None:
        if self.depth(task) >= self.limits.engine_max_depth:
            element = _element_id(task)
            message = (f"The case has passed through its loops too often (at {element}; the task tree may "
                       f"be {self.limits.engine_max_depth} levels deep): the diagram loops without end")
            raise LimitExceeded(message, [{"element_id": element, "message": message}])

    def __call__(self, task: Task) -> None:
        """``did_complete_task``: one more step of this command."""
        self.steps += 1
        if self.steps > self.limits.engine_max_steps:
            element = _element_id(task)
            message = (f"The engine took more than {self.limits.engine_max_steps} steps in one command "
                       f"(last at {element}): a loop without a user task?")
            raise LimitExceeded(message, [{"element_id": element, "message": message}])
        self.check_depth(task)

    def check_all(self, tasks: Iterable[Task]) -> None:
        for task in tasks:
            self.check_depth(task)

    def check_levels(self, found: Iterable[tuple[Task, int]]) -> None:
        """:meth:`check_all` of tasks whose depths a walk counted (:func:`~service.engine.walk.walk_depths`
        from the top workflow's root: the same levels as :meth:`depth`), without climbing to the root."""
        for task, depth in found:
            if depth >= self.limits.engine_max_depth:
                self.check_depth(task)
