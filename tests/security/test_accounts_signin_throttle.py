"""One sign-in throttle for ``/login`` and ``POST /api/auth/token`` (issue 12, accounts).

Per account: 4 wrong passwords are free, the 5th and later ones hold the account 1 s, 2 s, 4 s, … up to
15 minutes from the last failure; an admin unlock ends the hold. Per client: 19 free, then the same.
Times are travelled with time-machine or passed as ``now``; nothing sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from support.helpers import PASSWORD, Persona
from support.web import csrf_of

from service.commands import accounts
from service.commands.context import Services
from service.commands.signin import MAX_HOLD, SignInThrottled, hold_after, sign_in
from service.errors import Unauthorized
from service.store.models import SigninClient, User, UserEvent

START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
WRONG = "salah-salah-salah"


@pytest.fixture
def owner(app: Any, units: dict[str, str]) -> str:
    accounts.create_user(app.extensions["alur.services"], "kasi.a", PASSWORD, ["Kasi@unit-a"])
    return "kasi.a"


def token(client: Any, username: str, password: str, address: str = "127.0.0.1") -> Any:
    return client.post("/api/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def web_login(client: Any, username: str, password: str) -> Any:
    form = {"username": username, "password": password, "csrf_token": csrf_of(client.get("/login").text)}
    return client.post("/login", data=form)


def test_a_user_locked_on_the_web_is_locked_for_the_token_endpoint_too(client: Any, owner: str) -> None:
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            assert web_login(client, owner, WRONG).status_code == 401
        refused = token(client, owner, PASSWORD)
        assert refused.status_code == 429 and refused.headers["Retry-After"] == "1"
        assert refused.json["code"] == "sign_in_throttled"


def test_the_token_endpoint_counts_wrong_passwords_and_holds_the_web_too(client: Any, owner: str) -> None:
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            wrong = token(client, owner, WRONG)
            assert wrong.status_code == 401 and wrong.json["code"] == "unauthorized"
        assert token(client, owner, PASSWORD).status_code == 429
        assert web_login(client, owner, PASSWORD).status_code == 429
        clock.move_to(START + timedelta(seconds=1))
        assert token(client, owner, PASSWORD).status_code == 200


def test_a_strangers_five_wrong_passwords_delay_the_owner_one_second(client: Any, owner: str) -> None:
    """The old lockout held the owner 15 minutes; now the stranger's 5th failure costs 1 s."""
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(5):
            assert token(client, owner, WRONG, address="203.0.113.9").status_code == 401
        clock.move_to(START + timedelta(milliseconds=999))
        assert token(client, owner, PASSWORD).status_code == 429
        clock.move_to(START + timedelta(seconds=1))
        assert token(client, owner, PASSWORD).status_code == 200
        for _ in range(4):  # the right password cleared the count
            assert token(client, owner, WRONG).status_code == 401


def test_the_hold_doubles_from_the_last_failure_up_to_15_minutes(services: Services, units: Any) -> None:
    accounts.create_user(services, "target", PASSWORD, ["Kasi@unit-a"])
    moment, holds = START, []
    for _ in range(17):
        with pytest.raises(Unauthorized):
            sign_in(services, "target", WRONG, now=moment)
        with services.db.reading() as session:
            until = session.scalar(select(User.locked_until).where(User.username == "target"))
        holds.append(None if until is None else (until - moment).total_seconds())
        moment = until or moment  # the next attempt at the first instant it is heard
    assert holds == [None, None, None, None, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
    assert hold_after(100) == MAX_HOLD
    with pytest.raises(SignInThrottled) as held:
        sign_in(services, "target", PASSWORD, now=moment - timedelta(seconds=1))
    assert held.value.retry_after == 1
    assert sign_in(services, "target", PASSWORD, now=moment).username == "target"
    with services.db.reading() as session:
        events = session.scalars(select(UserEvent.action).join(User).where(User.username == "target")
                                .order_by(UserEvent.id)).all()
    assert events == ["created", "locked"]  # the hold's start is recorded once, not each failure


def test_an_admin_unlock_lets_the_owner_in_at_once(client: Any, owner: str, admin: Persona) -> None:
    services = client.application.extensions["alur.services"]
    moment = START
    for _ in range(15):  # each at the end of the previous hold: 15 minutes now
        with pytest.raises(Unauthorized):
            sign_in(services, owner, WRONG, now=moment)
        moment += timedelta(minutes=15)
    with time_machine.travel(moment - timedelta(minutes=1), tick=False):
        assert token(client, owner, PASSWORD).status_code == 429
        signed_in = Persona("admin", token(client, "admin", PASSWORD).json["token"])
        unlocked = client.post(f"/api/users/{owner}/unlock", headers=signed_in.headers)
        assert unlocked.status_code == 200 and unlocked.json["locked_until"] is None
        assert token(client, owner, PASSWORD).status_code == 200


def test_a_client_spraying_passwords_is_held_but_no_one_else(client: Any, owner: str) -> None:
    with time_machine.travel(START, tick=False) as clock:
        for n in range(20):  # unknown usernames count for the client too
            assert token(client, f"tidak-ada-{n}", WRONG, address="198.51.100.7").status_code == 401
        held = token(client, owner, PASSWORD, address="198.51.100.7")
        assert held.status_code == 429 and held.headers["Retry-After"] == "1"
        assert token(client, owner, PASSWORD, address="198.51.100.8").status_code == 200  # another client
        clock.move_to(START + timedelta(seconds=1))
        assert token(client, owner, PASSWORD, address="198.51.100.7").status_code == 200
    services = client.application.extensions["alur.services"]
    with services.db.reading() as session:
        (row,) = session.scalars(select(SigninClient)).all()
        assert row.failures == 20 and "198.51" not in row.key  # a keyed hash, not the address
    with time_machine.travel(START + timedelta(minutes=16), tick=False):
        assert token(client, "tidak-ada", WRONG, address="192.0.2.1").status_code == 401
    with services.db.reading() as session:  # the quiet client's row is gone
        assert [row.failures for row in session.scalars(select(SigninClient))] == [1]


def test_concurrent_wrong_passwords_each_count_once_and_none_after_the_hold(services: Services, units: Any) -> None:
    """12 parallel wrong passwords and 4 right ones at one instant: exactly 5 are heard as wrong, the
    count ends at 5, and no right password gets in once the hold began (atomic on PostgreSQL too)."""
    accounts.create_user(services, "target", PASSWORD, ["Kasi@unit-a"])
    attempts = [WRONG] * 12

    def attempt(password: str) -> str:
        try:
            sign_in(services, "target", password, now=START)
        except SignInThrottled:
            return "held"
        except Unauthorized:
            return "wrong"
        return "in"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, attempts))
    assert outcomes.count("wrong") == 5 and outcomes.count("held") == 7, outcomes
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(attempt, [PASSWORD] * 4)) == ["held"] * 4
    with services.db.reading() as session:
        user = session.scalar(select(User).where(User.username == "target"))
        assert user is not None and user.failed_logins == 5
        assert user.locked_until == START + timedelta(seconds=1)


def test_a_disabled_account_answers_like_a_wrong_password(client: Any, owner: str,
                                                         make_persona: Callable[..., Persona]) -> None:
    boss = make_persona("boss", admin=True)
    assert client.post(f"/api/users/{owner}/disable", headers=boss.headers).status_code == 200
    refused = token(client, owner, PASSWORD)
    assert refused.status_code == 401 and refused.json["message"] == "Wrong username or password"


def test_hostile_credentials_get_a_4xx_never_a_500(client: Any, owner: str) -> None:
    for username, password in (("kasi.a", "\ud800\udfff-salah"), ("\ud800", PASSWORD), ("kasi.a", "x" * 501),
                               ("k" * 101, PASSWORD), ("kasi.a", "")):
        response = client.post("/api/auth/token", data=json.dumps({"username": username, "password": password}),
                               content_type="application/json")
        assert response.status_code in (401, 422), (username[:5], response.status_code)
    assert token(client, owner, PASSWORD).status_code == 200
