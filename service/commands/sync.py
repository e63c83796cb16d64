"""After the engine moved a case: write its state, task projection, history and outbox rows.

Runs inside the command's transaction, so the case row (optimistic lock) and everything derived
from it change together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, delete, func, insert, inspect, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from service.commands import access, notifications, outcomes
from service.commands.context import REPORTER_ROLE
from service.commands.history import HistoryWriter
from service.engine import CaseRun, CaseStatus, FiredTimer, HumanTask, Notification, TaskStatus, properties, utc_now
from service.engine.compiler import CompiledDefinition
from service.engine.messages import caught_messages
from service.engine.runtime import add_answer, collected_answers
from service.errors import InvalidInput, TooManyRequests
from service.store.models import (
    TASK_IS_READY,
    BufferedMessage,
    Case,
    OutboxItem,
    Reporter,
    Task,
    TaskCandidate,
    Unit,
)
from service.store.one_statement import ONE_STATEMENT


def routed_unit(session: Session, case: Case, task: HumanTask, data: Mapping[str, Any]) -> int:
    """The unit whose members get ``task``: the sub-unit named by its ``tujuan_unit`` field, else the case's.

    An instance of a multi-instance task whose ``tujuan_unit`` names its element variable
    (``camunda:elementVariable``) goes to the sub-unit that instance stands for: one task per bidang.
    The field's value must be the code of a sub-unit of the case's office; anything else is a 422
    naming the field, and the command that produced it is rolled back.
    """
    field = task.properties.get(properties.ROUTE_FIELD)
    if not field:
        return case.unit_id
    code = task.instance[1] if task.instance and task.instance[0] == field else data.get(field)
    unit_id = session.scalar(select(Unit.id).where(Unit.code == code, Unit.parent_id == case.unit_id)) \
        if isinstance(code, str) and code else None
    if unit_id is None:
        raise InvalidInput(f"'{task.name}' goes to the sub-unit named in {field}, but {code!r} is not a sub-unit "
                           f"of {case.unit.code}", [{"field": field, "message": "not a sub-unit of this office"}])
    return unit_id


def project_task(session: Session, case: Case, row: Task, task: HumanTask) -> None:
    """The candidates of an open task row, and the case access its roles gain by holding it."""
    row.candidates = _candidates(row, task, case)
    _grant_task_roles(session, case, row, task)


def _candidates(row: Task, task: HumanTask, case: Case) -> list[TaskCandidate]:
    """The candidate rows of an open task row, each with its copy of the task's sort and filter columns
    (:meth:`TaskCandidate.values_for`); the reporter's row names who filed the case."""
    columns = {key: getattr(row, key) for key in ("id", *TaskCandidate.COPIED)}
    return [TaskCandidate.built(TaskCandidate.values_for(
        columns, role, case.started_by if role == REPORTER_ROLE else None)) for role in task.roles]


def _moved_due(session: Session, task_id: str, due: datetime | None, row: Task | None = None) -> None:
    """A due date that moved on an open task, in its candidate rows' copy too: changed on ``row``'s loaded
    candidates (written with the row), else by a statement (the task's own row is updated by one too)."""
    if row is None:
        session.execute(update(TaskCandidate).where(TaskCandidate.task_id == task_id).values(due_at=due)
                        .execution_options(synchronize_session=False))
        return
    for candidate in row.candidates:
        candidate.due_at = due


def _grant_task_roles(session: Session, case: Case, row: Task, task: HumanTask) -> None:
    shown = properties.listed(task.properties, properties.SHOWN_FIELDS)
    access.grant(session, case, row.unit_id, task.roles, "task", fields=shown or None)


def _new_task_row(session: Session, case: Case, task: HumanTask, data: Mapping[str, Any]) -> Task:
    """A new open task row with its candidates, built as loaded rows (:meth:`~service.store.models.Base.built`,
    no attribute events: they cost more than the rest of the projection). The candidates are held as the
    row's committed collection, so adding the row to the session adds them (cascade) as new rows too."""
    unit_id = routed_unit(session, case, task, data)
    row = Task.built(dict(
        id=task.id, case_id=case.id, definition_key=case.definition.key, element_id=task.element_id,
        name=task.name, lane=task.lane, unit_id=unit_id, form_key=task.form_key,
        status=TaskStatus.READY.value, due_at=task.due_at, created_at=utc_now(),
        # the response is built from this row: its unit without a lookup when it is the case's
        unit=case.unit if unit_id == case.unit_id else session.get(Unit, unit_id)))
    set_committed_value(row, "candidates", _candidates(row, task, case))
    _grant_task_roles(session, case, row, task)
    return row


def _add_outbox(session: Session, kind: str, case: Case, unit_id: int | None, recipient_role: str | None,
                payload: dict[str, Any]) -> None:
    """A new outbox row, only ever inserted: built without attribute events (:meth:`Base.built`)."""
    session.add(OutboxItem.built(dict(kind=kind, case_id=case.id, unit_id=unit_id, recipient_role=recipient_role,
                                      payload=payload)))


def grant_supervisors(session: Session, case: Case, compiled: CompiledDefinition) -> None:
    """The SOP's ``pengawas`` roles see every case of it."""
    supervisors = properties.listed(compiled.outline.metadata, properties.SUPERVISORS)
    access.grant(session, case, case.unit_id, supervisors, "pengawas")


def deliver_buffered(session: Session, case: Case, run: CaseRun, history: HistoryWriter) -> None:
    """Hand the case any buffered messages it can catch now, oldest first, until none fits.

    A case none of whose message catch events waits now can be handed none: no lookup then (nor for a
    diagram without message catch events, which never buffers one). That is nearly every fired timer.
    """
    if not caught_messages(run.compiled) or not run.waiting_messages():
        return
    with session.no_autoflush:  # the rows the command added are not read here: written at its end
        pending = session.scalars(
            select(BufferedMessage).where(BufferedMessage.case_id == case.id, BufferedMessage.delivered_at.is_(None))
            .order_by(BufferedMessage.id)
        ).all()
    progress = True
    while progress:
        progress = False
        for message in pending:
            if message.delivered_at is None and run.deliver_message(message.name, message.payload):
                message.delivered_at = utc_now()
                history.add("message_delivered", {"name": message.name, "buffered": True})
                progress = True


def _step_name(session: Session, case: Case, element_id: str | None) -> str | None:
    with session.no_autoflush:
        return session.scalar(select(Task.name).where(Task.case_id == case.id, Task.element_id == element_id)
                              .limit(1))


class BufferFull(TooManyRequests):
    """A case already holds as many undelivered messages as it may (``ALUR_MAX_BUFFERED_MESSAGES``)."""

    code = "too_many_buffered_messages"


def deliver_or_buffer(session: Session, case: Case, run: CaseRun, history: HistoryWriter, name: str,
                      payload: dict[str, Any], max_buffered: int | None = None) -> bool:
    """Deliver a message now and move the case on, or keep it until the process can catch it.

    A case keeps at most ``max_buffered`` undelivered messages; one more is :class:`BufferFull` (429),
    raised before anything is written. The count is taken with the case row locked (PostgreSQL), so
    concurrent messages cannot overshoot it.
    """
    if not run.deliver_message(name, payload):
        if max_buffered is not None:
            session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
            waiting = session.scalar(select(func.count()).select_from(BufferedMessage).where(
                BufferedMessage.case_id == case.id, BufferedMessage.delivered_at.is_(None))) or 0
            if waiting >= max_buffered:
                raise BufferFull(f"Case {case.id} already holds {waiting} messages it cannot catch yet; "
                                 f"no more are kept until some are delivered", [{"field": "name", "message": name}])
        session.add(BufferedMessage(case_id=case.id, name=name, payload=payload))
        history.add("message_buffered", {"name": name})
        return False
    history.add("message_delivered", {"name": name})
    deliver_buffered(session, case, run, history)
    write_back(session, case, run, history, data_delta={name: payload})
    return True


def record_fired_timers(case: Case, timers: list[FiredTimer], history: HistoryWriter, session: Session,
                        open_rows: Sequence[Task]) -> None:
    """History, breach marks on the open tasks, escalation outbox rows and in-app notifications for fired timers.

    ``open_rows``: the case's ready task rows with their candidates, read by the caller with the case
    row locked (PostgreSQL; on SQLite its optimistic lock fails a fire that raced another). A row of the
    timer's step not yet breached is marked here; the escalation mail names the step, and the
    notifications of a newly breached step (:func:`notifications.record_breach`, one INSERT … SELECT)
    are written once, by the fire that marked it. The other rows go with the command's write.
    """
    now = utc_now()
    for timer in timers:
        step_rows = [row for row in open_rows if timer.attached_to and row.element_id == timer.attached_to
                     and row.status == TaskStatus.READY.value]
        breached = [row for row in step_rows if row.breached_at is None]
        for row in breached:
            row.breached_at = now
        history.add("timer_fired", {"name": timer.name, "attached_to": timer.attached_to,
                                    "escalate_to": timer.escalate_to}, element_id=timer.element_id)
        if timer.escalate_to:
            access.grant(session, case, case.unit_id, [timer.escalate_to], "escalation")
            step = step_rows[0].name if step_rows else _step_name(session, case, timer.attached_to)
            _add_outbox(session, "escalation", case, case.unit_id, timer.escalate_to,
                        {"timer": timer.name, "element_id": timer.attached_to, "step": step})
        for row in breached:
            with session.no_autoflush:  # reads the step's candidates and the role holders, as stored
                notifications.record_breach(session, case, notifications.BreachedTask(
                    row.id, row.name, row.due_at, row.claimed_by), timer.escalate_to, now)


def _notification_payload(session: Session, case: Case, note: Notification,
                          data: Mapping[str, Any], collected: tuple[str, ...] = ()) -> dict[str, Any]:
    """History and outbox payload of a thrown message; for the reporter, its text and published fields."""
    payload = {"message": note.name, "data": note.payload, "element_name": note.element_name,
               "recipient": note.recipient}
    if note.recipient == REPORTER_ROLE:
        payload["text"] = outcomes.reporter_text(note.element_name)
        payload["fields"] = _published(session, case, note.published, data, collected)
    return payload


def _published(session: Session, case: Case, names: tuple[str, ...], data: Mapping[str, Any],
               collected: tuple[str, ...]) -> list[dict[str, Any]]:
    """The fields a notification publishes. A name a multi-instance task answered (collected under
    ``jawaban_<elementVariable>``, e.g. one ``hasil_tindak_lanjut`` per bidang) is published once per
    answer, its label naming the sub-unit that gave it."""
    forms = case.definition.forms or {}
    answers = [(key, answer) for field_name in collected if isinstance(data.get(field_name), Mapping)
               for key, answer in data[field_name].items() if isinstance(answer, Mapping)]
    answered = {name for _key, answer in answers for name in answer if name in names and name not in data}
    if not answered:
        return outcomes.published_fields(session, case.id, forms, names, data)
    units = dict(session.execute(select(Unit.code, Unit.name).where(Unit.code.in_([key for key, _ in answers]))).all())
    fields: list[dict[str, Any]] = []
    for name in names:
        if name not in answered:
            fields += outcomes.published_fields(session, case.id, forms, [name], data)
            continue
        for key, answer in answers:
            for found in outcomes.published_fields(session, case.id, forms, [name], answer):
                fields.append({**found, "label": f"{found['label']} — {units.get(key, key)}"})
    return fields


def _ask_reporter(session: Session, case: Case, task: HumanTask, data: Mapping[str, Any]) -> None:
    """Mail a public report's reporter (when they left an identity) that the office asks them something."""
    identified = session.scalar(select(Reporter.id).where(Reporter.case_id == case.id,
                                                          Reporter.identity_ciphertext.is_not(None)))
    if identified is None:
        return
    fields = outcomes.published_fields(session, case.id, case.definition.forms or {},
                                       properties.listed(task.properties, properties.SHOWN_FIELDS), data)
    _add_outbox(session, "reporter_task", case, case.unit_id, REPORTER_ROLE,
                {"step": task.name, "due_at": task.due_at.isoformat() if task.due_at else None, "fields": fields})


@dataclass
class Written:
    """What :func:`write_back` added: the new task rows, for a response built without reading them back."""

    new_tasks: list[Task] = field(default_factory=list)
    #: ids of the tasks that were ready before the step and still are
    still_ready: list[str] = field(default_factory=list)


def write_back(
    session: Session,
    case: Case,
    run: CaseRun,
    history: HistoryWriter,
    completed: Mapping[str, int | None] | None = None,
    data_delta: Mapping[str, Any] | None = None,
    before: Mapping[str, HumanTask] | None = None,
    open_rows: Sequence[Task] | None = None,
) -> Written:
    """Persist the run: state, data, status, next timer, task projection and notifications.

    ``completed`` maps the id of the task the command completed to the user who did it. ``before``:
    the case's ready tasks as the engine had them before this step (a new case: none). The projection
    mirrors them, so the open rows need not be read; rows not in the session are then changed by
    statements of their own (a parallel branch: rare). Without it the open rows are read, unless the
    caller read them already (``open_rows``: every ready row of the case, the timer worker's batch read).

    The case row is written first (its optimistic lock), by :func:`save_case` at the end, once its
    values are known: a concurrent command on the same case then fails there with a 409, before it
    inserts task or access rows the winner inserted too; the other rows follow at commit. Without
    ``before`` (nor ``open_rows``) the caller may have changed rows already, so the session is flushed
    first as well. A command that ends with :func:`write_in_one` writes the case row in
    that statement.
    """
    if before is None and open_rows is None:
        case.updated_at = utc_now()
        session.flush()
    if inspect(case).transient:  # a new case: its row goes in first, after everything is known
        with session.no_autoflush:
            written = _write_back(session, case, run, history, completed or {}, data_delta, before)
            save_case(session, case)
        return written
    written = _write_back(session, case, run, history, completed or {}, data_delta, before, open_rows)
    save_case(session, case)
    return written


def save_case(session: Session, case: Case) -> None:
    """Write the case row now, by itself, before the rows the command added that refer to it.

    A new case is inserted; a stored one updated with its optimistic lock (``lock_version``, the same
    check the ORM makes), its values then being what the session holds as committed, so the flush at
    commit writes only the other rows. A lost race is :class:`StaleDataError`, which the transaction
    turns into a 409.
    """
    if session.info.get(ONE_STATEMENT):
        return  # :func:`write_in_one` writes it, with everything else
    table = cast(Table, Case.__table__)
    state = inspect(case)
    with session.no_autoflush:
        if state.transient:
            session.execute(insert(table).values({column.key: getattr(case, column.key) for column in table.columns}))
            make_transient_to_detached(case)
            session.add(case)
            return
        changed = {column.key: getattr(case, column.key) for column in table.columns
                   if column.key != "lock_version" and state.attrs[column.key].history.has_changes()}
        if not changed:
            return
        version = case.lock_version
        result = session.execute(update(table).where(table.c.id == case.id, table.c.lock_version == version)
                                 .values(**changed, lock_version=version + 1))
        if cast(CursorResult[Any], result).rowcount != 1:
            raise StaleDataError(f"case {case.id} changed since it was read (lock_version {version})")
    for key, value in {**changed, "lock_version": version + 1}.items():
        set_committed_value(case, key, value)


def _close_rows(session: Session, history: HistoryWriter, before: Mapping[str, HumanTask],
                ready: dict[str, HumanTask], completed: Mapping[str, int | None], now: datetime,
                written: Written) -> None:
    """The projection of the tasks that left READY, and due dates that moved, from the engine's view."""
    for task_id, task in before.items():
        if task_id in ready:
            written.still_ready.append(task_id)
            due = ready.pop(task_id).due_at
            if due != task.due_at:
                session.execute(update(Task).where(Task.id == task_id).values(due_at=due)
                                .execution_options(synchronize_session=False))
                _moved_due(session, task_id, due)
            continue
        status = TaskStatus.COMPLETED.value if task_id in completed else TaskStatus.CANCELLED.value
        values = {"status": status, "completed_at": now, "completed_by": completed.get(task_id)}
        row = session.identity_map.get(identity_key(Task, task_id))
        if isinstance(row, Task):
            _drop_candidates(session, row)
            row.status, row.completed_at = status, now
            if task_id in completed:
                row.completed_by = completed[task_id]
        else:
            if task_id not in completed:
                del values["completed_by"]
            session.execute(delete(TaskCandidate).where(TaskCandidate.task_id == task_id)
                            .execution_options(synchronize_session=False))
            session.execute(update(Task).where(Task.id == task_id, TASK_IS_READY)
                            .values(**values).execution_options(synchronize_session=False))
        if task_id not in completed:
            history.add("task_cancelled", {"name": task.name}, task_id=task_id, element_id=task.element_id)


def _drop_candidates(session: Session, row: Task) -> None:
    """A task leaving READY loses its candidates: each row deleted and the collection left empty as stored.
    The same rows go as replacing the collection would delete them, without its events (the dearer part
    of closing a task)."""
    for candidate in row.candidates:
        if inspect(candidate).pending:
            session.expunge(candidate)
        else:
            session.delete(candidate)
    set_committed_value(row, "candidates", [])


def _read_rows(session: Session, case: Case, history: HistoryWriter, ready: dict[str, HumanTask],
               completed: Mapping[str, int | None], now: datetime, written: Written,
               open_rows: Sequence[Task] | None = None) -> None:
    """The projection of the open rows (read here unless the caller did) against the engine's ready tasks."""
    if open_rows is None:
        open_rows = session.scalars(
            select(Task).where(Task.case_id == case.id, TASK_IS_READY)
        ).all()
    for row in open_rows:
        if row.id in ready:
            written.still_ready.append(row.id)
            due = ready.pop(row.id).due_at
            if due != row.due_at:
                _moved_due(session, row.id, due, row)
            row.due_at = due
            continue
        _drop_candidates(session, row)
        row.completed_at = now
        if row.id in completed:
            row.status, row.completed_by = TaskStatus.COMPLETED.value, completed[row.id]
        else:
            row.status = TaskStatus.CANCELLED.value
            history.add("task_cancelled", {"name": row.name}, task_id=row.id, element_id=row.element_id)


def _collected(case: Case, before: Mapping[str, HumanTask], completed: Mapping[str, int | None],
               data_delta: Mapping[str, Any] | None) -> Mapping[str, Any]:
    """The case data a step adds. An instance of a multi-instance task adds its answer to the others,
    under ``jawaban_<elementVariable>`` by its element value (as the engine collects them), not over them."""
    task = next((before[task_id] for task_id in completed if task_id in before), None)
    if not data_delta or task is None or task.instance is None or task.answers_field is None:
        return data_delta or {}
    answers = dict((case.data or {}).get(task.answers_field) or {})
    return {task.answers_field: add_answer(answers, task.instance[1], data_delta)}


def _write_back(session: Session, case: Case, run: CaseRun, history: HistoryWriter,
                completed: Mapping[str, int | None], data_delta: Mapping[str, Any] | None,
                before: Mapping[str, HumanTask] | None, open_rows: Sequence[Task] | None = None) -> Written:
    now = utc_now()
    written = Written()
    data = {**(case.data or {}), **_collected(case, before or {}, completed, data_delta)}
    ready = {task.id: task for task in run.ready_tasks()}
    if before is None:
        _read_rows(session, case, history, ready, completed, now, written, open_rows)
    else:
        _close_rows(session, history, before, ready, completed, now, written)
    for task in ready.values():
        new_row = _new_task_row(session, case, task, data)
        session.add(new_row)
        written.new_tasks.append(new_row)
        if task.lane != REPORTER_ROLE and task.roles:
            due = task.due_at.isoformat() if task.due_at else None
            _add_outbox(session, "task", case, new_row.unit_id, task.roles[0], {"step": task.name, "due_at": due})
        elif task.lane == REPORTER_ROLE and before != {}:  # a new case has no reporter row yet
            _ask_reporter(session, case, task, data)
        history.add("task_created", {"name": task.name, "lane": task.lane}, task_id=task.id,
                    element_id=task.element_id)
    for note in run.take_notifications():
        payload = _notification_payload(session, case, note, data, collected_answers(run.compiled))
        _add_outbox(session, "notification", case, case.unit_id, note.recipient, payload)
        history.add("notification", payload, element_id=note.element_id)
    if data_delta:
        case.data = data
    case.state = run.dump()
    case.next_timer_at = run.next_timer_at()
    case.updated_at = now
    if run.completed and case.status == CaseStatus.RUNNING.value:
        case.status = CaseStatus.COMPLETED.value
        case.completed_at = now
        case.next_timer_at = None
        history.add("case_completed")
    return written
