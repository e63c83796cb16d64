"""Several timer workers on one PostgreSQL: every due timer fires exactly once (issue 3, acceptance 2).

5,000 cases of ``wait_timer.bpmn`` wait on a timer that is already due. Two real ``alur worker``
processes share them through ``FOR UPDATE SKIP LOCKED``; each names itself (``--name``) so its
history rows show that both did work. The second test kills one worker with SIGKILL when a third
of the cases are done: what it held is rolled back by PostgreSQL and taken by the other worker.

Only PostgreSQL: SQLite has a single writer and no row locks, so there is nothing to share.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, insert, select

from service.commands import accounts
from service.commands.cases import StartRequest, start_case
from service.commands.context import Actor, Services
from service.commands.definitions import DeployRequest, deploy
from service.commands.history import HistoryWriter, verify_chain
from service.config import Settings
from service.engine import CaseStatus, utc_now
from service.store.db import Database
from service.store.models import Case, HistoryEntry

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
ENGINE_DATA = ROOT / "tests" / "engine" / "data"
TEST_FORMS = ROOT / "tests" / "data" / "forms"
ALUR = (sys.executable, "-m", "service.cli")  # the interpreter running the tests, whatever its venv
SYSTEM = Actor(user_id=0, username="system:test", is_admin=True, roles_by_unit={})

CASES = 5_000
# Two workers fire ~35-40 cases/s together on the 2-core development machine under load (about 130-150 s
# for 5,000); the bound leaves room for a busy CI runner without letting a hang go unnoticed.
DEADLINE_S = 300.0
POLL_S = 0.2
STALL_S = 15.0  # no progress for this long: the survivor is considered stuck, a sweeper finishes


@pytest.fixture
def database(postgres_db: str, tmp_path: Path) -> Iterator[Services]:
    url = postgres_db
    settings = Settings(database_url=url, secret_key="test-secret-key", data_dir=tmp_path / "data",
                        forms_dir=TEST_FORMS, testing=True)
    services = Services(db=Database(url), settings=settings)
    yield services
    services.db.dispose()


def seed_due_cases(services: Services, count: int) -> None:
    """``count`` running cases of ``wait_timer`` whose one-minute timer fell due an hour ago.

    One case is started through the service with the clock an hour back; the others are copies of
    it (the diagram has no human task, so the state is the whole case), each with its own
    ``case_started`` history row.
    """
    accounts.create_unit(services, "unit-w", "Unit Worker", "Asia/Jakarta")
    deploy(services, SYSTEM, DeployRequest(bpmn=(ENGINE_DATA / "wait_timer.bpmn").read_bytes(), unit="unit-w"))
    with time_machine.travel(utc_now() - timedelta(hours=1), tick=False):
        template = start_case(services, SYSTEM, StartRequest(definition_key="wait_timer"))
    assert template.status == CaseStatus.RUNNING.value
    assert template.next_timer_at is not None and template.next_timer_at < utc_now()
    now = utc_now()
    clones: list[dict[str, Any]] = [
        {"id": str(uuid.uuid4()), "definition_id": template.definition_id, "unit_id": template.unit_id,
         "business_key": f"clone-{number}", "status": CaseStatus.RUNNING.value, "state": template.state,
         "data": template.data, "lock_version": 1, "next_timer_at": template.next_timer_at,
         "created_at": now, "updated_at": now, "timer_failures": 0}
        for number in range(count - 1)
    ]
    with services.db.transaction() as session:
        session.execute(insert(Case), clones)
        with session.no_autoflush:  # the rows go out in one batch at commit, not one by one
            for clone in clones:
                HistoryWriter(session, clone["id"], SYSTEM.username).add(
                    "case_started", {"definition_key": "wait_timer", "version": 1}, at=now)


def count_cases(services: Services, status: str) -> int:
    with services.db.reading() as session:
        return session.scalar(select(func.count()).select_from(Case).where(Case.status == status)) or 0


@dataclass
class Workers:
    """The ``alur worker`` processes of one test; all of them are killed at the end, whatever happens."""

    services: Services
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        return {**os.environ, "ALUR_DATABASE_URL": self.services.db.url, "ALUR_SECRET_KEY": "test-secret-key",
                "ALUR_INSTANCE_DIR": str(self.logs), "ALUR_FORMS_DIR": str(TEST_FORMS),
                "PYTHONUNBUFFERED": "1"}

    def start(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("wb") as log:
            process = subprocess.Popen([*ALUR, "worker", "--name", name, *extra], env=self.env(), cwd=ROOT,
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.processes[name] = process
        return process

    def cpu_seconds(self, name: str) -> float:
        """User + system CPU time of a live worker so far (Linux ``/proc``; NaN elsewhere)."""
        try:
            fields = Path(f"/proc/{self.processes[name].pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log_tails(self) -> str:
        return "\n".join(f"--- {path.name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-15:])
                         for path in sorted(self.logs.glob("*.log")))

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@pytest.fixture
def workers(database: Services, tmp_path: Path) -> Iterator[Workers]:
    logs = tmp_path / "workers"
    logs.mkdir()
    found = Workers(database, logs)
    try:
        yield found
    finally:
        found.stop_all()


def wait_until_done(workers: Workers, survivor: str | None = None, kill_at: int | None = None,
                    victim: str | None = None) -> None:
    """Poll until no case runs; kill ``victim`` once ``kill_at`` cases are done; sweep if stuck."""
    services = workers.services
    deadline = time.monotonic() + DEADLINE_S
    last_done, last_progress = -1, time.monotonic()
    while True:
        done = count_cases(services, CaseStatus.COMPLETED.value)
        running = count_cases(services, CaseStatus.RUNNING.value)
        if running == 0:
            return
        if kill_at is not None and victim is not None and done >= kill_at \
                and workers.processes[victim].poll() is None:
            workers.processes[victim].send_signal(signal.SIGKILL)
            workers.processes[victim].wait(timeout=10)
        if done != last_done:
            last_done, last_progress = done, time.monotonic()
        survivor_gone = survivor is not None and workers.processes[survivor].poll() is not None
        if survivor_gone or time.monotonic() - last_progress > STALL_S:
            # the survivor died or stalled: one more worker sweeps the rest and exits
            sweeper = workers.start(f"sweeper{len(workers.processes)}", "--once")
            sweeper.wait(timeout=max(deadline - time.monotonic(), 1))
            survivor, last_progress = None, time.monotonic()
        assert time.monotonic() < deadline, (
            f"{running} case(s) still running after {DEADLINE_S:.0f}s\n{workers.log_tails()}")
        time.sleep(POLL_S)


def assert_fired_exactly_once(services: Services, count: int) -> dict[str, int]:
    """Every case completed, one ``timer_fired`` and one ``case_completed`` each, chains intact.

    Returns the number of timers fired per worker actor.
    """
    with services.db.reading() as session:
        by_status = {status: n for status, n in session.execute(
            select(Case.status, func.count()).group_by(Case.status))}
        assert by_status == {CaseStatus.COMPLETED.value: count}, by_status
        for action in ("timer_fired", "case_completed", "case_started"):
            per_case = select(HistoryEntry.case_id, func.count().label("n")).where(
                HistoryEntry.action == action).group_by(HistoryEntry.case_id).subquery()
            histogram = {rows: n for rows, n in session.execute(
                select(per_case.c.n, func.count()).group_by(per_case.c.n))}
            assert histogram == {1: count}, f"{action}: cases per number of rows {histogram}"
        incidents = session.scalar(select(func.count()).select_from(HistoryEntry).where(
            HistoryEntry.action.in_(["timer_failed", "incident"])))
        assert incidents == 0
        entries = session.scalars(select(HistoryEntry).order_by(HistoryEntry.case_id, HistoryEntry.id)).all()
        chains: dict[str, list[HistoryEntry]] = {}
        for entry in entries:
            chains.setdefault(entry.case_id, []).append(entry)
        broken = [case_id for case_id, chain in chains.items() if not verify_chain(chain)]
        assert not broken, f"{len(broken)} broken history chain(s), e.g. {broken[:3]}"
        return {str(actor): int(n) for actor, n in session.execute(
            select(HistoryEntry.actor, func.count()).where(HistoryEntry.action == "timer_fired")
            .group_by(HistoryEntry.actor))}


def test_two_workers_fire_every_timer_exactly_once(database: Services, workers: Workers) -> None:
    seeding = time.monotonic()
    seed_due_cases(database, CASES)
    assert count_cases(database, CaseStatus.RUNNING.value) == CASES
    began = time.monotonic()
    workers.start("w1", "--interval", str(POLL_S))
    workers.start("w2", "--interval", str(POLL_S))
    wait_until_done(workers)
    elapsed = time.monotonic() - began
    cpu = workers.cpu_seconds("w1") + workers.cpu_seconds("w2")
    fired_by = assert_fired_exactly_once(database, CASES)
    assert set(fired_by) == {"system:timer:w1", "system:timer:w2"}, fired_by
    assert all(n > 0 for n in fired_by.values()), fired_by
    print(f"\n{CASES} cases seeded in {began - seeding:.1f}s; timers fired by two workers in {elapsed:.1f}s "
          f"({cpu / CASES * 1000:.1f} ms of worker CPU per timer, start-up included): {fired_by}")


def test_a_worker_killed_halfway_loses_nothing(database: Services, workers: Workers) -> None:
    seed_due_cases(database, CASES)
    began = time.monotonic()
    workers.start("w1", "--interval", str(POLL_S))
    workers.start("w2", "--interval", str(POLL_S))
    wait_until_done(workers, survivor="w2", kill_at=CASES // 3, victim="w1")
    elapsed = time.monotonic() - began
    assert workers.processes["w1"].returncode == -signal.SIGKILL, "w1 finished before it could be killed"
    fired_by = assert_fired_exactly_once(database, CASES)
    assert fired_by.get("system:timer:w1", 0) > 0 and fired_by.get("system:timer:w2", 0) > 0, fired_by
    print(f"\n{CASES} timers fired, w1 killed at {CASES // 3} done, in {elapsed:.1f}s: {fired_by}")
