"""A database that does not answer: 503 with Retry-After and a clear message, never a 500.

Before, the API answered 500 "Something went wrong on the server" during a database outage, the pages
a 500 page, and clients could not tell "retry later" from "this request is broken".
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.helpers import TEST_FORMS
from support.postgres import running_postgres

from service.app import create_app
from service.commands import accounts
from service.store.migrate import upgrade

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens on it once the socket is closed


def _app(url: str, tmp_path: Path) -> Any:
    return create_app({"database_url": url, "secret_key": "test-secret-key", "forms_dir": TEST_FORMS,
                       "data_dir": tmp_path / "data", "testing": True})


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[Any]:
    app = _app(f"postgresql+psycopg://alur@127.0.0.1:{_closed_port()}/alur", tmp_path)
    yield app
    app.extensions["alur.services"].db.dispose()


def _assert_api_unavailable(response: Any) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert response.json["code"] == "service_unavailable"
    assert "database" in response.json["message"]
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")


def test_api_answers_503_with_retry_after_when_the_database_is_unreachable(unreachable: Any) -> None:
    client = unreachable.test_client()
    _assert_api_unavailable(client.post("/api/auth/token", json={"username": "admin", "password": "x" * 10}))
    _assert_api_unavailable(client.get("/api/public/reports/1234123412341234",
                                       headers={"X-Report-Secret": "1234123412341234"}))
    _assert_api_unavailable(client.post("/api/public/reports", json={"unit": "unit-a", "definition_key": "review",
                                                                     "mode": "anonim", "data": {"judul": "x"}}))
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["status"] == "database unavailable"
    assert int(ready.headers["Retry-After"]) > 0
    assert client.get("/healthz").status_code == 200  # the process itself is fine


def _assert_page_unavailable(page: Any) -> None:
    assert page.status_code == 503, page.status_code
    assert int(page.headers["Retry-After"]) > 0
    text = page.get_data(as_text=True)
    assert "basis data" in text and "Coba lagi nanti" in text  # the Indonesian page, without the database


def test_pages_answer_an_indonesian_503_page_when_the_database_is_unreachable(unreachable: Any) -> None:
    client = unreachable.test_client()
    _assert_page_unavailable(client.get("/lapor"))
    token = _CSRF.search(client.get("/login").get_data(as_text=True))  # no database needed for the form
    assert token is not None
    _assert_page_unavailable(client.post("/login", data={"username": "kasi", "password": "rahasia-uji-123",
                                                         "csrf_token": token.group(1)}))
    with client.session_transaction() as session:  # a signed-in staff member
        session["uid"] = 1
        session["cv"] = 1
    _assert_page_unavailable(client.get("/tasks"))
    as_json = client.get("/tasks", headers={"Accept": "application/json"})
    assert as_json.status_code == 503 and as_json.json["message"] and as_json.headers["Retry-After"]


def test_a_postgresql_server_that_stops_turns_requests_into_503_until_it_is_back(tmp_path: Path) -> None:
    """A private server: started, used, stopped under the running app."""
    with running_postgres(tmp_path / "outage") as url:
        upgrade(url)
        app = _app(url, tmp_path)
        services = app.extensions["alur.services"]
        accounts.create_user(services, "admin", "rahasia-uji-123", [], is_admin=True)
        client = app.test_client()
        token = client.post("/api/auth/token", json={"username": "admin", "password": "rahasia-uji-123"}).json["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/cases", headers=headers).status_code == 200
        assert client.get("/readyz").status_code == 200
    # the server is stopped (pg_ctl stop -m immediate): the pooled connections are dead
    try:
        _assert_api_unavailable(client.get("/api/cases", headers=headers))
        _assert_api_unavailable(client.get("/api/definitions", headers=headers))
        assert client.get("/readyz").status_code == 503
    finally:
        services.db.dispose()
