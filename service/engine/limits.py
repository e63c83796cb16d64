"""How much one diagram, expression or command may cost: the engine's resource limits.

A diagram is written by a unit's administrator or process owner, but it runs on the server every
unit shares, so what it may make the server do is bounded: the size of what an expression builds,
timer durations and cycle periods, multi-instance counts, the size of a diagram, and the engine
steps of one command. Each bound is checked at deploy where the diagram states it literally and
always again at run time (a value computed from case data).

The values are settings (``service.config`` reads ``ALUR_LIMIT_*``); the process configures them once
at start-up with :func:`configure`, and the engine reads them with :func:`current`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from service.errors import LimitExceeded

#: SpiffWorkflow's task iterator does not look deeper than this into a task tree: tasks below it
#: are invisible (a case would look completed with its open work lost).
SPIFF_MAX_DEPTH = 1000


@dataclass(frozen=True)
class Limits:
    """The limits, with their defaults; each is documented in the README's settings table."""

    #: longest string, and largest rendered size of a value, an expression may build (characters)
    expression_max_chars: int = 100_000
    #: most items of a list, tuple or dict an expression may build
    expression_max_items: int = 10_000
    #: most decimal digits of an integer an expression may build or a diagram may write
    expression_max_int_digits: int = 100
    #: longest timer duration, dueDate duration and cycle period (years)
    timer_max_years: int = 10
    #: shortest period of a timer cycle (seconds)
    timer_min_cycle_seconds: int = 60
    #: most instances of a multi-instance activity (loop cardinality or collection size)
    multi_instance_max: int = 100
    #: most XML elements in a diagram file (its BPMNDI included); counted before parsing
    diagram_max_elements: int = 5_000
    #: most tasks the engine may complete within one command (start, complete, message, timer)
    engine_max_steps: int = 500
    #: deepest a case's task tree may grow; every pass through a loop adds to it
    engine_max_depth: int = 900
    #: shortest office-hours window of a working day (minutes)
    calendar_min_window_minutes: int = 60
    #: largest argument of ``hari_kerja`` (working days)
    calendar_max_working_days: int = 2_500
    #: largest argument of ``jam_kerja`` (working hours)
    calendar_max_working_hours: int = 20_000

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"limit {name} must be a whole number of at least 1, not {value!r}")
        if self.engine_max_depth >= SPIFF_MAX_DEPTH:
            raise ValueError(f"limit engine_max_depth must stay below {SPIFF_MAX_DEPTH}")

    @property
    def timer_max_days(self) -> float:
        return self.timer_max_years * 365.25

    @property
    def expression_max_int_bits(self) -> int:
        return int(self.expression_max_int_digits * 3.33) + 1


_current = Limits()


def current() -> Limits:
    return _current


def configure(limits: Limits) -> None:
    """Set the limits of this process (at start-up: the app factory, the CLI and the worker)."""
    global _current
    _current = limits


@contextmanager
def configured(**changes: Any) -> Iterator[Limits]:
    """Tests: run a block with some limits changed, then restore the previous ones."""
    previous = _current
    configure(replace(previous, **changes))
    try:
        yield _current
    finally:
        configure(previous)


# --- timers --------------------------------------------------------------------------------------------

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<years>\d+(?:\.\d+)?)Y)?(?:(?P<months>\d+(?:\.\d+)?)M)?(?:(?P<weeks>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<days>\d+(?:\.\d+)?)D)?(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
_DAYS_PER = {"years": 365.25, "months": 365.25 / 12, "weeks": 7.0, "days": 1.0,
             "hours": 1 / 24, "minutes": 1 / 1440, "seconds": 1 / 86400}


def duration_days(text: str) -> float:
    """The approximate length of an ISO 8601 duration in days (months at their mean length).

    Read by a regular expression, never by adding months one by one as SpiffWorkflow does (which
    makes ``P999999999Y`` spin for hours); raises :class:`ValueError` when ``text`` is not one.
    """
    match = _DURATION.match(text.strip().upper())
    if match is None:
        raise ValueError(f"{text!r} is not an ISO 8601 duration such as PT10M or P14D")
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    return sum(_DAYS_PER[name] * value for name, value in parts.items())


def check_duration(text: str, what: str = "A timer duration") -> timedelta:
    """``text`` as a bounded duration; raises :class:`LimitExceeded` past ``timer_max_years``."""
    limits = current()
    try:
        days = duration_days(text)
    except ValueError as exc:
        raise LimitExceeded(f"{what} {text!r} is not an ISO 8601 duration such as PT10M or P14D") from exc
    if days > limits.timer_max_days:
        raise LimitExceeded(f"{what} {text!r} is longer than {limits.timer_max_years} years")
    return timedelta(days=days)


def check_cycle(text: str) -> None:
    """A cycle ``R[n]/[start/]period[/end]``: its period must lie between the minimum and the maximum."""
    limits = current()
    parts = text.strip().upper().replace("--", "/").split("/")
    if len(parts) < 2 or not re.fullmatch(r"R\d*", parts[0]):
        raise LimitExceeded(f"Timer cycle {text!r} is not an ISO 8601 repetition such as R/P1D or R3/PT1H")
    periods = [part for part in parts[1:] if part.startswith("P")]
    if len(periods) != 1:
        raise LimitExceeded(f"Timer cycle {text!r} needs exactly one period, e.g. R/P1D")
    period = check_duration(periods[0], "The period of timer cycle")
    if period.total_seconds() < limits.timer_min_cycle_seconds:
        raise LimitExceeded(f"The period of timer cycle {text!r} is shorter than "
                            f"{limits.timer_min_cycle_seconds} seconds")


def check_timer_value(value: Any, kind: str) -> None:
    """A timer's evaluated text, by the kind of its definition (``duration``, ``cycle`` or ``date``)."""
    if not isinstance(value, str):
        raise LimitExceeded(f"A timer must evaluate to ISO 8601 text, not {type(value).__name__}")
    if kind == "duration":
        check_duration(value)
    elif kind == "cycle":
        check_cycle(value)


# --- multi-instance -----------------------------------------------------------------------------------


def check_instances(count: int, what: str = "A multi-instance activity") -> None:
    limits = current()
    if count > limits.multi_instance_max:
        raise LimitExceeded(f"{what} would create {count} instances; at most {limits.multi_instance_max} "
                            "are allowed")
