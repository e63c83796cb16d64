"""Hostile expressions for the security tests: sandbox escapes and resource bombs (issue #12).

Each payload is refused somewhere: by the whitelist at deploy, by a literal limit at deploy, or by
a bound when it is evaluated. ``CASE_DATA`` is what the case holds when the payloads run: large but
acceptable values that the bombs try to multiply.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

#: Case data the run-time bombs work on (each value alone is within the limits).
CASE_DATA: dict[str, Any] = {
    "s": "x" * 40_000,
    "n": 1_000_000,
    "big": 10**18,
    "d": {"a": "x" * 30_000},
    "t": "9" * 4_000,
    "hasil": "lengkap",
}

#: Refused by the whitelist (deploy and evaluation alike): no attributes, imports, builtins, lambdas…
ESCAPES = [
    "().__class__.__base__.__subclasses__()",
    "__import__('os').system('id')",
    "open('/etc/passwd').read()",
    "open('/etc/passwd')",
    "eval('1 + 1')",
    "exec('x = 1')",
    "compile('1', 'x', 'eval')",
    "getattr(len, '__self__')",
    "lower.__globals__",
    "str.__mro__",
    "s.__len__()",
    "len.__call__(s)",
    "[c for c in ().__class__.__bases__]",
    "{k: v for k, v in d}",
    "(lambda: 1)()",
    "f'{s}'",
    "f'{n:>999999999}'",
    "'{0.__class__}'.format(s)",
    "'{:>999999999}'.format(1)",
    "','.join(['a'] * 999999)",
    "globals()",
    "vars()",
    "type(s)",
    "_hidden",
    "__builtins__",
    "9 ** 9 ** 9",
    "(x := 1)",
    "[*s]",
    "min(*s)",
    "n << 99999999",
    "import os",
    "yield 1",
    "1" + "0" * 150,
]

#: Refused when evaluated: what they would build is past a limit.
BOMBS = [
    "'%0999999999d' % 1",
    "'%.99999999f' % 1.5",
    "'%*d' % (999999999, 1)",
    "'%s%s%s%s' % (s, s, s, s)",
    "'%(a)s%(a)s%(a)s%(a)s' % d",
    "('%s' % s) * 99999",
    "'x' * 999999999",
    "s * n",
    "n * s",
    "[0] * 999999999",
    "[s] * 3",
    "str([[0] * 9999] * 9999)",
    "str([s] * 9999)",
    "s + s + s",
    "lower(s + s + s)",
    "max(s, s) * 99999",
    "[s, s, s, s, s, s]",
    "{'a': s, 'b': s, 'c': s}",
    "99999999999999999999 * 99999999999999999999 * 99999999999999999999 * 99999999999999999999"
    " * 99999999999999999999 * 99999999999999999999",
    "big * big * big * big * big * big",
    "int(t)",
    "hari_kerja(999999999)",
    "jam_kerja(1e308)",
    "jam_kerja(float('nan'))",
    "hari_kerja(-1)",
]

PAYLOADS = ESCAPES + BOMBS


class Hang(Exception):
    pass


@contextmanager
def hang_guard(seconds: int = 30) -> Iterator[None]:
    """Fail instead of hanging if the bounds do not hold (never a timing assertion)."""

    def _raise(_signum: int, _frame: FrameType | None) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, _raise)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
