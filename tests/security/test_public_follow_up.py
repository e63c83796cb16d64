"""The public side under attack: parallel secret guessing, the staff unlock, the cost of a secret check,
rate limits shared by every process and keyed by the real client behind a trusted proxy."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update
from support.helpers import PASSWORD, TEST_FORMS, Persona

from service.app import create_app
from service.commands.public import MAX_WRONG_SECRETS
from service.store import ratelimit
from service.store.db import Database
from service.store.models import HistoryEntry, RateLimitCounter, Reporter

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
WRONG = "0000000000000000"


def _file(client: Any) -> dict[str, str]:
    receipt = client.post("/api/public/reports", json={"unit": "unit-a", "definition_key": "review",
                                                       "mode": "anonim", "data": {"judul": "Pungli di loket"}})
    assert receipt.status_code == 201, receipt.json
    return dict(receipt.json)


def _follow(client: Any, code: str, secret: str) -> Any:
    return client.get(f"/api/public/reports/{code}", headers={"X-Report-Secret": secret})


def _reporter(app: Any) -> Reporter:
    with app.extensions["alur.services"].db.reading() as session:
        return session.scalars(select(Reporter)).one()


def _lock(client: Any, code: str) -> None:
    for _ in range(MAX_WRONG_SECRETS):
        assert _follow(client, code, WRONG).status_code == 404
    assert _follow(client, code, WRONG).status_code == 429


def _case_id(client: Any, persona: Persona) -> str:
    (case,) = client.get("/api/cases", headers=persona.headers).json["items"]
    return str(case["id"])


# --- 1. atomic counting ----------------------------------------------------------------------------------

def test_forty_parallel_wrong_secrets_each_count_once_and_lock_at_twenty(app: Any, review: Any) -> None:
    """Before: each request read the count, checked argon2 and wrote count + 1 — on PostgreSQL 40 parallel
    wrong secrets all got 404 and the counter ended at 2."""
    receipt = _file(app.test_client())

    def guess(_: int) -> int:
        return int(_follow(app.test_client(), receipt["tracking_code"], WRONG).status_code)

    with ThreadPoolExecutor(max_workers=40) as pool:
        statuses = Counter(pool.map(guess, range(40)))
    assert statuses == {404: MAX_WRONG_SECRETS, 429: 40 - MAX_WRONG_SECRETS}
    reporter = _reporter(app)
    assert reporter.failed_attempts == MAX_WRONG_SECRETS and reporter.locked_at is not None
    assert _follow(app.test_client(), receipt["tracking_code"], receipt["secret"]).status_code == 429


def test_a_right_secret_clears_the_count_and_the_lock_holds_against_it(client: Any, review: Any) -> None:
    receipt = _file(client)
    for _ in range(MAX_WRONG_SECRETS - 1):
        assert _follow(client, receipt["tracking_code"], WRONG).status_code == 404
    assert _follow(client, receipt["tracking_code"], receipt["secret"]).status_code == 200
    assert _reporter(client.application).failed_attempts == 0
    _lock(client, receipt["tracking_code"])
    assert _follow(client, receipt["tracking_code"], receipt["secret"]).status_code == 429


# --- 2. the staff unlock ------------------------------------------------------------------------------------

def _unlock(client: Any, persona: Persona, case_id: str, reason: str = "Pelapor menelepon, kode dikonfirmasi") -> Any:
    return client.post(f"/api/cases/{case_id}/reporter/unlock", headers=persona.headers, json={"reason": reason})


def test_staff_who_may_reveal_the_identity_unlock_a_locked_code_with_a_reason(
    client: Any, review: Any, staff: dict[str, Persona]
) -> None:
    """Before: a locked code stayed locked for ever."""
    receipt = _file(client)
    case_id = _case_id(client, staff["kasi_a"])
    assert _unlock(client, staff["kasi_a"], case_id).status_code == 409  # not locked
    _lock(client, receipt["tracking_code"])
    task = client.get("/api/tasks", headers=staff["kasi_a"].headers).json["items"][0]
    assert client.post(f"/api/tasks/{task['id']}/complete", headers=staff["kasi_a"].headers,
                       json={"data": {"hasil": "lengkap"}}).status_code == 200

    assert _unlock(client, staff["kasi_b"], case_id).status_code == 404  # another unit: not visible
    assert _unlock(client, staff["kabid_a"], case_id).status_code == 403  # sees it, may not reveal
    short = _unlock(client, staff["kasi_a"], case_id, "kode")
    assert short.status_code == 422 and short.json["errors"][0]["field"] == "reason"
    missing = client.post(f"/api/cases/{case_id}/reporter/unlock", headers=staff["kasi_a"].headers, json={})
    assert missing.status_code == 422 and missing.json["errors"][0]["field"] == "reason"
    assert client.post(f"/api/cases/{case_id}/reporter/unlock", json={"reason": "x" * 20}).status_code == 401

    unlocked = _unlock(client, staff["kasi_a"], case_id)
    assert unlocked.status_code == 200 and unlocked.json == {"locked": False, "failed_attempts": 0}
    assert _follow(client, receipt["tracking_code"], receipt["secret"]).status_code == 200
    with client.application.extensions["alur.services"].db.reading() as session:
        entry = session.scalars(select(HistoryEntry).where(HistoryEntry.action == "follow_up_unlocked")).one()
    assert entry.actor == "kasi.a"
    assert entry.data == {"reason": "Pelapor menelepon, kode dikonfirmasi", "failed_attempts": MAX_WRONG_SECRETS}
    assert _unlock(client, staff["admin_a"], case_id).status_code == 409  # admins may; nothing is locked now


def _web(app: Any, username: str) -> Any:
    web = app.test_client()
    token = _CSRF.search(web.get("/login").get_data(as_text=True))
    assert token is not None
    assert web.post("/login", data={"username": username, "password": PASSWORD,
                                    "csrf_token": token.group(1)}).status_code == 302
    return web


def test_the_case_page_unlocks_the_code_for_those_who_may(app: Any, review: Any, staff: dict[str, Persona]) -> None:
    client = app.test_client()
    receipt = _file(client)
    case_id = _case_id(client, staff["kasi_a"])
    kasi = _web(app, "kasi.a")
    action = f"/cases/{case_id}/pelapor/buka-kunci"
    assert action not in kasi.get(f"/cases/{case_id}").get_data(as_text=True)  # nothing locked
    _lock(client, receipt["tracking_code"])
    page = kasi.get(f"/cases/{case_id}").get_data(as_text=True)
    assert action in page
    csrf = _CSRF.search(page)
    assert csrf is not None
    short = kasi.post(action, data={"reason": "kode", "csrf_token": csrf.group(1)})
    assert short.status_code == 422 and _reporter(app).locked_at is not None
    done = kasi.post(action, data={"reason": "Pelapor datang ke kantor membawa KTP", "csrf_token": csrf.group(1)})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{case_id}#pelapor")
    assert _reporter(app).locked_at is None
    assert _follow(client, receipt["tracking_code"], receipt["secret"]).status_code == 200


# --- 3. a check sized for the secret --------------------------------------------------------------------------

def test_the_secret_hash_is_sized_for_a_random_secret_and_old_hashes_are_replaced(
    client: Any, review: Any
) -> None:
    """Before: the follow-up secret had argon2's password parameters (64 MiB, ~0.26 s of CPU per check)."""
    receipt = _file(client)
    assert _reporter(client.application).secret_hash.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    services = client.application.extensions["alur.services"]
    with services.db.transaction() as session:
        session.execute(update(Reporter).values(secret_hash=PasswordHasher().hash(receipt["secret"])))
    assert _reporter(client.application).secret_hash.startswith("$argon2id$v=19$m=65536,")
    assert _follow(client, receipt["tracking_code"], receipt["secret"]).status_code == 200
    assert _reporter(client.application).secret_hash.startswith("$argon2id$v=19$m=8192,t=1,p=1$")
    assert _follow(client, receipt["tracking_code"], receipt["secret"]).status_code == 200


# --- 4. one quota for every process --------------------------------------------------------------------------

def _app(db_url: str, tmp_path: Path, **settings: Any) -> Any:
    return create_app({"database_url": db_url, "secret_key": "test-secret-key", "forms_dir": TEST_FORMS,
                       "data_dir": tmp_path / "data", "testing": True, **settings})


@pytest.fixture
def apps(db_url: str, tmp_path: Path) -> Iterator[list[Any]]:
    made: list[Any] = []
    yield made
    for app in made:
        app.extensions["alur.services"].db.dispose()


def _submit(app: Any, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return int(app.test_client().post("/api/public/reports", json={}, headers=headers).status_code)


def test_rate_limits_in_the_database_are_one_quota_for_every_process(
    apps: list[Any], db_url: str, tmp_path: Path
) -> None:
    """Before: the limiter counted in process memory only: each server worker or container had its own quota."""
    settings = {"ratelimit_storage_uri": "database://", "public_rate_limit": "3 per minute"}
    first = _app(db_url, tmp_path, **settings)
    apps.append(first)
    assert [_submit(first), _submit(first)] == [422, 422]  # counted, then refused for the empty body
    second = _app(db_url, tmp_path, **settings)  # another process: a fresh limiter storage
    apps.append(second)
    assert [_submit(second), _submit(second)] == [422, 429]
    with second.extensions["alur.services"].db.reading() as session:
        keys = session.scalars(select(RateLimitCounter.key)).all()
    assert keys and not any("127.0.0.1" in key for key in keys)  # a keyed hash of the client, not its address


def test_memory_rate_limits_stay_per_process(apps: list[Any], db_url: str, tmp_path: Path) -> None:
    settings = {"public_rate_limit": "3 per minute"}
    apps.append(_app(db_url, tmp_path, **settings))
    assert [_submit(apps[0]), _submit(apps[0])] == [422, 422]
    apps.append(_app(db_url, tmp_path, **settings))
    assert [_submit(apps[1]), _submit(apps[1])] == [422, 422]


def test_parallel_hits_on_one_counter_each_count_once(db_url: str) -> None:
    database = Database(db_url)
    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            counts = sorted(pool.map(lambda _: ratelimit.hit(database, "LIMITER/k/public/3/1/minute", 60),
                                     range(40)))
        assert counts == list(range(1, 41))
        assert ratelimit.count(database, "LIMITER/k/public/3/1/minute") == 40
        assert ratelimit.clear(database) == 1
    finally:
        database.dispose()


# --- 5. the real client behind a trusted proxy ---------------------------------------------------------------

def test_behind_one_trusted_proxy_each_forwarded_client_has_its_own_quota(
    apps: list[Any], db_url: str, tmp_path: Path
) -> None:
    """Before: behind a proxy every member of the public shared the proxy's address, hence one quota."""
    apps.append(_app(db_url, tmp_path, trusted_proxies=1, public_rate_limit="2 per minute"))
    app = apps[0]
    assert [_submit(app, "198.51.100.1"), _submit(app, "198.51.100.1"), _submit(app, "198.51.100.1")] == \
        [422, 422, 429]
    assert _submit(app, "198.51.100.2") == 422
    # only the address the proxy appended counts: a client's own X-Forwarded-For cannot buy it a new quota
    assert _submit(app, "203.0.113.5, 198.51.100.2") == 422
    assert _submit(app, "203.0.113.6, 198.51.100.2") == 429


def test_without_trusted_proxies_forwarded_for_is_ignored(apps: list[Any], db_url: str, tmp_path: Path) -> None:
    apps.append(_app(db_url, tmp_path, public_rate_limit="2 per minute"))
    app = apps[0]
    assert [_submit(app, "198.51.100.1"), _submit(app, "198.51.100.1")] == [422, 422]
    assert _submit(app, "198.51.100.2") == 429  # the socket's address: one client
