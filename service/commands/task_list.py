"""The task list: what the actor may pick up, filtered, sorted and paged.

Listing reads only the projection tables (``tasks`` and ``task_candidates``): no workflow is
restored to show a task list.

It stays flat at a million open tasks (issue 13): a page is a keyset (cursor) page that walks an
index in sort order and stops after ``per_page + 1`` rows, and the total is a *capped* count — at
most :data:`COUNT_CAP` + 1 rows are counted, and a larger total is reported as "1,000+". The page,
its candidate roles and the capped total come back in one statement.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Select,
    Subquery,
    and_,
    bindparam,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased, contains_eager

from service.commands.context import REPORTER_ROLE, Actor, Services
from service.commands.display import label_of
from service.engine import TaskStatus, utc_now
from service.errors import InvalidInput
from service.store.models import Case, Definition, Task, TaskCandidate, Unit

#: Totals and per-SOP counts stop counting here: a larger number is shown as "1,000+".
COUNT_CAP = 1000


@dataclass(frozen=True)
class Sort:
    """An order of the list: ``(due_at,) created_at, id`` ascending or descending.

    A due-date sort keeps tasks without a due date last in both directions: they are a second
    segment, ordered by ``created_at, id`` in the same direction. ``id`` makes every key unique, so
    a cursor names one position.
    """

    by_due: bool
    descending: bool


SORTS = {
    "due_at": Sort(by_due=True, descending=False),
    "-due_at": Sort(by_due=True, descending=True),
    "created_at": Sort(by_due=False, descending=False),
    "-created_at": Sort(by_due=False, descending=True),
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
    #: the ``next_cursor`` of the previous page; when given, ``page`` is not used
    cursor: str | None = None
    count_cap: int = COUNT_CAP


@dataclass(frozen=True)
class TaskPage:
    items: list[Task]
    #: the number of tasks under the filters, or ``count_cap + 1`` when there are more than the cap
    total: int
    #: True when ``total`` is a lower bound (more than ``count_cap`` tasks)
    total_capped: bool
    #: the cursor of the page after this one; None on the last page
    next_cursor: str | None


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"

    def __init__(self) -> None:
        super().__init__("The cursor is not one this list gave out (use next_cursor as it came)",
                         [{"field": "cursor", "message": "Unknown or damaged cursor."}])


# --- the filters ------------------------------------------------------------------------------

def _candidate_match(actor: Actor, candidate: type[TaskCandidate] | Any) -> ColumnElement[bool]:
    """THE candidate rule, on one ``task_candidates`` row (or alias): a (unit, role) pair of the actor;
    a reporter's Pelapor tasks only in cases they filed."""
    own_cases = select(Case.id).where(Case.started_by == actor.user_id)
    clauses = []
    for unit_id, roles in actor.roles_by_unit.items():
        staff_roles = sorted(roles - {REPORTER_ROLE})
        if staff_roles:
            clauses.append(and_(candidate.unit_id == unit_id, candidate.role.in_(staff_roles)))
        if REPORTER_ROLE in roles:
            clauses.append(and_(candidate.unit_id == unit_id, candidate.role == REPORTER_ROLE,
                                Task.case_id.in_(own_cases)))
    return or_(false(), *clauses)


def _candidate_filter(actor: Actor) -> ColumnElement[bool]:
    """Tasks the actor may pick up, as a WHERE clause on :class:`Task`."""
    return exists().where(TaskCandidate.task_id == Task.id, _candidate_match(actor, TaskCandidate))


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search_filter(text: str) -> ColumnElement[bool]:
    pattern = _like(text.strip().lower())
    return Task.case_id.in_(select(Case.id).where(or_(
        func.lower(Case.business_key).like(f"%{pattern}%", escape="\\"),
        func.lower(Case.tracking_code).like(f"%{pattern}%", escape="\\"),
        Case.id.like(f"{pattern}%", escape="\\"),
    )))


def _by_candidates(actor: Actor, query: TaskQuery) -> bool:
    """Whether the candidate rule decides what the actor sees (not for an admin or "mine")."""
    return not query.mine and not actor.is_admin


def _conditions(actor: Actor, query: TaskQuery, now: datetime | None, candidates: bool = True
                ) -> list[ColumnElement[bool]]:
    """The open tasks the actor may pick up, narrowed by the query, as WHERE clauses on :class:`Task`
    (``candidates=False``: all but the candidate rule, which the caller applies its own way)."""
    where: list[ColumnElement[bool]] = [Task.status == TaskStatus.READY.value]
    if query.mine:
        where.append(Task.claimed_by == actor.user_id)
    elif candidates and _by_candidates(actor, query):
        where.append(_candidate_filter(actor))
    if query.lane:
        lane = aliased(TaskCandidate)  # its own alias: the capped count reads task_candidates too
        where.append(exists().where(lane.task_id == Task.id, lane.role == query.lane))
    if query.unit:
        where.append(Task.unit_id == select(Unit.id).where(Unit.code == query.unit).scalar_subquery())
    if query.definition_key:
        where.append(Task.definition_key == query.definition_key)
    if query.overdue is not None:
        moment = now or utc_now()
        where.append(Task.due_at < moment if query.overdue
                     else or_(Task.due_at.is_(None), Task.due_at >= moment))
    if query.due_before is not None:
        where.append(Task.due_at < query.due_before)
    if query.search and query.search.strip():
        where.append(_search_filter(query.search))
    if query.unclaimed:
        where.append(Task.claimed_by.is_(None))
    return where


def _capped_count(actor: Actor, query: TaskQuery, now: datetime | None,
                  extra: Sequence[ColumnElement[bool]] = ()) -> Select[Any]:
    """How many tasks match, counting at most ``count_cap + 1`` of them.

    Under the candidate rule the count walks the actor's ``task_candidates`` index ranges (a small
    share of a big list) instead of every open task; a task with two of the actor's roles as
    candidates is counted on its first matching role only.
    """
    where = [*_conditions(actor, query, now, candidates=False), *extra]
    limited: Select[Any] = select(literal_column("1").label("one"))
    if _by_candidates(actor, query):
        first = TaskCandidate
        other = aliased(TaskCandidate)
        limited = limited.select_from(first).where(_candidate_match(actor, first))
        if len(where) > 1 or any(REPORTER_ROLE in roles for roles in actor.roles_by_unit.values()):
            # candidate rows exist only while their task is ready: without other filters the index is the answer
            limited = limited.join(Task, Task.id == first.task_id).where(*where)
        if sum(len(roles) for roles in actor.roles_by_unit.values()) > 1:
            limited = limited.where(~exists().where(other.task_id == first.task_id, other.role < first.role,
                                                    _candidate_match(actor, other)))
    else:
        limited = limited.select_from(Task).where(*where)
    return select(func.count()).select_from(limited.limit(query.count_cap + 1).subquery())


# --- the cursor -------------------------------------------------------------------------------

#: a cursor: the sort it belongs to and the last row's (due_at or None, created_at, id)
_Key = tuple[datetime | None, datetime, str]


def _encode(sort: str, key: _Key) -> str:
    due, created, task_id = key
    raw = json.dumps([sort, due.isoformat() if due else None, created.isoformat(), task_id],
                     separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, sort: str) -> _Key:
    """The key in ``cursor``, or :class:`InvalidCursor` (422 naming ``cursor``), never an exception else."""
    try:
        raw = base64.urlsafe_b64decode(cursor.strip() + "=" * (-len(cursor.strip()) % 4))
        named, due, created, task_id = json.loads(raw)
        if named != sort or not isinstance(task_id, str) or len(task_id) > 36:
            raise ValueError(cursor)
        key = (None if due is None else datetime.fromisoformat(due), datetime.fromisoformat(created), task_id)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor() from None
    if any(moment is not None and moment.tzinfo is None for moment in key[:2]):
        raise InvalidCursor()
    return key


def _key(task: Task) -> _Key:
    return task.due_at, task.created_at, task.id


# --- the page ---------------------------------------------------------------------------------

def _bound(column: InstrumentedAttribute[Any], value: Any) -> ColumnElement[Any]:
    return bindparam(None, value, type_=column.type)


def _after(columns: Sequence[InstrumentedAttribute[Any]], values: Sequence[Any], descending: bool
           ) -> ColumnElement[bool]:
    """Rows after ``values`` in the order of ``columns`` (a row-value comparison: an index range)."""
    left = tuple_(*columns)
    right = tuple_(*(_bound(column, value) for column, value in zip(columns, values, strict=True)))
    return left < right if descending else left > right


def _segments(sort: Sort, after: _Key | None) -> list[tuple[int, list[ColumnElement[bool]],
                                                          list[InstrumentedAttribute[Any]]]]:
    """(rank, extra WHERE clauses, key columns) of each part of the order the cursor has not passed."""
    tail: list[InstrumentedAttribute[Any]] = [Task.created_at, Task.id]
    if not sort.by_due:
        return [(0, [] if after is None else [_after(tail, after[1:], sort.descending)], tail)]
    dated: list[InstrumentedAttribute[Any]] = [Task.due_at, *tail]
    if after is None:
        return [(0, [Task.due_at.is_not(None)], dated), (1, [Task.due_at.is_(None)], tail)]
    if after[0] is None:  # the cursor is already among the tasks without a due date
        return [(1, [Task.due_at.is_(None), _after(tail, after[1:], sort.descending)], tail)]
    return [(0, [Task.due_at.is_not(None), _after(dated, after, sort.descending)], dated),
            (1, [Task.due_at.is_(None)], tail)]


def _ordering(sort: Sort, rows: Subquery) -> list[ColumnElement[Any]]:
    """The sort's order on the (rank, due_at, created_at, id) columns of a subquery of page rows."""
    keys = [rows.c.due_at, rows.c.created_at, rows.c.id] if sort.by_due else [rows.c.created_at, rows.c.id]
    return [rows.c.rank.asc(), *(key.desc() if sort.descending else key.asc() for key in keys)]


def _page_statement(actor: Actor, query: TaskQuery, now: datetime | None, after: _Key | None,
                    with_total: bool) -> Select[Any]:
    """One statement: the page's tasks (with unit and candidate roles) and, if asked, the capped total."""
    sort = SORTS[query.sort]
    where = _conditions(actor, query, now)
    offset = 0 if after is not None else (query.page - 1) * query.per_page
    wanted = offset + query.per_page + 1  # one more than the page: is there a next page?
    parts: list[Subquery | CTE] = []
    for rank, extra, columns in _segments(sort, after):
        order = [column.desc() if sort.descending else column.asc() for column in columns]
        # A later segment reads only what the one before left of the page: a LIMIT of 0 (computed once,
        # before the scan) skips its index walk on both databases, where a WHERE guard would not on SQLite.
        limit: int | ColumnElement[int] = (
            wanted - select(func.count()).select_from(parts[0]).scalar_subquery() if parts else wanted)
        segment = (select(Task.id.label("id"), literal(rank).label("rank"), Task.due_at.label("due_at"),
                          Task.created_at.label("created_at"))
                   .where(*where, *extra).order_by(*order).limit(limit))
        parts.append(segment.cte(f"segment_{rank}") if not parts else segment.subquery())
    members = [select(part) for part in parts]
    merged = (members[0] if len(members) == 1 else union_all(*members)).subquery()
    page = (select(merged).order_by(*_ordering(sort, merged)).offset(offset).limit(query.per_page + 1)
            .subquery())
    statement = (select(Task).join(page, page.c.id == Task.id).outerjoin(Task.candidates)
                 .options(contains_eager(Task.candidates))
                 .order_by(*_ordering(sort, page), TaskCandidate.role))
    if with_total:
        statement = statement.add_columns(_capped_count(actor, query, now).scalar_subquery().label("total"))
    return statement


def page_tasks(services: Services, actor: Actor, query: TaskQuery, now: datetime | None = None) -> TaskPage:
    """A page of the task list, the cursor of the next one, and the capped total — in one statement."""
    if query.sort not in SORTS:
        raise InvalidInput(f"Unknown sort {query.sort!r}", [{"field": "sort", "message": "Unknown sort."}])
    after = _decode(query.cursor, query.sort) if query.cursor else None
    with services.db.reading() as session:
        rows = session.execute(_page_statement(actor, query, now, after, with_total=True)).unique().all()
        items = [row[0] for row in rows]
        if rows:
            total = int(rows[0].total)
        elif after is None and query.page == 1:
            total = 0
        else:  # past the last page: the total still says how many there are
            total = int(session.scalar(_capped_count(actor, query, now)) or 0)
    more = len(items) > query.per_page
    items = items[:query.per_page]
    return TaskPage(items=items, total=min(total, query.count_cap + 1), total_capped=total > query.count_cap,
                    next_cursor=_encode(query.sort, _key(items[-1])) if more else None)


def list_tasks(services: Services, actor: Actor, query: TaskQuery, now: datetime | None = None
               ) -> tuple[list[Task], int]:
    """:func:`page_tasks` as (tasks, total) for callers that want only those."""
    found = page_tasks(services, actor, query, now)
    return found.items, found.total


def count_by_definition(services: Services, actor: Actor, query: TaskQuery | None = None,
                        now: datetime | None = None) -> dict[str, int]:
    """Open tasks the actor may pick up, per SOP (definition key), under the same filters as the list.

    Each count stops at ``count_cap + 1`` (shown as "1,000+"), so the numbers cost a bounded index
    walk per SOP instead of a scan of every open task. SOPs with no open task are left out.
    """
    query = query or TaskQuery()
    with services.db.reading() as session:
        keys = _definition_keys(session, query)
        if not keys:
            return {}
        counts = [_capped_count(actor, query, now, [Task.definition_key == key]).scalar_subquery().label(f"c{n}")
                  for n, key in enumerate(keys)]
        row = session.execute(select(*counts)).one()
        return {key: int(count) for key, count in zip(keys, row, strict=True) if count}


def _definition_keys(session: Session, query: TaskQuery) -> list[str]:
    if query.definition_key:
        return [query.definition_key]
    return list(session.scalars(select(Definition.key).distinct().order_by(Definition.key)))


def case_labels(services: Services, case_ids: Iterable[str]) -> dict[str, str]:
    """The display name (:func:`~service.commands.display.label_of`: Nomor registrasi, business key or short
    id) of each case, for a page of tasks, in one statement; no workflow is restored."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    with services.db.reading() as session:
        rows = session.execute(select(Case.id, Case.registration_number, Case.business_key)
                               .where(Case.id.in_(ids))).all()
        return {case_id: label_of(number, business_key, case_id) for case_id, number, business_key in rows}
