"""Every API token and web session carries the user's credential version and dies with it: on disable,
password change or reset, and sign-out (which ends all of the user's sessions and tokens)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from itsdangerous import URLSafeTimedSerializer
from support.helpers import PASSWORD, Persona, sql_statements, token_works
from support.web import csrf_of

NEW_PASSWORD = "kata-sandi-baru-456"





def sign_in(client: Any, username: str, password: str = PASSWORD) -> Persona:
    response = client.post("/api/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.json
    return Persona(username, response.json["token"])


def web_session(app: Any, username: str, password: str = PASSWORD) -> Any:
    browser = app.test_client()
    form = {"username": username, "password": password, "csrf_token": csrf_of(browser.get("/login").text)}
    assert browser.post("/login", data=form).status_code == 302
    assert browser.get("/tasks").status_code == 200
    return browser


def test_a_token_dies_when_its_account_is_disabled_and_stays_dead_after_enable(client: Any, kasi: Persona,
                                                                               boss: Persona) -> None:
    assert token_works(client, kasi)  # now in this process's actor cache
    assert client.post("/api/users/kasi.a/disable", headers=boss.headers).status_code == 200
    refused = client.get("/api/tasks", headers=kasi.headers)
    assert refused.status_code == 401 and "ended" in refused.json["message"]
    assert client.post("/api/users/kasi.a/enable", headers=boss.headers).status_code == 200
    assert not token_works(client, kasi)
    assert token_works(client, sign_in(client, "kasi.a"))


def test_a_token_dies_when_its_user_changes_the_password(client: Any, kasi: Persona) -> None:
    other = sign_in(client, "kasi.a")
    changed = client.post("/api/auth/password", headers=kasi.headers,
                          json={"old_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.json
    assert not token_works(client, kasi) and not token_works(client, other)
    assert token_works(client, Persona("kasi.a", changed.json["token"]))  # the caller goes on with the new token
    assert client.post("/api/auth/token", json={"username": "kasi.a", "password": PASSWORD}).status_code == 401
    assert token_works(client, sign_in(client, "kasi.a", NEW_PASSWORD))


def test_a_token_dies_when_an_admin_resets_the_password(client: Any, kasi: Persona, boss: Persona) -> None:
    assert token_works(client, kasi)
    reset = client.post("/api/users/kasi.a/password", headers=boss.headers, json={"password": NEW_PASSWORD})
    assert reset.status_code == 200, reset.json
    assert not token_works(client, kasi)
    assert token_works(client, sign_in(client, "kasi.a", NEW_PASSWORD))


def test_api_logout_ends_every_token_of_the_user(client: Any, kasi: Persona) -> None:
    other = sign_in(client, "kasi.a")
    assert client.post("/api/auth/logout", headers=kasi.headers).status_code == 204
    assert not token_works(client, kasi) and not token_works(client, other)
    assert client.post("/api/auth/logout", headers=kasi.headers).status_code == 401


def test_an_old_session_cookie_does_not_work_after_logout(app: Any, kasi: Persona) -> None:
    browser = web_session(app, "kasi.a")
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = browser.get_cookie(name)
    assert cookie is not None
    tasks = browser.get("/tasks")
    assert browser.post("/logout", data={"csrf_token": csrf_of(tasks.text)}).status_code == 302
    replay = app.test_client()
    replay.set_cookie(name, cookie.value)
    response = replay.get("/tasks")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_web_logout_ends_the_users_other_sessions_and_api_tokens(app: Any, client: Any, kasi: Persona) -> None:
    laptop, phone = web_session(app, "kasi.a"), web_session(app, "kasi.a")
    assert phone.post("/logout", data={"csrf_token": csrf_of(phone.get("/tasks").text)}).status_code == 302
    assert laptop.get("/tasks").status_code == 302
    assert not token_works(client, kasi)


def test_a_web_session_dies_when_the_account_is_disabled(app: Any, client: Any, kasi: Persona,
                                                         boss: Persona) -> None:
    browser = web_session(app, "kasi.a")
    assert client.post("/api/users/kasi.a/disable", headers=boss.headers).status_code == 200
    assert browser.get("/tasks").status_code == 302


def test_another_process_refuses_a_disabled_users_token_at_once(app: Any, other_app: Any, client: Any,
                                                                kasi: Persona, boss: Persona) -> None:
    """Each process checks the credential version in the database on every token use (one read by
    primary key, when it does not listen for changes), so its own actor cache does not keep a disabled
    user working for its 10 seconds."""
    other = other_app.test_client()
    assert token_works(other, kasi)  # cached there
    assert client.post("/api/users/kasi.a/disable", headers=boss.headers).status_code == 200
    assert not token_works(other, kasi)


def test_a_token_without_a_credential_version_is_refused(app: Any, client: Any, kasi: Persona) -> None:
    serializer = URLSafeTimedSerializer(app.extensions["alur.services"].settings.secret_key, salt="alur-api-token")
    old_style = serializer.dumps({"uid": serializer.loads(kasi.token)["uid"]})  # as tokens were issued before
    assert not token_works(client, Persona("kasi.a", str(old_style)))


@pytest.fixture
def counted_statements(app: Any) -> Iterator[list[str]]:
    with sql_statements(app.extensions["alur.services"].db.engine) as seen:
        yield seen


def test_a_token_use_costs_one_read_of_the_user_row(client: Any, kasi: Persona,
                                                    counted_statements: list[str]) -> None:
    assert token_works(client, kasi)  # fills the actor cache
    counted_statements.clear()
    with client.application.test_request_context(headers=kasi.headers):
        from service.api.security import current_actor

        assert current_actor().username == "kasi.a"
    user_reads = [s for s in counted_statements if "FROM users" in s]
    assert len(user_reads) == 1 and "credential_version" in user_reads[0]


def test_a_token_expires_after_token_hours_even_once_verified(app: Any, client: Any, kasi: Persona) -> None:
    """A process keeps a token's verified signature (accounts._signed_claims), not its validity: the age
    is checked on every use, so a token used a minute before it ends is refused a minute after."""
    import time_machine

    hours = app.extensions["alur.services"].settings.token_hours
    with time_machine.travel(time.time(), tick=False) as traveller:
        fresh = sign_in(client, "kasi.a")
        assert token_works(client, fresh)
        traveller.shift(hours * 3600 - 60)
        assert token_works(client, fresh)
        traveller.shift(120)
        response = client.get("/api/tasks", headers=fresh.headers)
        assert response.status_code == 401 and "expired" in response.json["message"]
        assert token_works(client, sign_in(client, "kasi.a"))  # a new token works


def test_a_token_with_a_changed_signature_is_refused_every_time(client: Any, kasi: Persona) -> None:
    assert token_works(client, kasi)
    head, _, signature = kasi.token.rpartition(".")
    forged = f"{head}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    for _ in range(2):  # a refused signature is not kept as verified
        response = client.get("/api/tasks", headers={"Authorization": f"Bearer {forged}"})
        assert response.status_code == 401 and "not valid" in response.json["message"]
    assert token_works(client, kasi)
