"""``GET /api/tasks`` at 10k, 100k and 1M open cases (issue 13), on SQLite and PostgreSQL.

The cases are seeded with ``alur bench seed``'s code (:mod:`service.commands.bench_seed`: real
tables, one ready task per case spread over 10 units and the lanes of the DUMAS SOP), growing one
database step by step. At each size the Inspektorat user of ``inspektorat-katingan`` asks for its
task list through Flask's test client with a bearer token (routing, auth, command, SQL, JSON), so
the times are the server's alone; so does its Pelapor, who filed five of the seeded cases, at every
size (the variant "reporter": their own Pelapor tasks among every reporter's of the unit); then the case
lists: the reporter's and the Inspektorat user's ``GET /api/cases`` and the latter's register page
(Perkara, the command behind the web page). Printed per
variant: p50/p95/p99 wall ms and CPU ms per request (this process; on PostgreSQL also the database
server's processes, from /proc), then the plan of the page query (EXPLAIN ANALYZE / EXPLAIN QUERY
PLAN) with OK when it walks the task-list index, and the plans of an administrator's list and of
"mine" (``tasks`` itself, through its partial indexes of open tasks, migration 0024).

    .venv/bin/python benchmarks/task_list_scale.py [--sizes 10000,100000,1000000] [--backends postgres,sqlite]
                                                   [--runs 200] [--deep 50]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _harness import (
    PASSWORD,
    ROOT,
    SECRET,
    SYSTEM,
    UNIT,
    loadavg,
    percentiles,
    postmaster_pid,
    prepare_database,
    tree_cpu_seconds,
)
from sqlalchemy import func, select, text, update
from support.helpers import actor_named

from service.app import create_app
from service.commands import register, task_list
from service.commands.bench_seed import seed
from service.commands.context import REPORTER_ROLE, Actor, Services
from service.store.models import Case, Task, TaskCandidate, Unit, User

USERNAME = "inspektorat"
#: a reporter (Pelapor of the same unit) with a few cases of their own among the seeded ones: their list
#: holds the Pelapor tasks of those cases only (:func:`service.commands.task_list._grant_parts`)
REPORTER = "pelapor"
#: how many of the seeded cases the reporter has filed, at every size: the same page among ever more of
#: every reporter's rows (five more per size made the 1M page twice the 10k one, 10 rows against 5)
REPORTER_CASES = 5
BPMN = ROOT / "bpmn" / "dumas-inspektorat-katingan.bpmn"
KEY = "dumas-inspektorat-katingan"
#: an index the page query must walk: the actor's candidate rows per (unit, role), in the list's order (a
#: reporter's: the rows naming them, migration 0028)
INDEXES = ("ix_task_candidates_due", "ix_task_candidates_created", "ix_task_candidates_reporter_due",
           "ix_task_candidates_reporter_created")
#: no full scan, no sort on disk, no parallel workers started for one page, and no walk of every open
#: task in order (the page before migration 0022: ``tasks`` in due order, each one's candidates probed)
BAD = {"postgresql": ("Seq Scan on tasks", "Seq Scan on task_candidates", "external merge", "Gather",
                      "ix_tasks_ready_due", "ix_tasks_ready_created"),
       "sqlite": ("SCAN tasks", "SCAN task_candidates", "ix_tasks_ready_due", "ix_tasks_ready_created")}
#: a filtered page and its capped count read the due dates and SOPs from the candidates' index (issue 13)
FILTER_INDEX = "ix_task_candidates_due"
#: the partial indexes of open tasks an administrator's list and "mine" walk (migration 0024)
OPEN_TASK_INDEXES = ("ix_tasks_ready_due", "ix_tasks_ready_created", "ix_tasks_ready_claimed",
                     "ix_tasks_ready_unit_due")
#: "mine" reads no table whole (a full scan of a partial index is SQLite's "SCAN tasks USING INDEX")
BAD_MINE = {"postgresql": ("Seq Scan on tasks", "external merge", "Gather"), "sqlite": ("SCAN tasks\n",)}
#: an administrator's capped count may read ``tasks`` in table order under its LIMIT: where every task is
#: open (this benchmark's data) it finds its 1,001 rows at once and both planners take it (PostgreSQL did
#: before migration 0024 as well); with finished tasks in the table they walk a partial index
BAD_ADMIN = {"postgresql": ("external merge", "Gather"), "sqlite": ()}


@dataclass
class Result:
    size: int
    variant: str
    wall: list[float]
    cpu_ms: float
    db_cpu_ms: float
    rows: int


class Bench:
    def __init__(self, backend: str, url: str, workdir: Path) -> None:
        self.backend, self.url = backend, url
        self.app = create_app({"database_url": url, "secret_key": SECRET, "forms_dir": ROOT / "forms",
                               "data_dir": workdir / "data"})
        self.services: Services = self.app.extensions["alur.services"]
        self.client = self.app.test_client()
        self.headers = self.sign_in(USERNAME)
        self.reporter_headers = self.sign_in(REPORTER)
        self.postmaster = postmaster_pid(url) if backend == "postgresql" else None

    def actor(self, username: str) -> Actor:
        return actor_named(self.services, username)

    def sign_in(self, username: str) -> dict[str, str]:
        token = self.client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
        assert token.status_code == 200 and token.json, token.json
        return {"Authorization": f"Bearer {token.json['token']}"}

    def get(self, query: dict[str, Any], headers: dict[str, str] | None = None, path: str = "/api/tasks"
            ) -> dict[str, Any]:
        response = self.client.get(path, query_string=query, headers=headers or self.headers)
        body: dict[str, Any] | None = response.json
        assert response.status_code == 200 and body is not None, (response.status_code, body)
        return body

    def timed(self, size: int, variant: str, calls: Callable[[], list[dict[str, Any]]]) -> Result:
        calls()  # warm-up
        db_before = tree_cpu_seconds(self.postmaster) if self.postmaster else 0.0
        cpu_before = time.process_time()
        walls: list[float] = []
        rows = 0
        count = 0
        began = time.perf_counter()
        for body in calls():
            now = time.perf_counter()
            walls.append((now - began) * 1000)
            began = now
            rows = len(body["items"])
            count += 1
        cpu = (time.process_time() - cpu_before) * 1000 / count
        db_cpu = ((tree_cpu_seconds(self.postmaster) - db_before) * 1000 / count) if self.postmaster else 0.0
        return Result(size, variant, walls, cpu, db_cpu, rows)

    def repeat(self, query: dict[str, Any], runs: int, headers: dict[str, str] | None = None,
               path: str = "/api/tasks") -> Callable[[], list[dict[str, Any]]]:
        def calls() -> Any:
            for _ in range(runs):
                yield self.get(query, headers, path)
        return calls

    def register_pages(self, runs: int) -> Callable[[], list[dict[str, Any]]]:
        """The register (Perkara) for the Inspektorat user as its web page reads it, through the commands
        the page calls (the page itself needs a browser session): its SOP filter's options and its first
        page, newest first."""
        actor = self.actor(USERNAME)

        def calls() -> Any:
            for _ in range(runs):
                register.sops(self.services, actor)
                yield {"items": register.page(self.services, actor, register.RegisterQuery()).rows}
        return calls

    def deep(self, query: dict[str, Any], pages: int) -> Callable[[], list[dict[str, Any]]]:
        """Follow next_cursor ``pages`` pages deep; each page is one timed request."""
        def calls() -> Any:
            cursor = None
            for _ in range(pages):
                body = self.get({**query, **({"cursor": cursor} if cursor else {})})
                yield body
                cursor = body["next_cursor"]
                if cursor is None:
                    return
        return calls

    def explain(self, query: task_list.TaskQuery, cursor_pages: int = 0, needs: tuple[str, ...] = (),
                actor: Actor | None = None) -> tuple[bool, str]:
        """The plan of the page statement of ``actor`` (the Inspektorat user unless given; after
        ``cursor_pages`` pages when given) and whether it is indexed (and uses the indexes in ``needs``):
        on the candidates' indexes for a staff member, on the open tasks' for an administrator or "mine"."""
        actor = actor or self.actor(USERNAME)
        after = None
        for _ in range(cursor_pages):
            page = task_list.page_tasks(self.services, actor, query)
            query.cursor = page.next_cursor
        if query.cursor:
            after = task_list._decode(query.cursor, query.sort)
        statement, values = task_list._page_statement(actor, query, None, after)
        sql = str(statement.params(values).compile(self.services.db.engine, compile_kwargs={"literal_binds": True}))
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if self.backend == "postgresql" else "EXPLAIN QUERY PLAN "
        with self.services.db.engine.connect() as connection:
            lines = [str(row[0] if self.backend == "postgresql" else row[-1])
                     for row in connection.execute(text(prefix + sql))]
        plan = "\n".join(lines)
        indexes: tuple[str, ...]
        bad: dict[str, tuple[str, ...]]
        if query.mine or actor.is_admin:
            indexes, bad = OPEN_TASK_INDEXES, (BAD_MINE if query.mine else BAD_ADMIN)
        else:
            indexes, bad = INDEXES, BAD
        ok = (any(name in plan for name in indexes) and all(name in plan for name in needs)
              and not any(found in plan + "\n" for found in bad[self.backend]))
        return ok, plan

    def give_reporter_cases(self, total: int) -> int:
        """Make the reporter the one who filed ``total`` of the seeded cases whose open task is in the Pelapor
        lane of their unit (the seed files none: ``started_by`` is empty), as filing them would have: the
        case's ``started_by`` and its Pelapor row's ``reporter_id``; how many they have filed now."""
        with self.services.db.transaction() as session:
            reporter = session.scalar(select(User.id).where(User.username == REPORTER))
            unit = session.scalar(select(Unit.id).where(Unit.code == UNIT))
            filed = select(func.count()).select_from(Case).where(Case.started_by == reporter)
            chosen = list(session.execute(
                select(Task.id, Task.case_id).join(Case, Case.id == Task.case_id)
                .where(Task.lane == REPORTER_ROLE, Task.unit_id == unit, Case.started_by.is_(None))
                .order_by(Task.created_at.desc()).limit(max(0, total - int(session.scalar(filed) or 0)))))
            session.execute(update(Case).where(Case.id.in_([case_id for _, case_id in chosen]))
                            .values(started_by=reporter).execution_options(synchronize_session=False))
            session.execute(update(TaskCandidate).where(TaskCandidate.task_id.in_([task_id for task_id, _ in chosen]),
                                                        TaskCandidate.role == REPORTER_ROLE)
                            .values(reporter_id=reporter).execution_options(synchronize_session=False))
            return int(session.scalar(filed) or 0)

    def settle(self) -> None:
        """On PostgreSQL, what autovacuum does to the new rows a minute later (visibility map, statistics),
        done now so that neither its CPU nor a half-vacuumed table lands in the measurements."""
        if self.backend != "postgresql":
            return
        with self.services.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM (ANALYZE) cases, tasks, task_candidates, case_access"))

    def close(self) -> None:
        self.services.db.dispose()


def measure(bench: Bench, size: int, runs: int, deep: int) -> list[Result]:
    first = bench.get({})
    print(f"  total {first['total']}{'+' if first['total_capped'] else ''} visible to {USERNAME}")
    return [
        bench.timed(size, "first page (due_at)", bench.repeat({}, runs)),
        bench.timed(size, "first page (-created_at)", bench.repeat({"sort": "-created_at"}, runs)),
        bench.timed(size, "filtered (SOP + overdue)", bench.repeat({"definition_key": KEY, "overdue": "true"}, runs)),
        bench.timed(size, f"keyset pages 1..{deep} (due_at)", bench.deep({}, deep)),
        bench.timed(size, "reporter, first page (due_at)", bench.repeat({}, runs, bench.reporter_headers)),
        bench.timed(size, "reporter's cases (/api/cases)",
                    bench.repeat({}, runs, bench.reporter_headers, "/api/cases")),
        bench.timed(size, "staff cases (/api/cases)", bench.repeat({}, runs, path="/api/cases")),
        bench.timed(size, "staff register page (in-process)", bench.register_pages(runs)),
    ]


def report(results: list[Result]) -> None:
    print(f"  {'open cases':>10} {'variant':32} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'CPU ms':>7} {'DB CPU ms':>9} rows")
    for r in results:
        p50, p95, p99 = percentiles(r.wall)
        print(f"  {r.size:>10} {r.variant:32} {len(r.wall):>4} {p50:8.2f} {p95:8.2f} {p99:8.2f} "
              f"{r.cpu_ms:7.2f} {r.db_cpu_ms:9.2f} {r.rows}")


def targets(results: list[Result]) -> None:
    """p99 of each variant at the largest size: at most 10 ms, and at most 1.5x the smallest size's."""
    sizes = sorted({r.size for r in results})
    small, large = sizes[0], sizes[-1]
    for variant in dict.fromkeys(r.variant for r in results):
        a = next(r for r in results if r.size == small and r.variant == variant)
        b = next(r for r in results if r.size == large and r.variant == variant)
        p99_a, p99_b = percentiles(a.wall)[2], percentiles(b.wall)[2]
        verdict = "OK" if p99_b <= 10 and p99_b <= 1.5 * p99_a else "NOT OK"
        print(f"  target {variant:32}: p99 {p99_b:.2f} ms at {large} vs {p99_a:.2f} ms at {small} "
              f"(<= 10 ms and <= {1.5 * p99_a:.2f} ms): {verdict}")


def run(backend: str, url: str, workdir: Path, sizes: list[int], runs: int, deep: int) -> None:
    prepare_database(url, BPMN, ROOT / "forms", workdir / "data")
    bench = Bench(backend, url, workdir)
    results: list[Result] = []
    seeded = 0
    try:
        for size in sizes:
            began = time.perf_counter()
            seed(bench.services, size - seeded, units=10)
            seeding = time.perf_counter() - began
            own = bench.give_reporter_cases(REPORTER_CASES)
            bench.settle()
            print(f"\n{backend}: {size} open cases (seeded +{size - seeded} in {seeding:.1f} s, then "
                  f"{'VACUUM (ANALYZE)' if backend == 'postgresql' else 'ANALYZE'}), load {loadavg()}")
            seeded = size
            print(f"  the reporter ({REPORTER}) started {own} of them")
            results += measure(bench, size, runs, deep)
            report([r for r in results if r.size == size])
            for label, query, pages, needs, actor in (
                    ("first page, due_at", task_list.TaskQuery(), 0, (), None),
                    ("first page, -created_at", task_list.TaskQuery(sort="-created_at"), 0,
                     ("ix_task_candidates_created",), None),
                    (f"keyset page {deep + 1}, due_at", task_list.TaskQuery(), deep, (), None),
                    ("SOP + overdue", task_list.TaskQuery(definition_key=KEY, overdue=True), 0, (FILTER_INDEX,),
                     None),
                    ("administrator, first page, due_at", task_list.TaskQuery(), 0, ("ix_tasks_ready_due",), SYSTEM),
                    ("administrator, first page, -created_at", task_list.TaskQuery(sort="-created_at"), 0,
                     ("ix_tasks_ready_created",), SYSTEM),
                    ("administrator, unit filter", task_list.TaskQuery(unit="inspektorat-katingan"), 0,
                     ("ix_tasks_ready_unit_due",), SYSTEM),
                    ("mine (nothing claimed)", task_list.TaskQuery(mine=True), 0, ("ix_tasks_ready_claimed",), None),
                    ("reporter, first page, due_at", task_list.TaskQuery(), 0,
                     ("ix_task_candidates_reporter_due",), bench.actor(REPORTER))):
                ok, plan = bench.explain(query, pages, needs, actor)
                print(f"  plan of the page query ({label}): {'OK' if ok else 'NOT OK'}")
                print("    " + plan.replace("\n", "\n    "))
        print(f"\n{backend} summary (load {loadavg()}):")
        report(results)
        targets(results)
    finally:
        bench.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--backends", default="postgres,sqlite")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--deep", type=int, default=50)
    options = parser.parse_args(argv)
    sizes = sorted(int(size) for size in options.sizes.split(","))
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                             capture_output=True, text=True).stdout.strip()
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"commit {head.stdout.strip()}{' plus changes not committed' if changed else ''}; {stamp}; load {loadavg()}")
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="alur-scale-")))
        for backend in options.backends.split(","):
            if backend == "sqlite":
                run("sqlite", f"sqlite:///{workdir / 'alur.db'}", workdir, sizes, options.runs, options.deep)
            elif backend == "postgres":
                from support.postgres import create_database, running_postgres

                server = stack.enter_context(running_postgres(workdir / "pg"))
                run("postgresql", create_database(server, "alur_scale"), workdir, sizes, options.runs, options.deep)
            else:
                raise SystemExit(f"unknown backend {backend!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
