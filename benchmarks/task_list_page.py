"""Server time of the staff task list page (``GET /tasks``) with 10,000 open tasks in the database.

The open tasks are bulk-inserted projection rows (``cases`` + ``tasks`` + ``task_candidates``) of
the DUMAS SOP, all in the Inspektorat lane, half of them overdue; the page is rendered through
Flask's test client signed in as the Inspektorat user, so the time is the server's alone (routing,
session, commands, SQL, Jinja). Prints the median and p90 of N renders per variant: the default
page, a text search, the overdue filter, and page 200.

    .venv/bin/python benchmarks/task_list_page.py [--tasks 10000] [--runs 25] [--postgres]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _harness import PASSWORD, ROOT, SECRET, UNIT, prepare_database
from sqlalchemy import insert, select

from service.app import create_app
from service.store.db import Database
from service.store.models import Case, Definition, Task, TaskCandidate, Unit

LANE = "Inspektorat"
USERNAME_OF_LANE = "inspektorat"


def fill(url: str, count: int) -> None:
    db = Database(url)
    now = datetime.now(UTC)
    with db.transaction() as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == UNIT))
        definition = session.scalars(select(Definition)).first()
        assert unit_id is not None and definition is not None
        cases, tasks, candidates = [], [], []
        for n in range(count):
            case_id, task_id = str(uuid.uuid4()), str(uuid.uuid4())
            created = now - timedelta(minutes=n)
            cases.append({"id": case_id, "definition_id": definition.id, "unit_id": unit_id,
                          "business_key": f"DUMAS/{n:05d}/2026", "status": "running", "state": {}, "data": {},
                          "lock_version": 1, "created_at": created, "updated_at": created, "timer_failures": 0})
            tasks.append({"id": task_id, "case_id": case_id, "definition_key": definition.key,
                          "element_id": "Task_verifikasi", "name": "Menerima, mencatat dan memverifikasi laporan",
                          "lane": LANE, "unit_id": unit_id, "form_key": "dumas-verifikasi", "status": "ready",
                          "due_at": now + timedelta(hours=n - count // 2), "created_at": created})
            candidates.append(TaskCandidate.values_for(tasks[-1], LANE))  # with its copy of the task's keys
        for table, rows in ((Case, cases), (Task, tasks), (TaskCandidate, candidates)):
            for start in range(0, len(rows), 2000):
                session.execute(insert(table), rows[start:start + 2000])
    db.dispose()


def measure(url: str, workdir: Path, runs: int) -> dict[str, tuple[float, float, int]]:
    app = create_app({"database_url": url, "secret_key": SECRET, "forms_dir": ROOT / "forms",
                      "data_dir": workdir / "data"})
    client = app.test_client()
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    signed = client.post("/login", data={"username": USERNAME_OF_LANE, "password": PASSWORD,
                                         "csrf_token": token.group(1)})
    assert signed.status_code == 302, signed.status_code
    variants = {"default (due date, page 1)": {}, "search 'DUMAS/0999'": {"q": "DUMAS/0999"},
                "overdue only": {"overdue": "1"}, "page 200, newest first": {"page": "200", "sort": "-created_at"},
                "htmx partial refresh": {"_hx": "1"}}
    results = {}
    for label, args in variants.items():
        headers = {"HX-Request": "true"} if args.pop("_hx", None) else {}
        timings = []
        rows = 0
        for _ in range(runs + 2):
            began = time.perf_counter()
            response = client.get("/tasks", query_string=args, headers=headers)
            timings.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.status_code
            rows = response.text.count("data-task-id=")
        timings = sorted(timings[2:])  # two warm-up renders
        results[label] = (statistics.median(timings), timings[int(len(timings) * 0.9) - 1], rows)
    app.extensions["alur.services"].db.dispose()
    return results


def run(backend: str, url: str, workdir: Path, count: int, runs: int) -> None:
    prepare_database(url, ROOT / "bpmn" / "dumas-inspektorat-katingan.bpmn", ROOT / "forms", workdir / "data")
    began = time.perf_counter()
    fill(url, count)
    print(f"{backend}: {count} open tasks inserted in {time.perf_counter() - began:.1f} s; {runs} renders each")
    for label, (median, p90, rows) in measure(url, workdir, runs).items():
        print(f"  {backend:10s} {label:30s} median {median:7.1f} ms   p90 {p90:7.1f} ms   ({rows} rows shown)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--postgres", action="store_true", help="also measure on a throw-away PostgreSQL server")
    options = parser.parse_args(argv)
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="alur-tasklist-")))
        run("sqlite", f"sqlite:///{workdir / 'alur.db'}", workdir, options.tasks, options.runs)
        if options.postgres:
            sys.path.insert(0, str(ROOT / "tests"))
            from support.postgres import create_database, running_postgres

            server = stack.enter_context(running_postgres(workdir / "pg"))
            run("postgresql", create_database(server, "alur_tasklist"), workdir, options.tasks, options.runs)
    return 0




if __name__ == "__main__":
    raise SystemExit(main())
