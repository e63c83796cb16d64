"""Kept statements are built and first compiled one at a time (``service.store.built_once``).

The defect: a freshly started API process whose first requests came in together built the task
statements in several threads at once; SQLAlchemy's lazily filled ORM state raced and the kept
statement stayed broken, so every completion of that process answered 500 (a CI run of
``test_faults``; reproduced by hand in 13 of 30 fresh processes).
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from service.store.built_once import BUILDING, built_once
from service.store.driver import DriverStatement
from service.store.models import Unit

ROOT = Path(__file__).resolve().parents[2]


def test_builds_never_overlap_and_each_runs_once() -> None:
    running, most, builds = [0], [0], []
    lock = threading.Lock()

    def slow(kind: str, argument: int) -> str:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
            builds.append((kind, argument))
        time.sleep(0.02)  # a window for another build to overlap this one, were builds not serialized
        with lock:
            running[0] -= 1
        return f"{kind}{argument}"

    @built_once()
    def first(argument: int) -> str:
        return slow("first", argument)

    @built_once(maxsize=8)
    def second(argument: int) -> str:
        return slow("second", argument)

    start = threading.Barrier(8)
    answers: list[str] = []

    def call(n: int) -> None:
        start.wait()
        answers.append((first if n % 2 else second)(n % 4))

    threads = [threading.Thread(target=call, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 1
    assert sorted(builds) == [("first", 1), ("first", 3), ("second", 0), ("second", 2)]
    assert sorted(answers) == ["first1", "first1", "first3", "first3", "second0", "second0", "second2", "second2"]


def test_a_compile_waits_for_a_build_in_progress() -> None:
    statement = select(Unit.id).where(Unit.code == "x")
    compiled: list[DriverStatement] = []
    compiling = threading.Thread(target=lambda: compiled.append(
        DriverStatement.compile(statement, postgresql.psycopg.dialect(), [])))  # type: ignore[attr-defined]
    with BUILDING:
        compiling.start()
        compiling.join(timeout=0.3)
        assert compiling.is_alive() and not compiled
    compiling.join()
    assert compiled and "units" in compiled[0].sql


#: eight threads of a fresh process building and compiling the task statements at once, as a new API
#: process's first requests do; prints the errors
_FIRST_REQUESTS = """
import sys, threading
sys.setswitchinterval(1e-6)
from sqlalchemy.dialects import postgresql
from service.commands import tasks
from service.store.driver import DriverStatement
dialect, start, errors = postgresql.psycopg.dialect(), threading.Barrier(8), []
def first_request(n):
    start.wait()
    try:
        statement = tasks._task_statement(n % 2 == 0) if n % 4 else tasks._read_statement()
        DriverStatement.compile(statement, dialect, [column.type for column in statement.selected_columns])
    except Exception as error:
        errors.append(repr(error))
threads = [threading.Thread(target=first_request, args=(n,)) for n in range(8)]
[thread.start() for thread in threads]
[thread.join() for thread in threads]
print("|".join(errors))
"""


def test_fresh_processes_building_their_statements_at_once_all_succeed() -> None:
    command = [sys.executable, "-W", "error::sqlalchemy.exc.SAWarning", "-c", _FIRST_REQUESTS]
    processes = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for _ in range(6)]
    outcomes = [process.communicate(timeout=120) for process in processes]
    assert all(process.returncode == 0 for process in processes), outcomes
    assert [out.strip() for out, _err in outcomes] == [""] * 6, outcomes
