"""The work on one task: read, claim, unclaim, complete (the list is in :mod:`task_list`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import CursorResult, Select, bindparam, or_, select, update
from sqlalchemy.orm import Session, contains_eager, defer, joinedload, lazyload, load_only
from sqlalchemy.sql.base import ExecutableOption

from service import forms as form_files
from service.commands import attachments
from service.commands.access import Visible, read_with_case, visible
from service.commands.calendars import closed_days_column, days_of, unit_calendar
from service.commands.cases import CaseView, case_options, case_view, restore, revision_forms
from service.commands.context import Actor, Services
from service.commands.history import HistoryWriter
from service.commands.sync import Written, deliver_buffered, write_back
from service.engine import CaseStatus, TaskStatus, WorkCalendar
from service.errors import Conflict, Forbidden, NotFound
from service.store.models import Case, CaseAccess, Definition, Task, Unit
from service.store.one_statement import ONE_STATEMENT, write_in_one


@dataclass(frozen=True)
class _Found:
    """A task with its case as the actor may see it, read in one statement."""

    task: Task
    visible: Visible
    #: the case unit's closed days (read along when asked for)
    closed_days: tuple[date, ...] = ()


#: the columns a read of a task (:func:`get_task`) uses besides the task's own: the task page shows the
#: unit's code and timezone; the access check reads the case's unit, starter and grants; the form comes
#: from the revision's id and checksum (:func:`~service.commands.cases.revision_forms`)
_READ_UNIT = (Unit.id, Unit.code, Unit.timezone)
_READ_CASE = (Case.id, Case.definition_id, Case.unit_id, Case.status, Case.data, Case.started_by)
_READ_GRANT = (CaseAccess.case_id, CaseAccess.unit_id, CaseAccess.role, CaseAccess.fields)


@cache
def _task_statement(with_calendar: bool, reading: bool = False) -> Select[Any]:
    """The read of :func:`_task_for`, built once (it depends on no actor; the task id is a parameter).

    ``reading``: for :func:`get_task`, only the columns it uses (:data:`_READ_CASE`…): the driver builds
    an object per result column of every execution, and the full rows had about 70.
    """
    columns: list[Any] = [Task, Case, CaseAccess]
    if with_calendar:
        columns.append(closed_days_column(Case.unit_id))
    # only a command that runs the engine needs the workflow state
    options: tuple[ExecutableOption, ...] = (
        (joinedload(Task.unit).load_only(*_READ_UNIT), load_only(*_READ_CASE), load_only(*_READ_GRANT),
         joinedload(Case.definition).load_only(Definition.id, Definition.checksum).lazyload(Definition.unit),
         lazyload(Case.unit))
        if reading else (*case_options(), *(() if with_calendar else (defer(Case.state),))))
    statement = (select(*columns).join(Case, Case.id == Task.case_id)
                 .outerjoin(Task.candidates).outerjoin(CaseAccess, CaseAccess.case_id == Task.case_id)
                 .options(contains_eager(Task.candidates), *options)
                 .where(Task.id == bindparam("task_id")))
    # a command locks the case row first (PostgreSQL), as every command on a case does: the order
    # is case, then tasks, and a command that waited reads the case as the other one left it
    return statement.with_for_update(of=Case) if with_calendar else statement


def _task_for(session: Session, actor: Actor, task_id: str, with_calendar: bool = False,
              reading: bool = False) -> _Found:
    """The task and its case if the actor may see the case (else 404) and work the task's lane (else 403).

    One statement: the task with its candidates and unit, its case with the revision (no diagram),
    every access row of the case (for :func:`~service.commands.access.visible` and later grants) and,
    for a command that runs the engine, the unit's closed days.
    """
    rows = session.execute(_task_statement(with_calendar, reading), {"task_id": task_id}).unique().all()
    if not rows:
        raise NotFound(f"Task {task_id} does not exist or is not visible to you")
    task, case = rows[0][0], rows[0][1]
    grants = list({id(row[2]): row[2] for row in rows if row[2] is not None}.values())
    read_with_case(session, case.id, grants)
    try:
        found = visible(session, actor, case.id, grants=grants)
    except NotFound:
        raise NotFound(f"Task {task_id} does not exist or is not visible to you") from None
    roles = lane_roles(task)
    if not actor.may_work_as(task.unit_id, roles):
        raise Forbidden(f"Task {task_id} belongs to the lane {', '.join(sorted(roles))}, not one of your roles")
    days = rows[0][3] if with_calendar else None
    return _Found(task, found, days_of(days))


def lane_roles(task: Task) -> set[str]:
    """The roles whose holders may work the task: its candidate groups, else its lane."""
    return {candidate.role for candidate in task.candidates} or {task.lane or ""}


def _signature(actor: Actor, task: Task) -> str:
    """How the task's history names ``actor`` (both names when acting as Plt./Plh. for the lane's role)."""
    return actor.signature(task.unit_id, lane_roles(task))


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
        found = _task_for(session, actor, task_id, reading=True)
        task, case = found.task, found.visible.case
        forms = revision_forms(services, case.definition)
        return TaskView(task, forms.get(task.form_key) if task.form_key else None,
                        found.visible.data(case.data), case.status, found.visible.full)


def claim(services: Services, actor: Actor, task_id: str) -> Task:
    with services.db.transaction() as session:
        task = _task_for(session, actor, task_id).task
        if task.status != TaskStatus.READY.value:
            raise Conflict(f"Task {task_id} is {task.status}")
        history = HistoryWriter(session, task.case_id, _signature(actor, task))
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
        task = _task_for(session, actor, task_id).task
        if task.claimed_by not in (None, actor.user_id) and not actor.administers(task.unit_id):
            raise Conflict(f"Task {task_id} is claimed by someone else")
        task.claimed_by = None
        HistoryWriter(session, task.case_id, _signature(actor, task)).add("task_unclaimed", task_id=task.id,
                                                                  element_id=task.element_id)
        return task


def complete(services: Services, actor: Actor, task_id: str, data: Any) -> Case:
    """Complete a task as staff (API and web alike): access and lane checks, then :func:`complete_open`."""
    return complete_view(services, actor, task_id, data).case


def complete_view(services: Services, actor: Actor, task_id: str, data: Any) -> CaseView:
    """:func:`complete`, answered with the case as the actor sees it: from what the command holds,
    plus its history (the one read besides the task's)."""
    with services.db.transaction() as session:
        session.info[ONE_STATEMENT] = services.db.is_postgres
        found = _task_for(session, actor, task_id, with_calendar=True)
        task, case = found.task, found.visible.case
        if task.claimed_by not in (None, actor.user_id):
            raise Conflict(f"Task {task_id} is claimed by someone else")
        calendar = unit_calendar(services, case.unit, found.closed_days)
        written = _complete(services, session, case, task, data, _signature(actor, task), actor.user_id or None,
                            calendar)
        tasks = _ready_rows(session, case, written)
        history = write_in_one(session, case, last=True) if session.info[ONE_STATEMENT] else None
        return case_view(session, found.visible, tasks, history)


def _ready_rows(session: Session, case: Case, written: Written) -> list[Task]:
    """The case's ready task rows after a step: the new ones written, the others read (a parallel branch)."""
    if case.status != CaseStatus.RUNNING.value:
        return []
    others = list(session.scalars(select(Task).where(Task.id.in_(written.still_ready))
                                  .options(joinedload(Task.candidates))).unique()) if written.still_ready else []
    return sorted([*others, *written.new_tasks], key=lambda row: row.created_at)


def complete_open(services: Services, session: Session, case: Case, task: Task, data: Any, actor_name: str,
                  user_id: int | None) -> Case:
    """The one completion path (staff, web and reporter): validate the form data, store its files
    outside the case state (hashed; the data keeps ``attachment:<id>`` references), run the engine
    one step and write everything back in the caller's transaction.
    """
    _complete(services, session, case, task, data, actor_name, user_id)
    return case


def _complete(services: Services, session: Session, case: Case, task: Task, data: Any, actor_name: str,
              user_id: int | None, calendar: WorkCalendar | None = None) -> Written:
    if task.status != TaskStatus.READY.value:
        raise Conflict(f"Task {task.id} is already {task.status}")
    if case.status != CaseStatus.RUNNING.value:
        raise Conflict(f"Case {case.id} is {case.status}")
    forms = revision_forms(services, case.definition)
    form = forms.get(task.form_key) if task.form_key else None
    form_files.validate_data(form, data)
    form_files.check_read_only(form, data, case.data or {})
    prepared, files = attachments.store_files(services, form, data)
    session.add_all(attachments.rows(case.id, task.id, files, user_id))
    run = restore(services, session, case, calendar)
    before = {ready.id: ready for ready in run.ready_tasks()}
    run.complete(task.id, prepared)
    history = HistoryWriter(session, case.id, actor_name, case=case)
    history.add("task_completed", {"name": task.name, "data": prepared}, task_id=task.id,
                element_id=task.element_id)
    deliver_buffered(session, case, run, history)
    return write_back(session, case, run, history, completed={task.id: user_id}, data_delta=prepared, before=before)
