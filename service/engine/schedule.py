"""Timer start events: when the worker should start the next case of a periodic SOP, and what it reports.

SpiffWorkflow does not create cases from a timer start event; Alur's worker does, from a schedule
computed here. A schedule's text is one of:

- the calendar form ``R/semester`` (``R4/triwulan``: four runs), made by :func:`schedule_text` when the
  timer start event carries the ``periode`` property: a case at the opening of office hours, in the
  unit's timezone, on the first working day of each calendar period (a closed 1 January moves the run
  to 2 January), reporting on the period that just ended (:func:`reported_period`);
- the start event's ISO 8601 timer, as schedules stored before the calendar form keep it: ``R/P6M``
  every six months from deployment, ``R3/2026-01-01T00:00:00+07:00/P3M`` three times from a date, a
  plain ISO date once, a duration once after deployment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from service.engine import expressions, limits
from service.engine.calendar import MAX_WORKING_DAYS, WorkCalendar
from service.engine.properties import PERIOD, PERIOD_MONTHS
from service.errors import ExpressionError, InvalidDiagram, LimitExceeded

_MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
           "Oktober", "November", "Desember")
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


@dataclass(frozen=True)
class Period:
    """A calendar period of the unit: ``start`` is its first day, ``end`` the first day after it."""

    kind: str  # a key of PERIOD_MONTHS
    start: date
    end: date

    @property
    def number(self) -> int:
        return (self.start.month - 1) // PERIOD_MONTHS[self.kind] + 1

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def code(self) -> str:
        """Short and sortable: ``2026-S1``, ``2026-T3``, ``2026-05``, ``2026``."""
        return {"semester": f"{self.start.year}-S{self.number}", "triwulan": f"{self.start.year}-T{self.number}",
                "bulanan": f"{self.start:%Y-%m}"}.get(self.kind, str(self.start.year))

    @property
    def label(self) -> str:
        """As an office writes it: ``Semester I 2026``, ``Triwulan II 2026``, ``Mei 2026``, ``Tahun 2026``."""
        name = {"semester": f"Semester {_ROMAN[self.number - 1]}", "triwulan": f"Triwulan {_ROMAN[self.number - 1]}",
                "bulanan": _MONTHS[self.start.month - 1]}.get(self.kind, "Tahun")
        return f"{name} {self.start.year}"

    def instants(self, calendar: WorkCalendar) -> tuple[datetime, datetime]:
        """[start, end) as UTC instants: local midnights in the unit's timezone."""
        return (datetime.combine(self.start, datetime.min.time(), tzinfo=calendar.zone).astimezone(UTC),
                datetime.combine(self.end, datetime.min.time(), tzinfo=calendar.zone).astimezone(UTC))

    def following(self) -> Period:
        return period_of(self.kind, self.end)

    def preceding(self) -> Period:
        return period_of(self.kind, self.start - timedelta(days=1))


def period_of(kind: str, day: date) -> Period:
    """The period of length ``kind`` (``semester``, …) that contains ``day``."""
    months = PERIOD_MONTHS[kind]
    first = (day.month - 1) // months * months + 1
    start = date(day.year, first, 1)
    later = first - 1 + months
    return Period(kind, start, date(start.year + later // 12, later % 12 + 1, 1))


def schedule_text(timer: str | None, properties: Mapping[str, str]) -> str | None:
    """The text a deployed revision is scheduled by: the calendar form when its timer start event has a
    ``periode`` (whose length the timer's cycle must repeat), else the timer text itself."""
    kind = (properties.get(PERIOD) or "").strip()
    if not kind:
        return timer
    detail = {"element_id": None, "line": None}
    text = (timer or "").strip().upper()
    parts = text.split("/")
    if len(parts) != 2 or not re.fullmatch(r"R\d*", parts[0]):
        message = f"'periode' needs a timer start event with a plain cycle such as R/P{PERIOD_MONTHS.get(kind, 6)}M"
        raise InvalidDiagram(message, [{**detail, "message": message}])
    try:
        length = TimerEventDefinition.parse_iso_duration(parts[1])
    except (ValueError, KeyError) as exc:
        raise InvalidDiagram(f"Timer {timer!r} is not an ISO 8601 cycle",
                             [{**detail, "message": str(exc)}]) from exc
    months = length.get("months", 0) + 12 * length.get("years", 0)
    if kind not in PERIOD_MONTHS or set(length) - {"months", "years"} or months != PERIOD_MONTHS[kind]:
        message = (f"The timer cycle {timer!r} does not repeat the periode '{kind}' "
                   f"(R/P{PERIOD_MONTHS.get(kind, '?')}M)")
        raise InvalidDiagram(message, [{**detail, "message": message}])
    return f"{parts[0]}/{kind}"


def calendar_kind(expression: str) -> str | None:
    """The period word of a calendar schedule (``R/semester`` → ``semester``); None for an ISO one."""
    parts = expression.strip().split("/")
    return parts[-1].lower() if len(parts) == 2 and parts[-1].lower() in PERIOD_MONTHS else None


def _cycles(expression: str) -> int | None:
    count = expression.strip().split("/")[0][1:]
    return int(count) if count.isdigit() else None


def run_at(period: Period, calendar: WorkCalendar) -> datetime:
    """The opening of office hours on the period's first working day (its first day if none is open)."""
    day = period.start
    for _ in range(MAX_WORKING_DAYS):
        if calendar.is_working_day(day):
            opens = calendar.hours[day.weekday()][0]
            return datetime.combine(day, opens, tzinfo=calendar.zone).astimezone(UTC)
        day += timedelta(days=1)
    return datetime.combine(period.start, datetime.min.time(), tzinfo=calendar.zone).astimezone(UTC)


def reported_period(expression: str, run: datetime, calendar: WorkCalendar) -> Period | None:
    """The period a calendar schedule's run at ``run`` reports on: the one before the run's own period."""
    kind = calendar_kind(expression)
    if kind is None:
        return None
    return period_of(kind, run.astimezone(calendar.zone).date()).preceding()


def first_run(expression: str, now: datetime, calendar: WorkCalendar | None = None) -> datetime | None:
    kind = calendar_kind(expression)
    if kind is not None:
        if _cycles(expression) == 0:
            return None
        office = calendar or WorkCalendar()
        period = period_of(kind, now.astimezone(office.zone).date())
        start = run_at(period, office)
        return start if start >= now else run_at(period.following(), office)
    source = expressions.check(expression)
    try:
        if source.upper().startswith("R"):
            limits.check_cycle(source)
            cycles, start, _ = TimerEventDefinition.parse_iso_recurring_interval(source)
            return None if cycles == 0 else start
        if source.upper().startswith("P"):
            limits.check_duration(source)
            return now + TimerEventDefinition.get_timedelta_from_start(
                TimerEventDefinition.parse_iso_duration(source), now)
        return TimerEventDefinition.get_datetime(source)
    except (ValueError, KeyError) as exc:
        raise ExpressionError(f"Timer start {expression!r} is not an ISO 8601 date, duration or cycle") from exc


def next_run(expression: str, previous: datetime, runs_done: int,
             calendar: WorkCalendar | None = None) -> datetime | None:
    """The run after ``previous``; None when a bounded cycle (``R3/…``) is used up or it ran once."""
    kind = calendar_kind(expression)
    if kind is not None:
        cycles = _cycles(expression)
        if cycles is not None and runs_done >= cycles:
            return None
        office = calendar or WorkCalendar()
        return run_at(period_of(kind, previous.astimezone(office.zone).date()).following(), office)
    source = expressions.check(expression).upper()
    if not source.startswith("R"):
        return None
    cycles_text = source.split("/")[0][1:]
    if cycles_text and runs_done >= int(cycles_text):
        return None
    # A schedule stored before the limits (deploy refuses these now) runs at most once per minimum
    # period, and never adds up a huge duration month by month.
    minimum = timedelta(seconds=limits.current().timer_min_cycle_seconds)
    period = source.replace("--", "/").split("/")[-1]
    try:
        limits.check_duration(period)
    except LimitExceeded:
        return None
    length = TimerEventDefinition.parse_iso_duration(period)
    return previous + max(TimerEventDefinition.get_timedelta_from_start(length, previous), minimum)
