"""The web session cookie: opened only when a request brings one, written only when a page used it.

API calls carry bearer tokens and no cookie; they get an empty session without any cookie parsing,
and their answers set no cookie and no ``Vary: Cookie`` (service/web/__init__.py, ``SessionOverHttps``).
A first visit without a cookie still gets a session a page can write (the sign-in form's CSRF token).
"""

from __future__ import annotations

from typing import Any

from support.helpers import PASSWORD
from support.web import Dumas, csrf_of


def test_an_api_call_without_a_cookie_gets_no_cookie_and_no_vary(dumas: Dumas, app: Any) -> None:
    client = app.test_client(use_cookies=False)
    token = client.post("/api/auth/token", json={"username": "inspektorat", "password": PASSWORD})
    assert token.status_code == 200, token.json
    listed = client.get("/api/tasks", headers={"Authorization": f"Bearer {token.json['token']}"})
    assert listed.status_code == 200, listed.json
    for response in (token, listed):
        assert "Set-Cookie" not in response.headers
        assert "cookie" not in response.headers.get("Vary", "").lower()


def test_a_first_visit_without_a_cookie_gets_a_session_the_page_writes(dumas: Dumas, app: Any) -> None:
    client = app.test_client()
    page = client.get("/login")
    assert page.status_code == 200
    assert "alur_session=" in page.headers.get("Set-Cookie", "")  # the CSRF token, kept in the session
    assert "Cookie" in page.headers.get("Vary", "")
    signed = client.post("/login", data={"username": "inspektorat", "password": PASSWORD,
                                         "csrf_token": csrf_of(page.text)})
    assert signed.status_code == 302, signed.text
    assert client.get("/tasks").status_code == 200  # the cookie it set opens the signed-in session


def test_a_cookie_that_is_not_ours_opens_an_empty_session(dumas: Dumas, app: Any) -> None:
    client = app.test_client()
    client.set_cookie("alur_session", "forged.value.here")
    response = client.get("/tasks")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
