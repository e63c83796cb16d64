"""Periodic SOPs: a deployed revision with a timer start event gets a schedule; the worker starts cases.

Only the newest active revision of a key is scheduled. On PostgreSQL a due schedule is claimed with
``FOR UPDATE SKIP LOCKED``, so several workers never start the same period twice. A calendar schedule
(``periode``) starts its case with the figures of the period just ended as the initial case data
(:mod:`service.commands.period_report`), so the report form opens filled in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands.calendars import calendar_for
from service.commands.cases import record_new_case
from service.commands.context import Services
from service.commands.period_report import period_figures
from service.commands.specs import compiled_for
from service.engine import CaseRun
from service.engine.calendar import WorkCalendar
from service.engine.compiler import CompiledDefinition
from service.engine.schedule import next_run, reported_period
from service.store.models import Case, Definition, HistoryEntry, Schedule

SCHEDULER_ACTOR = "system:scheduler"


def _runs_done(session: Session, definition_id: int) -> int:
    return len(session.scalars(select(HistoryEntry.id).join(Case, HistoryEntry.case_id == Case.id).where(
        Case.definition_id == definition_id, HistoryEntry.action == "case_scheduled")).all())


def _initial(session: Session, definition: Definition, compiled: CompiledDefinition, schedule: Schedule,
             run_at: datetime, calendar: WorkCalendar) -> tuple[str, dict[str, Any]]:
    """The business key and initial case data of the run at ``run_at``."""
    period = reported_period(schedule.expression, run_at, calendar)
    if period is None:  # an ISO schedule: the run's instant is its period
        return f"{definition.key}@{run_at:%Y-%m-%d}", {"periode": run_at.isoformat()}
    data = period_figures(session, definition.unit_id, compiled.outline.start_properties, period, calendar)
    return f"{definition.key}@{period.code}", data


def start_due_schedule(services: Services, now: datetime) -> bool:
    """Start one case for one due schedule; False when nothing is due (or others hold the due ones)."""
    with services.db.transaction() as session:
        statement = (select(Schedule).where(Schedule.next_run_at <= now)
                     .order_by(Schedule.next_run_at).limit(1))
        if services.db.is_postgres:
            statement = statement.with_for_update(skip_locked=True)
        schedule = session.scalars(statement).first()
        if schedule is None:
            return False
        definition = session.get(Definition, schedule.definition_id)
        assert definition is not None and schedule.next_run_at is not None
        run_at = schedule.next_run_at
        compiled = compiled_for(services, session, definition)
        calendar = calendar_for(session, definition.unit)
        business_key, data = _initial(session, definition, compiled, schedule, run_at, calendar)
        run = CaseRun.start(compiled, data, calendar, scheduled=True)
        record_new_case(session, definition, run, SCHEDULER_ACTOR, started_by=None, business_key=business_key,
                        data=data, action="case_scheduled")
        schedule.last_run_at = run_at
        schedule.next_run_at = next_run(schedule.expression, run_at, _runs_done(session, definition.id), calendar)
        return True
