"""Periodic SOPs: a deployed revision with a timer start event gets a schedule; the worker starts cases.

Only the newest active revision of a key is scheduled. On PostgreSQL a due schedule is claimed with
``FOR UPDATE SKIP LOCKED``, so several workers never start the same period twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands.calendars import calendar_for
from service.commands.cases import record_new_case
from service.commands.context import Services
from service.commands.specs import compiled_for
from service.engine import CaseRun
from service.engine.schedule import next_run
from service.store.models import Case, Definition, HistoryEntry, Schedule

SCHEDULER_ACTOR = "system:scheduler"


def _runs_done(session: Session, definition_id: int) -> int:
    return len(session.scalars(select(HistoryEntry.id).join(Case, HistoryEntry.case_id == Case.id).where(
        Case.definition_id == definition_id, HistoryEntry.action == "case_scheduled")).all())


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
        period = schedule.next_run_at
        run = CaseRun.start(compiled_for(services, session, definition), {"periode": period.isoformat()},
                            calendar_for(session, definition.unit), scheduled=True)
        record_new_case(session, definition, run, SCHEDULER_ACTOR, started_by=None,
                        business_key=f"{definition.key}@{period:%Y-%m-%d}", data={"periode": period.isoformat()},
                        action="case_scheduled")
        schedule.last_run_at = period
        schedule.next_run_at = next_run(schedule.expression, period, _runs_done(session, definition.id))
        return True
