"""Timers at a province's scale on PostgreSQL: idle sweeps stay flat, two workers fire >= 500 timers/s.

Issue 13. On a throw-away PostgreSQL server (``tests/support/postgres.py``):

1. **Seeding.** ``idle_10k``: 10,000 waiting cases (``idle_sweep.seed_cases``: timers 1 hour to 60
   days ahead, state ``{}``, an idle sweep never loads one). ``province``: 90,000 such cases plus
   10,000 cases of ``review.bpmn`` waiting in "Verifikasi kelengkapan" whose SLA boundary timer
   (escalation to the Kabid) is due: one is started through the service with the clock an hour
   back, the others are clones of it made with Core inserts (its state with fresh task ids, its task
   row and candidates, its access grant). Their ``next_timer_at`` is parked a day ahead at first.
2. **Idle sweep.** ``run_once`` with nothing due, ``--sweeps`` times on each database: statements
   per sweep (counted on the engine), CPU ms per sweep of the sweeping process and of the database
   server (``/proc``: the postmaster and its backends). Must be flat from 10k to 100k.
3. **Fire rate.** The 10,000 timers are made due (``next_timer_at`` moved back); two worker
   processes (``run_once`` loops, started and warmed up first, released together) fire them. Wall
   time, fires/s, statements per fire, CPU ms per fire of the workers and of the database server.
   Afterwards every case must show exactly one ``timer_fired`` and one escalation outbox row.
4. **Profile** (``--profile N``, default 200, before the fire rate): N more due clones fired in this
   process under cProfile (CPU time), summed into the parts of a fire (engine, the one write, reads).

    .venv/bin/python benchmarks/timers.py                       # 100k waiting, 10k due, 2 workers
    .venv/bin/python benchmarks/timers.py --due 2000 --idle 20000 --workers 1
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import time_machine
from idle_sweep import ROOT, SYSTEM, databases, machine, seed_cases, services_for
from sqlalchemy import event, func, insert, select, text, update

from service.commands.cases import StartRequest, start_case
from service.commands.context import Services
from service.commands.definitions import DeployRequest, deploy
from service.commands.timers import due_batch_query, worker_actor
from service.engine import CaseStatus, utc_now
from service.store.models import Case, CaseAccess, HistoryEntry, OutboxItem, Task, TaskCandidate
from service.worker.loop import run_once

REVIEW = ROOT / "tests" / "engine" / "data" / "review.bpmn"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CHUNK = 2_000
PARKED = timedelta(days=1)  # the due clones wait this far ahead until the fire phase


# --- counting -------------------------------------------------------------------------------------

class Statements:
    """Counts the SQL statements an engine sends (every execute, including BEGIN-less ones)."""

    def __init__(self, services: Services) -> None:
        self.count = 0
        event.listen(services.db.engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


def _cpu_of(pid: int, children: bool = False) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def server_cpu(postmaster: int) -> float:
    """CPU seconds of the database server: the postmaster, its reaped children and its live ones."""
    total = _cpu_of(postmaster, children=True)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == postmaster:
                total += _cpu_of(int(entry.name), children=True)
        except (OSError, IndexError, ValueError):
            continue  # it ended meanwhile
    return total


def postmaster_pid(services: Services) -> int:
    with services.db.engine.connect() as connection:
        folder = connection.execute(text("SHOW data_directory")).scalar_one()
    return int(Path(folder, "postmaster.pid").read_text().split()[0])


# --- seeding ---------------------------------------------------------------------------------------

def seed_due_clones(services: Services, count: int, profiled: int = 0) -> None:
    """``count`` cases of ``review`` waiting in their first task, its SLA timer due an hour ago, parked;
    ``profiled`` more for the profile (business keys ``prof-…`` instead of ``due-…``) and as many to warm it
    up (``warm-…``)."""
    deploy(services, SYSTEM, DeployRequest(bpmn=REVIEW.read_bytes(), unit="bench"))
    with time_machine.travel(utc_now() - timedelta(hours=1), tick=False):
        template = start_case(services, SYSTEM, StartRequest(definition_key="review", data={"judul": "Pungli"}))
    assert template.next_timer_at is not None and template.next_timer_at < utc_now()
    with services.db.reading() as session:
        case = session.get(Case, template.id)
        assert case is not None
        tasks = list(session.scalars(select(Task).where(Task.case_id == case.id)))
        candidates = list(session.scalars(select(TaskCandidate).where(
            TaskCandidate.task_id.in_([task.id for task in tasks]))))
        grants = list(session.scalars(select(CaseAccess).where(CaseAccess.case_id == case.id)))
        state_text = json.dumps(case.state)
        base = {column: getattr(case, column) for column in (
            "definition_id", "unit_id", "status", "data", "created_at", "updated_at", "timer_failures")}
        due_at = case.next_timer_at
        assert due_at is not None
    task_columns = [c.key for c in Task.__table__.columns]
    total = count + 2 * profiled
    for first in range(0, total, CHUNK):
        cases, task_rows, candidate_rows, grant_rows = [], [], [], []
        for number in range(first, min(first + CHUNK, total)):
            case_id = str(uuid.uuid4())
            state, fresh = renamed(state_text)
            key = (f"due-{number}" if number < count else f"prof-{number - count}" if number < count + profiled
                   else f"warm-{number - count - profiled}")
            cases.append({**base, "id": case_id, "business_key": key, "state": state,
                          "lock_version": 1, "next_timer_at": due_at + PARKED})
            for task in tasks:
                task_rows.append({**{c: getattr(task, c) for c in task_columns}, "id": fresh[task.id],
                                  "case_id": case_id})
            candidate_rows += [{**{key: getattr(c, key) for key in TaskCandidate.COPIED},
                                "task_id": fresh[c.task_id], "role": c.role} for c in candidates]
            grant_rows += [{"case_id": case_id, "unit_id": g.unit_id, "role": g.role, "fields": g.fields,
                            "source": g.source, "granted_at": g.granted_at,
                            "case_created_at": base["created_at"]} for g in grants]
        with services.db.transaction() as session:
            session.execute(insert(Case), cases)
            session.execute(insert(Task), task_rows)
            if candidate_rows:
                session.execute(insert(TaskCandidate), candidate_rows)
            if grant_rows:
                session.execute(insert(CaseAccess), grant_rows)
    with services.db.transaction() as session:  # the template itself is not one of the measured timers
        session.execute(update(Case).where(Case.id == template.id).values(status=CaseStatus.CANCELLED.value,
                                                                           next_timer_at=None))
    analyse(services)


def renamed(state_text: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The state with every task id replaced by a fresh one (consistently), and the mapping."""
    fresh: dict[str, str] = {}
    state = json.loads(UUID.sub(lambda match: fresh.setdefault(match.group(0), str(uuid.uuid4())), state_text))
    return state, fresh


def analyse(services: Services) -> None:
    with services.db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def make_due(services: Services, prefix: str = "due-") -> int:
    with services.db.transaction() as session:
        # the engine's own timers fell due an hour ago (the template was started then): any past instant
        moved = session.execute(update(Case).where(Case.business_key.like(f"{prefix}%"))
                                .values(next_timer_at=utc_now() - timedelta(minutes=1))
                                .execution_options(synchronize_session=False))
        return int(moved.rowcount)  # type: ignore[attr-defined]


# --- idle sweeps -----------------------------------------------------------------------------------

@dataclass
class Idle:
    label: str
    waiting: int
    statements: float
    cpu_ms: float
    server_cpu_ms: float
    wall_ms: float
    plan: str

    @property
    def uses_index(self) -> bool:
        return "ix_cases_next_timer_at" in self.plan


def claim_plan(services: Services) -> str:
    """``EXPLAIN ANALYZE`` of the batch claim (``FOR UPDATE SKIP LOCKED``) with nothing due."""
    statement = due_batch_query(services, utc_now())
    compiled = statement.compile(dialect=services.db.engine.dialect)
    with services.db.engine.connect() as connection:
        rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}", compiled.params)
        plan = "\n".join(str(row[0]) for row in rows)
        connection.rollback()
    return plan


def idle_sweeps(label: str, services: Services, sweeps: int) -> Idle:
    with services.db.reading() as session:
        waiting = session.scalar(select(func.count()).select_from(Case).where(
            Case.status == CaseStatus.RUNNING.value, Case.next_timer_at.is_not(None))) or 0
    assert run_once(services) is False, "an idle sweep must find nothing to do"
    counter = Statements(services)
    postmaster = postmaster_pid(services)
    cpu, server, wall = time.process_time(), server_cpu(postmaster), time.perf_counter()
    for _ in range(sweeps):
        run_once(services)
    wall, cpu, server = time.perf_counter() - wall, time.process_time() - cpu, server_cpu(postmaster) - server
    return Idle(label, waiting, counter.count / sweeps, cpu * 1000 / sweeps, server * 1000 / sweeps,
                wall * 1000 / sweeps, claim_plan(services))


# --- firing ----------------------------------------------------------------------------------------

def fire_worker(url: str, name: str) -> None:
    """A worker process: warm up, say ``ready``, wait for ``go`` on stdin, sweep until nothing is due."""
    services = services_for(url, Path(tempfile.gettempdir()))
    counter = Statements(services)
    run_once(services, actor=worker_actor(name))  # nothing due yet: connects, loads the code paths
    print("ready", flush=True)
    assert sys.stdin.readline().strip() == "go"
    counter.count = 0
    cpu, wall = time.process_time(), time.perf_counter()
    fired = 0
    with services.db.reading() as session:
        before = session.scalar(select(func.count()).select_from(HistoryEntry).where(
            HistoryEntry.actor == worker_actor(name))) or 0
    idle = 0
    while idle < 2:  # two sweeps in a row found nothing: the other worker holds the rest, or all is done
        idle = 0 if run_once(services, actor=worker_actor(name)) else idle + 1
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    with services.db.reading() as session:
        fired = (session.scalar(select(func.count()).select_from(HistoryEntry).where(
            HistoryEntry.actor == worker_actor(name), HistoryEntry.action == "timer_fired")) or 0)
    print(json.dumps({"name": name, "fired": fired, "cpu_s": cpu, "wall_s": wall, "statements": counter.count,
                      "history_before": before}), flush=True)
    services.db.dispose()


@dataclass
class Fired:
    workers: int
    timers: int
    wall_s: float
    worker_cpu_ms: float
    server_cpu_ms: float
    statements: float
    by_worker: dict[str, int]

    @property
    def rate(self) -> float:
        return self.timers / self.wall_s


@contextmanager
def workers(url: str, count: int) -> Iterator[list[subprocess.Popen[str]]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    processes = [subprocess.Popen([sys.executable, __file__, "--fire-worker", url, f"w{n + 1}"], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
                 for n in range(count)]
    try:
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()


def fire(services: Services, count: int) -> Fired:
    postmaster = postmaster_pid(services)
    with workers(services.db.url, count) as processes:
        for process in processes:
            assert process.stdout is not None and process.stdout.readline().strip() == "ready"
        due = make_due(services)
        server = server_cpu(postmaster)
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        reports = []
        for process in processes:
            assert process.stdout is not None
            reports.append(json.loads(process.stdout.readline()))
            process.wait(timeout=60)
        server = server_cpu(postmaster) - server
    fired = sum(report["fired"] for report in reports)
    check_exactly_once(services, due)
    return Fired(count, fired, max(report["wall_s"] for report in reports),
                 sum(report["cpu_s"] for report in reports) * 1000 / fired, server * 1000 / fired,
                 sum(report["statements"] for report in reports) / fired,
                 {report["name"]: report["fired"] for report in reports})


def check_exactly_once(services: Services, due: int, prefix: str = "due-") -> None:
    measured = select(Case.id).where(Case.business_key.like(f"{prefix}%"))
    with services.db.reading() as session:
        fired = dict(session.execute(select(HistoryEntry.case_id, func.count()).where(
            HistoryEntry.action == "timer_fired", HistoryEntry.case_id.in_(measured))
            .group_by(HistoryEntry.case_id)).all())
        escalations = session.scalar(select(func.count()).select_from(OutboxItem).where(
            OutboxItem.kind == "escalation", OutboxItem.case_id.in_(measured))) or 0
        still_due = session.scalar(select(func.count()).select_from(Case).where(
            Case.status == CaseStatus.RUNNING.value, Case.next_timer_at <= utc_now())) or 0
    assert len(fired) == due and set(fired.values()) == {1}, f"{len(fired)} cases fired, counts {set(fired.values())}"
    assert escalations == due, f"{escalations} escalations for {due} timers"
    assert still_due == 0, f"{still_due} cases still due"


# --- where the CPU of a fire goes --------------------------------------------------------------------

#: the parts of a fire the profile is summed into: (label, file suffix, function name)
PARTS = [
    ("claim + batch reads (3 statements per batch)", "service/commands/timers.py", "_claimed"),
    ("", "service/commands/timers.py", "_batch"),
    ("engine: restore the case from its state", "service/engine/runtime.py", "restore"),
    ("engine: fire the due timers (engine steps)", "service/engine/runtime.py", "fire_due_timers"),
    ("engine: dump the state", "service/engine/runtime.py", "dump"),
    ("engine: ready tasks, next timer, waiting messages", "service/engine/runtime.py", "ready_tasks"),
    ("", "service/engine/runtime.py", "next_timer_at"),
    ("", "service/engine/runtime.py", "waiting_messages"),
    ("history rows (hash chain)", "service/commands/history.py", "add"),
    ("notifications (one INSERT … SELECT per batch)", "service/commands/notifications.py", "record_breach"),
    ("", "service/commands/notifications.py", "write_breaches"),
    ("write_in_one (the one write per case)", "service/store/one_statement.py", "write_in_one"),
    ("commit", "sqlalchemy/orm/session.py", "commit"),
]


@dataclass
class Profiled:
    fires: int
    statements: float
    total_ms: float  # profiled CPU (inflated by the profiler; the shares are what counts)
    parts: list[tuple[str, float]]
    top: str


def profile_fires(services: Services, top: int = 25) -> Profiled:
    """Fire the ``prof-…`` cases in this process under cProfile (CPU time), summed into :data:`PARTS`, after
    as many ``warm-…`` ones without it: a worker that runs for long has its connections, compiled diagram,
    calendars and the statements of every batch size (1, 2, 4 … cases) ready, so the profile leaves them out."""
    run_once(services)
    warm = make_due(services, "warm-")
    while run_once(services):
        pass
    check_exactly_once(services, warm, "warm-")
    due = make_due(services, "prof-")
    counter = Statements(services)
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    while run_once(services):
        pass
    profiler.disable()
    check_exactly_once(services, due, "prof-")
    stats = pstats.Stats(profiler)
    found: dict[tuple[str, str], float] = {}
    total = 0.0
    for (filename, _line, name), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if name == "run_once" and filename.endswith("service/worker/loop.py"):
            total += cumulative
        for _label, suffix, function in PARTS:
            if name == function and filename.endswith(suffix):
                found[suffix, function] = found.get((suffix, function), 0.0) + cumulative
    parts: list[tuple[str, float]] = []
    for label, suffix, function in PARTS:
        spent = found.get((suffix, function), 0.0) * 1000 / due
        if label:
            parts.append((label, spent))
        else:
            parts[-1] = (parts[-1][0], parts[-1][1] + spent)
    listing = io.StringIO()
    pstats.Stats(profiler, stream=listing).sort_stats("cumulative").print_stats(top)
    return Profiled(due, counter.count / due, total * 1000 / due, parts, listing.getvalue())


def print_profile(found: Profiled) -> None:
    print(f"\nProfile of {found.fires} fires in one process (cProfile, CPU time; {found.statements:.2f} statements "
          f"per fire): {found.total_ms:.2f} profiled CPU ms per fire")
    for label, spent in found.parts:
        print(f"  {label:<52} {spent:>6.2f} ms  {spent * 100 / found.total_ms:>5.1f} %")
    rest = found.total_ms - sum(spent for _label, spent in found.parts)
    label = "the rest (projection, access, outbox, ORM, SQL calls)"
    print(f"  {label:<52} {rest:>6.2f} ms  "
          f"{rest * 100 / found.total_ms:>5.1f} %")
    print(found.top)


# --- main ------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--idle", type=int, default=90_000, help="waiting cases besides the due ones")
    parser.add_argument("--due", type=int, default=10_000, help="cases whose SLA timer is due")
    parser.add_argument("--small", type=int, default=10_000, help="waiting cases of the small idle database")
    parser.add_argument("--sweeps", type=int, default=300, help="idle sweeps measured per database")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", type=int, default=200,
                        help="fires profiled in this process (cProfile) before the workers run; 0: none")
    parser.add_argument("--fire-worker", nargs=2, metavar=("URL", "NAME"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fire_worker:
        fire_worker(*args.fire_worker)
        return 0
    print(f"Timers — {machine()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="alur-timers-") as folder, \
            databases("postgres", Path(folder) / "postgres") as fresh:
        small, province = (services_for(fresh(name), Path(folder)) for name in (args.small, args.idle + args.due))
        try:
            began = time.perf_counter()
            seed_cases(small, args.small, 0)
            seed_cases(province, args.idle, 0)
            seed_due_clones(province, args.due, args.profile)
            print(f"seeded {args.small:,} + {args.idle:,} waiting and {args.due:,} (+2 × {args.profile} profiled) "
                  f"due cases in {time.perf_counter() - began:.0f}s", flush=True)
            idle = [idle_sweeps(f"{args.small:,} waiting", small, args.sweeps),
                    idle_sweeps(f"{args.idle + args.due:,} waiting", province, args.sweeps)]
            profiled = profile_fires(province) if args.profile else None
            fired = fire(province, args.workers)
        finally:
            small.db.dispose()
            province.db.dispose()
    print(f"\nIdle sweep (nothing due), per sweep, {args.sweeps} sweeps:")
    print(f"{'database':>18} {'statements':>11} {'worker CPU ms':>14} {'server CPU ms':>14} {'wall ms':>8}")
    for row in idle:
        print(f"{row.label:>18} {row.statements:>11.1f} {row.cpu_ms:>14.3f} {row.server_cpu_ms:>14.3f} "
              f"{row.wall_ms:>8.3f}")
    print(f"\n--- plan of the batch claim, {idle[-1].label} (index used: {'yes' if idle[-1].uses_index else 'NO'})\n"
          f"{idle[-1].plan}")
    print(f"\nFiring {fired.timers:,} due SLA timers (escalations) with {fired.workers} worker process(es), "
          f"{args.idle + args.due:,} waiting cases:")
    print(f"  {fired.rate:.0f} fires/s ({fired.wall_s:.1f}s); per fire: {fired.statements:.1f} statements, "
          f"{fired.worker_cpu_ms:.2f} ms worker CPU, {fired.server_cpu_ms:.2f} ms database CPU; "
          f"by worker {fired.by_worker}")
    print(f"  exactly once: yes; load average now {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    target = 500
    print(f"  target >= {target} fires/s with 2 workers: {'met' if fired.rate >= target else 'NOT met'} "
          f"({fired.rate / target:.2f} of it)")
    if profiled is not None:
        print_profile(profiled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
