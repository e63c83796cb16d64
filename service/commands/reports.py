"""The SLA report: the SOP's Mutu Baku (Waktu) per step, measured against what really happened.

Durations are office time (the unit's calendar: hours, holidays, closed days) from the task's
creation to its completion. ``p90`` is the nearest-rank 90th percentile. "Within target" compares
that same office time with the step's Waktu in office time: a fixed ``jam_kerja(n)``/``menit_kerja(n)``
(or an ISO duration of hours and minutes) counts n office hours/minutes; a limit in days
(``hari_kerja``, ``hari_kalender``, ``P60D``) is the office time from the task's creation to its due
instant. So a task done at 16:30 on a step due at 16:00 that took 5 of its 5 office minutes is within
target, and both figures of a row tell the same story.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from service.commands.accounts import unit_by_code
from service.commands.calendars import calendar_for
from service.commands.context import Actor, Services
from service.engine import TaskStatus, expressions
from service.engine.calendar import WorkCalendar
from service.engine.compiler import steps
from service.engine.properties import STANDARD_TIME
from service.errors import InvalidInput, NotFound
from service.store.models import Definition, Task


@dataclass(frozen=True)
class SlaRow:
    definition_key: str
    element_id: str
    name: str
    lane: str | None
    target: str | None
    sla_timer: str | None
    count: int
    median_seconds: float | None
    p90_seconds: float | None
    within_target: float | None


def nearest_rank(values: list[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(percent / 100 * len(ordered)) - 1, 0)]


#: The office-time functions of a timer, as seconds of office time (for a fixed Waktu).
_OFFICE_SECONDS = {"jam_kerja": lambda hours: float(hours) * 3600, "menit_kerja": lambda minutes: float(minutes) * 60}
_CLOCK_DURATION = re.compile(r"^\s*PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?\s*$")


def fixed_office_seconds(sla_timer: str | None) -> float | None:
    """The step's Waktu as a fixed amount of office time, when the timer states one; else None.

    ``jam_kerja(3)`` → 10800; ``menit_kerja(5)`` → 300; ``PT5M`` → 300 (the seed's minutes, whatever
    clock the timer runs on); a limit in days or one that reads case data has no fixed length.
    """
    if not sla_timer:
        return None
    clock = _CLOCK_DURATION.match(sla_timer)
    if clock and any(clock.groups()):
        hours, minutes, seconds = (float(part or 0) for part in clock.groups())
        return hours * 3600 + minutes * 60 + seconds
    try:
        value = expressions.evaluate(sla_timer, {}, _OFFICE_SECONDS)
    except InvalidInput:
        return None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _within(calendar: WorkCalendar, task: Task, fixed: float | None) -> bool | None:
    """Whether a completed task took no more office time than its Waktu; None when it has no Waktu."""
    if task.completed_at is None:
        return None
    if fixed is None:
        if task.due_at is None:
            return None
        fixed = calendar.working_seconds(task.created_at, task.due_at)
    return calendar.working_seconds(task.created_at, task.completed_at) <= fixed


def sla_report(services: Services, actor: Actor, definition_key: str, unit: str | None = None,
               start: datetime | None = None, end: datetime | None = None) -> list[SlaRow]:
    with services.db.reading() as session:
        revisions = session.scalars(select(Definition).where(Definition.key == definition_key)
                                    .order_by(Definition.version)).all()
        if not revisions or not actor.is_member(revisions[0].unit_id):
            raise NotFound(f"No SOP with key '{definition_key}'")
        if unit is not None and unit_by_code(session, unit).id != revisions[0].unit_id:
            return []
        calendar = calendar_for(session, revisions[0].unit)
        query = select(Task).where(Task.definition_key == definition_key, Task.status == TaskStatus.COMPLETED.value)
        if start is not None:
            query = query.where(Task.completed_at >= start)
        if end is not None:
            query = query.where(Task.completed_at < end)
        by_element: dict[str, list[Task]] = {}
        for task in session.scalars(query):
            by_element.setdefault(task.element_id, []).append(task)
        known = {step.element_id: step for revision in revisions for step in steps(revision.bpmn_xml.encode())}
    rows = []
    for element_id, step in known.items():
        tasks = by_element.get(element_id, [])
        durations = [calendar.working_seconds(t.created_at, t.completed_at) for t in tasks if t.completed_at]
        fixed = fixed_office_seconds(step.sla_timer)
        judged = [verdict for t in tasks if (verdict := _within(calendar, t, fixed if t.due_at else None)) is not None]
        rows.append(SlaRow(
            definition_key=definition_key, element_id=element_id, name=step.name, lane=step.lane,
            target=step.properties.get(STANDARD_TIME), sla_timer=step.sla_timer, count=len(tasks),
            median_seconds=statistics.median(durations) if durations else None,
            p90_seconds=nearest_rank(durations, 90) if durations else None,
            within_target=(sum(judged) / len(judged)) if judged else None,
        ))
    return rows
