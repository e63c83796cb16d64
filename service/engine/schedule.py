"""Timer start events: when the worker should start the next case of a periodic SOP.

SpiffWorkflow does not create cases from a timer start event; Alur's worker does, from a schedule
computed here. ``R/P6M`` starts every six months from deployment, ``R3/2026-01-01T00:00:00+07:00/P3M``
three times from a date, a plain ISO date once, a duration once after deployment.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from service.engine import expressions, limits
from service.errors import ExpressionError, LimitExceeded


def _period(text: str) -> str:
    return text.upper().replace("--", "/").split("/")[-1]


def first_run(expression: str, now: datetime) -> datetime | None:
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


def next_run(expression: str, previous: datetime, runs_done: int) -> datetime | None:
    """The run after ``previous``; None when a bounded cycle (``R3/…``) is used up or it ran once."""
    source = expressions.check(expression).upper()
    if not source.startswith("R"):
        return None
    cycles = source.split("/")[0][1:]
    if cycles and runs_done >= int(cycles):
        return None
    # A schedule stored before the limits (deploy refuses these now) runs at most once per minimum
    # period, and never adds up a huge duration month by month.
    minimum = timedelta(seconds=limits.current().timer_min_cycle_seconds)
    try:
        limits.check_duration(_period(source))
    except LimitExceeded:
        return None
    period = TimerEventDefinition.parse_iso_duration(_period(source))
    return previous + max(TimerEventDefinition.get_timedelta_from_start(period, previous), minimum)
