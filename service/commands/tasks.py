"""The work on one task: read, claim, unclaim, complete (the list is in :mod:`task_list`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

from sqlalchemy import CursorResult, Integer, Select, bindparam, or_, select, update
from sqlalchemy.orm import Session, aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from service import forms as form_files
from service.commands import attachments
from service.commands.access import Visible, read_with_case, visible_with
from service.commands.calendars import closed_days_column, days_of, unit_calendar
from service.commands.cases import REVISION_COLUMNS, CaseView, case_view, restore, revision_forms
from service.commands.context import Actor, Services
from service.commands.definitions import held_revision
from service.commands.history import HistoryWriter
from service.commands.sync import Written, deliver_buffered, write_back
from service.commands.task_list import TASK_COLUMNS, UNIT_COLUMNS, column_groups, every_column
from service.engine import CaseStatus, TaskStatus, WorkCalendar
from service.errors import Conflict, Forbidden, NotFound
from service.store.built_once import built_once
from service.store.db import Database
from service.store.models import TASK_IS_READY, Case, CaseAccess, Definition, Task, TaskCandidate, Unit
from service.store.one_statement import ONE_STATEMENT, write_in_one
from service.store.types import EntityId


@dataclass(frozen=True)
class _Found:
    """A task with its case as the actor may see it, read in one statement."""

    task: Task
    visible: Visible
    #: the case unit's closed days (read along when asked for)
    closed_days: tuple[date, ...] = ()


#: the columns a read of a task (:func:`get_task`) uses besides the task's and its unit's: its candidates;
#: the access check reads the case's unit, starter and grants; the form comes from the revision's id and
#: checksum (:func:`~service.commands.cases.revision_forms`)
_READ_CANDIDATE = (TaskCandidate.task_id, TaskCandidate.role, TaskCandidate.unit_id)
_READ_CASE = (Case.id, Case.definition_id, Case.unit_id, Case.status, Case.data, Case.started_by)
_READ_REVISION = (Definition.id, Definition.checksum)
_READ_GRANT = (CaseAccess.case_id, CaseAccess.unit_id, CaseAccess.role, CaseAccess.fields)
_READ = (TASK_COLUMNS, UNIT_COLUMNS, _READ_CANDIDATE, _READ_CASE, _READ_REVISION, _READ_GRANT)


#: the case's unit, and the task's (a sub-unit's task: not the case's), as two joins of the units
_CASE_UNIT = aliased(Unit, name="case_unit")
_TASK_UNIT = aliased(Unit, name="task_unit")


@built_once()
def _held_groups(with_calendar: bool) -> tuple[tuple[Any, ...], ...]:
    """What :func:`_task_for` reads, in plain columns grouped for :func:`~service.commands.task_list.column_groups`:
    what the ORM loads of the task, its unit, a candidate, the case, its unit and an access row; of the
    revision what :func:`~service.commands.cases.case_options` loads (no diagram, forms nor decision tables),
    and the case's workflow state only for a command that runs the engine."""
    return (TASK_COLUMNS, every_column(_TASK_UNIT), every_column(TaskCandidate),
            every_column(Case, () if with_calendar else ("state",)), REVISION_COLUMNS, every_column(_CASE_UNIT),
            every_column(CaseAccess))


@built_once()
def _task_statement(with_calendar: bool) -> Select[Any]:
    """The read of :func:`_task_for`, built once (it depends on no actor; the task id is a parameter): a row
    per (candidate, access row) of the task, in the columns :func:`_held_groups` names, then for a command
    that runs the engine the unit's closed days."""
    columns = [column for group in _held_groups(with_calendar) for column in group]
    if with_calendar:
        columns.append(closed_days_column(Case.unit_id))
    statement = (select(*columns).join(_TASK_UNIT, _TASK_UNIT.id == Task.unit_id)
                 .join(Case, Case.id == Task.case_id).join(Definition, Definition.id == Case.definition_id)
                 .join(_CASE_UNIT, _CASE_UNIT.id == Case.unit_id)
                 .outerjoin(TaskCandidate, TaskCandidate.task_id == Task.id)
                 .outerjoin(CaseAccess, CaseAccess.case_id == Task.case_id)
                 .where(Task.id == bindparam("task_id", type_=EntityId())))
    # a command locks the case row first (PostgreSQL), as every command on a case does: the order
    # is case, then tasks, and a command that waited reads the case as the other one left it
    return statement.with_for_update(of=Case) if with_calendar else statement


@built_once()
def _read_statement() -> Select[Any]:
    """:func:`get_task`'s one statement, plain columns (:data:`_READ`) for :meth:`Database.driver_rows`:
    a row per (candidate, access row) of the task, as :func:`_task_statement` reads them."""
    return (select(*(column for group in _READ for column in group))
            .join(Unit, Unit.id == Task.unit_id).join(Case, Case.id == Task.case_id)
            .join(Definition, Definition.id == Case.definition_id)
            .outerjoin(TaskCandidate, TaskCandidate.task_id == Task.id)
            .outerjoin(CaseAccess, CaseAccess.case_id == Task.case_id)
            .where(Task.id == bindparam("task_id", type_=EntityId())))


@built_once()
def _forms_statement() -> Select[Any]:
    return select(Definition.forms).where(Definition.id == bindparam("definition_id", type_=Integer()))


class _FormsOnDemand(Mapping[str, Any]):
    """A revision's forms, read only when asked for: :func:`~service.commands.cases.revision_forms` asks
    only when the process has not kept them yet (once per revision and process), and a read of a task
    would otherwise carry them on every request."""

    def __init__(self, db: Database, definition_id: int) -> None:
        self._db, self._definition_id = db, definition_id

    @cached_property
    def _forms(self) -> dict[str, Any]:
        row = self._db.first_row(_forms_statement(), {"definition_id": self._definition_id})
        return dict(row[0] or {}) if row else {}

    def __getitem__(self, key: str) -> Any:
        return self._forms[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._forms)

    def __len__(self) -> int:
        return len(self._forms)


def _read_task(services: Services, task_id: str) -> tuple[Task, Case, list[CaseAccess]]:
    """The task (with its unit and candidates), its case (with its revision's id and checksum) and the
    case's access rows, built as loaded rows (:meth:`Base.built`) from :func:`_read_statement`: no session,
    so every relationship a reader follows is in the objects (NotFound when there is no such task)."""
    rows = services.db.driver_rows(_read_statement(), {"task_id": task_id})
    if not rows:
        raise _task_not_found(task_id)
    candidates: dict[str, TaskCandidate] = {}  # the primary key is (task_id, role)
    grants: dict[tuple[int, str], CaseAccess] = {}
    for row in rows:
        task, unit, candidate, case, revision, grant = column_groups(row, _READ)
        if candidate["role"] is not None:
            candidates.setdefault(candidate["role"], TaskCandidate.built(candidate))
        if grant["case_id"] is not None:
            grants.setdefault((grant["unit_id"], grant["role"]), CaseAccess.built(grant))
    definition = Definition.built({**revision, "forms": _FormsOnDemand(services.db, revision["id"])})
    return (Task.built({**task, "unit": Unit.built(unit), "candidates": list(candidates.values())}),
            Case.built({**case, "definition": definition}), list(grants.values()))


def _task_not_found(task_id: str) -> NotFound:
    return NotFound(f"Task {task_id} does not exist or is not visible to you")


def _task_for(services: Services, session: Session, actor: Actor, task_id: str,
              with_calendar: bool = False) -> _Found:
    """The task and its case, for a command that writes them, as :func:`_checked` lets the actor see them.

    One statement (:func:`_task_statement`), run through the driver on the command's connection: the task
    with its candidates and unit, its case with the revision (no diagram) and unit, every access row of the
    case (for the access check and later grants) and, for a command that runs the engine, the unit's
    closed days. The objects are in the session as the ORM would have loaded them (:func:`_held`).
    """
    rows = services.db.session_rows(session, _task_statement(with_calendar), {"task_id": task_id})
    if not rows:
        raise _task_not_found(task_id)
    task, case, grants = _held(services, session, rows, _held_groups(with_calendar))
    read_with_case(session, case.id, grants)
    days = rows[0][-1] if with_calendar else None
    return _Found(task, _checked(actor, task, case, grants), days_of(days))


def _held(services: Services, session: Session, rows: list[tuple[Any, ...]],
          groups: tuple[tuple[Any, ...], ...]) -> tuple[Task, Case, list[CaseAccess]]:
    """The task, its case and the case's access rows of :func:`_task_statement`'s rows, persistent in the
    session with nothing changed (:meth:`Base.as_loaded`): the command's changes are tracked from there, as
    when the ORM loaded them. The revision's unit is left to its lazy load (the session's copy of the
    case's unit, no SQL), as :func:`~service.commands.cases.case_options` leaves it; its other columns but the
    diagram and decision tables come from the process's memo (:func:`~service.commands.definitions.held_revision`)."""
    candidates: dict[str, TaskCandidate] = {}  # the primary key is (task_id, role)
    grants: dict[tuple[int, str], CaseAccess] = {}
    for row in rows:
        task_values, task_unit, candidate, case_values, revision, case_unit, grant = column_groups(row, groups)
        if candidate["role"] is not None:
            candidates.setdefault(candidate["role"], TaskCandidate.as_loaded(session, candidate))
        if grant["case_id"] is not None:
            grants.setdefault((grant["unit_id"], grant["role"]), CaseAccess.as_loaded(session, grant))
    unit = Unit.as_loaded(session, case_unit)
    case = Case.as_loaded(session, {**case_values, "definition": held_revision(services, session, revision),
                                    "unit": unit})
    task = Task.as_loaded(session, {**task_values, "unit": unit if task_unit["id"] == unit.id
                                    else Unit.as_loaded(session, task_unit)})
    set_committed_value(task, "candidates", list(candidates.values()))
    session.add_all([task, case, *grants.values()])  # with their units, revision and candidates
    return task, case, list(grants.values())


def _checked(actor: Actor, task: Task, case: Case, grants: list[CaseAccess]) -> Visible:
    """The case as the actor may see it (404 when not at all) if they may work the task's lane (else 403)."""
    try:
        found = visible_with(actor, case, grants)
    except NotFound:
        raise _task_not_found(task.id) from None
    roles = lane_roles(task)
    if not actor.may_work_as(task.unit_id, roles):
        raise Forbidden(f"Task {task.id} belongs to the lane {', '.join(sorted(roles))}, not one of your roles")
    return found


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


def get_task(services: Services, actor: Actor, task_id: str) -> TaskView:
    task, case, grants = _read_task(services, task_id)
    found = _checked(actor, task, case, grants)
    forms = revision_forms(services, case.definition)
    return TaskView(task, forms.get(task.form_key) if task.form_key else None, found.data(case.data), case.status)


def claim(services: Services, actor: Actor, task_id: str) -> Task:
    with services.db.transaction() as session:
        task = _task_for(services, session, actor, task_id).task
        if task.status != TaskStatus.READY.value:
            raise Conflict(f"Task {task_id} is {task.status}")
        history = HistoryWriter(session, task.case_id, _signature(actor, task))
        history.hold()
        # A conditional UPDATE, not read-then-write: of two claims at the same moment one finds the
        # row taken (PostgreSQL re-checks the WHERE after the other's commit) and gets a 409.
        taken: CursorResult[Any] = session.execute(  # type: ignore[assignment]
            update(Task).where(Task.id == task.id, TASK_IS_READY,
                               or_(Task.claimed_by.is_(None), Task.claimed_by == actor.user_id))
            .values(claimed_by=actor.user_id).execution_options(synchronize_session="fetch")
        )
        if taken.rowcount != 1:
            raise Conflict(f"Task {task_id} is already claimed by someone else")
        history.add("task_claimed", task_id=task.id, element_id=task.element_id)
        return task


def unclaim(services: Services, actor: Actor, task_id: str) -> Task:
    with services.db.transaction() as session:
        task = _task_for(services, session, actor, task_id).task
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
        session.info[ONE_STATEMENT] = True
        found = _task_for(services, session, actor, task_id, with_calendar=True)
        task, case = found.task, found.visible.case
        if task.claimed_by not in (None, actor.user_id):
            raise Conflict(f"Task {task_id} is claimed by someone else")
        calendar = unit_calendar(services, case.unit, found.closed_days)
        written = _complete(services, session, case, task, data, _signature(actor, task), actor.user_id or None,
                            calendar)
        tasks = _ready_rows(session, case, written)
        history = write_in_one(session, case, last=True)
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
