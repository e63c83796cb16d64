"""Complaint benchmark (issue 13): what one complaint costs the service, against the engine alone.

    .venv/bin/python benchmarks/complaints.py                       # both backends, C = 1, 4, 8, N = 300
    .venv/bin/python benchmarks/complaints.py --backend postgres --concurrency 8 --cases 100 --json

A complaint follows SpiffArena's own benchmark: create a case, then for each of its two user tasks list
the tasks, get the task and submit (complete) it. The model is ``benchmarks/models/complaint.bpmn``:
start (Pelapor), ``Task_aduan`` (Pelapor, form ``complaint-aduan``), ``Task_verifikasi`` (Kasi, form
``complaint-verifikasi``, a non-interrupting SLA timer ``hari_kerja(1)`` escalating to the Kabid), end.

For each backend and each concurrency C the script takes a fresh database (a SQLite WAL file in a temp
dir, or a new database on a private PostgreSQL server from ``tests/support/postgres.py``, fsync off),
runs the migrations, creates the unit and an admin with the ``alur`` CLI, starts the server the way the
Dockerfile and docker-compose.yml do (``python -m service.serve --workers 2``: granian, production
settings, on a free 127.0.0.1 port), creates one user per lane and deploys the model through the REST API
(multipart ``POST /api/definitions`` with the forms as JSON). After a few untimed warm-up complaints, C
client threads with keep-alive connections drive N complaints (the server keeps connections open; one
that answers ``Connection: close`` makes the client reconnect by itself). Around the timed phase it reads:

- latencies per request kind (create, list, get, submit): p50/p95/p99;
- CPU time (utime+stime, plus reaped children) from /proc of the server's main process and its workers, and of
  the PostgreSQL postmaster and all its children (backends, checkpointer, walwriter, autovacuum…);
  divided by the complaints completed in the timed phase;
- the database size: PostgreSQL ``pg_total_relation_size`` summed over the tables, SQLite file + WAL after
  a ``wal_checkpoint(TRUNCATE)``; the growth divided by the completed complaints.

Per backend it also counts SQL statements per request kind in-process: the same app (``create_app()``)
behind Flask's test client, a ``before_cursor_execute`` listener on the app's engine, a few complaints
after a warm one. And once, the engine alone: the model compiled once, then per complaint start, two
completions, with the state dumped and JSON round-tripped between steps as the service stores it; its CPU
time per complaint is the denominator of "service ÷ engine".

Prints a summary, markdown tables ready to paste (targets next to the figures) and, with ``--json``, one
JSON document on stdout instead. Exits 1 when a request failed or a complaint did not complete (missed
targets do not fail the run unless ``--fail-on-targets``); 130 when interrupted. Servers are stopped and
temp dirs removed in every case.
"""

from __future__ import annotations

import argparse
import base64
import gc
import json
import logging
import os
import platform
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from _harness import (
    ROOT,
    Client,
    database_bytes,
    loadavg,
    map_bytes,
    multipart,
    percentiles,
    postmaster_pid,
    serve,
    server_env,
    tree_cpu_seconds,
)
from sqlalchemy import event
from support.helpers import listening

from service import cli
from service.app import create_app, services_of
from service.engine import CaseRun, WorkCalendar, compile_definition, limits

MODELS = ROOT / "benchmarks" / "models"
BPMN = MODELS / "complaint.bpmn"
#: the complaint: start data, then (lane, element id, form data) of the two user tasks, in order
FLOW = json.loads((MODELS / "complaint-flow.json").read_text())
KEY: str = FLOW["key"]
UNIT = "dinas-benchmark"
PASSWORD = "bench-password-123"
ADMIN = "bench-admin"
#: lane → username; the Kabid receives the SLA escalation (never fired here) and supervises the SOP
USERS = {"Pelapor": "pelapor", "Kasi": "kasi", "Kabid": "kabid"}
KINDS = ("create", "list", "get", "submit")
CREATE_DATA: dict[str, Any] = FLOW["create"]
STEPS: list[tuple[str, str, dict[str, Any]]] = [(lane, element, data) for lane, element, data in FLOW["steps"]]
#: worker processes of the server, as the Dockerfile and docker-compose.yml run it (``serve`` adds the port)
SERVER_WORKERS = 2
SERVER_COMMAND = f"python -m service.serve --workers {SERVER_WORKERS}"

#: issue 13's targets
TARGET_CPU_MS = 15.0          # server + DB CPU-ms per complaint, PostgreSQL
TARGET_RATE = 100.0           # complaints/s at 8 clients, PostgreSQL
TARGET_SQL_SUBMIT = 3         # SQL statements per task completion
TARGET_SQL_READ = 2           # SQL statements per task list or task read
TARGET_RATIO = 6.0            # service CPU ÷ engine CPU
TARGET_BYTES = 6 * 1024       # database bytes per completed case
#: untimed complaints through the engine alone before its clock starts
ENGINE_WARMUP = 3


class Api(Protocol):
    errors: list[str]

    def call(self, kind: str, method: str, path: str, body: Any = None, token: str | None = None, *,
             raw: bytes | None = None, content_type: str = "application/json") -> Any: ...


class InProcessApi:
    """The app behind Flask's test client, with the SQL statements of each call recorded per kind; like the
    production server's workers, it keeps users' credential rows and the startable revisions while it
    listens for their changes."""

    def __init__(self) -> None:
        self.app = create_app()
        logging.getLogger("alembic").setLevel(logging.WARNING)  # create_app configured INFO for everything
        self.client = self.app.test_client()
        if services_of(self.app).db.is_postgres:  # as service.serve's workers do
            listening(self.app)
        self.errors: list[str] = []
        self.statements: dict[str, list[list[str]]] = {}
        self._current: list[str] | None = None
        event.listen(services_of(self.app).db.engine, "before_cursor_execute", self._record)

    def _record(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self._current is not None:
            self._current.append(" ".join(statement.split()))

    def call(self, kind: str, method: str, path: str, body: Any = None, token: str | None = None, *,
             raw: bytes | None = None, content_type: str = "application/json") -> Any:
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else json.dumps(body).encode() if body is not None else None
        self._current = []
        try:
            response = self.client.open(path, method=method, data=payload, headers=headers)
        finally:
            self.statements.setdefault(kind, []).append(self._current)
            self._current = None
        if not 200 <= response.status_code < 300:
            self.errors.append(f"{kind} {method} {path}: HTTP {response.status_code} {response.data[:300]!r}")
            return None
        return response.get_json(silent=True) or {}

    def close(self) -> None:
        services_of(self.app).db.dispose()


# --- setting a database up ---------------------------------------------------------------------------------
def bench_environment(workdir: Path) -> dict[str, str]:
    """What the service reads besides the database URL: compose's production settings, private dirs."""
    return {
        "ALUR_ENV": "production",
        "ALUR_SECRET_KEY": "benchmark-secret-key-not-for-production",
        "ALUR_IDENTITY_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "ALUR_RATELIMIT_STORAGE_URI": "database://",
        "ALUR_TRUSTED_PROXIES": "0",
        "ALUR_FORMS_DIR": str(MODELS),
        "ALUR_DATA_DIR": str(workdir / "data"),
        "ALUR_INSTANCE_DIR": str(workdir / "instance"),
    }


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``os.environ`` with ``values`` for the block: the in-process CLI and app read their settings there."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


#: the ``alur`` commands that set a benchmark database up: migrate it, the unit, the admin
SETUP_COMMANDS = (["db", "upgrade"],
                  ["units", "create", UNIT, "--name", "Dinas Benchmark", "--timezone", "Asia/Jakarta"],
                  ["users", "create", ADMIN, "--password", PASSWORD, "--admin"])


def cli_setup() -> None:
    """:data:`SETUP_COMMANDS`, in this process."""
    for args in SETUP_COMMANDS:
        with redirect_stdout(sys.stderr):  # stdout is the report's (``--json``)
            cli.main.main(args=args, prog_name="alur", standalone_mode=False)
    gc.collect()  # the CLI's database handles: close their connections now


def token(api: Api, username: str) -> str:
    answer = api.call("token", "POST", "/api/auth/token", {"username": username, "password": PASSWORD})
    if answer is None:
        raise RuntimeError(f"no token for {username}: {api.errors[-1:]}")
    return str(answer["token"])


def api_setup(api: Api) -> dict[str, str]:
    """The lane users (``POST /api/users``) and the model (multipart ``POST /api/definitions``) through the
    API as the admin; returns a token per lane."""
    admin = token(api, ADMIN)
    for lane, username in USERS.items():
        if api.call("user", "POST", "/api/users", {"username": username, "password": PASSWORD,
                                                    "roles": [f"{lane}@{UNIT}"]}, admin) is None:
            raise RuntimeError(f"creating {username} failed: {api.errors[-1:]}")
    forms = {key: {"schema": json.loads((MODELS / f"{key}.schema.json").read_text()),
                   "ui": json.loads((MODELS / f"{key}.ui.json").read_text())}
             for key in ("complaint-aduan", "complaint-verifikasi")}
    body, content_type = multipart(
        {"unit": UNIT, "sop_number": "000/BENCH/2026", "effective_on": "2026-01-01", "approved_by": "Kepala Dinas"},
        {"bpmn": ("complaint.bpmn", BPMN.read_bytes(), "application/xml"),
         "forms": ("forms.json", json.dumps(forms).encode(), "application/json")})
    deployed = api.call("deploy", "POST", "/api/definitions", token=admin, raw=body, content_type=content_type)
    if deployed is None or deployed.get("key") != KEY:
        raise RuntimeError(f"deploying {BPMN.name} failed: {deployed!r} {api.errors[-1:]}")
    return {lane: token(api, username) for lane, username in USERS.items()}


# --- one complaint -----------------------------------------------------------------------------------------
def run_complaint(api: Api, tokens: dict[str, str]) -> tuple[bool, int]:
    """Create, then per user task list → get → submit; returns (case completed, submits done)."""
    case = api.call("create", "POST", "/api/cases", {"definition_key": KEY, "data": CREATE_DATA}, tokens["Pelapor"])
    if case is None:
        return False, 0
    done, result = 0, case
    for lane, element, data in STEPS:
        listed = api.call("list", "GET", "/api/tasks", token=tokens[lane])
        if listed is None:
            return False, done
        task = next((t for t in listed["items"] if t["case_id"] == case["id"] and t["element_id"] == element), None)
        if task is None:
            api.errors.append(f"list: {element} of case {case['id']} is not in {lane}'s task list")
            return False, done
        detail = api.call("get", "GET", f"/api/tasks/{task['id']}", token=tokens[lane])
        if detail is None:
            return False, done
        result = api.call("submit", "POST", f"/api/tasks/{task['id']}/complete", {"data": data}, tokens[lane])
        if result is None:
            return False, done
        done += 1
    if result.get("status") != "completed":
        api.errors.append(f"case {case['id']} ended {result.get('status')!r}, not completed")
        return False, done
    return True, done


# --- the HTTP run ------------------------------------------------------------------------------------------
@dataclass
class RunResult:
    backend: str
    concurrency: int
    cases: int = 0                   # complaints completed in the timed phase
    submits: int = 0
    seconds: float = 0.0
    server_cpu_s: float = 0.0
    db_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    db_bytes_before: int = 0
    db_bytes_after: int = 0
    #: of those, in PostgreSQL's free space and visibility maps (:func:`_harness.map_bytes`)
    db_maps_before: int = 0
    db_maps_after: int = 0
    loadavg_before: str = ""
    loadavg_after: str = ""
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    requested: int = 0

    @property
    def valid(self) -> bool:
        """Every requested complaint completed, no request failed: the figures mean something."""
        return not self.errors and self.cases == self.requested

    def per_case(self, value: float) -> float:
        return value / self.cases if self.cases else 0.0

    def latency_ms(self, kind: str) -> dict[str, float]:
        values = self.latencies.get(kind, [])
        p50, p95, p99 = (round(value * 1000, 1) for value in percentiles(values))
        return {"count": len(values), "p50": p50, "p95": p95, "p99": p99}

    def summary(self, engine_cpu_ms: float) -> dict[str, Any]:
        service_ms = self.per_case(self.server_cpu_s + self.db_cpu_s) * 1000
        return {
            "backend": self.backend, "concurrency": self.concurrency, "complaints": self.cases,
            "seconds": round(self.seconds, 3),
            "complaints_per_s": round(self.cases / self.seconds, 2) if self.seconds else 0.0,
            "submits_per_s": round(self.submits / self.seconds, 2) if self.seconds else 0.0,
            "latency_ms": {kind: self.latency_ms(kind) for kind in KINDS},
            "server_cpu_ms_per_complaint": round(self.per_case(self.server_cpu_s) * 1000, 2),
            "db_cpu_ms_per_complaint": round(self.per_case(self.db_cpu_s) * 1000, 2),
            "service_cpu_ms_per_complaint": round(service_ms, 2),
            "client_cpu_ms_per_complaint": round(self.per_case(self.client_cpu_s) * 1000, 2),
            "service_over_engine": round(service_ms / engine_cpu_ms, 2) if engine_cpu_ms else None,
            "db_bytes_per_complaint": round(self.per_case(self.db_bytes_after - self.db_bytes_before)),
            "db_map_bytes_per_complaint": round(self.per_case(self.db_maps_after - self.db_maps_before)),
            "loadavg_before": self.loadavg_before, "loadavg_after": self.loadavg_after,
            "errors": len(self.errors), "first_errors": self.errors[:10], "valid": self.valid,
        }


def drive(result: RunResult, port: int, tokens: dict[str, str], cases: int, max_seconds: float,
          stop: threading.Event, server_pid: int, db_pid: int | None) -> None:
    """C keep-alive clients, each completing one complaint at a time until N were started."""
    lock = threading.Lock()
    issued = [0]
    marks: dict[str, float] = {}

    def read_cpu() -> tuple[float, float, float]:
        return (tree_cpu_seconds(server_pid), tree_cpu_seconds(db_pid) if db_pid else 0.0, time.process_time())

    def start_clock() -> None:  # run by the last client to reach the barrier, before any of them goes on
        marks["server"], marks["db"], marks["client"] = read_cpu()
        marks["start"] = time.monotonic()

    barrier = threading.Barrier(result.concurrency, action=start_clock)

    def next_case() -> bool:
        with lock:
            if stop.is_set() or issued[0] >= cases or time.monotonic() - marks["start"] > max_seconds:
                return False
            issued[0] += 1
            return True

    def worker() -> None:
        client = Client(port)
        try:
            barrier.wait()
            while next_case():
                completed, done = run_complaint(client, tokens)
                with lock:
                    result.cases += completed
                    result.submits += done
        except threading.BrokenBarrierError:
            pass
        finally:
            client.close()
            with lock:
                for kind, values in client.latencies.items():
                    result.latencies.setdefault(kind, []).extend(values)
                result.errors.extend(client.errors)

    threads = [threading.Thread(target=worker, daemon=True, name=f"client-{i}") for i in range(result.concurrency)]
    for thread in threads:
        thread.start()
    try:
        for thread in threads:
            while thread.is_alive():
                thread.join(timeout=0.5)
    except BaseException:
        stop.set()
        barrier.abort()
        raise
    ended = time.monotonic()
    server, db, client = read_cpu()
    if "start" not in marks:
        result.errors.append("the clients never started")
        return
    result.seconds = ended - marks["start"]
    result.server_cpu_s = server - marks["server"]
    result.db_cpu_s = db - marks["db"]
    result.client_cpu_s = client - marks["client"]


def http_run(backend: str, concurrency: int, args: argparse.Namespace, pg_server: str | None,
             stop: threading.Event) -> RunResult:
    """One (backend, C) run on a fresh database and a fresh server."""
    result = RunResult(backend, concurrency, requested=args.cases)
    with ExitStack() as run_stack:
        workdir = Path(run_stack.enter_context(tempfile.TemporaryDirectory(prefix=f"alur-complaints-{backend}-")))
        if pg_server is None:
            url = f"sqlite:///{workdir / 'alur.db'}"
        else:
            from support.postgres import create_database

            url = create_database(pg_server, f"complaints_c{concurrency}")
        env = bench_environment(workdir)
        t0 = time.monotonic()
        with environment({**env, "ALUR_DATABASE_URL": url}):
            cli_setup()
        server = run_stack.enter_context(serve({**server_env(url, MODELS, workdir), **env}, workdir, SERVER_WORKERS))
        setup = Client(server.port, keep_alive=False)
        tokens = api_setup(setup)
        for _ in range(args.warmup):  # a new connection per request: every worker compiles and warms alone
            if not run_complaint(setup, tokens)[0]:
                break
        result.errors.extend(f"warm-up: {error}" for error in setup.errors)
        if result.errors:  # a complaint cannot go through: timing the failure would measure nothing
            log(f"[{backend} C={concurrency}] warm-up failed, no timed phase:\n"
                + "\n".join(server.log.read_text(errors="replace").splitlines()[-40:]))
            return result
        db_pid = postmaster_pid(url) if pg_server else None
        result.db_bytes_before, result.db_maps_before = database_bytes(url), map_bytes(url)
        result.loadavg_before = loadavg()
        log(f"[{backend} C={concurrency}] ready in {time.monotonic() - t0:.1f} s ("
            f"{SERVER_COMMAND} on 127.0.0.1:{server.port}, pid {server.pid}); {args.cases} complaints,"
            f" load {result.loadavg_before}")
        drive(result, server.port, tokens, args.cases, args.max_seconds, stop, server.pid, db_pid)
        result.loadavg_after = loadavg()
        result.db_bytes_after, result.db_maps_after = database_bytes(url), map_bytes(url)
        if result.errors:  # the server's side of the story, before its temp dir goes
            tail = server.log.read_text(errors="replace").splitlines()[-40:]
            log(f"[{backend} C={concurrency}] server log (tail):\n" + "\n".join(tail))
    log(f"[{backend} C={concurrency}] {result.cases} complaints in {result.seconds:.1f} s, errors {len(result.errors)}")
    return result


# --- SQL statements per request, in-process ----------------------------------------------------------------
@dataclass
class SqlCounts:
    backend: str
    complaints: int
    per_kind: dict[str, list[int]]
    sample: dict[str, list[str]]          # the statements of the last counted complaint, per request
    errors: list[str]

    def summary(self) -> dict[str, Any]:
        return {"backend": self.backend, "complaints": self.complaints,
                "per_kind": {kind: {"mean": round(sum(v) / len(v), 2) if v else 0.0, "max": max(v, default=0),
                                    "min": min(v, default=0)} for kind, v in self.per_kind.items()},
                "errors": self.errors[:10], "valid": not self.errors}


def count_statements(backend: str, url: str, workdir: Path, complaints: int) -> SqlCounts:
    env = {**bench_environment(workdir), "ALUR_DATABASE_URL": url}
    with environment(env):
        cli_setup()
        api = InProcessApi()
        try:
            tokens = api_setup(api)
            run_complaint(api, tokens)  # warm: signed-in users, compiled spec, revision, calendar
            api.statements.clear()
            for _ in range(complaints):
                run_complaint(api, tokens)
        finally:
            api.close()
    per_kind = {kind: [len(s) for s in api.statements.get(kind, [])] for kind in KINDS}
    sample: dict[str, list[str]] = {}
    for kind in KINDS:  # the last complaint's requests of each kind: one create, one of the others per step
        share = 1 if kind == "create" else len(STEPS)
        for n, statements in enumerate(api.statements.get(kind, [])[-share:], 1):
            sample[f"{kind} {n}" if share > 1 else kind] = statements
    return SqlCounts(backend, complaints, per_kind, sample, list(api.errors))


# --- the engine alone --------------------------------------------------------------------------------------
@dataclass
class EngineResult:
    complaints: int
    cpu_s: float
    wall_s: float
    state_bytes: int
    errors: int

    def summary(self) -> dict[str, Any]:
        return {"complaints": self.complaints, "cpu_ms_per_complaint": round(self.cpu_ms, 3),
                "complaints_per_cpu_s": round(self.complaints / self.cpu_s, 1) if self.cpu_s else 0.0,
                "wall_s": round(self.wall_s, 3), "final_state_bytes": self.state_bytes, "errors": self.errors}

    @property
    def cpu_ms(self) -> float:
        return self.cpu_s / self.complaints * 1000 if self.complaints else 0.0


def engine_alone(complaints: int) -> EngineResult:
    """Compile once; per complaint what the service asks of the engine: start, project the ready tasks,
    dump the state (JSON round trip, as the database column stores it), restore, complete, project, dump."""
    forms = {"complaint-aduan", "complaint-verifikasi"}
    compiled = compile_definition(BPMN.read_bytes(), forms.__contains__, limits=limits.current())
    calendar = WorkCalendar(timezone="Asia/Jakarta")

    def store(run: CaseRun) -> dict[str, Any]:
        run.ready_tasks()
        run.take_notifications()
        run.next_timer_at()
        state: dict[str, Any] = json.loads(json.dumps(run.dump()))
        return state

    errors = size = 0
    wall, cpu = time.monotonic(), time.process_time()
    for number in range(-ENGINE_WARMUP, complaints):
        if number == 0:  # the first complaints pay for lazy imports and first-use caches: not timed
            wall, cpu = time.monotonic(), time.process_time()
        state = store(CaseRun.start(compiled, dict(CREATE_DATA), calendar))
        for lane, element, data in STEPS:
            run = CaseRun.restore(compiled, state, calendar)
            task = next((t for t in run.ready_tasks() if t.element_id == element), None)
            if task is None or lane not in task.roles:
                errors += 1
                break
            run.complete(task.id, data)
            state = store(run)
        else:
            errors += not run.completed
        size = len(json.dumps(state))
    return EngineResult(complaints, time.process_time() - cpu, time.monotonic() - wall, size, errors)


# --- output ------------------------------------------------------------------------------------------------
def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def machine() -> dict[str, str]:
    def run(*command: str) -> str:
        try:
            return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()
        except OSError:
            return ""

    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "?")
    return {"cpus": str(os.cpu_count()), "cpu_model": model, "python": platform.python_version(),
            "platform": platform.platform(), "commit": run("git", "rev-parse", "--short", "HEAD"),
            "work_tree_dirty": str(bool(run("git", "status", "--porcelain"))),
            "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def verdict(ok: bool | None) -> str:
    return "–" if ok is None else ("yes" if ok else "**no**")


def targets(runs: list[dict[str, Any]], sql: list[dict[str, Any]], engine: dict[str, Any]) -> list[dict[str, Any]]:
    failed = [f"{r['backend']} C={r['concurrency']}" for r in runs if not r["valid"]]
    failed += [f"SQL count {s['backend']}" for s in sql if not s["valid"]]
    runs = [r for r in runs if r["valid"]]  # a failed run's figures judge nothing
    sql = [s for s in sql if s["valid"]]
    pg = [r for r in runs if r["backend"] == "postgres"]
    rows: list[dict[str, Any]] = []
    if failed:
        rows.append({"target": "every run completed without errors", "figure": "failed: " + ", ".join(failed),
                     "met": False})

    def add(name: str, figure: str, ok: bool | None) -> None:
        rows.append({"target": name, "figure": figure, "met": ok})

    cpu = {r["concurrency"]: r["service_cpu_ms_per_complaint"] for r in pg}
    add(f"<= {TARGET_CPU_MS:g} CPU-ms per complaint, server + DB, PostgreSQL",
        ", ".join(f"C={c}: {v:.1f}" for c, v in cpu.items()) or "not run",
        all(v <= TARGET_CPU_MS for v in cpu.values()) if cpu else None)
    at8 = [r for r in pg if r["concurrency"] == 8]
    add(f">= {TARGET_RATE:g} complaints/s at 8 clients, PostgreSQL",
        f"{at8[0]['complaints_per_s']:.1f}" if at8 else "not run",
        at8[0]["complaints_per_s"] >= TARGET_RATE if at8 else None)
    submit = {s["backend"]: s["per_kind"]["submit"]["max"] for s in sql}
    add(f"<= {TARGET_SQL_SUBMIT} SQL statements per task completion",
        ", ".join(f"{b}: {v}" for b, v in submit.items()) or "not run",
        all(v <= TARGET_SQL_SUBMIT for v in submit.values()) if submit else None)
    reads = {s["backend"]: (s["per_kind"]["list"]["max"], s["per_kind"]["get"]["max"]) for s in sql}
    add(f"<= {TARGET_SQL_READ} SQL statements per task list or task read",
        ", ".join(f"{b}: list {v[0]}, get {v[1]}" for b, v in reads.items()) or "not run",
        all(max(v) <= TARGET_SQL_READ for v in reads.values()) if reads else None)
    ratio = {r["concurrency"]: r["service_over_engine"] for r in pg if r["service_over_engine"] is not None}
    add(f"service ÷ engine CPU <= {TARGET_RATIO:g}x (PostgreSQL, server + DB)",
        ", ".join(f"C={c}: {v:.1f}x" for c, v in ratio.items()) + f" (engine {engine['cpu_ms_per_complaint']:.2f} ms)"
        if ratio else "not run", all(v <= TARGET_RATIO for v in ratio.values()) if ratio else None)
    size = {(r["backend"], r["concurrency"]): r["db_bytes_per_complaint"] for r in runs}
    add(f"<= {TARGET_BYTES // 1024} KB per completed case",
        ", ".join(f"{b} C={c}: {v / 1024:.1f} KB" for (b, c), v in size.items()) or "not run",
        all(v <= TARGET_BYTES for v in size.values()) if size else None)
    return rows


def markdown(report: dict[str, Any]) -> str:
    lines = ["| backend | C | complaints/s | submits/s | create p50/p95/p99 ms | list p50/p95/p99 ms | "
             "get p50/p95/p99 ms | submit p50/p95/p99 ms | server CPU-ms/complaint | DB CPU-ms/complaint | "
             "server+DB | ÷ engine | DB bytes/complaint | errors |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in report["runs"]:
        lat = " | ".join("{p50:.0f} / {p95:.0f} / {p99:.0f}".format(**r["latency_ms"][kind]) for kind in KINDS)
        ratio = f"{r['service_over_engine']:.1f}×" if r["service_over_engine"] is not None else "–"
        lines.append(f"| {r['backend']} | {r['concurrency']} | **{r['complaints_per_s']:.1f}**"
                     f" | {r['submits_per_s']:.1f} | {lat} | {r['server_cpu_ms_per_complaint']:.1f}"
                     f" | {r['db_cpu_ms_per_complaint']:.1f}"
                     f" | **{r['service_cpu_ms_per_complaint']:.1f}** | {ratio}"
                     f" | {r['db_bytes_per_complaint']:,} ({r['db_map_bytes_per_complaint']:,} maps)"
                     f" | {r['errors']} |")
    engine = report["engine"]
    lines += ["", f"Engine alone: {engine['complaints']} complaints, **{engine['cpu_ms_per_complaint']:.2f} CPU-ms per "
              f"complaint** ({engine['complaints_per_cpu_s']:.0f} complaints per CPU-second), final state "
              f"{engine['final_state_bytes']:,} bytes of JSON, errors {engine['errors']}.", ""]
    if report["sql"]:
        lines += ["SQL statements per request (in-process, Flask test client, mean / max over "
                  f"{report['sql'][0]['complaints']} complaints after a warm one):", "",
                  "| backend | create | list | get | submit |", "|---|---|---|---|---|"]
        for s in report["sql"]:
            cells = " | ".join(f"{s['per_kind'][k]['mean']:g} / {s['per_kind'][k]['max']}" for k in KINDS)
            lines.append(f"| {s['backend']} | {cells} |")
        lines.append("")
    lines += ["| target (issue 13) | figure | met |", "|---|---|---|"]
    lines += [f"| {t['target']} | {t['figure']} | {verdict(t['met'])} |" for t in report["targets"]]
    return "\n".join(lines)


def human(report: dict[str, Any], counts: list[SqlCounts], show_sql: bool) -> None:
    for r in report["runs"]:
        print(f"\n== {r['backend']}, C={r['concurrency']}: {r['complaints']} complaints in {r['seconds']:.1f} s — "
              f"{r['complaints_per_s']:.2f} complaints/s, {r['submits_per_s']:.2f} submits/s, errors {r['errors']}")
        print(f"   load before/after: {r['loadavg_before']} / {r['loadavg_after']}")
        print(f"   {'request':8s} {'count':>6s} {'p50 ms':>8s} {'p95 ms':>8s} {'p99 ms':>8s}")
        for kind in KINDS:
            lat = r["latency_ms"][kind]
            print(f"   {kind:8s} {lat['count']:6d} {lat['p50']:8.1f} {lat['p95']:8.1f} {lat['p99']:8.1f}")
        print(f"   CPU-ms per complaint: server {r['server_cpu_ms_per_complaint']:.2f},"
              f" DB {r['db_cpu_ms_per_complaint']:.2f}, together {r['service_cpu_ms_per_complaint']:.2f}"
              f" (÷ engine {r['service_over_engine']}); "
              f"benchmark clients {r['client_cpu_ms_per_complaint']:.2f}")
        print(f"   DB bytes per complaint: {r['db_bytes_per_complaint']:,}, of which free space and visibility maps"
              f" {r['db_map_bytes_per_complaint']:,}")
        for error in r["first_errors"]:
            print(f"   ! {error}")
    if show_sql:
        for c in counts:
            print(f"\n== SQL of the last counted complaint, {c.backend}")
            for request, statements in c.sample.items():
                print(f"   -- {request}: {len(statements)}")
                for statement in statements:
                    print(f"      {statement[:300]}")
    print("\n" + markdown(report))


# --- main --------------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--cases", type=int, default=300, help="complaints per run (default 300)")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 8],
                        help="client counts, one run each (default 1 4 8)")
    parser.add_argument("--warmup", type=int, default=4, metavar="N", help="untimed complaints before each run")
    parser.add_argument("--sql-complaints", type=int, default=5, metavar="N",
                        help="complaints whose SQL statements are counted in-process (0: skip)")
    parser.add_argument("--engine-complaints", type=int, default=300, metavar="N")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="cap of each timed phase (default 600)")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    parser.add_argument("--json-out", type=Path, metavar="FILE", help="also write the JSON document to FILE")
    parser.add_argument("--show-sql", action="store_true", help="also print the statements of one complaint")
    parser.add_argument("--fail-on-targets", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args(argv)
    if args.cases < 1 or min(args.concurrency) < 1 or args.max_seconds <= 0 or args.warmup < 0:
        parser.error("--cases, --concurrency and --max-seconds must be positive, --warmup not negative")

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stop = threading.Event()
    backends = ("sqlite", "postgres") if args.backend == "both" else (args.backend,)
    started_load = loadavg()
    runs: list[RunResult] = []
    counts: list[SqlCounts] = []
    try:
        log(f"engine alone: {args.engine_complaints} complaints")
        engine = engine_alone(args.engine_complaints)
        log(f"engine alone: {engine.cpu_ms:.2f} CPU-ms per complaint, errors {engine.errors}")
        with ExitStack() as stack:
            for backend in backends:
                pg_server: str | None = None
                if backend == "postgres":
                    from support.postgres import create_database, running_postgres

                    base = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="alur-complaints-pg-")))
                    pg_server = stack.enter_context(running_postgres(base))
                if args.sql_complaints:
                    with tempfile.TemporaryDirectory(prefix=f"alur-complaints-sql-{backend}-") as tmp:
                        url = (create_database(pg_server, "complaints_sql") if pg_server
                               else f"sqlite:///{Path(tmp) / 'alur.db'}")
                        counts.append(count_statements(backend, url, Path(tmp), args.sql_complaints))
                        log(f"[{backend}] SQL statements per request: {counts[-1].summary()['per_kind']}")
                for concurrency in args.concurrency:
                    runs.append(http_run(backend, concurrency, args, pg_server, stop))
    except KeyboardInterrupt:
        stop.set()
        log("interrupted: servers stopped, temp dirs removed")
        return 130
    report: dict[str, Any] = {
        "machine": machine(), "loadavg_start": started_load, "loadavg_end": loadavg(),
        "server": SERVER_COMMAND,
        "cases_per_run": args.cases, "engine": engine.summary(),
        "runs": [r.summary(engine.cpu_ms) for r in runs], "sql": [c.summary() for c in counts],
    }
    report["targets"] = targets(report["runs"], report["sql"], report["engine"])
    document = json.dumps({**report, "sql_sample": {c.backend: c.sample for c in counts}}, indent=2)
    if args.json_out:
        args.json_out.write_text(document + "\n")
    if args.json:
        print(document)
    else:
        human(report, counts, args.show_sql)
    failures = sum(len(r.errors) for r in runs) + sum(len(c.errors) for c in counts) + engine.errors
    failures += sum(r.cases < args.cases for r in runs)
    if failures:
        return 1
    if args.fail_on_targets and any(t["met"] is False for t in report["targets"]):
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
