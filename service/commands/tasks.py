"""The task list and the work on one task: claim, unclaim, complete.

Listing reads only the projection tables (``tasks`` and ``task_candidates``): no workflow is
restored to show a task list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Select, and_, exists, false, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service import forms as form_files
from service.commands import attachments
from service.commands.access import Visible, visible
from service.commands.cases import restore
from service.commands.context import REPORTER_ROLE, Actor, Services
from service.commands.history import HistoryWriter
from service.commands.sync import deliver_buffered, write_back
from service.engine import CaseStatus, TaskStatus, utc_now
from service.errors import Conflict, Forbidden, NotFound
from service.store.models import Case, Task, TaskCandidate, Unit

SORTS = {
    "due_at": (Task.due_at.is_(None), Task.due_at.asc(), Task.created_at.asc()),
    "-due_at": (Task.due_at.is_(None), Task.due_at.desc(), Task.created_at.asc()),
    "created_at": (Task.created_at.asc(),),
    "-created_at": (Task.created_at.desc(),),
}


@dataclass
class TaskQuery:
    lane: str | None = None
    unit: str | None = None
    mine: bool = False
    overdue: bool | None = None
    due_before: datetime | None = None
    definition_key: str | None = None
    #: text in the case's business key or tracking code, or the start of its id (case number)
    search: str | None = None
    unclaimed: bool = False
    sort: str = "due_at"
    page: int = 1
    per_page: int = 20


def _candidate_filter(actor: Actor) -> ColumnElement[bool]:
    """Tasks of the actor's (unit, role) pairs; a reporter's Pelapor tasks only in cases they filed."""
    own_cases = select(Case.id).where(Case.started_by == actor.user_id)
    clauses = []
    for unit_id, roles in actor.roles_by_unit.items():
        staff_roles = sorted(roles - {REPORTER_ROLE})
        if staff_roles:
            clauses.append(and_(TaskCandidate.unit_id == unit_id, TaskCandidate.role.in_(staff_roles)))
        if REPORTER_ROLE in roles:
            clauses.append(and_(TaskCandidate.unit_id == unit_id, TaskCandidate.role == REPORTER_ROLE,
                                Task.case_id.in_(own_cases)))
    return exists().where(TaskCandidate.task_id == Task.id, or_(false(), *clauses))


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_filter(text: str) -> ColumnElement[bool]:
    pattern = _like(text.strip().lower())
    return Task.case_id.in_(select(Case.id).where(or_(
        func.lower(Case.business_key).like(f"%{pattern}%", escape="\\"),
        func.lower(Case.tracking_code).like(f"%{pattern}%", escape="\\"),
        Case.id.like(f"{pattern}%", escape="\\"),
    )))


def list_tasks(services: Services, actor: Actor, query: TaskQuery, now: datetime | None = None
               ) -> tuple[list[Task], int]:
    with services.db.reading() as session:
        statement = _filtered(actor, query, now)
        # one query for the page and the total (a window count); a second only past the last page
        rows = session.execute(statement.add_columns(func.count().over().label("total"))
                               .order_by(*SORTS[query.sort])
                               .offset((query.page - 1) * query.per_page).limit(query.per_page)).all()
        if rows:
            return [row[0] for row in rows], int(rows[0].total)
        return [], session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def count_by_definition(services: Services, actor: Actor, query: TaskQuery | None = None,
                        now: datetime | None = None) -> dict[str, int]:
    """Open tasks the actor may pick up, per SOP (definition key), under the same filters as the list."""
    with services.db.reading() as session:
        inner = _filtered(actor, query or TaskQuery(), now).subquery()
        rows = session.execute(select(inner.c.definition_key, func.count()).group_by(inner.c.definition_key)
                               .order_by(inner.c.definition_key)).all()
        return {key: int(count) for key, count in rows}


def case_labels(services: Services, case_ids: Iterable[str]) -> dict[str, str | None]:
    """Business key (or tracking code) of each case, for a page of tasks; no workflow is restored."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    with services.db.reading() as session:
        rows = session.execute(select(Case.id, Case.business_key, Case.tracking_code).where(Case.id.in_(ids))).all()
        return {case_id: business_key or tracking_code for case_id, business_key, tracking_code in rows}


def _filtered(actor: Actor, query: TaskQuery, now: datetime | None) -> Select[Any]:
    """The open tasks the actor may pick up, narrowed by the query (not ordered, not paged)."""
    statement = select(Task).where(Task.status == TaskStatus.READY.value)
    if query.mine:
        statement = statement.where(Task.claimed_by == actor.user_id)
    elif not actor.is_admin:
        statement = statement.where(_candidate_filter(actor))
    if query.lane:
        statement = statement.where(exists().where(TaskCandidate.task_id == Task.id,
                                                   TaskCandidate.role == query.lane))
    if query.unit:
        statement = statement.where(Task.unit_id == select(Unit.id).where(Unit.code == query.unit)
                                    .scalar_subquery())
    if query.definition_key:
        statement = statement.where(Task.definition_key == query.definition_key)
    if query.overdue is not None:
        moment = now or utc_now()
        statement = statement.where(Task.due_at < moment if query.overdue
                                    else or_(Task.due_at.is_(None), Task.due_at >= moment))
    if query.due_before is not None:
        statement = statement.where(Task.due_at < query.due_before)
    if query.search and query.search.strip():
        statement = statement.where(_search_filter(query.search))
    if query.unclaimed:
        statement = statement.where(Task.claimed_by.is_(None))
    return statement


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
