"""Operations: security headers on every response, Secure cookies, messages restricted by role and
bounded per case, one-line business keys, production settings."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from support.helpers import TEST_FORMS

from service.app import create_app
from service.commands.cases import StartRequest, start_case
from service.commands.context import Actor
from service.config import ConfigError, Settings
from service.errors import InvalidInput
from service.store.models import BufferedMessage, ConversationMessage

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# --- security headers -----------------------------------------------------------------------------------

def _assert_common(response: Any) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_api_responses_carry_security_headers_and_a_csp_that_runs_nothing(
    client: Any, admin: Any, review: Any
) -> None:
    """Before: API responses (JSON, errors, files, probes) carried none of these headers."""
    responses = [client.get("/api/definitions", headers=admin.headers), client.get("/api/cases/x"),
                 client.post("/api/public/reports", json={}), client.get("/readyz"), client.get("/metrics"),
                 client.get("/api/openapi.json"), client.get("/api/definitions/review/versions/1/bpmn",
                                                             headers=admin.headers)]
    assert [r.status_code for r in responses] == [200, 401, 422, 200, 200, 200, 200]
    for response in responses:
        _assert_common(response)
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_pages_keep_their_csp_and_get_the_same_headers(client: Any) -> None:
    for page in (client.get("/login"), client.get("/lapor"), client.get("/api/docs")):
        assert page.mimetype == "text/html"
        _assert_common(page)
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    _assert_common(client.get("/tidak-ada"))  # an unknown path: a JSON 404, with the same headers


def test_hsts_over_https_also_through_a_trusted_proxy(app: Any, db_url: str, tmp_path: Path) -> None:
    secure = app.test_client().get("/api/cases", base_url="https://alur.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    proxied = create_app({"database_url": db_url, "secret_key": "k", "forms_dir": TEST_FORMS,
                          "data_dir": tmp_path / "data", "testing": True, "trusted_proxies": 1})
    try:
        behind = proxied.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert behind.headers["Strict-Transport-Security"].startswith("max-age=")
        # without a trusted proxy the header is the client's claim: ignored
        spoofed = app.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" not in spoofed.headers
    finally:
        proxied.extensions["alur.services"].db.dispose()


# --- cookies and production mode -------------------------------------------------------------------------

def test_production_makes_the_session_cookie_secure_and_needs_configured_keys(tmp_path: Path) -> None:
    """Before: the session cookie was Secure only when ALUR_SESSION_COOKIE_SECURE said so, and every process
    generated its own identity key when none was configured."""
    base = {"ALUR_INSTANCE_DIR": str(tmp_path), "ALUR_ENV": "production", "ALUR_SECRET_KEY": "s" * 48,
            "ALUR_IDENTITY_KEYS": "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS0=", "ALUR_DATABASE_URL": "sqlite:///x.db"}
    assert Settings.from_env(base).session_cookie_secure is True
    assert Settings.from_env({**base, "ALUR_SESSION_COOKIE_SECURE": "0"}).session_cookie_secure is False
    assert Settings.from_env({**base, "ALUR_ENV": "development"}).session_cookie_secure is False
    for missing in ("ALUR_SECRET_KEY", "ALUR_IDENTITY_KEYS"):
        with pytest.raises(ConfigError, match=missing):
            Settings.from_env({k: v for k, v in base.items() if k != missing})
    assert not (tmp_path / "identity_keys").exists() and not (tmp_path / "secret_key").exists()
    for name, value in (("ALUR_ENV", "prod"), ("ALUR_TRUSTED_PROXIES", "-1"), ("ALUR_MAX_BUFFERED_MESSAGES", "0"),
                        ("ALUR_RATELIMIT_STORAGE_URI", "sqlite:///x"), ("ALUR_SESSION_COOKIE_SECURE", "maybe")):
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({**base, name: value})


def test_a_session_started_over_https_gets_a_secure_cookie(client: Any) -> None:
    """Before: Secure only when the setting said so, also for a session started over HTTPS."""
    over_https = client.get("/login", base_url="https://alur.example").headers["Set-Cookie"]
    assert "alur_session=" in over_https and "; Secure" in over_https
    assert "Secure" not in client.get("/login").headers["Set-Cookie"]  # plain http on the loopback: dev


def test_a_secure_setting_sends_the_session_cookie_over_https_only(db_url: str, tmp_path: Path) -> None:
    app = create_app({"database_url": db_url, "secret_key": "k", "forms_dir": TEST_FORMS,
                      "data_dir": tmp_path / "data", "testing": True, "session_cookie_secure": True})
    try:
        page = app.test_client().get("/login", base_url="https://alur.example")
        cookie = page.headers["Set-Cookie"]
        assert "alur_session=" in cookie and "Secure" in cookie and "HttpOnly" in cookie
    finally:
        app.extensions["alur.services"].db.dispose()


# --- messages restricted by role and bounded ----------------------------------------------------------------

def _message(client: Any, persona: Any, case_id: str, name: str) -> Any:
    return client.post(f"/api/cases/{case_id}/messages", headers=persona.headers, json={"name": name, "data": {}})


def test_staff_cannot_send_the_reporters_message_nor_one_the_sop_never_catches(
    client: Any, staff: dict[str, Any], start_review: Any
) -> None:
    """Before: staff could send any name, the reporter's ``pesan_pelapor`` included, to any case they saw."""
    case = start_review()
    for name in ("pesan_pelapor", "tidak_ditunggu", "notifikasi_pelapor"):  # the last one the SOP only throws
        refused = _message(client, staff["kasi_a"], case["id"], name)
        assert refused.status_code == 422, (name, refused.json)
        assert [e["field"] for e in refused.json["errors"]] == ["name"]
    assert _message(client, staff["pelapor_b"], case["id"], "pesan_pelapor").status_code == 404  # not visible
    assert _message(client, staff["kasi_a"], case["id"], "informasi_tambahan").status_code == 202


def _bounded(app: Any, limit: int) -> None:
    services = app.extensions["alur.services"]
    services.settings = services.settings.with_overrides({"max_buffered_messages": limit})


def test_buffered_messages_are_bounded_per_case(
    app: Any, client: Any, staff: dict[str, Any], start_review: Any
) -> None:
    """Before: unmatched messages were buffered without limit."""
    _bounded(app, 3)
    case, other = start_review(), start_review()
    assert [_message(client, staff["kasi_a"], case["id"], "informasi_tambahan").status_code
            for _ in range(4)] == [202, 202, 202, 429]
    full = _message(client, staff["kasi_a"], case["id"], "informasi_tambahan")
    assert full.json["code"] == "too_many_buffered_messages" and full.json["errors"][0]["field"] == "name"
    assert _message(client, staff["kasi_a"], other["id"], "informasi_tambahan").status_code == 202  # per case
    with app.extensions["alur.services"].db.reading() as session:
        held = session.scalar(select(func.count()).select_from(BufferedMessage)
                              .where(BufferedMessage.case_id == case["id"]))
    assert held == 3
    # a delivery frees a place: "kurang" makes the case wait for the message, the buffer hands one over
    task = client.get(f"/api/cases/{case['id']}", headers=staff["kasi_a"].headers).json["tasks"][0]
    assert client.post(f"/api/tasks/{task['id']}/complete", headers=staff["kasi_a"].headers,
                       json={"data": {"hasil": "kurang"}}).status_code == 200
    assert _message(client, staff["kasi_a"], case["id"], "informasi_tambahan").status_code == 202


def test_a_reporters_message_beyond_the_bound_still_reaches_the_thread(app: Any, review: Any) -> None:
    _bounded(app, 2)
    client = app.test_client()
    receipt = client.post("/api/public/reports", json={"unit": "unit-a", "definition_key": "review",
                                                       "mode": "anonim", "data": {"judul": "Pungli"}}).json
    headers = {"X-Report-Secret": receipt["secret"]}
    for text in ("satu", "dua", "tiga"):
        sent = client.post(f"/api/public/reports/{receipt['tracking_code']}/messages", headers=headers,
                           json={"text": text})
        assert sent.status_code == 201 and sent.json == {"delivered": False}
    with app.extensions["alur.services"].db.reading() as session:
        assert session.scalars(select(ConversationMessage.text).order_by(ConversationMessage.id)).all() == \
            ["satu", "dua", "tiga"]
        assert session.scalar(select(func.count()).select_from(BufferedMessage)) == 2


# --- business keys ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["DUMAS/1\r\nBcc: semua@contoh.id", "baris\nbaru", "tab\tdan\x00nol", "ls\u2028"])
def test_a_business_key_with_a_line_break_is_refused(
    client: Any, staff: dict[str, Any], review: Any, key: str
) -> None:
    """Before: a business key with CR/LF was stored and reached the Subject of escalation mails."""
    response = client.post("/api/cases", headers=staff["pelapor_a"].headers,
                           json={"definition_key": "review", "business_key": key, "data": {"judul": "x"}})
    assert response.status_code == 422, response.json
    assert [e["field"] for e in response.json["errors"]] == ["business_key"]
    fine = client.post("/api/cases", headers=staff["pelapor_a"].headers,
                       json={"definition_key": "review", "business_key": "DUMAS/001/X/2025 – Desa Tumbang",
                             "data": {"judul": "x"}})
    assert fine.status_code == 201 and fine.json["business_key"] == "DUMAS/001/X/2025 – Desa Tumbang"


def test_the_start_command_refuses_it_too(app: Any, review: Any) -> None:
    services = app.extensions["alur.services"]
    admin = Actor(user_id=0, username="system", is_admin=True, roles_by_unit={})
    with pytest.raises(InvalidInput) as refused:
        start_case(services, admin, StartRequest("review", business_key="a\r\nb", data={"judul": "x"}))
    assert refused.value.details[0]["field"] == "business_key"
