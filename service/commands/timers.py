"""Firing due timers: the worker's command.

Cases with something due are found through the indexed ``cases.next_timer_at``. A worker claims
up to :data:`FIRE_BATCH` of them at once — on PostgreSQL with ``FOR UPDATE SKIP LOCKED``, so that
several workers share the work without waiting on each other — and fires them in one transaction:
one claim and one commit for the batch instead of a lookup, a claim and a commit per case. The
optimistic lock guards SQLite. When one case of a batch fails, the batch is rolled back (nothing
of it fired) and its cases are fired again one transaction each, so the failure is counted on its
own case only (:func:`fire_case_timers`).

What the fires need is read per batch, not per case: the claim brings the cases' access rows (an
escalation's grant is then decided without a lookup), one read the units' closed days, one the open
task rows with their candidates (the breach marks and the projection need no other read). A fire
then writes with one statement (:func:`write_in_one`); the notifications of the steps the batch's fires
breached are one INSERT … SELECT at the end of the batch (:func:`notifications.write_breaches`;
``tests/worker/test_fire_statements.py`` counts them all).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, bindparam, select
from sqlalchemy.orm import Session, joinedload, lazyload

from service.commands.access import read_with_case
from service.commands.calendars import unit_calendar
from service.commands.cases import administered_case, case_options, restore
from service.commands.context import Actor, Services
from service.commands.history import HistoryWriter
from service.commands.notifications import write_breaches
from service.commands.sync import deliver_buffered, record_fired_timers, write_back
from service.engine import CaseStatus, WorkCalendar, utc_now
from service.errors import Conflict, LimitExceeded
from service.store.built_once import built_once
from service.store.models import TASK_IS_READY, Case, CaseAccess, ClosedDay, Task
from service.store.one_statement import ONE_STATEMENT, write_in_one

WORKER_ACTOR = "system:timer"
log = logging.getLogger("alur.worker")


def worker_actor(name: str | None = None) -> str:
    """The history actor of a worker: ``system:timer``, or ``system:timer:<name>`` for a named one."""
    return f"{WORKER_ACTOR}:{name}" if name else WORKER_ACTOR


#: a claim's statement: the claimed cases, each row with one of its access rows (or none)
Claim = Select[Case, CaseAccess]
#: due cases one transaction claims and fires at most. Their rows stay locked until it commits: an API
#: command on one of them waits for at most this many fires (about 5 CPU-ms each, ``benchmarks/RESULTS.md``).
#: A batch's own statements (the claim, two reads, the notifications, the commit) cost about as much as
#: a fire: 20 cases spread them thinner than 10 did.
FIRE_BATCH = 20


def _due(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    return (Case.status == CaseStatus.RUNNING.value) & (Case.next_timer_at <= now)


def due_cases_query(now: datetime, limit: int = 100) -> Select[str]:
    """The sweep's SELECT: a range scan of the index on ``next_timer_at`` (``benchmarks/idle_sweep.py``)."""
    return select(Case.id).where(_due(now)).order_by(Case.next_timer_at).limit(limit)


def due_case_ids(services: Services, now: datetime, limit: int = 100) -> list[str]:
    with services.db.reading() as session:
        return list(session.scalars(due_cases_query(now, limit)))


MAX_TIMER_FAILURES = 5


def backoff(failures: int) -> timedelta:
    """1, 2, 4, 8 … minutes, at most a day, after the n-th consecutive failure."""
    return timedelta(minutes=min(2 ** (failures - 1), 24 * 60))


@dataclass
class _Batch:
    """What the fires of a claimed batch read together: per unit its calendar, per case its open task rows
    (with their candidates). The cases' access rows were read with the claim (:func:`access.read_with_case`)."""

    calendars: dict[int, WorkCalendar]
    open_rows: dict[str, list[Task]]


def _fire(services: Services, session: Session, case: Case, now: datetime, actor: str, batch: _Batch) -> int:
    """Fire what is due in one locked case, inside the caller's transaction; returns how many fired.

    Nothing is flushed on the way (the reads here need none of the rows the fire adds); the case's rows
    are then written as one statement (:func:`write_in_one`).
    """
    if case.status != CaseStatus.RUNNING.value or case.next_timer_at is None or case.next_timer_at > now:
        return 0  # another worker fired it between the lookup and the claim
    with session.no_autoflush:
        run = restore(services, session, case, batch.calendars[case.unit_id])
        fired = run.fire_due_timers()
        history = HistoryWriter(session, case.id, actor, case=case)
        open_rows = batch.open_rows.get(case.id, [])
        record_fired_timers(case, fired, history, session, open_rows)
        deliver_buffered(session, case, run, history)
        write_back(session, case, run, history, open_rows=open_rows)
        case.timer_failures = 0
    write_in_one(session, case, with_history=False)
    return len(fired)


def _claim(postgres: bool, claimed: Select[str]) -> Claim:
    """The claimed cases (``claimed`` selects their ids), each with its revision's columns the fire needs
    and every access row of it (for the grants of escalations, without a lookup each). On PostgreSQL the
    case rows are locked, skipping rows another worker holds."""
    statement = (select(Case, CaseAccess).outerjoin(CaseAccess, CaseAccess.case_id == Case.id)
                 .options(*case_options()).order_by(Case.next_timer_at))
    if not postgres:
        return statement.where(Case.id.in_(claimed.correlate(None).scalar_subquery()))
    # the subquery locks (a LIMIT counts only rows no other worker holds); locking them again, held
    # already, makes the statement answer their latest versions, as a claim without a subquery would
    return (statement.where(Case.id.in_(claimed.correlate(None).with_for_update(skip_locked=True).scalar_subquery()))
            .with_for_update(of=Case))


@built_once(maxsize=64)
def _batch_claim(postgres: bool, limit: int) -> Claim:
    """The claim of a batch of at most ``limit`` cases, built once: the due instant is its parameter ``now``."""
    now = bindparam("now", type_=cast(Table, Case.__table__).c.next_timer_at.type)
    return _claim(postgres, select(Case.id).where(_due(now)).order_by(Case.next_timer_at).limit(limit))


def due_batch_query(services: Services, now: datetime, limit: int = FIRE_BATCH) -> Claim:
    """The claim of a batch: the due cases, oldest first, with their revision's columns the fire needs and
    their access rows; locked and skipping rows another worker holds on PostgreSQL (``benchmarks/timers.py``
    shows its plan)."""
    return _batch_claim(services.db.is_postgres, limit).params(now=now)


def _claimed(session: Session, statement: Claim, params: dict[str, Any] | None = None) -> list[Case]:
    """Run a claim: the cases, oldest first, their access rows noted for :func:`access.grant`."""
    cases: dict[str, Case] = {}
    grants: dict[str, list[CaseAccess]] = {}
    for case, grant in session.execute(statement, params).all():
        cases[case.id] = case
        if grant is not None:
            grants.setdefault(case.id, []).append(grant)
    for case_id in cases:
        read_with_case(session, case_id, grants.get(case_id, []))
    return list(cases.values())


def _batch(services: Services, session: Session, cases: Sequence[Case]) -> _Batch:
    """The reads of a claimed batch, two statements: the units' closed days and the cases' open task rows."""
    rows: dict[str, list[Task]] = {case.id: [] for case in cases}
    if rows:
        for row in session.scalars(_open_rows(), {"case_ids": list(rows)}).unique():
            rows[row.case_id].append(row)
    return _Batch(_calendars(services, session, cases), rows)


@built_once()
def _open_rows() -> Select[Task]:
    """The ready task rows of the cases ``case_ids``, with their candidates: built once."""
    return (select(Task).where(Task.case_id.in_(bindparam("case_ids", expanding=True)), TASK_IS_READY)
            .options(joinedload(Task.candidates), lazyload(Task.unit)).order_by(Task.created_at, Task.id))


@built_once()
def _closed_days() -> Select[int, date]:
    """The closed days of the units ``unit_ids``: built once."""
    return select(ClosedDay.unit_id, ClosedDay.day).where(ClosedDay.unit_id.in_(bindparam("unit_ids", expanding=True)))


def _fire_all(services: Services, session: Session, cases: Sequence[Case], now: datetime, actor: str) -> int:
    """Fire the claimed cases in the caller's transaction, then write the notifications of the steps they
    breached (one statement for all of them); returns how many timers fired."""
    batch = _batch(services, session, cases)
    fired = sum(_fire(services, session, case, now, actor, batch) for case in cases)
    write_breaches(session)
    return fired


def fire_case_timers(services: Services, case_id: str, now: datetime, actor: str = WORKER_ACTOR) -> int:
    """Fire what is due in one case, in a transaction of its own; returns how many timers fired (0 if
    another worker took it).

    A failure (an expression that breaks, a bug) rolls the step back, then is counted on the case
    with a retry after :func:`backoff`; after :data:`MAX_TIMER_FAILURES` the case becomes an
    incident (status ``error``) that an administrator can retry. A :class:`LimitExceeded` (a loop
    without end, a timer past its bounds) makes it an incident at once.
    """
    try:
        with services.db.transaction() as session:
            session.info[ONE_STATEMENT] = True
            cases = _claimed(session, _claim(services.db.is_postgres, select(Case.id).where(Case.id == case_id)))
            return _fire_all(services, session, cases, now, actor)
    except Conflict:
        return 0
    except Exception as exc:
        log.warning("timer of case %s failed: %s", case_id, exc)
        _count_failure(services, case_id, now, exc, actor)
        return 0


def fire_batch(services: Services, now: datetime, limit: int = FIRE_BATCH,
               actor: str = WORKER_ACTOR) -> tuple[int, int]:
    """Claim up to ``limit`` due cases and fire them in one transaction; returns (cases claimed, timers fired).

    Any failure rolls the whole batch back, then each of its cases is fired on its own
    (:func:`fire_case_timers`), where a failure is counted on that case alone.
    """
    claimed: list[str] = []
    try:
        with services.db.transaction() as session:
            session.info[ONE_STATEMENT] = True
            cases = _claimed(session, _batch_claim(services.db.is_postgres, limit), {"now": now})
            claimed = [case.id for case in cases]
            return len(cases), _fire_all(services, session, cases, now, actor)
    except Exception as exc:
        if not claimed:
            raise
        log.info("batch of %d case(s) rolled back (%s: %s); firing them one by one",
                 len(claimed), type(exc).__name__, exc)
        return len(claimed), sum(fire_case_timers(services, case_id, now, actor) for case_id in claimed)


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


def _calendars(services: Services, session: Session, cases: Sequence[Case]) -> dict[int, WorkCalendar]:
    """The calendar of every unit of a batch, their closed days read in one query."""
    days: dict[int, list[date]] = {case.unit_id: [] for case in cases}
    if days:
        for unit_id, day in session.execute(_closed_days(), {"unit_ids": list(days)}):
            days[unit_id].append(day)
    units = {case.unit_id: case.unit for case in cases}
    return {unit_id: unit_calendar(services, units[unit_id], closed) for unit_id, closed in days.items()}


def fire_due_timers(services: Services, now: datetime | None = None, limit: int = 100,
                    actor: str = WORKER_ACTOR) -> int:
    """One pass: fire the timers of up to ``limit`` due cases; returns the number fired.

    The batches grow 1, 2, 4, … up to :data:`FIRE_BATCH` cases per transaction: the first case is
    committed as soon as it fired (a sweep that finds one or two due cases holds no lock longer
    than before), and a backlog is worked in full batches.
    """
    moment = now or utc_now()
    fired = taken = 0
    size = 1
    while taken < limit:
        wanted = min(size, limit - taken)
        claimed, count = fire_batch(services, moment, wanted, actor)
        taken, fired = taken + claimed, fired + count
        if claimed < wanted:  # nothing more is due, or the other workers hold the rest
            break
        size = min(size * 2, FIRE_BATCH)
    return fired
