"""Two revisions of the service side by side (issue 13): what a change saves per complaint, on a noisy machine.

    .venv/bin/python benchmarks/ab.py --base d96a229                 # this working tree against d96a229
    .venv/bin/python benchmarks/ab.py --base HEAD~1 --rounds 10 --blast 300 --concurrency 8

This machine is shared: its load moves by more than most changes save, so two runs minutes apart do not
compare. Here both revisions run at once, each its own production server (``python -m service.serve
--workers 2``, as ``benchmarks/complaints.py`` starts it) on its own database of one private PostgreSQL
server, and the clients drive them in turn: a blast of N complaints (``complaints.run_complaint``: create,
then list → get → submit per user task) at one server, then at the other, the order swapped each round
(ABBA…). A server waits idle while the other one works; its CPU is not counted then. Per revision the
script sums, over its blasts, the CPU time (from /proc) of its server's processes and of the PostgreSQL
server's, and prints CPU-ms per complaint, the mean rate and the ratio of this tree to the base, round by
round and overall, with the median of the rounds' ratios (a neighbour's burst, or PostgreSQL's autovacuum,
which is counted in whichever blast it lands on, moves a single round by up to a third).

The base revision is checked out with ``git worktree`` into a temp dir (removed at the end), using this
checkout's virtualenv and built assets; each revision migrates its own database with its own ``alur``.
Exits 1 when a request failed or a complaint did not complete; 130 when interrupted.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from _harness import ROOT, Client, loadavg, postmaster_pid, serve, server_env
from complaints import (
    MODELS,
    SERVER_WORKERS,
    SETUP_COMMANDS,
    RunResult,
    api_setup,
    bench_environment,
    drive,
    log,
    run_complaint,
)

#: the assets the web pages need, built by ``make assets`` and not in git: the base borrows this tree's
ASSETS = Path("service/web/static/dist")


@dataclass
class Side:
    """One revision under test: its checkout, its server, what its blasts cost."""

    name: str
    root: Path
    port: int = 0
    pid: int = 0
    tokens: dict[str, str] = field(default_factory=dict)
    blasts: list[RunResult] = field(default_factory=list)

    def total(self, attribute: str) -> float:
        return float(sum(getattr(blast, attribute) for blast in self.blasts))

    def cpu_ms(self, attribute: str = "") -> float:
        """CPU-ms per complaint: the server's, the database's, or (no attribute) both."""
        cases = self.total("cases")
        if not cases:
            return 0.0
        seconds = self.total(attribute) if attribute else self.total("server_cpu_s") + self.total("db_cpu_s")
        return 1000 * seconds / cases

    def rate(self) -> float:
        seconds = self.total("seconds")
        return self.total("cases") / seconds if seconds else 0.0


def blast_cpu_ms(blast: RunResult) -> float:
    """Server + database CPU-ms per complaint of one blast."""
    return 1000 * (blast.server_cpu_s + blast.db_cpu_s) / max(blast.cases, 1)


@contextmanager
def checkout(revision: str, workdir: Path) -> Iterator[Path]:
    """``revision`` in a git worktree under ``workdir``, with this tree's built assets; removed after."""
    root = workdir / "checkout"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(root), revision],
                   check=True)
    try:
        if (ROOT / ASSETS).exists() and not (root / ASSETS).exists():
            (root / ASSETS).symlink_to(ROOT / ASSETS)
        yield root
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(root)], check=False)


def alur(root: Path, env: dict[str, str], *args: str) -> None:
    """The ``alur`` CLI of the checkout at ``root``, in a process of its own."""
    command = [sys.executable, "-c", "import sys; from service.cli import main; sys.exit(main())", *args]
    subprocess.run(command, cwd=root, env={**os.environ, **env, "PYTHONPATH": str(root)}, check=True,
                   stdout=subprocess.DEVNULL)


def start(side: Side, stack: ExitStack, pg_server: str, workdir: Path) -> None:
    """A database migrated by the side's own code, its unit and admin, its server, its users and model."""
    from support.postgres import create_database

    url = create_database(pg_server, f"ab_{side.name}")
    home = workdir / side.name
    home.mkdir()
    env = {**bench_environment(home), "ALUR_DATABASE_URL": url}
    for args in SETUP_COMMANDS:
        alur(side.root, env, *args)
    server = stack.enter_context(serve({**server_env(url, MODELS, home, side.root), **env}, home, SERVER_WORKERS,
                                       side.root))
    side.port, side.pid = server.port, server.pid
    setup = Client(server.port, keep_alive=False)
    side.tokens = api_setup(setup)
    for _ in range(4):  # a new connection each time: both workers compile and warm
        run_complaint(setup, side.tokens)
    if setup.errors:
        raise RuntimeError(f"{side.name}: warm-up failed: {setup.errors[:3]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True, help="the revision to compare this working tree with")
    parser.add_argument("--rounds", type=int, default=8, help="blasts per revision (default 8)")
    parser.add_argument("--blast", type=int, default=200, help="complaints per blast (default 200)")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads (default 8)")
    args = parser.parse_args(argv)
    if min(args.rounds, args.blast, args.concurrency) < 1:
        parser.error("--rounds, --blast and --concurrency must be positive")

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    stop = threading.Event()
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    base_label = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.base], capture_output=True,
                                text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], capture_output=True, text=True,
                           check=True).stdout.strip()
    started_load = loadavg()
    try:
        with ExitStack() as stack:
            from support.postgres import running_postgres

            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="alur-ab-")))
            pg_server = stack.enter_context(running_postgres(workdir / "pg"))
            base = Side("base", stack.enter_context(checkout(args.base, workdir)))
            this = Side("this", ROOT)
            for side in (base, this):
                start(side, stack, pg_server, workdir)
            db_pid = postmaster_pid(pg_server)
            log(f"base {base_label} on :{base.port}, this tree ({head}{' + changes' if dirty else ''}) on "
                f":{this.port}; {args.rounds} rounds of {args.blast} complaints, C={args.concurrency}, "
                f"load {started_load}")
            for round_ in range(args.rounds):
                order = (base, this) if round_ % 2 == 0 else (this, base)
                for side in order:
                    blast = RunResult("postgres", args.concurrency, requested=args.blast)
                    drive(blast, side.port, side.tokens, args.blast, 600.0, stop, side.pid, db_pid)
                    side.blasts.append(blast)
                figures = [blast_cpu_ms(side.blasts[-1]) for side in (base, this)]
                log(f"round {round_ + 1}: base {figures[0]:.2f}, this {figures[1]:.2f} CPU-ms per complaint "
                    f"(ratio {figures[1] / figures[0]:.3f}), load {loadavg()}")
    except KeyboardInterrupt:
        stop.set()
        log("interrupted: servers stopped, temp dirs removed")
        return 130
    errors = [error for side in (base, this) for blast in side.blasts for error in blast.errors]
    incomplete = sum(not blast.valid for side in (base, this) for blast in side.blasts)
    print(f"\nA/B, PostgreSQL, {args.rounds} × {args.blast} complaints per revision at C={args.concurrency}; "
          f"load {started_load} → {loadavg()}")
    print("| revision | server CPU-ms | DB CPU-ms | total CPU-ms per complaint | complaints/s |")
    print("|---|---:|---:|---:|---:|")
    for side, label in ((base, base_label), (this, f"{head}{' + changes' if dirty else ''}")):
        print(f"| {label} | {side.cpu_ms('server_cpu_s'):.2f} | {side.cpu_ms('db_cpu_s'):.2f} | "
              f"{side.cpu_ms():.2f} | {side.rate():.1f} |")
    if base.cpu_ms():
        print(f"ratio this ÷ base: CPU {this.cpu_ms() / base.cpu_ms():.3f}, rate {this.rate() / base.rate():.3f}")
        rounds = [blast_cpu_ms(ours) / blast_cpu_ms(theirs)
                  for ours, theirs in zip(this.blasts, base.blasts, strict=True) if theirs.cases and ours.cases]
        if rounds:  # robust against the one blast a neighbour's burst (or an autovacuum) landed on
            print(f"per round: median CPU ratio {statistics.median(rounds):.3f}, lower in "
                  f"{sum(ratio < 1 for ratio in rounds)} of {len(rounds)} rounds")
    if errors or incomplete:
        print(f"{incomplete} blasts incomplete, {len(errors)} errors, first: {errors[:3]}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
