"""The access log of the production server's workers: a line per request, written straight to stdout.

    [2026-12-03 07:40:12 +0000] "POST /api/tasks/12/complete HTTP/1.1" 200 4.731

The format granian's own access log had in service/serve.py before: time, method, path without its
query string, protocol, status and milliseconds, and no client address (see :mod:`service.serve`).
granian built a dict of nine fields, a ``datetime`` with its ``strftime`` and a ``logging`` record for
each request: 3.7 % of the API workers' time in the complaint benchmark's profile, 13–14 µs of CPU a
line in a loop against 1.8–1.9 µs for this one (benchmarks/RESULTS.md, 2026-12-03). Here the time is
formatted once a second and each line is one ``write`` to the file descriptor, unbuffered: a line is
there as soon as the request is answered, none is lost when a worker is killed, and the lines of a
server's workers do not interleave.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import suppress
from typing import Any

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
#: the time of a line, as granian's access log wrote it (local time with its offset)
TIME_FORMAT = "%Y-%m-%d %H:%M:%S %z"


class AccessLog:
    """``app`` (a WSGI callable) with a line in the access log for each request it answers."""

    def __init__(self, app: WSGIApp, fd: int | None = None) -> None:
        self.app = app
        self.fd = sys.stdout.fileno() if fd is None else fd
        #: the second last formatted and its text (one tuple: a thread sees an old pair or a new one)
        self._second: tuple[int, str] = (-1, "")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started, clock = time.time(), time.perf_counter()
        status = 500  # what the line says when the app raises before it answers

        def start(status_line: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal status
            status = int(status_line[:3])
            return start_response(status_line, headers, exc_info)

        try:
            return self.app(environ, start)
        finally:
            self._write(started, environ, status, (time.perf_counter() - clock) * 1000)

    def _write(self, started: float, environ: dict[str, Any], status: int, milliseconds: float) -> None:
        second = int(started)
        formatted_for, stamp = self._second
        if formatted_for != second:
            stamp = time.strftime(TIME_FORMAT, time.localtime(second))
            self._second = (second, stamp)
        request = " ".join((environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", ""),
                            environ.get("SERVER_PROTOCOL", "")))
        if not request.isprintable():  # a decoded %0A in a path must not start a forged line
            request = request.encode("unicode_escape").decode("ascii")
        line = f'[{stamp}] "{request}" {status} {milliseconds:.3f}\n'
        # stdout closed or full: the request was answered; losing its log line must not fail it
        with suppress(OSError):
            os.write(self.fd, line.encode("utf-8", "backslashreplace"))
