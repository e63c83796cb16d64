"""Firing due timers: the worker's command.

Cases with something due are found through the indexed ``cases.next_timer_at``. Each case is
handled in its own transaction; on PostgreSQL the row is taken with ``FOR UPDATE SKIP LOCKED``
so that several workers share the work, and the optimistic lock guards SQLite.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from service.commands.cases import restore
from service.commands.context import Services
from service.commands.history import HistoryWriter
from service.commands.sync import deliver_buffered, record_fired_timers, write_back
from service.engine import CaseStatus, utc_now
from service.errors import Conflict
from service.store.models import Case

WORKER_ACTOR = "system:timer"


def due_case_ids(services: Services, now: datetime, limit: int = 100) -> list[str]:
    with services.db.reading() as session:
        return list(session.scalars(
            select(Case.id).where(Case.status == CaseStatus.RUNNING.value, Case.next_timer_at <= now)
            .order_by(Case.next_timer_at).limit(limit)
        ))


def fire_case_timers(services: Services, case_id: str, now: datetime) -> int:
    """Fire what is due in one case; returns how many timers fired (0 if another worker took it)."""
    try:
        with services.db.transaction() as session:
            statement = select(Case).where(Case.id == case_id)
            if services.db.is_postgres:
                statement = statement.with_for_update(skip_locked=True, of=Case)
            case = session.scalars(statement).first()
            if case is None or case.status != CaseStatus.RUNNING.value or case.next_timer_at is None \
                    or case.next_timer_at > now:
                return 0
            run = restore(services, session, case)
            fired = run.fire_due_timers()
            history = HistoryWriter(session, case.id, WORKER_ACTOR)
            record_fired_timers(case, fired, history, session)
            deliver_buffered(session, case, run, history)
            write_back(session, case, run, history)
            return len(fired)
    except Conflict:
        return 0


def fire_due_timers(services: Services, now: datetime | None = None, limit: int = 100) -> int:
    """One sweep: fire the timers of up to ``limit`` due cases; returns the number fired."""
    moment = now or utc_now()
    return sum(fire_case_timers(services, case_id, moment) for case_id in due_case_ids(services, moment, limit))
