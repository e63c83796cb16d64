"""Working-time calendar of a unit: ``hari_kerja(n)``, ``jam_kerja(n)``, ``menit_kerja(n)`` and
``hari_kalender(n[, tanggal])`` in timer expressions.

A unit has a timezone (WIB/WITA/WIT), office hours per weekday, Indonesia's public holidays (the
``holidays`` package) and extra closed days (cuti bersama, local closures) that an admin adds.
Timer expressions must yield an ISO 8601 duration for SpiffWorkflow, so the calendar functions
compute the due instant and return the distance from *now* to it as ``PT<seconds>S``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays

from service.engine import limits
from service.errors import InvalidInput, LimitExceeded

OfficeHours = Mapping[int, tuple[time, time]]
#: Monday (0) to Friday (4), 08:00–16:00 local time.
DEFAULT_HOURS: dict[int, tuple[time, time]] = {day: (time(8, 0), time(16, 0)) for day in range(5)}
MAX_WORKING_DAYS = 3660


@functools.lru_cache(maxsize=64)
def _national_holidays(year: int) -> frozenset[date]:
    """Indonesia's public holidays and cuti bersama (the package's "government" category)."""
    days = holidays.country_holidays("ID", years=year, categories=("public", "government"))
    return frozenset(days.keys())


@dataclass(frozen=True)
class WorkCalendar:
    timezone: str = "Asia/Jakarta"
    hours: OfficeHours = field(default_factory=lambda: dict(DEFAULT_HOURS))
    closed_days: frozenset[date] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() in self.hours
            and day not in self.closed_days
            and day not in _national_holidays(day.year)
        )

    def _working_days_after(self, day: date) -> Iterable[date]:
        for offset in range(1, MAX_WORKING_DAYS + 1):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                yield candidate

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Closing time of the ``days``-th working day after the day of ``start`` (local time)."""
        bound = limits.current().calendar_max_working_days
        if days < 0 or days > bound:
            raise LimitExceeded(f"hari_kerja() takes 0 to {bound} days, not {days}")
        local = start.astimezone(self.zone)
        if days == 0:
            return start
        for count, day in enumerate(self._working_days_after(local.date()), start=1):
            if count == days:
                closing = self.hours[day.weekday()][1]
                return datetime.combine(day, closing, tzinfo=self.zone).astimezone(UTC)
        raise LimitExceeded(f"hari_kerja({days}): the unit's calendar has fewer working days in "
                            f"{MAX_WORKING_DAYS} days")

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The instant ``hours`` of office time after ``start``, skipping closed hours and days.

        Walks at most ``timer_max_years`` of days, so an office open a few seconds a day cannot spin.
        """
        bound = limits.current()
        if not math.isfinite(hours) or hours < 0 or hours > bound.calendar_max_working_hours:
            raise LimitExceeded(f"jam_kerja() takes 0 to {bound.calendar_max_working_hours} hours, not {hours}")
        remaining = timedelta(hours=hours)
        cursor = start.astimezone(self.zone)
        day = cursor.date()
        for _ in range(math.ceil(bound.timer_max_days) + 1):
            if self.is_working_day(day):
                opens, closes = self.hours[day.weekday()]
                window_start = max(cursor, datetime.combine(day, opens, tzinfo=self.zone))
                window_end = datetime.combine(day, closes, tzinfo=self.zone)
                if window_start < window_end:
                    available = window_end - window_start
                    if remaining <= available:
                        return (window_start + remaining).astimezone(UTC)
                    remaining -= available
            day += timedelta(days=1)
            cursor = datetime.combine(day, time(0, 0), tzinfo=self.zone)
        raise LimitExceeded(f"jam_kerja({hours}) ends more than {bound.timer_max_years} years ahead with "
                            "the unit's office hours")

    def add_calendar_days(self, start: datetime, days: int, since: date | None = None) -> datetime:
        """Closing time of the ``days``-th calendar day after ``since`` (default: the local day of
        ``start``); when that day is closed, the closing time of the next working day.

        A Mutu Baku of "60 hari" counts calendar days, but its last moment is in office hours: the
        office cannot act on a Sunday, so the limit falls on the next working day. ``since`` later than
        the day of ``start`` counts from the day of ``start`` (a limit never starts in the future).
        """
        bound = limits.current().calendar_max_working_days
        if days < 0 or days > bound:
            raise LimitExceeded(f"hari_kalender() takes 0 to {bound} days, not {days}")
        today = start.astimezone(self.zone).date()
        day = min(since, today) if since is not None else today
        day += timedelta(days=days)
        if not self.is_working_day(day):
            day = next(iter(self._working_days_after(day)), day)
        if not self.is_working_day(day):
            raise LimitExceeded(f"hari_kalender({days}): the unit's calendar has no working day in "
                                f"{MAX_WORKING_DAYS} days")
        closing = self.hours[day.weekday()][1]
        return max(datetime.combine(day, closing, tzinfo=self.zone).astimezone(UTC), start)

    def working_seconds(self, start: datetime, end: datetime) -> float:
        """Office time between two instants (for SLA reports): the overlap with the open windows."""
        if end <= start:
            return 0.0
        day, last = start.astimezone(self.zone).date(), end.astimezone(self.zone).date()
        total = 0.0
        while day <= last and (day - start.date()).days <= MAX_WORKING_DAYS:
            if self.is_working_day(day):
                opens, closes = self.hours[day.weekday()]
                window_start = max(start, datetime.combine(day, opens, tzinfo=self.zone))
                window_end = min(end, datetime.combine(day, closes, tzinfo=self.zone))
                total += max((window_end - window_start).total_seconds(), 0.0)
            day += timedelta(days=1)
        return total

    @classmethod
    def of(cls, timezone_name: str, hours: Mapping[str, Any] | None, closed_days: Iterable[date]) -> WorkCalendar:
        """A calendar from stored settings: ``hours`` maps weekday "0"–"6" to ["08:00", "16:00"]."""
        office_hours: dict[int, tuple[time, time]] = dict(DEFAULT_HOURS) if not hours else {}
        for day, window in (hours or {}).items():
            try:  # hours stored before they were validated: an unreadable or empty window is a closed day
                opens, closes = time.fromisoformat(window[0]), time.fromisoformat(window[1])
                if opens < closes and 0 <= int(day) <= 6:
                    office_hours[int(day)] = (opens, closes)
            except (ValueError, TypeError, IndexError, KeyError):
                continue
        return cls(timezone=timezone_name, hours=office_hours, closed_days=frozenset(closed_days))

    def timer_functions(self, now: Callable[[], datetime]) -> dict[str, Callable[..., Any]]:
        """The calendar functions of timer expressions: each returns an ISO duration from now.

        ``hari_kerja(n)``: closing time of the n-th working day; ``jam_kerja(n)`` / ``menit_kerja(n)``:
        n hours / minutes of office time; ``hari_kalender(n[, tanggal])``: closing time of the n-th
        calendar day after today (or after ``tanggal``, an ISO date from the case data), moved to the
        next working day when the office is closed.
        """

        def until(due: datetime) -> str:
            seconds = max((due - now()).total_seconds(), 0.0)
            return f"PT{seconds:.3f}S"

        def calendar_days(days: Any, since: Any = None) -> str:
            return until(self.add_calendar_days(now(), int(days), _as_date(since)))

        return {
            "hari_kerja": lambda days: until(self.add_working_days(now(), int(days))),
            "jam_kerja": lambda hours: until(self.add_working_hours(now(), float(hours))),
            "menit_kerja": lambda minutes: until(self.add_working_hours(now(), float(minutes) / 60)),
            "hari_kalender": calendar_days,
        }


def _as_date(value: Any) -> date | None:
    """A date from case data: a ``date``/``datetime`` or an ISO ``YYYY-MM-DD`` text; None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise InvalidInput(f"hari_kalender() counts from a date (YYYY-MM-DD), not {str(value)[:40]!r}") from exc


def utc_now() -> datetime:
    return datetime.now(UTC)


def _window_problem(weekday: int, opens: time, closes: time, minimum: int) -> str | None:
    if not 0 <= weekday <= 6:
        return "the weekday must be 0 (Monday) to 6 (Sunday)"
    if any((t.second, t.microsecond, t.tzinfo) != (0, 0, None) for t in (opens, closes)):
        return "times are whole minutes without a zone (HH:MM)"
    if opens >= closes:
        return "the opening must come before the closing"
    if (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute) < minimum:
        return f"a working day is open at least {minimum} minutes"
    return None


def validate_hours(hours: Mapping[str, Any]) -> dict[str, list[str]]:
    """Office hours as an administrator sets them: ``{"0": ["08:00", "16:00"], …}`` for up to seven
    weekdays (0 = Monday), whole minutes, each window at least ``calendar_min_window_minutes`` long.

    Returns them normalized; raises :class:`InvalidInput` naming the field (``hours.<day>``).
    """
    minimum = limits.current().calendar_min_window_minutes
    if not isinstance(hours, Mapping) or len(hours) > 7:
        raise InvalidInput("Office hours name at most seven weekdays",
                           [{"field": "hours", "message": "at most 7 weekdays, 0 (Monday) to 6 (Sunday)"}])
    checked: dict[str, list[str]] = {}
    for day, window in hours.items():
        field_name = f"hours.{str(day)[:20]}"
        try:
            weekday = int(day)
            if not isinstance(window, list | tuple) or len(window) != 2:
                raise ValueError("give the opening and the closing time")
            opens, closes = (time.fromisoformat(str(value)[:20]) for value in window)
        except (ValueError, TypeError) as exc:
            raise InvalidInput('Hours look like {"0": ["08:00", "16:00"]}',
                               [{"field": field_name, "message": str(exc)}]) from exc
        problem = _window_problem(weekday, opens, closes, minimum)
        if problem is None and str(weekday) in checked:
            problem = "the same weekday is given twice"
        if problem is not None:
            raise InvalidInput(f"Office hours of weekday {str(day)[:20]}: {problem}",
                               [{"field": field_name, "message": problem}])
        checked[str(weekday)] = [opens.strftime("%H:%M"), closes.strftime("%H:%M")]
    return checked
