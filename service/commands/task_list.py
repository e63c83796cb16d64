"""The task list: what the actor may pick up, filtered, sorted and paged.

Listing reads only the projection tables (``tasks`` and ``task_candidates``): no workflow is
restored to show a task list.

It stays flat at a million open tasks (issue 13): a page is a keyset (cursor) page that walks an
index in sort order and stops after ``per_page + 1`` rows — for a staff member the index of their own
``task_candidates`` rows, one range per (unit, role), whose copies of the task's due date, creation
time and SOP serve the sorts, the filters and the count without a look-up of ``tasks`` — and the total
is a *capped* count — at most :data:`COUNT_CAP` + 1 rows are counted, and a larger total is reported as
"1,000+". The page,
its candidate roles and the capped total come back in one statement. That statement is built once
per shape (which filters, sort and cursor position, how many units and roles) and kept; a request
only binds its values.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    Subquery,
    and_,
    bindparam,
    exists,
    false,
    func,
    inspect,
    literal_column,
    or_,
    select,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.types import TypeEngine

from service.commands.context import COUNT_CAP, REPORTER_ROLE, Actor, Services
from service.commands.display import label_of
from service.engine import utc_now
from service.errors import InvalidInput
from service.store.built_once import built_once
from service.store.models import TASK_IS_READY, Case, Definition, Task, TaskCandidate, Unit
from service.store.types import EntityId, ids_starting_with


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
    #: the tasks with their unit (id, code and timezone); not their candidates, which are in ``roles``
    items: list[Task]
    #: the number of tasks under the filters, or ``count_cap + 1`` when there are more than the cap
    total: int
    #: True when ``total`` is a lower bound (more than ``count_cap`` tasks)
    total_capped: bool
    #: the cursor of the page after this one; None on the last page
    next_cursor: str | None
    #: task id → the roles that may pick it up (its candidates), sorted
    roles: dict[str, list[str]] = field(default_factory=dict)


class InvalidCursor(InvalidInput):
    code = "invalid_cursor"

    def __init__(self) -> None:
        super().__init__("The cursor is not one this list gave out (use next_cursor as it came)",
                         [{"field": "cursor", "message": "Unknown or damaged cursor."}])


# --- statement shapes ---------------------------------------------------------------------------
#
# A statement is built once per *shape* (which filters are set, the sort, where the cursor stands, how
# many units and roles the actor has) and kept; a request only binds its values (issue 13: rebuilding
# the SQLAlchemy statement cost 1.5–4 CPU-ms a request, where its compiled SQL was a cache hit anyway).
# The values go in as named parameters: ``user_id``, ``unit_<n>``/``role_<n>_<m>`` (the actor's
# grants), ``lane``, ``unit_code``, ``definition_key``, ``now``, ``due_before``, ``search_any``/
# ``search_id_from``/``search_id_to``, ``after_due_at``/``after_created_at``/``after_id`` (the cursor), ``wanted``,
# ``offset``, ``page_limit``, ``count_limit`` and ``sop_<n>`` — see :func:`_values`. The constants too
# (:data:`_CONSTANTS`): the page runs through :meth:`~service.store.db.Database.driver_rows`, which takes
# every value from the request's parameters. All but the status of an open task, written into the SQL
# (:data:`~service.store.models.TASK_IS_READY`): the indexes an administrator's list and "mine" walk are
# partial.

#: how many statement shapes are kept (each a few kB); real traffic uses a few dozen
_SHAPES_KEPT = 512
#: between the candidate roles of a task in the page's ``roles`` column (a control character no role holds)
_ROLES_SEPARATOR = "\x1f"
#: the values every statement shape binds by name besides a request's own
_CONSTANTS = {"reporter_role": REPORTER_ROLE}


@dataclass(frozen=True)
class _Filters:
    """What decides the SQL of the WHERE clauses (never their values)."""

    #: whether the candidate rule decides what the actor sees (not for an admin or "mine")
    by_candidates: bool
    #: per unit of the actor, in unit-id order: (number of staff roles, Pelapor there); () when unused
    grants: tuple[tuple[int, bool], ...]
    mine: bool
    lane: bool
    unit: bool
    definition_key: bool
    overdue: bool | None
    due_before: bool
    search: bool
    unclaimed: bool


@dataclass(frozen=True)
class _Position:
    """What decides the SQL of the page around the filters."""

    sort: str
    #: "first" (no cursor), "dated" (after a key; any cursor of a creation-date sort) or "undated"
    after: str
    #: an OFFSET (a page number past 1 without a cursor)
    paged: bool


def _grants(actor: Actor) -> list[tuple[int, list[str], bool]]:
    """(unit id, staff roles, Pelapor there) of each unit of the actor, in a fixed order: the shape and
    the values of the candidate rule come from this one list."""
    return [(unit_id, sorted(roles - {REPORTER_ROLE}), REPORTER_ROLE in roles)
            for unit_id, roles in sorted(actor.roles_by_unit.items())]


def _searched(query: TaskQuery) -> str | None:
    return query.search.strip().lower() if query.search and query.search.strip() else None


def _filters(actor: Actor, query: TaskQuery) -> _Filters:
    by_candidates = not query.mine and not actor.is_admin
    return _Filters(
        by_candidates=by_candidates,
        grants=tuple((len(staff), reporter) for _, staff, reporter in _grants(actor)) if by_candidates else (),
        mine=query.mine, lane=bool(query.lane), unit=bool(query.unit), definition_key=bool(query.definition_key),
        overdue=query.overdue, due_before=query.due_before is not None, search=_searched(query) is not None,
        unclaimed=query.unclaimed)


def _position(query: TaskQuery, after: _Key | None) -> _Position:
    if after is None:
        return _Position(query.sort, "first", paged=query.page > 1)
    return _Position(query.sort, "undated" if after[0] is None and SORTS[query.sort].by_due else "dated", False)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _values(actor: Actor, query: TaskQuery, now: datetime | None, after: _Key | None = None) -> dict[str, Any]:
    """The values of one request for the named parameters of its statement (a name the statement does
    not use is ignored)."""
    values: dict[str, Any] = {**_CONSTANTS, "user_id": actor.user_id, "count_limit": query.count_cap + 1}
    for n, (unit_id, staff, _) in enumerate(_grants(actor)):
        values[f"unit_{n}"] = unit_id
        values.update((f"role_{n}_{m}", role) for m, role in enumerate(staff))
    values.update(lane=query.lane, unit_code=query.unit, definition_key=query.definition_key,
                  due_before=query.due_before)
    if query.overdue is not None:
        values["now"] = now or utc_now()
    searched = _searched(query)
    if searched is not None:
        first, last = ids_starting_with(searched)
        values.update(search_any=f"%{_like(searched)}%", search_id_from=first, search_id_to=last)
    offset = 0 if after is not None else (query.page - 1) * query.per_page
    values.update(offset=offset, wanted=offset + query.per_page + 1, page_limit=query.per_page + 1)
    if after is not None:
        values.update(after_due_at=after[0], after_created_at=after[1], after_id=after[2])
    return values


def _limited(statement: Select[*tuple[Any, ...]], limit: ColumnElement[int]) -> Select[Any]:
    """``statement.limit(limit)`` with its OFFSET written as 0: SQLite's compiler adds an OFFSET to every
    LIMIT, as an anonymous parameter, which :meth:`~service.store.db.Database.driver_rows` would have
    no value for (PostgreSQL drops an OFFSET 0 when it plans)."""
    return statement.limit(limit).offset(literal_column("0"))


def _param(name: str, type_: TypeEngine[Any]) -> BindParameter[Any]:
    """A named parameter of a kept statement: its value comes with each execution (never with the statement)."""
    return bindparam(name, type_=type_)


# --- the filters ------------------------------------------------------------------------------
#
# A list walks one of two sources. Under the candidate rule it walks the actor's ``task_candidates`` rows,
# one index range per (unit, role), each row holding the copy of its task's sort and filter columns
# (:class:`~service.store.models.TaskCandidate`): pages, filters and counts need no look-up of ``tasks``
# but for a filter on what the copies do not hold (search, unclaimed, a reporter's own cases), checked by
# one primary-key probe per row, and for the page's own rows. An admin's list and "mine" walk ``tasks``.


@dataclass(frozen=True)
class _Source:
    """The rows a page or a count walks, and their key and filter columns."""

    id: Any
    due_at: Any
    created_at: Any
    definition_key: Any
    unit_id: Any
    #: the ``task_candidates`` row (or alias) walked; None: the ``tasks`` rows themselves
    candidate: Any = None


_TASKS = _Source(Task.id, Task.due_at, Task.created_at, Task.definition_key, Task.unit_id)


_CANDIDATES = _Source(TaskCandidate.task_id, TaskCandidate.due_at, TaskCandidate.created_at,
                      TaskCandidate.definition_key, TaskCandidate.unit_id, TaskCandidate)


def _source(shape: _Filters) -> _Source:
    return _CANDIDATES if shape.by_candidates else _TASKS


def _probe(candidate: type[TaskCandidate] | Any, where: Sequence[ColumnElement[bool]]) -> ColumnElement[bool]:
    """``where`` on the task of a candidate row: one primary-key probe of ``tasks`` per row walked. The
    OFFSET 0 keeps PostgreSQL from turning the EXISTS into a join (a scan of every open task, where the walk
    stops at its LIMIT); the LIMIT 1 is only there for SQLite, which has no OFFSET without a LIMIT."""
    return exists(_limited(select(literal_column("1")).where(Task.id == candidate.task_id, *where)
                           .correlate_except(Task), literal_column("1")))


def _grant_parts(grants: tuple[tuple[int, bool], ...], candidate: type[TaskCandidate] | Any
                 ) -> list[ColumnElement[bool]]:
    """THE candidate rule, on one ``task_candidates`` row (or alias), as one clause per (unit, role) of the
    actor (each one index range): a (unit, role) pair of the actor; a reporter's Pelapor tasks only in
    cases they filed, the rows naming them (:attr:`TaskCandidate.reporter_id`): a range of their own rows,
    where a walk of the unit's Pelapor rows probing each one's case read every reporter's (15 ms at
    100k open cases, growing with them)."""
    parts: list[ColumnElement[bool]] = []
    for n, (staff_roles, reporter) in enumerate(grants):
        unit = _param(f"unit_{n}", Integer())
        parts += [and_(candidate.unit_id == unit, candidate.role == _param(f"role_{n}_{m}", String()))
                  for m in range(staff_roles)]
        if reporter:
            parts.append(and_(candidate.reporter_id == _param("user_id", Integer()), candidate.unit_id == unit,
                              candidate.role == _param("reporter_role", String())))
    return parts


def _candidate_match(grants: tuple[tuple[int, bool], ...], candidate: type[TaskCandidate] | Any
                     ) -> ColumnElement[bool]:
    """The candidate rule (:func:`_grant_parts`) as one WHERE clause."""
    return or_(false(), *_grant_parts(grants, candidate))


def _search_filter() -> ColumnElement[bool]:
    return Task.case_id.in_(select(Case.id).where(or_(
        func.lower(Case.business_key).like(_param("search_any", String()), escape="\\"),
        func.lower(Case.tracking_code).like(_param("search_any", String()), escape="\\"),
        Case.id.between(_param("search_id_from", EntityId()), _param("search_id_to", EntityId())),
    )))


def _conditions(shape: _Filters, source: _Source) -> list[ColumnElement[bool]]:
    """The open tasks narrowed by the query, as WHERE clauses on ``source``'s rows (all but the candidate
    rule, which the caller applies per (unit, role) or as a whole). A candidate row exists only while its
    task is ready; what only the task holds is probed (:func:`_probe`)."""
    on_task: list[ColumnElement[bool]] = []
    if shape.mine:
        on_task.append(Task.claimed_by == _param("user_id", Integer()))
    if shape.search:
        on_task.append(_search_filter())
    if shape.unclaimed:
        on_task.append(Task.claimed_by.is_(None))
    if source.candidate is None:
        where = [TASK_IS_READY, *on_task]
    else:
        where = [_probe(source.candidate, on_task)] if on_task else []
    if shape.lane:
        lane = aliased(TaskCandidate)  # its own alias: the walk may read task_candidates too
        where.append(exists().where(lane.task_id == source.id, lane.role == _param("lane", String())))
    if shape.unit:
        where.append(source.unit_id == select(Unit.id).where(Unit.code == _param("unit_code", String()))
                     .scalar_subquery())
    if shape.definition_key:
        where.append(source.definition_key == _param("definition_key", String()))
    if shape.overdue is not None:
        moment = _param("now", Task.due_at.type)
        where.append(source.due_at < moment if shape.overdue
                     else or_(source.due_at.is_(None), source.due_at >= moment))
    if shape.due_before:
        where.append(source.due_at < _param("due_before", Task.due_at.type))
    return where


def _capped_count(shape: _Filters, sop: int | None = None) -> Select[Any]:
    """How many tasks match (of SOP ``sop_<sop>`` when given), counting at most ``count_cap + 1`` of them.

    Under the candidate rule the count walks the actor's ``task_candidates`` index ranges (a small share
    of a big list), its filters read from the rows' copies, so the walk stops as soon as the cap is
    reached; a task with two of the actor's roles as candidates is counted on its first matching role only.
    """
    source = _source(shape)
    where = _conditions(shape, source)
    if sop is not None:
        where.append(source.definition_key == _param(f"sop_{sop}", String()))
    limited: Select[Any] = select(literal_column("1").label("one"))
    if source.candidate is None:
        limited = limited.select_from(Task).where(*where)
    else:
        first, other = source.candidate, aliased(TaskCandidate)
        limited = limited.select_from(first).where(_candidate_match(shape.grants, first), *where)
        if sum(staff + reporter for staff, reporter in shape.grants) > 1:
            limited = limited.where(~exists().where(other.task_id == first.task_id, other.role < first.role,
                                                    _candidate_match(shape.grants, other)))
    return select(func.count()).select_from(_limited(limited, _param("count_limit", Integer())).subquery())


@built_once(maxsize=_SHAPES_KEPT)
def _count_statement(shape: _Filters) -> Select[Any]:
    return _capped_count(shape)


@built_once(maxsize=_SHAPES_KEPT)
def _per_sop_statement(shape: _Filters, sops: int) -> Select[Any]:
    """The capped counts of ``sops`` SOPs (``sop_<n>``) in one row."""
    return select(*(_capped_count(shape, n).scalar_subquery().label(f"c{n}") for n in range(sops)))


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

#: the cursor's named parameters (``after_<name>``) and types, in key order
_AFTER = (("due_at", Task.due_at.type), ("created_at", Task.created_at.type), ("id", Task.id.type))


def _after(columns: Sequence[Any], descending: bool) -> ColumnElement[bool]:
    """Rows after the cursor in the order of ``columns`` (the last two or all three of due_at, created_at,
    id): a row-value comparison, one index range."""
    left = tuple_(*columns)
    right = tuple_(*(_param(f"after_{name}", type_) for name, type_ in _AFTER[-len(columns):]))
    return left < right if descending else left > right


def _segments(sort: Sort, after: str, source: _Source
              ) -> list[tuple[int, list[ColumnElement[bool]], list[Any]]]:
    """(rank, extra WHERE clauses, order columns) of each part of the order the cursor has not passed.

    The tasks without a due date are ordered by ``due_at`` (all null) too: PostgreSQL walks the index in
    that order only when told (an IS NULL does not fix the column's place in the order for its planner),
    and would read and sort every undated row of the range otherwise."""
    tail = [source.created_at, source.id]
    if not sort.by_due:
        return [(0, [] if after == "first" else [_after(tail, sort.descending)], tail)]
    dated = [source.due_at, *tail]
    if after == "first":
        return [(0, [source.due_at.is_not(None)], dated), (1, [source.due_at.is_(None)], dated)]
    if after == "undated":  # the cursor is already among the tasks without a due date
        return [(1, [source.due_at.is_(None), _after(tail, sort.descending)], dated)]
    return [(0, [source.due_at.is_not(None), _after(dated, sort.descending)], dated),
            (1, [source.due_at.is_(None)], dated)]


def _ordering(sort: Sort, rows: Subquery) -> list[ColumnElement[Any]]:
    """The sort's order on the (rank, due_at, created_at, id) columns of a subquery of page rows."""
    keys = [rows.c.due_at, rows.c.created_at, rows.c.id] if sort.by_due else [rows.c.created_at, rows.c.id]
    return [rows.c.rank.asc(), *(key.desc() if sort.descending else key.asc() for key in keys)]


#: the columns of a task as the list and the task read build it (all of them), and of its unit (the code
#: the answers show, the timezone the web pages show times in)
def every_column(entity: Any, but: tuple[str, ...] = ()) -> tuple[Any, ...]:
    """The column attributes of a mapped class or an alias of one (all the ORM loads of its rows)."""
    return tuple(getattr(entity, column.key) for column in inspect(entity).mapper.column_attrs
                 if column.key not in but)


TASK_COLUMNS = every_column(Task)
UNIT_COLUMNS = (Unit.id, Unit.code, Unit.timezone)


def column_groups(row: Sequence[Any], groups: Sequence[Sequence[InstrumentedAttribute[Any]]]
                  ) -> Iterator[dict[str, Any]]:
    """The leading values of a row of plain columns, one dict per group of columns, by attribute name
    (what :meth:`~service.store.models.Base.built` takes)."""
    start = 0
    for group in groups:
        yield {column.key: value for column, value in zip(group, row[start:start + len(group)], strict=True)}
        start += len(group)


@built_once(maxsize=_SHAPES_KEPT)
def _page_shape(shape: _Filters, position: _Position) -> Select[Any]:
    """One statement: the page's tasks (with unit and candidate roles) and the capped total, in plain columns
    (:data:`TASK_COLUMNS`, :data:`UNIT_COLUMNS`, ``roles``, ``total``) for
    :meth:`~service.store.db.Database.driver_rows`."""
    sort = SORTS[position.sort]
    source = _source(shape)
    where = _conditions(shape, source)
    # the walks of a segment: the tasks in order, or each (unit, role) range of the actor's candidates in order
    walks = [[]] if source.candidate is None else [[part] for part in _grant_parts(shape.grants, source.candidate)]
    wanted = _param("wanted", Integer())  # one more than the page (and the rows it skips): is there a next page?
    parts: list[Subquery | CTE] = []
    for rank, extra, columns in _segments(sort, position.after, source):
        order = [column.desc() if sort.descending else column.asc() for column in columns]
        # A later segment reads only what the one before left of the page: a LIMIT of 0 (computed once,
        # before the scan) skips its index walk on both databases, where a WHERE guard would not on SQLite.
        limit: ColumnElement[int] = (
            wanted - select(func.count()).select_from(parts[0]).scalar_subquery() if parts else wanted)
        ranges = [_limited(select(source.id.label("id"), literal_column(str(rank), Integer()).label("rank"),
                                  source.due_at.label("due_at"), source.created_at.label("created_at"))
                           .where(*walk, *where, *extra).order_by(*order), limit)
                  for walk in walks or [[false()]]]
        if len(ranges) == 1:
            segment = ranges[0]
        else:  # the ranges merged, each task once (two of the actor's roles may be candidates of one task)
            merged_ranges = union(*(select(walked.subquery()) for walked in ranges)).subquery()
            segment = _limited(select(merged_ranges).order_by(*_ordering(sort, merged_ranges)), limit)
        parts.append(segment.cte(f"segment_{rank}") if not parts else segment.subquery())
    members = [select(part) for part in parts]
    merged = (members[0] if len(members) == 1 else union_all(*members)).subquery()
    ordered = select(merged).order_by(*_ordering(sort, merged))
    page_limit = _param("page_limit", Integer())
    page = (ordered.offset(_param("offset", Integer())).limit(page_limit) if position.paged
            else _limited(ordered, page_limit)).subquery()
    # the candidate roles as one column: loading them as a collection of objects cost more than the tasks
    # (the separator written into the SQL: PostgreSQL's compiler renders it at execution otherwise)
    separator: Any = literal_column(f"'{_ROLES_SEPARATOR}'", String())
    roles = (select(func.aggregate_strings(TaskCandidate.role, separator))
             .where(TaskCandidate.task_id == Task.id).scalar_subquery())
    total = _capped_count(shape).scalar_subquery()
    return (select(*TASK_COLUMNS, *UNIT_COLUMNS, roles.label("roles"), total.label("total"))
            .join(page, page.c.id == Task.id).join(Unit, Unit.id == Task.unit_id)
            .order_by(*_ordering(sort, page)))


def _page_statement(actor: Actor, query: TaskQuery, now: datetime | None, after: _Key | None
                    ) -> tuple[Select[Any], dict[str, Any]]:
    """The page statement of this request (kept per shape) and the values to execute it with."""
    return _page_shape(_filters(actor, query), _position(query, after)), _values(actor, query, now, after)


def page_tasks(services: Services, actor: Actor, query: TaskQuery, now: datetime | None = None) -> TaskPage:
    """A page of the task list, the cursor of the next one, and the capped total — in one statement."""
    if query.sort not in SORTS:
        raise InvalidInput(f"Unknown sort {query.sort!r}", [{"field": "sort", "message": "Unknown sort."}])
    after = _decode(query.cursor, query.sort) if query.cursor else None
    statement, values = _page_statement(actor, query, now, after)
    rows = services.db.driver_rows(statement, values)  # each row: the task, its unit, its roles, the total
    if rows:
        total = int(rows[0][-1])
    elif after is None and query.page == 1:
        total = 0
    else:  # past the last page: the total still says how many there are
        counted = services.db.first_row(_count_statement(_filters(actor, query)), values)
        total = int(counted[0] or 0) if counted else 0
    page = rows[:query.per_page]
    items = [_task(row) for row in page]
    return TaskPage(items=items, total=min(total, query.count_cap + 1), total_capped=total > query.count_cap,
                    next_cursor=_encode(query.sort, _key(items[-1])) if len(rows) > len(page) else None,
                    roles={task.id: sorted(row[-2].split(_ROLES_SEPARATOR)) if row[-2] else []
                           for task, row in zip(items, page, strict=True)})


def _task(row: tuple[Any, ...]) -> Task:
    """The task of a page row with its unit, built as a loaded row (:meth:`~service.store.models.Base.built`),
    without candidates: they are in :attr:`TaskPage.roles`."""
    task, unit = column_groups(row, (TASK_COLUMNS, UNIT_COLUMNS))
    return Task.built({**task, "unit": Unit.built(unit)})


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
        values = {**_values(actor, query, now), **{f"sop_{n}": key for n, key in enumerate(keys)}}
        row = session.execute(_per_sop_statement(_filters(actor, query), len(keys)), values).one()
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
