"""Starting, reading, messaging and cancelling cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from service import forms as form_files
from service.commands.calendars import calendar_for
from service.commands.context import Actor, Services
from service.commands.definitions import startable
from service.commands.history import HistoryWriter
from service.commands.specs import compiled_for
from service.commands.sync import deliver_or_buffer, write_back
from service.engine import CaseRun, CaseStatus, utc_now
from service.errors import Conflict, Forbidden, NotFound
from service.store.models import Case, Definition, HistoryEntry, Task, Unit


@dataclass
class StartRequest:
    definition_key: str
    version: int | None = None
    business_key: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def restore(services: Services, session: Session, case: Case) -> CaseRun:
    return CaseRun.restore(compiled_for(services, session, case.definition), case.state,
                           calendar_for(session, case.unit))


def start_case(services: Services, actor: Actor, request: StartRequest) -> Case:
    with services.db.transaction() as session:
        definition = startable(session, request.definition_key, request.version)
        compiled = compiled_for(services, session, definition)
        start_lane = compiled.spec.start.outputs[0].lane if compiled.spec.start.outputs else None
        if not (actor.administers(definition.unit_id)
                or (start_lane is not None and start_lane in actor.roles_in(definition.unit_id))):
            raise Forbidden(f"Starting '{definition.key}' needs the role {start_lane or 'admin'} "
                            f"in unit {definition.unit.code}")
        form_key = compiled.start_form_key
        form_files.validate_data((definition.forms or {}).get(form_key) if form_key else None, request.data)
        run = CaseRun.start(compiled, request.data, calendar_for(session, definition.unit))
        return record_new_case(session, definition, run, actor.username, started_by=actor.user_id or None,
                               business_key=request.business_key, data=request.data)


def record_new_case(session: Session, definition: Definition, run: CaseRun, actor_name: str, *,
                    started_by: int | None, business_key: str | None, data: dict[str, Any],
                    action: str = "case_started") -> Case:
    """Insert a case that the engine just started, with its first history rows and tasks."""
    case = Case(id=str(uuid.uuid4()), definition=definition, definition_id=definition.id, unit=definition.unit,
                unit_id=definition.unit_id, business_key=business_key, status=CaseStatus.RUNNING.value,
                state={}, data={}, started_by=started_by)
    session.add(case)
    session.flush()
    history = HistoryWriter(session, case.id, actor_name)
    history.add(action, {"definition_key": definition.key, "version": definition.version})
    write_back(session, case, run, history, data_delta=data)
    return case


def _visible_case(session: Session, actor: Actor, case_id: str) -> Case:
    case = session.get(Case, case_id)
    if case is None or not actor.sees_case(case.unit_id, case.started_by):
        raise NotFound(f"Case {case_id} does not exist or is not visible to you")
    return case


def administered_case(session: Session, actor: Actor, case_id: str, action: str) -> Case:
    """The case, if the actor sees it (else 404) and administers its unit (else 403 naming ``action``)."""
    case = _visible_case(session, actor, case_id)
    if not actor.administers(case.unit_id):
        raise Forbidden(f"Only an administrator of the unit may {action}")
    return case


@dataclass(frozen=True)
class CaseView:
    case: Case
    tasks: list[Task]
    history: list[HistoryEntry]


def get_case(services: Services, actor: Actor, case_id: str) -> CaseView:
    with services.db.reading() as session:
        case = _visible_case(session, actor, case_id)
        tasks = session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "ready")
                                .order_by(Task.created_at)).all()
        history = session.scalars(select(HistoryEntry).where(HistoryEntry.case_id == case.id)
                                  .order_by(HistoryEntry.id)).all()
        return CaseView(case, list(tasks), list(history))


@dataclass
class CaseQuery:
    definition_key: str | None = None
    status: str | None = None
    business_key: str | None = None
    unit: str | None = None
    page: int = 1
    per_page: int = 20


def list_cases(services: Services, actor: Actor, query: CaseQuery) -> tuple[list[CaseView], int]:
    with services.db.reading() as session:
        statement = select(Case)
        if not actor.is_admin:
            staff_units = [unit for unit in actor.roles_by_unit if not actor.reporter_only(unit)]
            reporter_units = [unit for unit in actor.roles_by_unit if actor.reporter_only(unit)]
            statement = statement.where(or_(
                Case.unit_id.in_(staff_units),
                and_(Case.unit_id.in_(reporter_units), Case.started_by == actor.user_id),
            ))
        if query.definition_key:
            statement = statement.join(Definition).where(Definition.key == query.definition_key)
        if query.status:
            statement = statement.where(Case.status == query.status)
        if query.business_key:
            statement = statement.where(Case.business_key == query.business_key)
        if query.unit:
            statement = statement.join(Unit, Case.unit_id == Unit.id).where(Unit.code == query.unit)
        total = session.scalar(select(func.count()).select_from(statement.subquery())) or 0
        rows = session.scalars(statement.order_by(Case.created_at.desc(), Case.id)
                               .offset((query.page - 1) * query.per_page).limit(query.per_page)).all()
        return [CaseView(row, [], []) for row in rows], total


def send_message(services: Services, actor: Actor, case_id: str, name: str, payload: dict[str, Any]) -> bool:
    """Deliver a message to a case; buffer it when the process cannot catch it yet. True if delivered."""
    with services.db.transaction() as session:
        case = _visible_case(session, actor, case_id)
        if case.status != CaseStatus.RUNNING.value:
            raise Conflict(f"Case {case_id} is {case.status}; it takes no more messages")
        run = restore(services, session, case)
        return deliver_or_buffer(session, case, run, HistoryWriter(session, case.id, actor.username), name, payload)


def cancel_case(services: Services, actor: Actor, case_id: str, reason: str | None = None) -> Case:
    with services.db.transaction() as session:
        case = administered_case(session, actor, case_id, "cancel a case")
        if case.status != CaseStatus.RUNNING.value:
            raise Conflict(f"Case {case_id} is already {case.status}")
        run = restore(services, session, case)
        run.cancel()
        history = HistoryWriter(session, case.id, actor.username)
        case.status = CaseStatus.CANCELLED.value
        case.completed_at = utc_now()
        write_back(session, case, run, history)
        history.add("case_cancelled", {"reason": reason or ""})
        case.next_timer_at = None
        return case
