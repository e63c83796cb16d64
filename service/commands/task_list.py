"""The task list: what the actor may pick up, filtered, sorted and paged.

Listing reads only the projection tables (``tasks`` and ``task_candidates``): no workflow is
restored to show a task list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, exists, false, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from service.commands.context import REPORTER_ROLE, Actor, Services
from service.engine import TaskStatus, utc_now
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
