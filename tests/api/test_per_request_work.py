"""Work a request no longer repeats (issue 13), counted, not timed:

- Flask asked ``inspect.iscoroutinefunction`` of every hook and view on every request; ``AlurFlask`` asks
  once per function, so a repeated request asks nothing, a method view's fresh bound method included;
- psycopg built a ``uuid.UUID`` of every ``uuid`` value read, which SQLAlchemy turned back into text: the
  engine's connections now hand the text over as it arrives, in the form :class:`EntityId` holds.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from support.helpers import Persona

import service.app
from service.commands.context import SERVICES_KEY


def _asked(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    asked: list[Any] = []
    real = service.app.iscoroutinefunction

    def counting(func: Any) -> bool:
        asked.append(func)
        return real(func)

    monkeypatch.setattr(service.app, "iscoroutinefunction", counting)
    return asked


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_repeated_request_asks_no_function_whether_it_is_a_coroutine(
        app: Any, client: Any, admin: Persona, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = _asked(monkeypatch)
    # flask-smorest's views are method views: each request binds ``get`` to a new instance
    first = client.get("/api/definitions", headers=admin.headers)
    assert first.status_code == 200, first.json
    assert any(getattr(func, "__name__", "") == "get" for func in asked), asked
    asked.clear()
    again = client.get("/api/definitions", headers=admin.headers)
    assert again.status_code == 200 and again.json == first.json
    assert asked == []


def _function() -> Any:
    def made() -> None:
        return None

    return made  # a new function object on each call


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_answers_kept_are_bounded(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(type(app), "KEPT", len(app._coroutine_functions) + 2)
    functions = [_function() for _ in range(5)]
    for func in functions:
        assert app.ensure_sync(func) is func
    assert len(app._coroutine_functions) == type(app).KEPT
    asked = _asked(monkeypatch)
    app.ensure_sync(functions[-1])  # not kept: asked again, and still answered right
    assert asked == [functions[-1]]


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_uuid_values_come_back_from_postgres_as_canonical_text(app: Any, start_review: Any) -> None:
    case_id = start_review()["id"]
    engine = app.extensions[SERVICES_KEY].db.engine
    with engine.connect() as conn:
        raw = conn.execute(text("SELECT id, gen_random_uuid() FROM cases WHERE id = :c"), {"c": case_id}).one()
        driver_row = conn.exec_driver_sql("SELECT id FROM tasks LIMIT 1").one()
    assert raw[0] == case_id  # the text the API answered with, not a uuid.UUID equal to nothing here
    assert all(type(value) is str for value in (*raw, *driver_row))
    assert raw[1] == raw[1].lower() and len(raw[1]) == 36 and raw[1].count("-") == 4
