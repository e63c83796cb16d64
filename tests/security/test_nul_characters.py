"""A NUL character anywhere a request carries text is a 4xx, never a 500, on both databases.

PostgreSQL's ``text`` and ``jsonb`` cannot hold NUL (psycopg refuses the parameter before the statement
is sent); SQLite would store it. ``service.api.guards`` refuses it once for every route: a URL holding one
names nothing (404), a query parameter, form field, uploaded file's name or JSON string holding one is
refused naming it (422). Each route of the app is tried, with each of its methods.
"""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from service.store.models import Case, HistoryEntry, Task

#: What the NUL looks like in a URL, and where it stands in every string argument of a route.
NUL_ID = "a%00b"
EXCLUDED_METHODS = {"HEAD", "OPTIONS"}


def _count(app: Any, model: Any) -> int:
    with app.extensions["alur.services"].db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _urls_with_nul(app: Any) -> list[tuple[str, str]]:
    """(method, URL) for every route with a text argument, that argument holding a NUL."""
    found = []
    for rule in app.url_map.iter_rules():
        converters = dict(rule._converters)  # argument name -> converter
        texts = [name for name, converter in converters.items() if not re.fullmatch(r"\\d\+", converter.regex)]
        if not texts:
            continue
        url = rule.rule
        for name in converters:
            value = NUL_ID if name in texts else "1"
            url = re.sub(r"<(?:[^:<>]+:)?" + re.escape(name) + r">", value, url)
        found.extend((method, url) for method in sorted((rule.methods or set()) - EXCLUDED_METHODS))
    return found


def test_every_route_answers_a_url_with_nul_with_404(app: Any, client: Any, admin: Any, start_review: Any) -> None:
    start_review()  # a case, tasks and history exist, so a lookup would reach the database
    routes = _urls_with_nul(app)
    assert len(routes) > 40, routes  # the sweep really covers the API and the web pages
    answers = {}
    for method, url in routes:
        response = client.open(url, method=method, headers=admin.headers, json={})
        answers[(method, url)] = response.status_code
    assert {key: status for key, status in answers.items() if status != 404} == {}


@pytest.mark.parametrize("query", ["status=open%00", "q=a%00b", "a%00b=1", "status=%00"])
def test_query_parameter_with_nul_is_refused_naming_it(client: Any, admin: Any, start_review: Any,
                                                       query: str) -> None:
    start_review()
    for path in ("/api/tasks", "/api/cases"):
        response = client.get(f"{path}?{query}", headers=admin.headers)
        assert response.status_code == 422, (path, query, response.status_code, response.json)
        name = query.split("=")[0].replace("%00", "\\0")
        assert [error["field"] for error in response.json["errors"]] == [name]
        assert "NUL" in response.json["message"]


def test_json_string_with_nul_is_refused_naming_it_and_writes_nothing(app: Any, client: Any, review: Any,
                                                                       staff: Any) -> None:
    for body, field in [('{"definition_key": "review", "data": {"judul": "a\\u0000b"}}', "data.judul"),
                        ('{"definition_key": "review", "data": {"judul": "x", "k\\u0000": 1}}', "data.k\\0"),
                        ('{"definition_key": "review\\u0000", "data": {"judul": "x"}}', "definition_key")]:
        response = client.post("/api/cases", data=body, headers={**staff["pelapor_a"].headers,
                                                                 "Content-Type": "application/json"})
        assert response.status_code == 422, (body, response.status_code, response.json)
        assert [error["field"] for error in response.json["errors"]] == [field]
    assert (_count(app, Case), _count(app, Task), _count(app, HistoryEntry)) == (0, 0, 0)


def test_form_field_with_nul_is_refused_on_a_page_in_bahasa_indonesia(client: Any, admin: Any) -> None:
    response = client.post("/login", data={"username": "admin\x00", "password": "x"},
                           headers={"Accept-Language": "id"})
    assert response.status_code == 422
    assert "text/html" in response.content_type
    page = response.get_data(as_text=True)
    assert "Beberapa isian tidak valid." in page
    assert "\x00" not in page and "Traceback" not in page


def test_uploaded_file_name_with_nul_is_refused_naming_the_field(client: Any, admin: Any) -> None:
    response = client.post("/api/definitions", headers=admin.headers, content_type="multipart/form-data",
                           data={"file": (io.BytesIO(b"<definitions/>"), "review\x00.bpmn"), "unit": "unit-a"})
    assert response.status_code == 422, (response.status_code, response.json)
    assert [error["field"] for error in response.json["errors"]] == ["file"]
