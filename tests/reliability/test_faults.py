"""Faults under load: the API process and the worker killed with SIGKILL mid-run, and PostgreSQL
stopped under load (issue 12, the suite).

Nothing a client was told is done (a 2xx received) may be lost: afterwards every acknowledged case and
completion is in the database, every case loads and its ready tasks equal the projection, its history
chain holds, and each timer fired exactly once. PostgreSQL only (the production database).

(a) ``alur serve`` and ``alur worker`` run as real processes on a loopback port; client threads start
``review`` cases (then reject them: one completion each) and short-timer cases; at fixed points of
the run the API, the worker, then both are killed with SIGKILL and restarted. (b) An app in process
on a private PostgreSQL server that is stopped (``pg_ctl stop -m immediate``) for a few seconds while
client threads write: they get 503 (never 500), and everything acknowledged is there after the restart.
Short: ``SHORT_CASES`` cases and a ``SHORT_OUTAGE_S`` outage; long (``-m long``): ``LONG_*``.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql
from sqlalchemy import select, text
from support.consistency import check_cases
from support.helpers import ENGINE_DATA, PASSWORD, TEST_FORMS, Persona, deploy_file
from support.postgres import SUPERUSER, _RunAs, _runtime_dir, _Server, connect, find_pg_bindir

from service.app import create_app
from service.commands import accounts
from service.commands.context import Actor, Services
from service.commands.definitions import DeployRequest, deploy
from service.config import Settings
from service.engine import CaseStatus, TaskStatus
from service.errors import ServiceUnavailable
from service.store.db import Database
from service.store.migrate import upgrade
from service.store.models import Case, Definition, Task

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
ALUR = (sys.executable, "-m", "service.cli")
SYSTEM = Actor(user_id=0, username="system:test", is_admin=True, roles_by_unit={})
CLIENTS = 4
SHORT_CASES = 100
LONG_CASES = 2_000
SHORT_OUTAGE_S = 3.0
LONG_OUTAGE_S = 10.0
#: the points of the run (share of the cases acknowledged) where processes are killed
KILLS = ((0.25, ("api",)), (0.5, ("worker",)), (0.75, ("api", "worker")))
TIMER = "PT1S"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class Ledger:
    """What the clients were told was done, and every status they saw."""

    cases: dict[str, str] = field(default_factory=dict)  # case id → definition key
    completions: dict[str, str] = field(default_factory=dict)  # task id → case id
    statuses: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, status: int | str) -> None:
        with self.lock:
            self.statuses[str(status)] += 1


# --- (a) SIGKILL of the API and the worker -------------------------------------------------------------


@dataclass
class Stack:
    """``alur serve`` and ``alur worker`` as processes, restartable after a SIGKILL."""

    env: dict[str, str]
    port: int
    logs: Path
    api: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    kills: Counter[str] = field(default_factory=Counter)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{args[0]}.log").open("ab")
        return subprocess.Popen([*ALUR, *args], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)

    def start_api(self) -> None:
        self.api = self._spawn("serve", "--port", str(self.port))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"alur serve did not start: {(self.logs / 'serve.log').read_text()[-2000:]}")

    def start_worker(self) -> None:
        self.worker = self._spawn("worker", "--interval", "0.2", "--name", f"w{self.kills['worker']}")

    def kill(self, which: str) -> None:
        process = self.api if which == "api" else self.worker
        assert process is not None and process.poll() is None, f"{which} died on its own"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        self.kills[which] += 1
        (self.start_api if which == "api" else self.start_worker)()

    def tracebacks(self) -> str:
        """What the processes logged of their unexpected errors (a 500's cause), for an assertion's message."""
        logged = "\n".join(log.read_text(errors="replace") for log in sorted(self.logs.glob("*.log")))
        starts = [found.start() for found in re.finditer("Traceback", logged)][:3]
        return "\n…\n".join(logged[max(0, start - 300):start + 3_000] for start in starts)

    def stop(self) -> None:
        for process in (self.api, self.worker):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _seed(services: Services) -> None:
    accounts.create_unit(services, "unit-a", "Unit A", "Asia/Jakarta")
    accounts.create_user(services, "petugas", PASSWORD, ["Pelapor@unit-a", "Kasi@unit-a"])
    deploy(services, SYSTEM, DeployRequest(bpmn=(ENGINE_DATA / "review.bpmn").read_bytes(), unit="unit-a"))
    timer = (ENGINE_DATA / "wait_timer.bpmn").read_text(encoding="utf-8").replace("PT1M", TIMER)
    deploy(services, SYSTEM, DeployRequest(bpmn=timer.encode(), unit="unit-a"))


@pytest.fixture
def stack(postgres_db: str, tmp_path: Path) -> Iterator[tuple[Stack, Services]]:
    url = postgres_db
    settings = Settings(database_url=url, secret_key="test-secret-key", data_dir=tmp_path / "data",
                        forms_dir=TEST_FORMS, testing=True)
    services = Services(db=Database(url), settings=settings)
    _seed(services)
    env = {**os.environ, "ALUR_DATABASE_URL": url, "ALUR_SECRET_KEY": "test-secret-key",
           "ALUR_FORMS_DIR": str(TEST_FORMS), "ALUR_DATA_DIR": str(tmp_path / "data"),
           "ALUR_INSTANCE_DIR": str(tmp_path / "instance"), "ALUR_ENV": "development"}
    found = Stack(env=env, port=_free_port(), logs=tmp_path)
    found.start_api()
    found.start_worker()
    yield found, services
    found.stop()
    services.db.dispose()


def _call(base: str, path: str, token: str | None, body: dict[str, Any]) -> tuple[int | str, dict[str, Any]]:
    request = urllib.request.Request(f"{base}{path}", data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, {}
    except (OSError, http.client.HTTPException) as error:  # refused, reset, cut off mid-body: the process is down
        return type(error).__name__, {}


def _client(stack: Stack, token: str, ledger: Ledger, target: int, stop: threading.Event) -> None:
    """Start a review case and reject it, then start a timer case; until ``target`` cases are acknowledged."""
    while not stop.is_set() and len(ledger.cases) < target:
        status, body = _call(stack.base, "/api/cases", token, {"definition_key": "review", "data": {"judul": "x"}})
        ledger.saw(status)
        if status == 201:
            with ledger.lock:
                ledger.cases[body["id"]] = "review"
            task = body["tasks"][0]["id"]
            for _ in range(50):  # the case is there: retry the completion until it is answered
                status, _body = _call(stack.base, f"/api/tasks/{task}/complete", token, {"data": {"hasil": "ditolak"}})
                ledger.saw(status)
                if status == 200:
                    with ledger.lock:
                        ledger.completions[task] = body["id"]
                if isinstance(status, int) and status < 500:
                    break
                time.sleep(0.2)
        status, body = _call(stack.base, "/api/cases", token, {"definition_key": "wait_timer", "data": {}})
        ledger.saw(status)
        if status == 201:
            with ledger.lock:
                ledger.cases[body["id"]] = "wait_timer"
        if not isinstance(status, int) or status >= 500:
            time.sleep(0.2)


def run_kills(stack: Stack, services: Services, cases: int) -> tuple[Ledger, Any, float]:
    """Clients until ``cases`` are acknowledged, the kills of ``KILLS`` on the way; then the timers and a check."""
    status, body = _call(stack.base, "/api/auth/token", None, {"username": "petugas", "password": PASSWORD})
    assert status == 200, status
    ledger, stop = Ledger(), threading.Event()
    started = time.monotonic()
    threads = [threading.Thread(target=_client, args=(stack, body["token"], ledger, cases, stop))
               for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    try:
        for share, victims in KILLS:
            while len(ledger.cases) < share * cases and any(t.is_alive() for t in threads):
                time.sleep(0.05)
            for victim in victims:
                stack.kill(victim)
        for thread in threads:
            thread.join(timeout=1_800)
    finally:
        stop.set()
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    _wait_for_timers(services, deadline_s=120)
    elapsed = time.monotonic() - started
    stack.stop()
    return ledger, check_cases(services), elapsed


def _wait_for_timers(services: Services, deadline_s: float) -> None:
    """Until no timer case is still running (the worker fires each ``TIMER`` after it is due)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        with services.db.transaction() as session:
            waiting = session.scalar(select(Case.id).join(Definition).where(
                Definition.key == "wait_timer", Case.status == CaseStatus.RUNNING.value).limit(1))
        if waiting is None:
            return
        time.sleep(0.5)
    raise AssertionError("timer cases still running: the worker did not come back")


def assert_nothing_acknowledged_lost(services: Services, ledger: Ledger, checked: Any, processes: Stack) -> None:
    assert not checked.problems, checked.problems[:20]
    with services.db.transaction() as session:
        stored = {row.id: row.status for row in session.execute(select(Case.id, Case.status))}
        tasks = {row.id: row.status for row in session.execute(select(Task.id, Task.status))}
        keys = {row.id: row.key for row in session.execute(select(Case.id, Definition.key).join(Definition))}
    missing = set(ledger.cases) - set(stored)
    assert not missing, f"acknowledged cases lost: {sorted(missing)[:10]}"
    lost = [task for task in ledger.completions if tasks.get(task) != TaskStatus.COMPLETED.value]
    assert not lost, f"acknowledged completions lost: {lost[:10]}"
    assert all(stored[case] == CaseStatus.COMPLETED.value for case in ledger.completions.values())
    timer_cases = [case for case, key in keys.items() if key == "wait_timer"]
    assert all(stored[case] == CaseStatus.COMPLETED.value for case in timer_cases)
    fired = Counter(checked.timers_fired_by_case[case] for case in timer_cases)
    assert set(fired) == {1}, f"timer_fired per timer case: {dict(fired)}"
    assert not ledger.statuses["500"], (ledger.statuses, processes.tracebacks())


def test_api_and_worker_killed_mid_run_lose_nothing_acknowledged(stack: tuple[Stack, Services]) -> None:
    processes, services = stack
    ledger, checked, _elapsed = run_kills(processes, services, SHORT_CASES)
    assert len(ledger.cases) >= SHORT_CASES and processes.kills == {"api": 2, "worker": 2}
    assert_nothing_acknowledged_lost(services, ledger, checked, processes)


@pytest.mark.long
def test_api_and_worker_killed_mid_run_lose_nothing_acknowledged_long(stack: tuple[Stack, Services]) -> None:
    processes, services = stack
    ledger, checked, elapsed = run_kills(processes, services, LONG_CASES)
    print(f"\nfaults long (SIGKILL): {len(ledger.cases)} acknowledged cases, {len(ledger.completions)} acknowledged "
          f"completions in {elapsed:.0f} s with {CLIENTS} clients; kills {dict(processes.kills)}; statuses "
          f"{dict(ledger.statuses)}; cases in the database {checked.cases}, history entries "
          f"{checked.history_entries}, timer_fired {checked.actions['timer_fired']}")
    assert_nothing_acknowledged_lost(services, ledger, checked, processes)


# --- (b) PostgreSQL stopped under load ------------------------------------------------------------------


class _StoppableServer(_Server):
    """The test server of ``support.postgres``, restartable on the port it had (the app's URL stays), and
    durable as production is: the suite's server runs with ``synchronous_commit = off``, with which a
    crash (``-m immediate``) drops the last acknowledged commits — the first run of this test lost 3."""

    def initdb(self) -> None:
        super().initdb()
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("synchronous_commit = on\n")

    def restart(self) -> None:
        assert self.port is not None
        subprocess.run(self._cmd("pg_ctl", "-D", str(self.datadir), "-l", str(self.log), "-o", f"-p {self.port}",
                                 "-w", "-t", "60", "start"), cwd=self.runtime, check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.running = True


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[tuple[_StoppableServer, str]]:
    run_as = _RunAs.choose()
    runtime, remove_runtime = _runtime_dir(tmp_path / "pg", run_as)
    server = _StoppableServer(find_pg_bindir(), run_as, runtime)
    try:
        server.initdb()
        port = server.start()
        url = f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/alur"
        with connect(url, "postgres") as conn:
            conn.execute(sql.SQL("CREATE DATABASE alur"))
        with connect(url, "postgres") as conn:
            row = conn.execute("SHOW synchronous_commit").fetchone()
            assert row is not None and row[0] == "on"
        upgrade(url)
        yield server, url
    finally:
        server.stop()
        if remove_runtime:  # a short private folder under /tmp (the socket path limit): not pytest's
            shutil.rmtree(runtime, ignore_errors=True)


def _writer(client: Any, headers: dict[str, str], ledger: Ledger, stop: threading.Event) -> None:
    while not stop.is_set():
        response = client.post("/api/cases", headers=headers, json={"definition_key": "review",
                                                                    "data": {"judul": "saat gangguan"}})
        ledger.saw(response.status_code)
        if response.status_code == 201:
            with ledger.lock:
                ledger.cases[response.json["id"]] = "review"
            task = response.json["tasks"][0]["id"]
            done = client.post(f"/api/tasks/{task}/complete", headers=headers, json={"data": {"hasil": "ditolak"}})
            ledger.saw(done.status_code)
            if done.status_code == 200:
                with ledger.lock:
                    ledger.completions[task] = response.json["id"]
        elif response.status_code == 503:
            assert int(response.headers["Retry-After"]) > 0
            time.sleep(0.05)


def run_outage(server: _StoppableServer, url: str, tmp_path: Path, outage_s: float) -> tuple[Ledger, Any, Any]:
    app = create_app({"database_url": url, "secret_key": "test-secret-key", "forms_dir": TEST_FORMS,
                      "data_dir": tmp_path / "data", "testing": True})
    services = app.extensions["alur.services"]
    accounts.create_unit(services, "unit-a", "Unit A", "Asia/Jakarta")
    accounts.create_user(services, "petugas", PASSWORD, ["Pelapor@unit-a", "Kasi@unit-a"], is_admin=True)
    client = app.test_client()
    signed_in = client.post("/api/auth/token", json={"username": "petugas", "password": PASSWORD})
    assert signed_in.status_code == 200 and signed_in.json is not None, signed_in.status_code
    token = signed_in.json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert deploy_file(client, Persona("petugas", token), ENGINE_DATA / "review.bpmn").status_code == 201
    ledger, stop = Ledger(), threading.Event()
    threads = [threading.Thread(target=_writer, args=(app.test_client(), headers, ledger, stop))
               for _ in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        server.stop()
        time.sleep(outage_s)
        during = Counter(ledger.statuses)
        server.restart()
        time.sleep(2.0)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    checked = check_cases(services)
    services.db.dispose()
    return ledger, checked, during


def assert_outage_survived(ledger: Ledger, checked: Any, url: str) -> None:
    assert ledger.statuses["503"] > 0, ledger.statuses
    assert set(ledger.statuses) <= {"200", "201", "503"}, ledger.statuses  # 409 cannot happen: no races here
    assert not checked.problems, checked.problems[:20]
    db = Database(url)
    try:
        with db.transaction() as session:
            stored = set(session.scalars(select(Case.id)))
            done = set(session.scalars(select(Task.id).where(Task.status == TaskStatus.COMPLETED.value)))
    finally:
        db.dispose()
    assert set(ledger.cases) <= stored, f"acknowledged cases lost: {sorted(set(ledger.cases) - stored)[:10]}"
    assert set(ledger.completions) <= done, "acknowledged completions lost"


def test_postgresql_stopped_under_load_answers_503_and_loses_nothing_acknowledged(
    private_postgres: tuple[_StoppableServer, str], tmp_path: Path
) -> None:
    server, url = private_postgres
    ledger, checked, _during = run_outage(server, url, tmp_path, SHORT_OUTAGE_S)
    assert_outage_survived(ledger, checked, url)


@pytest.mark.long
def test_postgresql_stopped_under_load_long(private_postgres: tuple[_StoppableServer, str], tmp_path: Path) -> None:
    server, url = private_postgres
    ledger, checked, during = run_outage(server, url, tmp_path, LONG_OUTAGE_S)
    print(f"\nfaults long (PostgreSQL stopped {LONG_OUTAGE_S:.0f} s): statuses {dict(ledger.statuses)} "
          f"(until the restart {dict(during)}); acknowledged cases {len(ledger.cases)}, completions "
          f"{len(ledger.completions)}; cases in the database {checked.cases}")
    assert_outage_survived(ledger, checked, url)


def test_a_connection_lost_is_a_503_not_a_500_and_the_pool_renews_it(postgres_db: str) -> None:
    """Found by the outage run: closing a session on a dead connection escaped the 503 translation (a 500).

    Reads now end without a rollback (autocommit), and the pool does not ping a connection before
    lending it: a connection that died while pooled fails the next statement on it, which is a 503,
    and the pool then renews its connections, so the read after that works. A command whose
    connection dies before its commit is a 503 as well, and nothing of it is written."""
    url = postgres_db
    db = Database(url)

    def terminate(pid: int) -> None:
        with connect(url, "postgres") as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    try:
        with db.reading() as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        terminate(pid)  # while the connection waits in the pool
        with pytest.raises(ServiceUnavailable), db.reading() as session:
            session.execute(text("SELECT 1")).scalar_one()
        with db.reading() as session:
            assert session.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
        with pytest.raises(ServiceUnavailable), db.transaction() as session:
            session.execute(text("CREATE TABLE never_committed (id integer)"))
            terminate(session.execute(text("SELECT pg_backend_pid()")).scalar_one())
        with db.reading() as session:
            assert session.execute(text("SELECT to_regclass('never_committed')")).scalar_one() is None
    finally:
        db.dispose()
