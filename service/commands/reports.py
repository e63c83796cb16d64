"""The SLA report: the SOP's Mutu Baku (Waktu) per step, measured against what really happened.

Durations are office time (the unit's calendar: hours, holidays, closed days) from the task's
creation to its completion. ``p90`` is the nearest-rank 90th percentile.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from service.commands.accounts import unit_by_code
from service.commands.calendars import calendar_for
from service.commands.context import Actor, Services
from service.engine import TaskStatus
from service.engine.compiler import steps
from service.engine.properties import STANDARD_TIME
from service.errors import NotFound
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
        timed = [(t.completed_at, t.due_at) for t in tasks if t.due_at is not None and t.completed_at is not None]
        rows.append(SlaRow(
            definition_key=definition_key, element_id=element_id, name=step.name, lane=step.lane,
            target=step.properties.get(STANDARD_TIME), sla_timer=step.sla_timer, count=len(tasks),
            median_seconds=statistics.median(durations) if durations else None,
            p90_seconds=nearest_rank(durations, 90) if durations else None,
            within_target=(sum(done <= due for done, due in timed) / len(timed)) if timed else None,
        ))
    return rows
