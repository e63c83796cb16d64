"""Idle timer sweep: with nothing due, a sweep costs the same for 100 and 100,000 waiting cases.

Issue 3, acceptance 3. For PostgreSQL (a throw-away server from ``tests/support/postgres.py``) and
SQLite, and for each N: a freshly migrated database, N running cases whose timers are due in the
future (1 hour to 60 days ahead), ``ANALYZE``, then the median time of

* ``due_case_ids`` — the sweep's SELECT, and
* ``run_once`` — a whole idle worker sweep (due schedules, then due timers),

over ``--runs`` repetitions, plus the query plan of the SELECT, which must use the index
``ix_cases_next_timer_at`` at the largest N (the script exits 1 when it does not).

The cases carry the minimal state ``{}``: an idle sweep never loads one.

    .venv/bin/python benchmarks/idle_sweep.py                 # N = 100 and 100,000, 300 runs
    .venv/bin/python benchmarks/idle_sweep.py --sizes 100 1000 --runs 50 --only sqlite
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # for support.postgres

from sqlalchemy import insert, text  # noqa: E402
from support.postgres import create_database, running_postgres  # noqa: E402

from service.commands import accounts  # noqa: E402
from service.commands.context import Actor, Services  # noqa: E402
from service.commands.definitions import DeployRequest, deploy  # noqa: E402
from service.commands.timers import due_case_ids, due_cases_query  # noqa: E402
from service.config import Settings  # noqa: E402
from service.engine import CaseStatus, utc_now  # noqa: E402
from service.store.db import Database  # noqa: E402
from service.store.migrate import upgrade  # noqa: E402
from service.store.models import Case  # noqa: E402
from service.worker.loop import run_once  # noqa: E402

INDEX = "ix_cases_next_timer_at"
DIAGRAM = ROOT / "tests" / "engine" / "data" / "wait_timer.bpmn"
FORMS = ROOT / "tests" / "data" / "forms"
SYSTEM = Actor(user_id=0, username="system:bench", is_admin=True, roles_by_unit={})
CHUNK = 10_000


@dataclass
class Measurement:
    backend: str
    cases: int
    select_ms: float
    sweep_ms: float
    plan: str

    @property
    def uses_index(self) -> bool:
        return INDEX in self.plan


def services_for(url: str, scratch: Path) -> Services:
    settings = Settings(database_url=url, secret_key="benchmark-secret-key", data_dir=scratch / "data",
                        forms_dir=FORMS)
    return Services(db=Database(url), settings=settings)


def seed_cases(services: Services, waiting: int, finished: int) -> None:
    """``waiting`` running cases of ``wait_timer`` whose timers fall due between 1 hour and 60 days ahead,
    and ``finished`` completed ones (no timer: ``next_timer_at`` is NULL), then ``ANALYZE``."""
    accounts.create_unit(services, "bench", "Benchmark", "Asia/Jakarta")
    definition, _ = deploy(services, SYSTEM, DeployRequest(bpmn=DIAGRAM.read_bytes(), unit="bench"))
    now = utc_now()
    spread = timedelta(days=60) - timedelta(hours=1)

    def row(number: int) -> dict[str, Any]:
        is_waiting = number < waiting
        return {"id": str(uuid.uuid4()), "definition_id": definition.id, "unit_id": definition.unit_id,
                "business_key": f"idle-{number}", "state": {}, "data": {}, "lock_version": 1,
                "status": (CaseStatus.RUNNING if is_waiting else CaseStatus.COMPLETED).value,
                "next_timer_at": now + timedelta(hours=1) + spread * (number / waiting) if is_waiting else None,
                "completed_at": None if is_waiting else now, "created_at": now, "updated_at": now,
                "timer_failures": 0}

    total = waiting + finished
    for first in range(0, total, CHUNK):
        with services.db.transaction() as session:
            session.execute(insert(Case), [row(number) for number in range(first, min(first + CHUNK, total))])
    with services.db.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def query_plan(services: Services, now: datetime) -> str:
    """``EXPLAIN`` (PostgreSQL, with ANALYZE) or ``EXPLAIN QUERY PLAN`` (SQLite) of the sweep's SELECT."""
    statement = due_cases_query(now)
    compiled = statement.compile(dialect=services.db.engine.dialect)
    with services.db.engine.connect() as connection:
        if services.db.is_postgres:
            rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}", compiled.params)
            return "\n".join(str(row[0]) for row in rows)
        # sqlite3 renders a datetime as "YYYY-MM-DD HH:MM:SS.ffffff", the dialect's stored format
        values = tuple(compiled.params[name] for name in compiled.positiontup or [])
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", values)
        return "\n".join(str(row[-1]) for row in rows)


def timed_select(services: Services) -> float:
    began = time.perf_counter()
    due_case_ids(services, utc_now())
    return time.perf_counter() - began


def timed_sweep(services: Services) -> float:
    began = time.perf_counter()
    run_once(services)
    return time.perf_counter() - began


def measure(backend: str, urls: dict[int, str], scratch: Path, finished: int, runs: int,
            rounds: int = 10) -> list[Measurement]:
    """Seed one database per size, then time the sizes in alternating rounds, so that a change of the
    machine's load (it is shared) hits every size alike; medians over all rounds."""
    services = {count: services_for(url, scratch) for count, url in urls.items()}
    try:
        for count, handle in services.items():
            began = time.perf_counter()
            seed_cases(handle, count, finished)
            print(f"  {backend}: {count:,} waiting (+{finished:,} finished) cases inserted and analysed in "
                  f"{time.perf_counter() - began:.1f}s", flush=True)
            assert due_case_ids(handle, utc_now()) == [], "nothing may be due in an idle sweep"
            assert run_once(handle) is False, "an idle sweep does nothing"  # also warms the pool up
        selects: dict[int, list[float]] = {count: [] for count in services}
        sweeps: dict[int, list[float]] = {count: [] for count in services}
        per_round = -(-runs // rounds)
        for _ in range(rounds):
            for count, handle in services.items():
                selects[count] += [timed_select(handle) for _ in range(per_round)]
                sweeps[count] += [timed_sweep(handle) for _ in range(per_round)]
        return [Measurement(backend, count, statistics.median(selects[count]) * 1000,
                            statistics.median(sweeps[count]) * 1000, query_plan(handle, utc_now()))
                for count, handle in services.items()]
    finally:
        for handle in services.values():
            handle.db.dispose()


@contextmanager
def databases(backend: str, scratch: Path) -> Iterator[Callable[[int], str]]:
    """Yields a factory of fresh, migrated databases (one per N) of ``backend``."""
    scratch.mkdir(parents=True, exist_ok=True)
    if backend == "sqlite":
        def sqlite_db(count: int) -> str:
            url = f"sqlite:///{scratch / f'idle_{count}.db'}"
            upgrade(url, "heads")  # robust while a branch of migrations is being merged
            return url

        yield sqlite_db
        return
    with running_postgres(scratch / "pg") as server:
        def postgres_db(count: int) -> str:
            url = create_database(server, f"idle_{count}")
            upgrade(url, "heads")  # robust while a branch of migrations is being merged
            return url

        yield postgres_db


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (f"{os.cpu_count()} CPU(s) {cpu}; Python {platform.python_version()}; {platform.system()} "
            f"{platform.release()}; load average {load}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 100_000])
    parser.add_argument("--runs", type=int, default=300, help="repetitions per timing (median); at least 200")
    parser.add_argument("--only", choices=["postgres", "sqlite"], default=None)
    parser.add_argument("--finished", type=int, default=0,
                        help="completed cases (no timer) added to every database, as in a long-running system")
    args = parser.parse_args()
    backends = [args.only] if args.only else ["postgres", "sqlite"]
    print(f"Idle timer sweep — {machine()}", flush=True)
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="alur-idle-") as folder:
        for backend in backends:
            with databases(backend, Path(folder) / backend) as fresh:
                urls = {count: fresh(count) for count in args.sizes}
                results += measure(backend, urls, Path(folder) / backend, args.finished, args.runs)
    print(f"\nmedian of {args.runs} runs (sizes interleaved in 10 rounds), milliseconds; "
          f"{args.finished:,} finished cases besides the waiting ones")
    print(f"{'backend':10} {'waiting cases':>14} {'due_case_ids':>13} {'run_once':>10}  index used")
    for result in results:
        print(f"{result.backend:10} {result.cases:>14,} {result.select_ms:>13.3f} {result.sweep_ms:>10.3f}  "
              f"{'yes' if result.uses_index else 'NO'}")
    largest = max(args.sizes)
    failed = False
    for result in results:
        print(f"\n--- plan, {result.backend}, {result.cases:,} waiting cases\n{result.plan}")
        if result.cases == largest:
            verdict = "OK" if result.uses_index else "FAILED"
            failed = failed or not result.uses_index
            print(f"{verdict}: the plan {'uses' if result.uses_index else 'does NOT use'} {INDEX}")
    for backend in backends:
        by_size = {r.cases: r for r in results if r.backend == backend}
        if len(by_size) > 1:
            small, large = by_size[min(by_size)], by_size[max(by_size)]
            print(f"{backend}: run_once at {large.cases:,} / at {small.cases:,} = "
                  f"{large.sweep_ms / small.sweep_ms:.2f}x; due_case_ids {large.select_ms / small.select_ms:.2f}x")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
