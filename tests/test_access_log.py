"""The workers' access log (service/access_log.py): one line per request, no client address, no query
string, no forged lines; a request whose app raises is logged as 500."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import suppress
from typing import Any

import pytest

from service.access_log import AccessLog

#: the line format the two-node test counts (tests/reliability/test_two_nodes.py, ACCESS_LINE)
LINE = re.compile(r'^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] "(\S+) (\S+) (HTTP/1\.1)" (\d{3}) (\d+\.\d{3})$')


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read, write = os.pipe()
    yield read, write
    for fd in (read, write):
        with suppress(OSError):  # the test closed it already
            os.close(fd)


def _answer(status: str) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response(status, [("Content-Type", "text/plain")])
        return [b"ok"]
    return app


def _environ(path: str, **extra: str) -> dict[str, Any]:
    return {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "kode=RAHASIA-123",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.7", "HTTP_X_FORWARDED_FOR": "203.0.113.8",
            "HTTP_USER_AGENT": "Mozilla/5.0", **extra}


def _lines(read: int) -> list[str]:
    return os.read(read, 65536).decode().splitlines()


def test_a_request_is_one_line_with_method_path_status_and_milliseconds(pipe: tuple[int, int]) -> None:
    read, write = pipe
    logged = AccessLog(_answer("404 NOT FOUND"), fd=write)
    assert logged(_environ("/api/public/reports/lacak"), lambda *_: None) == [b"ok"]
    logged(_environ("/healthz"), lambda *_: None)
    lines = _lines(read)
    assert len(lines) == 2
    first = LINE.match(lines[0])
    assert first, lines[0]
    assert first.groups()[:4] == ("GET", "/api/public/reports/lacak", "HTTP/1.1", "404")
    assert "RAHASIA" not in lines[0] and "203.0.113." not in lines[0] and "Mozilla" not in lines[0]


def test_a_newline_in_a_path_does_not_forge_a_line(pipe: tuple[int, int]) -> None:
    read, write = pipe
    AccessLog(_answer("200 OK"), fd=write)(_environ('/x\n[2026-01-01 00:00:00 +0000] "GET /admin HTTP/1.1" 200 1.000'),
                                         lambda *_: None)
    lines = _lines(read)
    assert len(lines) == 1 and "\\n" in lines[0]


def test_an_app_that_raises_is_logged_as_500_and_the_error_goes_on(pipe: tuple[int, int]) -> None:
    read, write = pipe

    def broken(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        AccessLog(broken, fd=write)(_environ("/api/tasks"), lambda *_: None)
    found = LINE.match(_lines(read)[0])
    assert found and found.group(4) == "500"


def test_a_closed_log_does_not_fail_the_request(pipe: tuple[int, int]) -> None:
    read, write = pipe
    os.close(read)  # writing now fails with EPIPE (Python ignores SIGPIPE)
    assert AccessLog(_answer("200 OK"), fd=write)(_environ("/api/tasks"), lambda *_: None) == [b"ok"]
