"""Who may see a case: the one need-to-know check every case-scoped command calls.

A staff user sees a case when one of their (unit, role) pairs has business in it — it holds or held
a task of the case, received an escalation of it, or supervises the SOP (``pengawas``) — recorded as
:class:`~service.store.models.CaseAccess` rows by :func:`grant`. Besides them: global administrators,
the administrators of the case's office (``admin@UNIT``) and whoever started the case (a reporter
account sees the reports it filed; the counter clerk the report they registered). Everyone else gets
404, so a case's existence is not revealed either.

A grant may be limited to some case fields (the ``tampilkan`` property of the task that gave it, e.g.
the reported unit's Eselon II in DUMAS): such a viewer reads only those fields, no reporter thread,
no identity, no comments, and only the attachments those fields refer to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, String, Subquery, and_, bindparam, cast, exists, false, func, or_, select, true, union
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from service.commands.context import ADMIN_ROLE, COUNT_CAP, REPORTER_ROLE, Actor
from service.errors import NotFound
from service.store.models import Case, CaseAccess, SopReach

#: Roles that never give access through a task: the reporter's lane (a reporter account sees only
#: what it filed) and ``admin`` (it sees its office's cases anyway).
_NO_ACCESS_ROLES = frozenset({REPORTER_ROLE, ADMIN_ROLE})
#: ``Session.info`` key: ids of the cases whose access rows are all in the session
_LOADED = "alur.access_rows_loaded"


@dataclass(frozen=True)
class Visible:
    """A case the actor may see, and how much of it."""

    case: Case
    #: None: the whole case; else only these case fields (need-to-know)
    fields: frozenset[str] | None

    @property
    def full(self) -> bool:
        return self.fields is None

    def data(self, data: Mapping[str, Any] | None) -> dict[str, Any]:
        """The part of ``data`` (case data, a form's data) this viewer may read."""
        items = dict(data or {})
        return items if self.fields is None else {k: v for k, v in items.items() if k in self.fields}


def _pairs(actor: Actor) -> dict[int, list[str]]:
    return {unit: sorted(roles - _NO_ACCESS_ROLES) for unit, roles in actor.roles_by_unit.items()
            if roles - _NO_ACCESS_ROLES}


def _bound(name: str, values: Mapping[str, Any] | None, column: Any, expanding: bool = False) -> Any:
    """The parameter ``name`` of the rule (:func:`walks_of`), compared with ``column``: with its value
    from ``values``, or left to be given at execution (``values`` None: a statement kept per
    :class:`Walks` shape)."""
    if values is None:
        return bindparam(name, type_=column.type, expanding=expanding)
    return bindparam(name, values[name], type_=column.type, expanding=expanding)


def _held(roles: tuple[int, ...], values: Mapping[str, Any] | None = None,
          table: type[CaseAccess] | type[SopReach] = CaseAccess) -> ColumnElement[bool]:
    """An access row (or a :class:`SopReach` row) of one of the actor's (unit, role) pairs
    (:attr:`Walks.roles`)."""
    return or_(false(), *(and_(table.unit_id == _bound(f"visible_unit_{n}", values, table.unit_id),
                               table.role.in_([_bound(f"visible_role_{n}_{m}", values, table.role)
                                               for m in range(count)]))
                          for n, count in enumerate(roles)))


def _grants_filter(actor: Actor) -> ColumnElement[bool]:
    walks, values = walks_of(actor)
    return _held(walks.roles, values)


def _holds(actor: Actor, row: CaseAccess) -> bool:
    """:func:`_grants_filter` for a row already read: the actor holds its (unit, role)."""
    return row.role in _pairs(actor).get(row.unit_id, ())


def _administered(actor: Actor) -> list[int]:
    """The units whose administrator the actor is (``admin@UNIT``): they see every case of those units."""
    return [unit for unit, roles in actor.roles_by_unit.items() if ADMIN_ROLE in roles]


def visible_cases(actor: Actor, whole: bool = False) -> ColumnElement[bool]:
    """A WHERE clause on :class:`Case`: the cases the actor may see (for lists and counts); ``whole``:
    only those it sees all of (:attr:`Visible.full`, not cut to a need-to-know grant's fields)."""
    walks, values = walks_of(actor)
    return rule_of(walks, whole, values)


def rule_of(walks: Walks, whole: bool = False, values: Mapping[str, Any] | None = None) -> ColumnElement[bool]:
    """:func:`visible_cases` for the actors of one :class:`Walks` shape, with the values of
    :func:`walks_of`, or without them (``values`` None): then a statement holding it can be built once
    per shape and executed with them."""
    if walks.everything:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if walks.administered:
        clauses.append(Case.unit_id.in_(_bound("visible_units", values, Case.unit_id, expanding=True)))
    if walks.started:
        clauses.append(Case.started_by == _bound("visible_user", values, Case.started_by))
    if walks.roles:
        clauses.append(exists().where(CaseAccess.case_id == Case.id, _held(walks.roles, values),
                                      *([_whole_grant()] if whole else [])))
    return or_(false(), *clauses)


def reached_sops(walks: Walks) -> Select[str]:
    """The SOP keys of the cases the actors of one :class:`Walks` shape may see (executed with the
    values of :func:`walks_of`): the rule of :func:`rule_of`, source by source, read from the few
    :class:`SopReach` rows of its sources instead of from every case they see (migration 0031)."""
    case_of_unit = and_(SopReach.role == "", SopReach.user_id == 0)
    clauses: list[ColumnElement[bool]] = []
    if walks.everything:
        clauses.append(and_(case_of_unit, SopReach.unit_id != 0))
    if walks.administered:
        clauses.append(and_(case_of_unit, SopReach.unit_id.in_(
            _bound("visible_units", None, SopReach.unit_id, expanding=True))))
    if walks.started:
        clauses.append(and_(SopReach.unit_id == 0, SopReach.role == "",
                            SopReach.user_id == _bound("visible_user", None, SopReach.user_id)))
    if walks.roles:
        clauses.append(and_(SopReach.user_id == 0, _held(walks.roles, table=SopReach)))
    return select(SopReach.sop_key).where(or_(false(), *clauses)).distinct()


def in_creation_order(columns: Sequence[Any], oldest: bool = False) -> list[Any]:
    """ORDER BY ``columns`` (a creation time, then an id): newest first, or ``oldest`` first."""
    return [column.asc() if oldest else column.desc() for column in columns]


@dataclass(frozen=True)
class Walks:
    """Which sources of the rule :func:`first_visible` walks for an actor: the shape of its statement,
    kept per shape by its callers; the actor's own units, roles and id are bound at execution
    (:func:`walks_of`)."""

    #: a global administrator: every case
    everything: bool = False
    #: the cases of the offices it administers (``visible_units``)
    administered: bool = False
    #: the cases it started (``visible_user``)
    started: bool = False
    #: per unit of its (unit, role) pairs (``visible_unit_<n>``), how many roles (``visible_role_<n>_<m>``)
    roles: tuple[int, ...] = ()


def walks_of(actor: Actor) -> tuple[Walks, dict[str, Any]]:
    """The :class:`Walks` of the actor and the values its statement is executed with."""
    if actor.is_admin:
        return Walks(everything=True), {}
    values: dict[str, Any] = {}
    if administered := _administered(actor):
        values["visible_units"] = administered
    if actor.user_id:
        values["visible_user"] = actor.user_id
    pairs = _pairs(actor)
    for n, (unit, roles) in enumerate(pairs.items()):
        values[f"visible_unit_{n}"] = unit
        values.update({f"visible_role_{n}_{m}": role for m, role in enumerate(roles)})
    return Walks(administered=bool(administered), started=bool(actor.user_id),
                 roles=tuple(len(roles) for roles in pairs.values())), values


def first_visible(walks: Walks, where: Sequence[ColumnElement[bool]], limit: ColumnElement[int] | int,
                  oldest: bool = False, *, merged_in_order: bool = True) -> Subquery:
    """``id`` and ``created_at`` of the first ``limit`` cases an actor may see that match ``where``
    (clauses on :class:`Case`), in creation order (:func:`in_creation_order`): newest first, or
    ``oldest`` first. Executed with the values of :func:`walks_of`. Without ``merged_in_order`` the
    merged walks are not sorted again: *some* ``limit`` of the cases the walks found (what a count needs).

    The rule of :func:`visible_cases`, walked source by source instead of tested case by case: the
    cases of the offices it administers, the cases it started (``ix_cases_started_by``) and, for each
    of its (unit, role) pairs, that pair's access rows in case order (``ix_case_access_listed``, whose
    copy of the case's creation time keeps the order without reading the case, migration 0030). Each
    walk stops after ``limit`` rows; the walks are merged, each case once. The OR of
    :func:`visible_cases` read every case for every page (69 ms at 100k open cases for an Inspektorat
    user, growing with the table; issue 13).
    """
    def first(columns: tuple[Any, Any], *clauses: ColumnElement[bool]) -> Select[Any]:
        return (select(columns[1].label("created_at"), columns[0].label("id")).where(*clauses, *where)
                .order_by(*in_creation_order((columns[1], columns[0]), oldest)).limit(limit))

    cases = (Case.id, Case.created_at)
    found: list[Select[Any]] = []
    if walks.everything:
        found.append(first(cases))
    if walks.administered:
        found.append(first(cases, Case.unit_id.in_(_bound("visible_units", None, Case.unit_id, expanding=True))))
    if walks.started:
        found.append(first(cases, Case.started_by == _bound("visible_user", None, Case.started_by)))
    walked = aliased(CaseAccess)  # its own: ``where`` may hold the rule's EXISTS on case_access
    rows = (walked.case_id, walked.case_created_at)
    for n, roles in enumerate(walks.roles):
        for m in range(roles):
            walk = first(rows, walked.unit_id == _bound(f"visible_unit_{n}", None, walked.unit_id),
                         walked.role == _bound(f"visible_role_{n}_{m}", None, walked.role))
            found.append(walk.join(Case, Case.id == walked.case_id) if where else walk)
    if not found:
        found.append(first(cases, false()))
    if len(found) == 1:
        return found[0].subquery()
    merged = union(*(select(walk.subquery()) for walk in found)).subquery()
    first_merged = select(merged)
    if merged_in_order:
        first_merged = first_merged.order_by(*in_creation_order((merged.c.created_at, merged.c.id), oldest))
    return first_merged.limit(limit).subquery()


def visible_page(walks: Walks, where: Sequence[ColumnElement[bool]], wanted: ColumnElement[int] | int,
                 skipped: ColumnElement[int] | int, per_page: ColumnElement[int] | int, oldest: bool = False
                 ) -> Subquery:
    """``id`` and ``created_at`` of one page of :func:`first_visible` (``wanted`` = ``skipped`` +
    ``per_page``), in its order; the caller joins its rows and orders them by the same columns."""
    walked = first_visible(walks, where, wanted, oldest)
    return (select(walked).order_by(*in_creation_order((walked.c.created_at, walked.c.id), oldest))
            .offset(skipped).limit(per_page).subquery())


def visible_count(walks: Walks, where: Sequence[ColumnElement[bool]]) -> Select[int]:
    """How many cases :func:`first_visible` finds, counting at most ``COUNT_CAP`` + 1 ("1,000+").

    The merged walks are counted unsorted: each walk still stops after ``COUNT_CAP`` + 1 rows in case
    order (its index walk), so either one of them reached the cap and so does their union, or every walk
    found all its cases and the union is the exact set. Sorting the union (up to 1,001 rows per walk) cost
    a quarter of the count's execution once an actor sees a thousand cases."""
    return select(func.count()).select_from(first_visible(walks, where, COUNT_CAP + 1, merged_in_order=False))


def _whole_grant() -> ColumnElement[bool]:
    """An access row without a field list (stored as SQL NULL or as JSON ``null``)."""
    return or_(CaseAccess.fields.is_(None), cast(CaseAccess.fields, String) == "null")


def visible(session: Session, actor: Actor, case_id: str,
            grants: Iterable[CaseAccess] | None = None) -> Visible:
    """The case if the actor may see it, else :class:`NotFound` (404) — the same for "does not exist".

    ``grants``: every access row of the case, when the caller read them with the case in one
    statement (see :func:`read_with_case`); the decision is the same, without a statement of its own.
    """
    case = session.get(Case, case_id)
    if case is None:
        raise _not_found(case_id)
    if grants is not None:
        return visible_with(actor, case, grants)
    return _decided(actor, case, lambda: list(session.execute(
        select(CaseAccess.fields).where(CaseAccess.case_id == case.id, _grants_filter(actor))).scalars().all()))


def visible_with(actor: Actor, case: Case, grants: Iterable[CaseAccess]) -> Visible:
    """:func:`visible` of a case read with every one of its access rows (``grants``), in or out of a session."""
    return _decided(actor, case,
                    lambda: [row.fields for row in grants if row.case_id == case.id and _holds(actor, row)])


def _decided(actor: Actor, case: Case, held: Callable[[], list[list[Any] | None]]) -> Visible:
    """THE decision of :func:`visible`; ``held``: the field lists of the case's access rows the actor holds
    (asked only when neither administering nor having started the case decides it)."""
    if actor.administers(case.unit_id) or (actor.user_id and case.started_by == actor.user_id):
        return Visible(case, None)
    fields = held()
    if not fields:
        raise _not_found(case.id)
    if any(names is None for names in fields):
        return Visible(case, None)
    return Visible(case, frozenset(name for names in fields for name in (names or [])))


def read_with_case(session: Session, case_id: str, rows: Iterable[CaseAccess] = ()) -> None:
    """Note that ``rows`` are every access row of the case (read with it; a new case has none):
    :func:`grant` then decides without looking a row up. The session keeps them (its identity map
    holds rows only while something else does)."""
    session.info.setdefault(_LOADED, {})[case_id] = {(row.case_id, row.unit_id, row.role): row for row in rows}


def visible_case(session: Session, actor: Actor, case_id: str) -> Case:
    """:func:`visible`, for callers that need only the case."""
    return visible(session, actor, case_id).case


def full_view(session: Session, actor: Actor, case_id: str) -> Visible:
    """The case if the actor sees all of it; a need-to-know viewer gets 404 too (thread, identity, notes)."""
    found = visible(session, actor, case_id)
    if not found.full:
        raise _not_found(case_id)
    return found


def _not_found(case_id: str) -> NotFound:
    return NotFound(f"Case {case_id} does not exist or is not visible to you")


def grant(session: Session, case: Case, unit_id: int, roles: Iterable[str], source: str,
          fields: Iterable[str] | None = None) -> None:
    """Record that ``roles`` of ``unit_id`` have business in the case (idempotent; widest access wins)."""
    case_id = case.id
    wanted = None if fields is None else sorted(set(fields))
    loaded: dict[tuple[str, int, str], CaseAccess] | None = session.info.get(_LOADED, {}).get(case_id)
    for role in dict.fromkeys(roles):
        if not role or role in _NO_ACCESS_ROLES:
            continue
        key = (case_id, unit_id, role)
        row = _pending(session, key) or (loaded.get(key) if loaded is not None else session.get(CaseAccess, key))
        if row is None:
            row = CaseAccess(case_id=case_id, unit_id=unit_id, role=role, fields=wanted, source=source,
                             case_created_at=case.created_at)
            session.add(row)
            if loaded is not None:
                loaded[key] = row
        elif row.fields is not None:
            row.fields = None if wanted is None else sorted(set(row.fields) | set(wanted))


def _pending(session: Session, key: tuple[str, int, str]) -> CaseAccess | None:
    """A grant added in this transaction and not yet flushed (``Session.get`` does not see it)."""
    return next((row for row in session.new if isinstance(row, CaseAccess)
                 and (row.case_id, row.unit_id, row.role) == key), None)
