"""The cost of one follow-up secret check: argon2's password parameters against the secret's own.

Issue 12 found each follow-up (the public API checks the secret on every request, up to 120 a minute per
client) costing an argon2 check of ~0.7 s and 64 MiB. The secret is 16 random digits, so
``service.commands.passwords`` sizes argon2 for it (t=1, 8 MiB, p=1). This script measures both, as
CPU milliseconds per check (``time.process_time``, all threads of the process) and wall milliseconds,
for a wrong secret (the work an attacker causes) and a right one, plus the peak memory of one check.

    .venv/bin/python benchmarks/follow_up_check.py            # 30 checks each
    .venv/bin/python benchmarks/follow_up_check.py --checks 100
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.commands import passwords

SECRET = "4821937465019283"
WRONG = "0000000000000000"


def _measure(hasher: PasswordHasher, stored: str, secret: str, checks: int) -> tuple[float, float]:
    """Median CPU ms and median wall ms of ``checks`` verifications."""
    cpu, wall = [], []
    for _ in range(checks):
        c0, w0 = time.process_time(), time.perf_counter()
        with contextlib.suppress(VerificationError):
            hasher.verify(stored, secret)
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=30)
    args = parser.parse_args()
    candidates = {
        "argon2 password defaults (before)": PasswordHasher(),
        "follow-up secret parameters (now)": PasswordHasher(time_cost=passwords.SECRET_TIME_COST,
                                                            memory_cost=passwords.SECRET_MEMORY_KIB,
                                                            parallelism=passwords.SECRET_PARALLELISM),
    }
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"# median of {args.checks} checks each\n")
    print("| parameters | hash | wrong secret CPU ms | wrong secret wall ms | right secret CPU ms | memory per check |")
    print("|---|---|---|---|---|---|")
    for label, hasher in candidates.items():
        stored = hasher.hash(SECRET)
        wrong_cpu, wrong_wall = _measure(hasher, stored, WRONG, args.checks)
        right_cpu, _ = _measure(hasher, stored, SECRET, args.checks)
        params = stored.split("$")[3]
        print(f"| {label} | `{params}` | {wrong_cpu:.1f} | {wrong_wall:.1f} | {right_cpu:.1f} | "
              f"{hasher.memory_cost // 1024} MiB |")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"\n# peak RSS of this process: {peak} MiB")


if __name__ == "__main__":
    main()
