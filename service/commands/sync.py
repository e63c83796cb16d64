"""After the engine moved a case: write its state, task projection, history and outbox rows.

Runs inside the command's transaction, so the case row (optimistic lock) and everything derived
from it change together or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.commands.context import REPORTER_ROLE
from service.commands.history import HistoryWriter
from service.engine import CaseRun, CaseStatus, FiredTimer, HumanTask, TaskStatus, utc_now
from service.store.models import BufferedMessage, Case, OutboxItem, Task, TaskCandidate


def _new_task_row(case: Case, task: HumanTask) -> Task:
    row = Task(
        id=task.id, case_id=case.id, definition_key=case.definition.key, element_id=task.element_id,
        name=task.name, lane=task.lane, unit_id=case.unit_id, form_key=task.form_key,
        status=TaskStatus.READY.value, due_at=task.due_at, created_at=utc_now(),
    )
    row.candidates = [TaskCandidate(role=role, unit_id=case.unit_id) for role in task.roles]
    return row


def deliver_buffered(session: Session, case: Case, run: CaseRun, history: HistoryWriter) -> None:
    """Hand the case any buffered messages it can catch now, oldest first, until none fits."""
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
    return session.scalar(select(Task.name).where(Task.case_id == case.id, Task.element_id == element_id).limit(1))


def deliver_or_buffer(session: Session, case: Case, run: CaseRun, history: HistoryWriter, name: str,
                      payload: dict[str, Any]) -> bool:
    """Deliver a message now and move the case on, or keep it until the process can catch it."""
    if not run.deliver_message(name, payload):
        session.add(BufferedMessage(case_id=case.id, name=name, payload=payload))
        history.add("message_buffered", {"name": name})
        return False
    history.add("message_delivered", {"name": name})
    deliver_buffered(session, case, run, history)
    write_back(session, case, run, history, data_delta={name: payload})
    return True


def record_fired_timers(case: Case, timers: list[FiredTimer], history: HistoryWriter, session: Session) -> None:
    """History, breach marks on the open tasks and escalation outbox rows for fired timers."""
    now = utc_now()
    for timer in timers:
        if timer.attached_to:
            session.execute(update(Task).where(
                Task.case_id == case.id, Task.element_id == timer.attached_to,
                Task.status == TaskStatus.READY.value, Task.breached_at.is_(None),
            ).values(breached_at=now))
        history.add("timer_fired", {"name": timer.name, "attached_to": timer.attached_to,
                                    "escalate_to": timer.escalate_to}, element_id=timer.element_id)
        if timer.escalate_to:
            session.add(OutboxItem(kind="escalation", case_id=case.id, unit_id=case.unit_id,
                                   recipient_role=timer.escalate_to,
                                   payload={"timer": timer.name, "element_id": timer.attached_to,
                                            "step": _step_name(session, case, timer.attached_to)}))


def write_back(
    session: Session,
    case: Case,
    run: CaseRun,
    history: HistoryWriter,
    completed: Mapping[str, int | None] | None = None,
    data_delta: Mapping[str, Any] | None = None,
) -> None:
    """Persist the run: state, data, status, next timer, task projection and notifications.

    ``completed`` maps the id of the task the command completed to the user who did it.
    """
    completed = completed or {}
    now = utc_now()
    ready = {task.id: task for task in run.ready_tasks()}
    open_rows = session.scalars(
        select(Task).where(Task.case_id == case.id, Task.status == TaskStatus.READY.value)
    ).all()
    for row in open_rows:
        if row.id in ready:
            row.due_at = ready.pop(row.id).due_at
            continue
        row.candidates = []
        row.completed_at = now
        if row.id in completed:
            row.status, row.completed_by = TaskStatus.COMPLETED.value, completed[row.id]
        else:
            row.status = TaskStatus.CANCELLED.value
            history.add("task_cancelled", {"name": row.name}, task_id=row.id, element_id=row.element_id)
    for task in ready.values():
        session.add(_new_task_row(case, task))
        if task.lane != REPORTER_ROLE and task.roles:
            due = task.due_at.isoformat() if task.due_at else None
            session.add(OutboxItem(kind="task", case_id=case.id, unit_id=case.unit_id, recipient_role=task.roles[0],
                                   payload={"step": task.name, "due_at": due}))
        history.add("task_created", {"name": task.name, "lane": task.lane}, task_id=task.id,
                    element_id=task.element_id)
    for note in run.take_notifications():
        payload = {"message": note.name, "data": note.payload, "element_name": note.element_name}
        session.add(OutboxItem(kind="notification", case_id=case.id, unit_id=case.unit_id,
                               recipient_role=note.recipient, payload=payload))
        history.add("notification", payload, element_id=note.element_id)
    if data_delta:
        case.data = {**(case.data or {}), **data_delta}
    case.state = run.dump()
    case.next_timer_at = run.next_timer_at()
    case.updated_at = now
    if run.completed and case.status == CaseStatus.RUNNING.value:
        case.status = CaseStatus.COMPLETED.value
        case.completed_at = now
        case.next_timer_at = None
        history.add("case_completed")
