"""The case register (Perkara): every case, open or closed, that the actor may see, searched and filtered.

Visibility is :func:`service.commands.access.visible_cases`. What is read from a case's content — the
full-text search, the channel filter and the channel column — counts only for the cases the actor sees
whole (a need-to-know grant limited to some fields does not reveal the others through a search); the
Nomor registrasi and the tracking code match exactly for every visible case.

Full-text search (migration 0014): PostgreSQL ``to_tsvector('simple', …)`` over the case data, its
history rows, staff notes and the reporter thread, each with a GIN index; SQLite a contentless FTS5 table
kept by triggers over the same rows (migration 0021), whose rowid says which row a hit is:
:func:`_search_hit_case` maps it back to the case. The words of ``q`` are matched as prefixes, all of
them required; anything else in ``q`` (quotes, ``NEAR(``, operators) is only a separator, never query
syntax.

Paging is by offset with a capped total (at most :data:`COUNT_CAP` + 1 rows counted, like the task list);
an export holds the same filtered set, at most :data:`EXPORT_CAP` rows (more is refused, 422); the files
are written by :mod:`service.commands.spreadsheets` (formula injection escaped there).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    column,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session, aliased

from service.commands.access import Walks, in_creation_order, visible_cases, visible_count, visible_page, walks_of
from service.commands.context import COUNT_CAP, Actor, Services
from service.commands.identity_policy import MODES
from service.engine import CaseStatus, utc_now
from service.errors import InvalidInput
from service.store.models import Case, Comment, ConversationMessage, Definition, HistoryEntry, Reporter, Task, Unit

#: the case data fields that hold a report's intake channel, first found wins: the public and counter
#: intake's ``saluran_pengaduan``, the DUMAS start form's ``saluran`` and the online SOP's ``media``
#: (the fields the periodic reports count per channel, ``rekap_saluran``)
CHANNEL_FIELDS = ("saluran_pengaduan", "saluran", "media")
#: a case without a reporter row was filed by staff with the reporter's identity in its data
IDENTIFIED = MODES[-1]
SORTS = ("newest", "oldest", "number")
STATUSES = tuple(status.value for status in CaseStatus)
MAX_QUERY = 200
MAX_WORDS = 8
EXPORT_CAP = 10_000
PER_PAGE = 25
DEFAULT_TIMEZONE = "Asia/Jakarta"
MAX_PAGE = COUNT_CAP // 10 + 1
_WORD = re.compile(r"[^\W_]+")
#: control characters (a NUL byte cannot even reach PostgreSQL)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: the letters of :data:`_WORD` that SQLite's tokenizer (``unicode61``, older Unicode tables) takes for
#: separators (New Tai Lue vowel signs, two Vedic signs): a word is cut there for SQLite, whose index
#: (``detail=none``, migration 0021) answers one token per phrase only (tests/store/test_case_search.py
#: checks every letter)
_FTS_SEPARATORS = re.compile("[\u19b0-\u19c0\u19c8\u19c9\u1cf2\u1cf3]")
_SEARCH = table("case_search", column("rowid", Integer))
_CASE_ROWS = table("cases", column("rowid", Integer), column("id")).alias("search_case")


@dataclass(frozen=True)
class RegisterQuery:
    q: str = ""
    definition_key: str | None = None
    status: str | None = None
    channel: str | None = None
    mode: str | None = None
    created_from: date | None = None
    created_to: date | None = None
    #: True: only cases with a late step; False: only cases without; None: both
    late: bool | None = None
    sort: str = "newest"
    page: int = 1
    per_page: int = PER_PAGE


def _bad(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", [{"field": field, "message": message}])


def _day(values: Mapping[str, str], name: str) -> date | None:
    text = (values.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _bad(name, "not a date (YYYY-MM-DD)") from None


def parse_query(values: Mapping[str, str]) -> RegisterQuery:
    """A query from request arguments; anything malformed is :class:`InvalidInput` naming the field."""
    q = " ".join(_CONTROL.sub(" ", values.get("q") or "").split())
    if len(q) > MAX_QUERY:
        raise _bad("q", f"longer than {MAX_QUERY} characters")
    status = values.get("status") or None
    if status is not None and status not in STATUSES:
        raise _bad("status", "unknown status")
    mode = values.get("mode") or None
    if mode is not None and mode not in MODES:
        raise _bad("mode", "unknown mode")
    sort = values.get("sort") or "newest"
    if sort not in SORTS:
        raise _bad("sort", "unknown order")
    late_text = values.get("late") or ""
    if late_text not in ("", "1", "0"):
        raise _bad("late", "must be 1 or 0")
    definition_key = (values.get("sop") or "").strip() or None
    channel = (values.get("channel") or "").strip() or None
    if definition_key is not None and (len(definition_key) > 200 or _CONTROL.search(definition_key)):
        raise _bad("sop", "not an SOP key")
    if channel is not None and (len(channel) > 100 or _CONTROL.search(channel)):
        raise _bad("channel", "not a channel")
    page_text = values.get("page") or "1"
    if not (page_text.isascii() and page_text.isdigit() and 1 <= int(page_text) <= MAX_PAGE):
        raise _bad("page", f"must be a number from 1 to {MAX_PAGE}")
    created_from, created_to = _day(values, "from"), _day(values, "to")
    if created_from and created_to and created_from > created_to:
        raise _bad("to", "before the start date")
    return RegisterQuery(q=q, definition_key=definition_key, status=status, channel=channel, mode=mode,
                         created_from=created_from, created_to=created_to,
                         late=None if not late_text else late_text == "1", sort=sort, page=int(page_text))


def words(q: str) -> list[str]:
    """The words of a search, lower case, at most :data:`MAX_WORDS` (letters and digits only)."""
    return [word.lower()[:64] for word in _WORD.findall(q)][:MAX_WORDS]


def _text_match(postgres: bool, found: Sequence[str]) -> ColumnElement[bool]:
    """The cases whose data, history, notes or thread hold every word (as a prefix)."""
    if postgres:
        simple: ColumnElement[Any] = literal_column("'simple'::regconfig")
        query = func.to_tsquery(simple, literal(" & ".join(f"{word}:*" for word in found)))
        own = aliased(Case)
        sources: list[tuple[Any, Any]] = [(own.id, own.data), (HistoryEntry.case_id, HistoryEntry.data),
                                          (Comment.case_id, Comment.body),
                                          (ConversationMessage.case_id, ConversationMessage.text)]
        return Case.id.in_(union_all(*(select(key).where(func.to_tsvector(simple, text).bool_op("@@")(query))
                                       for key, text in sources)))
    phrases = fts_query(found)
    if not phrases:  # only letters SQLite's tokenizer separates on
        return false()
    return Case.id.in_(select(_search_hit_case()).where(literal_column("case_search").op("MATCH")(literal(phrases))))


def fts_query(found: Sequence[str]) -> str:
    """SQLite's FTS5 query for :func:`words`: each one a token prefix (``"word"*``), all required."""
    return " ".join(f'"{token}"*' for word in found for token in _FTS_SEPARATORS.split(word) if token)


def _search_hit_case() -> ColumnElement[Any]:
    """The case of a SQLite search hit, from its rowid (migration 0021): ``-cases.rowid`` for a case's
    data, else the row's id × 4 + 0 (history), 1 (a staff note) or 2 (a reporter message)."""
    hit = _SEARCH.c.rowid
    row_id = hit.op("/")(4)
    return sql_case(
        (hit < 0, select(_CASE_ROWS.c.id).where(_CASE_ROWS.c.rowid == -hit).scalar_subquery()),
        (hit.op("%")(4) == 0, select(HistoryEntry.case_id).where(HistoryEntry.id == row_id).scalar_subquery()),
        (hit.op("%")(4) == 1, select(Comment.case_id).where(Comment.id == row_id).scalar_subquery()),
        else_=select(ConversationMessage.case_id).where(ConversationMessage.id == row_id).scalar_subquery())


def search_condition(actor: Actor, q: str, postgres: bool) -> ColumnElement[bool]:
    """The cases ``q`` finds: its Nomor registrasi or tracking code exactly, or every word of it in a
    case the actor sees whole (the caller adds :func:`~service.commands.access.visible_cases`)."""
    exact = [Case.registration_number == q]
    digits = "".join(char for char in q if char.isdigit())
    if len(digits) == 16 and not any(char.isalpha() for char in q):
        exact.append(Case.tracking_code == digits)
    found = words(q)
    return or_(*exact, and_(visible_cases(actor, whole=True), _text_match(postgres, found)) if found else false())


def channel_of() -> ColumnElement[Any]:
    """The case's intake channel (the first of :data:`CHANNEL_FIELDS` it holds)."""
    return func.coalesce(*(Case.data[name].as_string() for name in CHANNEL_FIELDS))


def _mode_of() -> ColumnElement[Any]:
    reporter = select(Reporter.mode).where(Reporter.case_id == Case.id).scalar_subquery()
    return func.coalesce(reporter, IDENTIFIED)


def _late_of(now: datetime) -> ColumnElement[bool]:
    """A step of the case breached its SLA (its timer fired) or was (or is) past its due time."""
    return exists().where(Task.case_id == Case.id, or_(
        Task.breached_at.is_not(None),
        and_(Task.due_at.is_not(None), Task.due_at < func.coalesce(Task.completed_at, now))))


def _zone(session: Session, actor: Actor) -> ZoneInfo:
    """The timezone whose days the date filters name: the actor's office's (its first unit's)."""
    found = session.scalar(select(Unit.timezone).where(Unit.id.in_(sorted(actor.roles_by_unit)))
                           .order_by(Unit.id).limit(1)) if actor.roles_by_unit else None
    return ZoneInfo(found or DEFAULT_TIMEZONE)


def _bounds(query: RegisterQuery, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    start = datetime.combine(query.created_from, time(), zone) if query.created_from else None
    end = datetime.combine(query.created_to + timedelta(days=1), time(), zone) if query.created_to else None
    return start, end


def _filters(actor: Actor, query: RegisterQuery, postgres: bool, now: datetime, zone: ZoneInfo
             ) -> list[ColumnElement[bool]]:
    """The query's filters as clauses on :class:`Case` (the caller applies the visibility rule)."""
    whole = visible_cases(actor, whole=True)
    conditions: list[ColumnElement[bool]] = []
    if query.q:
        conditions.append(search_condition(actor, query.q, postgres))
    if query.definition_key:
        conditions.append(Case.definition_id.in_(select(Definition.id).where(Definition.key == query.definition_key)))
    if query.status:
        conditions.append(Case.status == query.status)
    if query.channel:
        conditions.append(and_(whole, channel_of() == query.channel))
    if query.mode:
        conditions.append(_mode_of() == query.mode)
    start, end = _bounds(query, zone)
    if start is not None:
        conditions.append(Case.created_at >= start)
    if end is not None:
        conditions.append(Case.created_at < end)
    if query.late is not None:
        conditions.append(_late_of(now) if query.late else ~_late_of(now))
    return conditions


def _ordering(sort: str) -> list[Any]:
    if sort == "number":  # numbers are given in creation order per unit and year
        return [Unit.code, Case.created_at, Case.id]
    return in_creation_order((Case.created_at, Case.id), oldest=sort == "oldest")


@dataclass(frozen=True)
class RegisterRow:
    case_id: str
    registration_number: str | None
    tracking_code: str | None
    definition_key: str
    title: str
    unit: str
    timezone: str
    status: str
    #: None when the actor does not see the whole case (or the case recorded none)
    channel: str | None
    mode: str
    created_at: datetime
    completed_at: datetime | None
    late: bool


@dataclass(frozen=True)
class RegisterPage:
    rows: list[RegisterRow]
    #: the number of matching cases, or ``COUNT_CAP + 1`` when there are more
    total: int
    capped: bool
    page: int
    per_page: int

    @property
    def has_next(self) -> bool:
        return self.page * self.per_page < self.total


def _columns(actor: Actor, now: datetime) -> Select[Any]:
    """A register row's columns, from a case with its revision and unit."""
    whole = visible_cases(actor, whole=True)
    return (select(Case.id, Case.registration_number, Case.tracking_code, Definition.key, Definition.title,
                   Unit.code, Unit.timezone, Case.status, channel_of().label("channel"), whole.label("whole"),
                   _mode_of().label("mode"), Case.created_at, Case.completed_at, _late_of(now).label("late"))
            .join(Definition, Definition.id == Case.definition_id).join(Unit, Unit.id == Case.unit_id))


def _statement(actor: Actor, sort: str, filters: list[ColumnElement[bool]], now: datetime) -> Select[Any]:
    """Every row of the filtered register in the ``sort`` order (the visibility rule tested case by case)."""
    return _columns(actor, now).where(visible_cases(actor), *filters).order_by(*_ordering(sort))


def _page_statement(actor: Actor, walks: Walks, query: RegisterQuery, filters: list[ColumnElement[bool]],
                    now: datetime) -> Select[Any]:
    """One page of the register, executed with the values of ``walks`` (:func:`walks_of`): in creation
    order, the visible cases walked source by source and only as far as the page
    (:func:`~service.commands.access.first_visible`); by number, the rule case by case."""
    skipped = (query.page - 1) * query.per_page
    if query.sort == "number":
        return _statement(actor, query.sort, filters, now).offset(skipped).limit(query.per_page)
    oldest = query.sort == "oldest"
    shown = visible_page(walks, filters, skipped + query.per_page, skipped, query.per_page, oldest)
    return (_columns(actor, now).join(shown, shown.c.id == Case.id)
            .order_by(*in_creation_order((shown.c.created_at, shown.c.id), oldest)))


def _rows(result: Iterable[Any]) -> list[RegisterRow]:
    return [RegisterRow(row.id, row.registration_number, row.tracking_code, row.key, row.title or row.key, row.code,
                        row.timezone, row.status, row.channel if row.whole else None, row.mode, row.created_at,
                        row.completed_at, bool(row.late))
            for row in result]


def page(services: Services, actor: Actor, query: RegisterQuery, now: datetime | None = None) -> RegisterPage:
    """One page of the register and the capped total."""
    moment = now or utc_now()
    postgres = services.db.is_postgres
    with services.db.reading() as session:
        filters = _filters(actor, query, postgres, moment, _zone(session, actor))
        walks, values = walks_of(actor)
        total = int(session.scalar(visible_count(walks, filters), values) or 0)
        result = session.execute(_page_statement(actor, walks, query, filters, moment), values)
        return RegisterPage(_rows(result), min(total, COUNT_CAP + 1), total > COUNT_CAP, query.page, query.per_page)


def export_rows(services: Services, actor: Actor, query: RegisterQuery, now: datetime | None = None
                ) -> list[RegisterRow]:
    """Every case of the filtered register (no paging), at most :data:`EXPORT_CAP`; more is 422."""
    moment = now or utc_now()
    with services.db.reading() as session:
        filters = _filters(actor, query, services.db.is_postgres, moment, _zone(session, actor))
        statement = _statement(actor, query.sort, filters, moment)
        rows = _rows(session.execute(statement.limit(EXPORT_CAP + 1)).all())
    if len(rows) > EXPORT_CAP:
        raise InvalidInput(f"More than {EXPORT_CAP} cases match; narrow the filters to export them",
                           [{"field": "q", "message": f"more than {EXPORT_CAP} cases"}])
    return rows


def sops(services: Services, actor: Actor) -> list[tuple[str, str]]:
    """The SOPs (key, title of the newest revision) of the cases the actor may see, for the filter."""
    with services.db.reading() as session:
        keys = session.scalars(select(Definition.key).where(Definition.id.in_(
            select(Case.definition_id).where(visible_cases(actor)).distinct())).distinct()).all()
        titles = {key: title for key, title in session.execute(
            select(Definition.key, Definition.title).where(Definition.key.in_(keys)).order_by(Definition.version))}
    return sorted(((key, titles.get(key) or key) for key in keys), key=lambda item: item[1].lower())
