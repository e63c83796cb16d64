"""Dasbor: what a head of office reads — reports in, open, late and closed per SOP, per step against its
Mutu Baku, per channel, over a chosen period.

Who (:func:`may_view_dashboard`): the holders of the top roles of the SOPs' hierarchies — the head of the
office (``Kepala Dinas``, ``Inspektur``; ``Eselon II`` of a unit kerja) — and ``pengawas`` role holders.
Their scope is the office where they hold such a role (for a sub-unit: its office) with its sub-units,
and within it only the cases they may see (:func:`service.commands.access.visible_cases`).

The period is a range of days in the office's timezone, [first day 00:00, day after the last 00:00):

- **received**: cases created in the period;
- **open**: cases created before its end and not finished (completed or cancelled) by then;
- **late**: cases with a step whose SLA timer fired (``breached_at``) in the period;
- **closed**: cases completed in the period;
- **per step**: the SLA report's rows (:func:`service.commands.reports.sla_report`) of the period;
- **per channel**: cases received per intake channel (the case register's rule,
  :func:`service.commands.register.channel_of`).

Periodic SOPs (a ``periode`` start event: the Laporan Berkala) are not complaints: they are listed with
their cases of the period instead of being counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from service.commands.access import visible_cases
from service.commands.context import Actor, Services
from service.commands.period_report import NOT_RECORDED
from service.commands.register import channel_of
from service.commands.reports import SlaRow, sla_report
from service.commands.specs import compiled_for
from service.engine import CaseStatus
from service.engine.properties import PERIOD, SUPERVISORS
from service.engine.schedule import period_of
from service.errors import Forbidden, InvalidInput, NotFound
from service.store.models import Case, Definition, Task, Unit
from service.store.states import RevisionStatus

#: the top roles of the bundled SOPs' hierarchies: the head of a dinas, of the inspektorat, of a unit kerja
HEAD_ROLES = frozenset({"Kepala Dinas", "Inspektur", "Eselon II"})
#: who reads the dashboard: the heads, and the ``pengawas`` role of an office
DASHBOARD_ROLES = HEAD_ROLES | {SUPERVISORS}
#: presets of the period: name → the calendar period (:data:`service.engine.properties.PERIOD_MONTHS`)
PRESETS = {"bulan": "bulanan", "triwulan": "triwulan", "semester": "semester", "tahun": "tahunan"}
#: the longest period the dashboard counts over (a sanity bound on user input)
MAX_DAYS = 366 * 5


def dashboard_unit_ids(actor: Actor) -> set[int]:
    """The units where ``actor`` holds a dashboard role (head of office or ``pengawas``)."""
    return {unit for unit, roles in actor.roles_by_unit.items() if roles & DASHBOARD_ROLES}


def may_view_dashboard(actor: Actor | None) -> bool:
    """The one rule of who reads the dashboard (the navigation link and the pages ask it)."""
    return actor is not None and bool(dashboard_unit_ids(actor))


@dataclass(frozen=True)
class Period:
    """Days in the office's timezone: ``first`` to ``last`` inclusive; ``start``/``end`` the UTC instants."""

    first: date
    last: date
    start: datetime
    end: datetime


def preset_days(preset: str, today: date) -> tuple[date, date]:
    """The first and last day of the preset period (``bulan``, ``triwulan``, ``semester``, ``tahun``) of ``today``."""
    if preset not in PRESETS:
        raise InvalidInput(f"Unknown period {preset!r}", [{"field": "preset", "message": "unknown"}])
    found = period_of(PRESETS[preset], today)
    return found.start, found.last_day


def period(first: date, last: date, timezone: str) -> Period:
    """[first, last] in ``timezone``; the last day must not be before the first, at most :data:`MAX_DAYS`."""
    if last < first:
        raise InvalidInput("The period ends before it starts", [{"field": "to", "message": "before from"}])
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput("The period is too long", [{"field": "to", "message": "too long"}])
    zone = ZoneInfo(timezone)
    try:
        end_day = last + timedelta(days=1)
    except OverflowError as exc:
        raise InvalidInput("The period ends too late", [{"field": "to", "message": "out of range"}]) from exc
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(end_day, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    return Period(first, last, start, end)


@dataclass(frozen=True)
class Office:
    id: int
    code: str
    name: str
    timezone: str


@dataclass(frozen=True)
class SopFigures:
    key: str
    title: str
    #: the revision whose SOP document the dashboard links (the active one, else the newest)
    version: int
    received: int = 0
    open: int = 0
    late: int = 0
    closed: int = 0


@dataclass(frozen=True)
class ChannelCount:
    key: str
    channel: str
    count: int


@dataclass(frozen=True)
class PeriodicCase:
    case_id: str
    key: str
    label: str
    created_at: datetime
    status: str


@dataclass(frozen=True)
class Dashboard:
    office: Office
    offices: list[Office]
    period: Period
    sops: list[SopFigures]
    steps: dict[str, list[SlaRow]] = field(default_factory=dict)
    channels: list[ChannelCount] = field(default_factory=list)
    periodic: list[SopFigures] = field(default_factory=list)
    periodic_cases: list[PeriodicCase] = field(default_factory=list)

    @property
    def totals(self) -> SopFigures:
        return SopFigures("", "", 0, *(sum(getattr(row, name) for row in self.sops)
                                       for name in ("received", "open", "late", "closed")))


def offices_of(session: Session, actor: Actor) -> list[Office]:
    """The offices whose dashboard ``actor`` reads: where it holds a dashboard role, or the office of the
    sub-unit where it does; by code."""
    held = dashboard_unit_ids(actor)
    if not held:
        raise Forbidden("Only heads of office and pengawas read the dashboard")
    units = session.scalars(select(Unit).where(Unit.id.in_(held))).all()
    office_ids = {unit.parent_id or unit.id for unit in units}
    offices = session.scalars(select(Unit).where(Unit.id.in_(office_ids)).order_by(Unit.code)).all()
    return [Office(unit.id, unit.code, unit.name, unit.timezone) for unit in offices]


def choose_office(services: Services, actor: Actor, code: str | None) -> tuple[Office, list[Office]]:
    """The office the dashboard shows (``code``, else the first by code) and every office it may show."""
    with services.db.reading() as session:
        offices = offices_of(session, actor)
    chosen = next((office for office in offices if office.code == code), None) if code else offices[0]
    if chosen is None:
        raise NotFound(f"No dashboard of unit {code!r}", [{"field": "unit", "message": "unknown"}])
    return chosen, offices


def _revisions(session: Session, scope: Iterable[int]) -> dict[str, Definition]:
    """Per SOP key of the scope: the revision the dashboard names (the active one, else the newest retired;
    a draft or an approved revision never ran a case)."""
    chosen: dict[str, Definition] = {}
    ran = (RevisionStatus.ACTIVE.value, RevisionStatus.RETIRED.value)
    for revision in session.scalars(select(Definition).where(Definition.unit_id.in_(list(scope)),
                                                             Definition.status.in_(ran))
                                    .order_by(Definition.key, Definition.version)):
        current = chosen.get(revision.key)
        if current is None or current.status != RevisionStatus.ACTIVE.value \
                or revision.status == RevisionStatus.ACTIVE.value:
            chosen[revision.key] = revision
    return chosen


def dashboard(services: Services, actor: Actor, office: Office, first: date, last: date) -> Dashboard:
    """The figures of ``office`` (and its sub-units) over [first, last] in the office's timezone."""
    span = period(first, last, office.timezone)
    start, end = span.start, span.end
    with services.db.reading() as session:
        offices = offices_of(session, actor)
        if office.id not in {known.id for known in offices}:
            raise Forbidden("Only heads of office and pengawas read the dashboard")
        scope = {office.id, *session.scalars(select(Unit.id).where(Unit.parent_id == office.id))}
        revisions = _revisions(session, scope)
        start_properties = {key: compiled_for(services, session, revision).outline.start_properties
                            for key, revision in revisions.items()}
        periodic_keys = {key for key, properties in start_properties.items() if (properties.get(PERIOD) or "").strip()}
        seen = and_(visible_cases(actor), Case.unit_id.in_(scope))
        received = and_(Case.created_at >= start, Case.created_at < end)
        late = exists().where(Task.case_id == Case.id, Task.breached_at >= start, Task.breached_at < end)
        counts = session.execute(
            select(Definition.key,
                   func.sum(case((received, 1), else_=0)),
                   func.sum(case((or_(Case.completed_at.is_(None), Case.completed_at >= end), 1), else_=0)),
                   func.sum(case((late, 1), else_=0)),
                   func.sum(case((and_(Case.status == CaseStatus.COMPLETED.value, Case.completed_at >= start,
                                       Case.completed_at < end), 1), else_=0)))
            .join(Definition, Definition.id == Case.definition_id)
            .where(seen, Case.created_at < end, or_(Case.completed_at.is_(None), Case.completed_at >= start))
            .group_by(Definition.key)).all()
        figures = {key: (int(a or 0), int(b or 0), int(c or 0), int(d or 0)) for key, a, b, c, d in counts}
        channel = channel_of()
        channels = [ChannelCount(key, value if value not in (None, "") else NOT_RECORDED, int(count))
                    for key, value, count in session.execute(
                        select(Definition.key, channel, func.count())
                        .join(Definition, Definition.id == Case.definition_id)
                        .where(seen, received, Definition.key.not_in(periodic_keys))
                        .group_by(Definition.key, channel))]
        periodic_cases = [
            PeriodicCase(row.id, row.key, row.registration_number or row.business_key or row.id[:8],
                         row.created_at, row.status)
            for row in session.execute(
                select(Case.id, Definition.key, Case.registration_number, Case.business_key, Case.created_at,
                       Case.status)
                .join(Definition, Definition.id == Case.definition_id)
                .where(seen, received, Definition.key.in_(periodic_keys))
                .order_by(Case.created_at.desc()).limit(50))
        ] if periodic_keys else []
    rows = [SopFigures(key, revision.title or key, revision.version, *figures.get(key, (0, 0, 0, 0)))
            for key, revision in sorted(revisions.items()) if key not in periodic_keys]
    periodic = [SopFigures(key, revision.title or key, revision.version, *figures.get(key, (0, 0, 0, 0)))
                for key, revision in sorted(revisions.items()) if key in periodic_keys]
    steps: dict[str, list[SlaRow]] = {}
    for row in rows:
        try:
            steps[row.key] = sla_report(services, actor, row.key, None, start, end)
        except NotFound:  # the SLA report is its office's members' (an Eselon II of a unit kerja is not)
            continue
    channels.sort(key=lambda item: (item.key, -item.count, item.channel))
    return Dashboard(office=office, offices=offices, period=span, sops=rows, steps=steps, channels=channels,
                     periodic=periodic, periodic_cases=periodic_cases)
