"""A body already in memory reaches the WSGI server as one bytes item of a list (granian then sends it
in one call instead of pulling an iterator through Python); a streamed body stays an iterator; HEAD and
304 keep Werkzeug's empty body. Checked on the WSGI callable itself, as a server calls it."""

from __future__ import annotations

import io
import json
from typing import Any

from flask import Response, send_file
from werkzeug.test import EnvironBuilder


def _call(app: Any, path: str, method: str = "GET") -> tuple[str, Any]:
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        seen["status"] = status

    body = app(EnvironBuilder(path=path, method=method).get_environ(), start_response)
    return seen["status"], body


def test_a_json_answer_is_one_item_and_a_stream_stays_an_iterator(app: Any) -> None:
    def streamed() -> Response:
        return Response((part for part in (b"a", b"b", b"c")), mimetype="text/plain")

    def a_file() -> Response:
        return send_file(io.BytesIO(b"isi berkas"), mimetype="text/plain")

    app.add_url_rule("/_test/streamed", view_func=streamed)
    app.add_url_rule("/_test/file", view_func=a_file)

    status, body = _call(app, "/api/definitions")  # a JSON error (no token): a body built in memory
    assert status.startswith("401") and isinstance(body, list) and len(body) == 1
    assert json.loads(body[0])["code"] == "unauthorized"

    status, body = _call(app, "/api/definitions", method="HEAD")
    assert isinstance(body, list) and body == [b""]

    for path, content in (("/_test/streamed", b"abc"), ("/_test/file", b"isi berkas")):
        status, body = _call(app, path)
        assert status.startswith("200") and not isinstance(body, list), (path, body)
        assert b"".join(body) == content
        body.close()
