"""Every script in ``benchmarks/`` still starts and finishes on tiny arguments, and prints its figures.

Benchmarks are run by hand, so nothing else notices when a change of the service breaks one
(``throughput.py`` stopped at the SOP's first DMN decision when decisions came in). Each script runs here as a real
subprocess of this interpreter, on SQLite where it offers SQLite, else on its own throw-away PostgreSQL
server, from a temporary working directory (a script must not depend on being started from the
checkout). Each script removes its own temporary directories; they stay in the system's temp dir, which the
PostgreSQL server's user can reach when we are root (``tests/support/postgres.py``), unlike ``tmp_path``.
The figures themselves are not checked, only that they were printed: a benchmark's numbers are for
people, its exit code and output shape are for this test.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from support.helpers import ROOT

BENCHMARKS = ROOT / "benchmarks"
#: a bound against a hung script, not a timing check (each run takes seconds)
TIMEOUT = 300


@dataclass(frozen=True)
class TinyRun:
    """One script with its smallest arguments, and a pattern its standard output matches when it printed
    its figures."""

    script: str
    args: tuple[str, ...]
    figures: str


RUNS = (
    TinyRun("throughput.py",
            ("--backend", "sqlite", "--cases", "2", "--concurrency", "1", "--warmup", "1", "--workers", "1"),
            r"== engine alone: 2 cases \(8 completions\).*errors 0\n(?s:.*)== sqlite: 2 cases completed in [\d.]+ s\n"
            r"\s+cases/s [\d.]+ · task completions/s [\d.]+ · errors 0"),
    TinyRun("complaints.py",
            ("--backend", "sqlite", "--concurrency", "1", "--cases", "2", "--warmup", "1", "--sql-complaints", "1",
             "--engine-complaints", "2"),
            r"\| sqlite \| 1 \| \*\*[\d.]+\*\* \|(?s:.*)Engine alone: 2 complaints, \*\*[\d.]+ CPU-ms per complaint"
            r"(?s:.*)\| sqlite \| \d+ / \d+ \|"),
    TinyRun("case_bytes.py", ("--backend", "sqlite", "--cases", "2", "--engine", "2"),
            r"engine alone: \{.*\"ratio_2_to_1\": [\d.]+(?s:.*)"
            r"sqlite: grown [\d,]+, steady [\d,]+, live [\d,]+ B/case"),
    TinyRun("follow_up_check.py", ("--checks", "1"),
            r"\| follow-up secret parameters \(now\) \| `m=\d+,t=\d+,p=\d+` \| [\d.]+ \|"),
    TinyRun("idle_sweep.py", ("--sizes", "10", "--runs", "200", "--only", "sqlite"),
            r"sqlite\s+10\s+[\d.]+\s+[\d.]+\s+yes(?s:.*)OK: the plan uses ix_cases_next_timer_at"),
    TinyRun("task_list_page.py", ("--tasks", "10", "--runs", "1"),
            r"sqlite\s+default \(due date, page 1\)\s+median\s+[\d.]+ ms\s+p90\s+[\d.]+ ms\s+\(10 rows shown\)"),
    TinyRun("task_list_scale.py", ("--sizes", "100", "--backends", "sqlite", "--runs", "1", "--deep", "1"),
            r"sqlite summary(?s:.*)\s100 first page \(due_at\)\s+1\s+[\d.]+"),
    # PostgreSQL only: this checkout's HEAD in a git worktree against the working tree, on one server
    TinyRun("ab.py", ("--base", "HEAD", "--rounds", "1", "--blast", "2", "--concurrency", "1"),
            r"\| [0-9a-f]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|\n(?s:.*)"
            r"ratio this ÷ base: CPU [\d.]+, rate [\d.]+"),
    # PostgreSQL only: the timers' claim and fire paths are PostgreSQL's (SKIP LOCKED, two worker processes)
    TinyRun("timers.py", ("--idle", "20", "--due", "10", "--small", "10", "--sweeps", "3", "--workers", "1",
                          "--profile", "2"),
            r"Firing 10 due SLA timers(?s:.*)\s[\d.]+ fires/s(?s:.*)exactly once: yes"),
)


def test_every_benchmark_script_has_a_tiny_run() -> None:
    scripts = {path.name for path in BENCHMARKS.glob("*.py") if not path.name.startswith("_")}
    assert scripts == {run.script for run in RUNS}


@pytest.mark.parametrize("run", RUNS, ids=lambda run: run.script.removesuffix(".py"))
def test_benchmark_finishes_on_tiny_arguments(run: TinyRun, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BENCHMARKS / run.script), *run.args], cwd=tmp_path,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    output = f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n{done.stderr[-4000:]}"
    assert done.returncode == 0, output
    assert re.search(run.figures, done.stdout), output
