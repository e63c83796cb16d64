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
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
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

from service.commands.access import (
    Walks,
    in_creation_order,
    reached_sops,
    rule_of,
    visible_cases,
    visible_count,
    visible_page,
    walks_of,
)
from service.commands.context import COUNT_CAP, Actor, Services
from service.commands.identity_policy import MODES
from service.engine import CaseStatus, utc_now
from service.errors import InvalidInput
from service.store.built_once import built_once
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


def _late_of() -> ColumnElement[bool]:
    """A step of the case breached its SLA (its timer fired) or was (or is) past its due time (``now``)."""
    now = bindparam("now", type_=Task.due_at.type)
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


def _shape(query: RegisterQuery) -> tuple[str, ...]:
    """The filters of ``query`` besides the search, by name (:func:`_filtered`): with the actor's
    :class:`~service.commands.access.Walks` and the sort, what its statements are kept by."""
    given = {"definition_key": query.definition_key, "status": query.status, "channel": query.channel,
             "mode": query.mode, "created_from": query.created_from, "created_to": query.created_to}
    late = () if query.late is None else ("late",) if query.late else ("not_late",)
    return (*(name for name, value in given.items() if value is not None), *late)


def _filter_values(session: Session, actor: Actor, query: RegisterQuery) -> dict[str, Any]:
    """The values :func:`_filtered`'s clauses are executed with (the office's days for the dates)."""
    values: dict[str, Any] = {name: getattr(query, name) for name in ("definition_key", "status", "channel", "mode")
                              if getattr(query, name) is not None}
    if query.created_from or query.created_to:
        values["created_from"], values["created_to"] = _bounds(query, _zone(session, actor))
    return values


def by_sop_and_status(names: Collection[str]) -> list[ColumnElement[bool]]:
    """The filters of ``names`` that the register and the API's case list share, as clauses on
    :class:`Case`: by SOP (any revision of ``definition_key``) and by ``status``, their values bound by
    those names."""
    conditions: list[ColumnElement[bool]] = []
    if "definition_key" in names:
        revisions = select(Definition.id).where(Definition.key == bindparam("definition_key"))
        conditions.append(Case.definition_id.in_(revisions))
    if "status" in names:
        conditions.append(Case.status == bindparam("status"))
    return conditions


def _filtered(walks: Walks, shape: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """The filters named in ``shape`` as clauses on :class:`Case`, their values bound by name; the
    caller applies the visibility rule."""
    conditions = by_sop_and_status(shape)
    if "channel" in shape:
        conditions.append(and_(rule_of(walks, whole=True), channel_of() == bindparam("channel")))
    if "mode" in shape:
        conditions.append(_mode_of() == bindparam("mode"))
    if "created_from" in shape:
        conditions.append(Case.created_at >= bindparam("created_from", type_=Case.created_at.type))
    if "created_to" in shape:
        conditions.append(Case.created_at < bindparam("created_to", type_=Case.created_at.type))
    if "late" in shape:
        conditions.append(_late_of())
    if "not_late" in shape:
        conditions.append(~_late_of())
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


def _columns(walks: Walks) -> Select[Any]:
    """A register row's columns, from a case with its revision and unit."""
    whole = rule_of(walks, whole=True)
    return (select(Case.id, Case.registration_number, Case.tracking_code, Definition.key, Definition.title,
                   Unit.code, Unit.timezone, Case.status, channel_of().label("channel"), whole.label("whole"),
                   _mode_of().label("mode"), Case.created_at, Case.completed_at, _late_of().label("late"))
            .join(Definition, Definition.id == Case.definition_id).join(Unit, Unit.id == Case.unit_id))


def _statement(walks: Walks, sort: str, filters: list[ColumnElement[bool]]) -> Select[Any]:
    """Every row of the filtered register in the ``sort`` order (the visibility rule tested case by case)."""
    return _columns(walks).where(rule_of(walks), *filters).order_by(*_ordering(sort))


@built_once(maxsize=64)
def _page_shape(walks: Walks, sort: str, shape: tuple[str, ...]) -> tuple[Select[int], Select[Any]]:
    return _page_statements(walks, sort, _filtered(walks, shape))


def _page_statements(walks: Walks, sort: str, filters: list[ColumnElement[bool]]) -> tuple[Select[int], Select[Any]]:
    """The capped count and one page of the register, executed with the values of ``walks``
    (:func:`walks_of`), the filters', ``now`` and the page's (``wanted``, ``skipped``, ``per_page``): in
    creation order, the visible cases walked source by source and only as far as the page
    (:func:`~service.commands.access.first_visible`); by number, the rule case by case."""
    wanted, skipped, per_page = (bindparam(name, type_=Integer()) for name in ("wanted", "skipped", "per_page"))
    if sort == "number":
        return visible_count(walks, filters), _statement(walks, sort, filters).offset(skipped).limit(per_page)
    oldest = sort == "oldest"
    shown = visible_page(walks, filters, wanted, skipped, per_page, oldest)
    page = (_columns(walks).join(shown, shown.c.id == Case.id)
            .order_by(*in_creation_order((shown.c.created_at, shown.c.id), oldest)))
    return visible_count(walks, filters), page


def _rows(result: Iterable[Any]) -> list[RegisterRow]:
    return [RegisterRow(row.id, row.registration_number, row.tracking_code, row.key, row.title or row.key, row.code,
                        row.timezone, row.status, row.channel if row.whole else None, row.mode, row.created_at,
                        row.completed_at, bool(row.late))
            for row in result]


def page(services: Services, actor: Actor, query: RegisterQuery, now: datetime | None = None) -> RegisterPage:
    """One page of the register and the capped total."""
    with services.db.reading() as session:
        count, statement, values = page_statements(session, actor, query, services.db.is_postgres, now or utc_now())
        total = int(session.scalar(count, values) or 0)
        rows = _rows(session.execute(statement, values))
        return RegisterPage(rows, min(total, COUNT_CAP + 1), total > COUNT_CAP, query.page, query.per_page)


def page_statements(session: Session, actor: Actor, query: RegisterQuery, postgres: bool, now: datetime
                    ) -> tuple[Select[int], Select[Any], dict[str, Any]]:
    """The capped count and the page of :func:`page`, and the values both are executed with. Kept per
    shape (the actor's :class:`~service.commands.access.Walks`, the sort, the filters given) unless the
    query searches: building them cost the page more than the database's work (issue 13)."""
    skipped = (query.page - 1) * query.per_page
    walks, values = _walks_and_values(session, actor, query, now)
    values.update(wanted=skipped + query.per_page, skipped=skipped, per_page=query.per_page)
    if query.q:
        return (*_page_statements(walks, query.sort, _filters(actor, walks, query, postgres)), values)
    return (*_page_shape(walks, query.sort, _shape(query)), values)


def _walks_and_values(session: Session, actor: Actor, query: RegisterQuery, now: datetime
                      ) -> tuple[Walks, dict[str, Any]]:
    """The actor's :class:`~service.commands.access.Walks`, and the values of its rule, of the query's
    filters and of ``now``."""
    walks, values = walks_of(actor)
    values.update(_filter_values(session, actor, query), now=now)
    return walks, values


def _filters(actor: Actor, walks: Walks, query: RegisterQuery, postgres: bool) -> list[ColumnElement[bool]]:
    """Every filter of ``query``: :func:`_filtered`, and its search."""
    filters = _filtered(walks, _shape(query))
    return [*filters, search_condition(actor, query.q, postgres)] if query.q else filters


def export_rows(services: Services, actor: Actor, query: RegisterQuery, now: datetime | None = None
                ) -> list[RegisterRow]:
    """Every case of the filtered register (no paging), at most :data:`EXPORT_CAP`; more is 422."""
    with services.db.reading() as session:
        walks, values = _walks_and_values(session, actor, query, now or utc_now())
        statement = _statement(walks, query.sort, _filters(actor, walks, query, services.db.is_postgres))
        rows = _rows(session.execute(statement.limit(EXPORT_CAP + 1), values).all())
    if len(rows) > EXPORT_CAP:
        raise InvalidInput(f"More than {EXPORT_CAP} cases match; narrow the filters to export them",
                           [{"field": "q", "message": f"more than {EXPORT_CAP} cases"}])
    return rows


def sops(services: Services, actor: Actor) -> list[tuple[str, str]]:
    """The SOPs (key, title of the newest revision) of the cases the actor may see, for the filter: one
    statement over the rule's sources (:func:`~service.commands.access.reached_sops`), however many
    cases they see (it read every one of them: 14.5 ms a page at 100k cases, issue 13)."""
    walks, values = walks_of(actor)
    with services.db.reading() as session:
        titles: dict[str, str] = {key: title for key, title in session.execute(_sops_statement(walks), values)}
    return sorted(((key, title or key) for key, title in titles.items()), key=lambda item: item[1].lower())


@built_once(maxsize=64)
def _sops_statement(walks: Walks) -> Select[str, str]:
    """Every revision's (key, title) of the SOPs :func:`sops` lists, the newest last."""
    return (select(Definition.key, Definition.title).where(Definition.key.in_(reached_sops(walks)))
            .order_by(Definition.version))
