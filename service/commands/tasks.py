"""The work on one task: read, claim, unclaim, complete (the list is in :mod:`task_list`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, or_, update
from sqlalchemy.orm import Session

from service import forms as form_files
from service.commands import attachments
from service.commands.access import Visible, visible
from service.commands.cases import restore
from service.commands.context import Actor, Services
from service.commands.history import HistoryWriter
from service.commands.sync import deliver_buffered, write_back
from service.engine import CaseStatus, TaskStatus
from service.errors import Conflict, Forbidden, NotFound
from service.store.models import Case, Task


def _task_for(session: Session, actor: Actor, task_id: str) -> tuple[Task, Visible]:
    """The task and its case if the actor may see the case (else 404) and work the task's lane (else 403)."""
    task = session.get(Task, task_id)
    if task is None:
        raise NotFound(f"Task {task_id} does not exist or is not visible to you")
    try:
        found = visible(session, actor, task.case_id)
    except NotFound:
        raise NotFound(f"Task {task_id} does not exist or is not visible to you") from None
    roles = {candidate.role for candidate in task.candidates} or {task.lane or ""}
    if not actor.may_work_as(task.unit_id, roles):
        raise Forbidden(f"Task {task_id} belongs to the lane {', '.join(sorted(roles))}, not one of your roles")
    return task, found


@dataclass(frozen=True)
class TaskView:
    task: Task
    form: dict[str, Any] | None
    case_data: dict[str, Any]
    case_status: str
    #: False when the actor sees only some fields of the case (need-to-know): no staff notes then
    full_case: bool = True


def get_task(services: Services, actor: Actor, task_id: str) -> TaskView:
    with services.db.reading() as session:
        task, found = _task_for(session, actor, task_id)
        forms = found.case.definition.forms or {}
        return TaskView(task, forms.get(task.form_key) if task.form_key else None, found.data(found.case.data),
                        found.case.status, found.full)


def claim(services: Services, actor: Actor, task_id: str) -> Task:
    with services.db.transaction() as session:
        task, _found = _task_for(session, actor, task_id)
        if task.status != TaskStatus.READY.value:
            raise Conflict(f"Task {task_id} is {task.status}")
        history = HistoryWriter(session, task.case_id, actor.username)
        history.hold()
        # A conditional UPDATE, not read-then-write: of two claims at the same moment one finds the
        # row taken (PostgreSQL re-checks the WHERE after the other's commit) and gets a 409.
        taken: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(Task).where(Task.id == task.id, Task.status == TaskStatus.READY.value,
                               or_(Task.claimed_by.is_(None), Task.claimed_by == actor.user_id))
            .values(claimed_by=actor.user_id).execution_options(synchronize_session="fetch")
        )
        if taken.rowcount != 1:
            raise Conflict(f"Task {task_id} is already claimed by someone else")
        history.add("task_claimed", task_id=task.id, element_id=task.element_id)
        return task


def unclaim(services: Services, actor: Actor, task_id: str) -> Task:
    with services.db.transaction() as session:
        task, _found = _task_for(session, actor, task_id)
        if task.claimed_by not in (None, actor.user_id) and not actor.administers(task.unit_id):
            raise Conflict(f"Task {task_id} is claimed by someone else")
        task.claimed_by = None
        HistoryWriter(session, task.case_id, actor.username).add("task_unclaimed", task_id=task.id,
                                                                  element_id=task.element_id)
        return task


def complete(services: Services, actor: Actor, task_id: str, data: Any) -> Case:
    """Complete a task as staff (API and web alike): access and lane checks, then :func:`complete_open`."""
    with services.db.transaction() as session:
        task, found = _task_for(session, actor, task_id)
        if task.claimed_by not in (None, actor.user_id):
            raise Conflict(f"Task {task_id} is claimed by someone else")
        return complete_open(services, session, found.case, task, data, actor.username, actor.user_id or None)


def complete_open(services: Services, session: Session, case: Case, task: Task, data: Any, actor_name: str,
                  user_id: int | None) -> Case:
    """The one completion path (staff, web and reporter): validate the form data, store its files
    outside the case state (hashed; the data keeps ``attachment:<id>`` references), run the engine
    one step and write everything back in the caller's transaction.
    """
    if task.status != TaskStatus.READY.value:
        raise Conflict(f"Task {task.id} is already {task.status}")
    if case.status != CaseStatus.RUNNING.value:
        raise Conflict(f"Case {case.id} is {case.status}")
    forms = case.definition.forms or {}
    form = forms.get(task.form_key) if task.form_key else None
    form_files.validate_data(form, data)
    prepared, files = attachments.store_files(services, form, data)
    session.add_all(attachments.rows(case.id, task.id, files, user_id))
    run = restore(services, session, case)
    run.complete(task.id, prepared)
    history = HistoryWriter(session, case.id, actor_name)
    history.add("task_completed", {"name": task.name, "data": prepared}, task_id=task.id,
                element_id=task.element_id)
    deliver_buffered(session, case, run, history)
    write_back(session, case, run, history, completed={task.id: user_id}, data_delta=prepared)
    return case
