"""Firing due timers: the worker's command.

Cases with something due are found through the indexed ``cases.next_timer_at``. Each case is
handled in its own transaction; on PostgreSQL the row is taken with ``FOR UPDATE SKIP LOCKED``
so that several workers share the work, and the optimistic lock guards SQLite.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Select, select

from service.commands.cases import administered_case, restore
from service.commands.context import Actor, Services
from service.commands.history import HistoryWriter
from service.commands.sync import deliver_buffered, record_fired_timers, write_back
from service.engine import CaseStatus, utc_now
from service.errors import Conflict, LimitExceeded
from service.store.models import Case

WORKER_ACTOR = "system:timer"
log = logging.getLogger("alur.worker")


def worker_actor(name: str | None = None) -> str:
    """The history actor of a worker: ``system:timer``, or ``system:timer:<name>`` for a named one."""
    return f"{WORKER_ACTOR}:{name}" if name else WORKER_ACTOR


def due_cases_query(now: datetime, limit: int = 100) -> Select[str]:
    """The sweep's SELECT: a range scan of the index on ``next_timer_at`` (``benchmarks/idle_sweep.py``)."""
    return (select(Case.id).where(Case.status == CaseStatus.RUNNING.value, Case.next_timer_at <= now)
            .order_by(Case.next_timer_at).limit(limit))


def due_case_ids(services: Services, now: datetime, limit: int = 100) -> list[str]:
    with services.db.reading() as session:
        return list(session.scalars(due_cases_query(now, limit)))


MAX_TIMER_FAILURES = 5


def backoff(failures: int) -> timedelta:
    """1, 2, 4, 8 … minutes, at most a day, after the n-th consecutive failure."""
    return timedelta(minutes=min(2 ** (failures - 1), 24 * 60))


def fire_case_timers(services: Services, case_id: str, now: datetime, actor: str = WORKER_ACTOR) -> int:
    """Fire what is due in one case; returns how many timers fired (0 if another worker took it).

    A failure (an expression that breaks, a bug) rolls the step back, then is counted on the case
    with a retry after :func:`backoff`; after :data:`MAX_TIMER_FAILURES` the case becomes an
    incident (status ``error``) that an administrator can retry. A :class:`LimitExceeded` (a loop
    without end, a timer past its bounds) makes it an incident at once.
    """
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
            history = HistoryWriter(session, case.id, actor)
            record_fired_timers(case, fired, history, session)
            deliver_buffered(session, case, run, history)
            write_back(session, case, run, history)
            case.timer_failures = 0
            return len(fired)
    except Conflict:
        return 0
    except Exception as exc:
        log.warning("timer of case %s failed: %s", case_id, exc)
        _count_failure(services, case_id, now, exc, actor)
        return 0


def _count_failure(services: Services, case_id: str, now: datetime, error: Exception,
                   actor: str = WORKER_ACTOR) -> None:
    with services.db.transaction() as session:
        case = session.get(Case, case_id)
        if case is None:
            return
        # a limit (a runaway loop, a timer out of bounds) fails the same way every time: no retries
        case.timer_failures = MAX_TIMER_FAILURES if isinstance(error, LimitExceeded) else case.timer_failures + 1
        case.last_error = f"{type(error).__name__}: {error}"[:2000]
        history = HistoryWriter(session, case.id, actor)
        if case.timer_failures >= MAX_TIMER_FAILURES:
            case.status = CaseStatus.ERROR.value
            case.next_timer_at = None  # out of the sweep's index range until an admin retries it
            history.add("incident", {"error": case.last_error, "failures": case.timer_failures})
        else:
            case.next_timer_at = now + backoff(case.timer_failures)
            history.add("timer_failed", {"error": case.last_error, "retry_at": case.next_timer_at.isoformat()})


def retry_case(services: Services, actor: Actor, case_id: str) -> Case:
    """An administrator puts an incident back to work: the worker retries it at its next sweep."""
    with services.db.transaction() as session:
        case = administered_case(session, actor, case_id, "retry a case")
        if case.status != CaseStatus.ERROR.value:
            raise Conflict(f"Case {case_id} is {case.status}, not in error")
        case.status = CaseStatus.RUNNING.value
        case.timer_failures = 0
        case.next_timer_at = utc_now()
        HistoryWriter(session, case.id, actor.username).add("incident_retried", {"error": case.last_error})
        return case


def fire_due_timers(services: Services, now: datetime | None = None, limit: int = 100,
                    actor: str = WORKER_ACTOR) -> int:
    """One sweep: fire the timers of up to ``limit`` due cases; returns the number fired."""
    moment = now or utc_now()
    return sum(fire_case_timers(services, case_id, moment, actor)
               for case_id in due_case_ids(services, moment, limit))
