"""Answers written by orjson (``service.json_provider``) parse to what Flask's stdlib provider wrote: on real
API answers, on the types Flask's ``default`` turns into text, on what orjson refuses (the stdlib writes
it), and in the pages' ``tojson``, which stays HTML-safe."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import render_template_string
from flask.json.provider import DefaultJSONProvider
from markupsafe import Markup

from service.json_provider import OrjsonProvider


@dataclasses.dataclass
class _Due:
    at: dt.datetime
    amount: decimal.Decimal


#: values orjson writes natively or through Flask's ``default``, and values only the stdlib writes
AWKWARD = {
    "datetime": dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC),
    "naive-datetime": dt.datetime(2026, 3, 4, 5, 6, 7),
    "date": dt.date(2026, 3, 4),
    "decimal": decimal.Decimal("12.50"),
    "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "dataclass": _Due(dt.datetime(2026, 1, 2, tzinfo=dt.UTC), decimal.Decimal("1.5")),
    "markup": Markup("<b>tebal</b>"),
    "floats": [0.1, 1e16, -0.0, 1.7976931348623157e308, 5e-324],
    "non-ascii": "Pengaduan — “kutip” é 😀 \u2028",
    "tuple": (1, "dua"),
    "big-integer": 2**70,
    "lone-surrogate": "a\ud800b",
    "integer-keys": {3: "c", 1: "a", 2: "b"},
}


def _stdlib(app: Any) -> DefaultJSONProvider:
    return DefaultJSONProvider(app)


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: the encoding does not depend on the database."""
    target = tmp_path / "alur.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


def test_the_app_answers_and_renders_through_orjson(app: Any) -> None:
    assert isinstance(app.json, OrjsonProvider)
    assert app.jinja_env.policies["json.dumps_function"] == app.json.dumps


@pytest.mark.parametrize("name", list(AWKWARD))
def test_awkward_values_parse_as_the_stdlib_wrote_them(app: Any, name: str) -> None:
    value = {"value": AWKWARD[name], "b": 1, "a": [None, True]}
    with app.app_context():
        ours, theirs = app.json.response(value), _stdlib(app).response(value)
        assert json.loads(app.json.dumps(value)) == json.loads(_stdlib(app).dumps(value))
    assert json.loads(ours.get_data()) == json.loads(theirs.get_data())
    assert ours.mimetype == theirs.mimetype == "application/json"
    assert ours.get_data().endswith(b"\n") and not ours.get_data().endswith(b"\n\n")


def test_keys_are_sorted_as_flask_sorts_them(app: Any) -> None:
    with app.app_context():
        assert app.json.response({"b": 1, "a": {"d": 2, "c": 3}}).get_data() == b'{"a":{"c":3,"d":2},"b":1}\n'


def test_a_datetime_is_an_http_date_as_flask_writes_it(app: Any) -> None:
    with app.app_context():
        text = app.json.dumps({"at": dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)})
    assert json.loads(text) == {"at": "Wed, 04 Mar 2026 05:06:07 GMT"}


def test_what_neither_can_write_is_the_stdlib_type_error(app: Any) -> None:
    with app.app_context(), pytest.raises(TypeError, match="not JSON serializable"):
        app.json.response({"x": {1, 2}})


def test_debug_answers_are_indented_as_flask_indents_them(app: Any) -> None:
    app.debug = True
    with app.app_context():
        ours, theirs = app.json.response({"a": [1]}), _stdlib(app).response({"a": [1]})
    assert ours.get_data() == theirs.get_data() == b'{\n  "a": [\n    1\n  ]\n}\n'


def test_tojson_stays_html_safe(app: Any) -> None:
    value = {"x": "</script><script>alert('&')</script>", "é": [2**70]}
    with app.app_context():
        html = render_template_string("<script>{{ value|tojson }}</script>", value=value)
        indented = render_template_string("{{ value|tojson(2) }}", value={"b": ["<"], "a": 1})
    inner = html.removeprefix("<script>").removesuffix("</script>")
    assert not any(character in inner for character in "<>&'")
    assert json.loads(inner) == value
    assert indented == '{\n  "a": 1,\n  "b": [\n    "\\u003c"\n  ]\n}'


def test_real_api_answers_parse_as_the_stdlib_wrote_them(app: Any, client: Any, start_review: Any,
                                                          staff: dict[str, Any], admin: Any) -> None:
    case = start_review()
    task_id = case["tasks"][0]["id"]
    kasi = staff["kasi_a"].headers
    reads = [("/api/cases/" + str(case["id"]), kasi), ("/api/tasks?sort=due_at", kasi), (f"/api/tasks/{task_id}", kasi),
             ("/api/definitions", admin.headers), ("/api/openapi.json", {}), ("/api/cases/999999", kasi),
             ("/api/definitions", {})]
    ours = [client.get(url, headers=headers) for url, headers in reads]
    app.json = _stdlib(app)
    theirs = [client.get(url, headers=headers) for url, headers in reads]
    for (url, _), mine, stdlib in zip(reads, ours, theirs, strict=True):
        assert (mine.status_code, mine.mimetype) == (stdlib.status_code, stdlib.mimetype), url
        assert json.loads(mine.get_data()) == json.loads(stdlib.get_data()), url
        assert mine.get_data().endswith(b"\n") == stdlib.get_data().endswith(b"\n"), url
