"""Single sign-on for staff (issue 15, item 1) against a real OpenID Connect provider on loopback
(``oidc-provider-mock``: Authlib's provider with its own keys, code flow, PKCE, nonce), never a mock of
Authlib. Alur's side runs unchanged: discovery, the authorization code exchange, the id_token checks."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
from oidc_provider_mock import User, run_server_in_thread
from sqlalchemy import select
from support.helpers import ENGINE_DATA, TEST_FORMS, deploy_file
from support.web import PASSWORD

from service.app import create_app
from service.commands import accounts
from service.commands.cases import StartRequest, start_case
from service.config import Settings, SsoSettings
from service.store.models import Membership, UserEvent
from service.store.models import User as Account
from service.web import sso

UNIT = "dpmptsp-kukar"
SITI = User(sub="siti-001", claims={"preferred_username": "siti", "email": "siti@dpmptsp.example", "name": "Siti",
                                    "groups": [f"Kasi@{UNIT}", "Bogus@nowhere", "not-a-role"]})
LOCAL_NAME = User(sub="budi-002", claims={"preferred_username": "budi", "groups": [f"Kasi@{UNIT}"]})


@pytest.fixture(autouse=True)
def http_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """OAuth 2 wants HTTPS; the provider here listens on plain HTTP on loopback (production: https)."""
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


def _provider(max_age: timedelta = timedelta(hours=1)) -> Any:
    return run_server_in_thread(require_nonce=True, user_claims=[SITI, LOCAL_NAME], access_token_max_age=max_age)


@pytest.fixture
def forms_dir() -> Any:
    return TEST_FORMS  # the forms of review.bpmn


@pytest.fixture
def provider() -> Iterator[str]:
    with _provider() as server:
        yield f"http://localhost:{server.server_port}"


def _app(settings: Settings, provider: str, password_signin: bool = True) -> Any:
    sso_settings = SsoSettings(f"{provider}/.well-known/openid-configuration", "alur", "rahasia-klien",
                               role_claim="groups", scopes="openid email profile", label="SSO Kukar")
    return create_app({"database_url": settings.database_url, "secret_key": settings.secret_key,
                       "forms_dir": settings.forms_dir, "data_dir": settings.data_dir, "testing": True,
                       "sso": sso_settings, "password_signin": password_signin})


@pytest.fixture
def app(settings: Settings, provider: str) -> Iterator[Any]:
    """The web app with single sign-on through ``provider``; the office with the review SOP (a Kasi lane)
    and one open Kasi task."""
    flask_app = _app(settings, provider)
    services = flask_app.extensions["alur.services"]
    accounts.create_unit(services, UNIT, "DPMPTSP Kutai Kartanegara", "Asia/Makassar")
    accounts.create_user(services, "admin", PASSWORD, [], is_admin=True)
    accounts.create_user(services, "budi", PASSWORD, [f"Kasi@{UNIT}"])
    pelapor = accounts.create_user(services, "pelapor", PASSWORD, [f"Pelapor@{UNIT}"])
    client = flask_app.test_client()
    token = client.post("/api/auth/token", json={"username": "admin", "password": PASSWORD}).json["token"]

    class Admin:
        headers = {"Authorization": f"Bearer {token}"}

    deployed = deploy_file(client, Admin(), ENGINE_DATA / "review.bpmn", unit=UNIT)
    assert deployed.status_code == 201, deployed.json
    start_case(services, accounts.actor_by_id(services, pelapor.id),
               StartRequest("review", data={"judul": "Izin usaha dipersulit"}))
    yield flask_app
    services.db.dispose()


def _sso_page(browser: Any, live_server: str, provider: str) -> Any:
    """A browser page that may reach Alur and the provider, nothing else."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server)
    context.set_default_timeout(15_000)
    context.route("**/*", lambda route: route.continue_()
                  if route.request.url.startswith((live_server, provider)) else route.abort())
    return context.new_page()


def test_a_group_claim_becomes_a_role_and_the_user_works_that_lane(app: Any, browser: Any, live_server: str,
                                                                   provider: str) -> None:
    page = _sso_page(browser, live_server, provider)
    page.goto("/login")
    page.click("#sso-sign-in")
    page.wait_for_url(f"{provider}/oauth2/authorize**")
    assert "code_challenge_method=S256" in page.url and "nonce=" in page.url
    page.click("button[name=sub][value='siti-001']")
    page.wait_for_url(f"{live_server}/tasks**")
    assert page.get_by_text("Verifikasi kelengkapan").count() >= 1  # the Kasi lane's open task
    assert page.locator("a", has_text="siti").count() == 1  # the header names the signed-in user

    services = app.extensions["alur.services"]
    with services.db.reading() as session:
        siti = session.scalar(select(Account).where(Account.username == "siti"))
        assert siti is not None and siti.email == "siti@dpmptsp.example"
        assert siti.external_id == f"{provider} siti-001"
        assert [(m.role, m.unit.code, m.source) for m in siti.memberships] == [("Kasi", UNIT, "sso")]
        events = {e.action: e.data for e in session.scalars(select(UserEvent).where(UserEvent.user_id == siti.id))}
    assert events["sso_roles"]["added"] == [f"Kasi@{UNIT}"]
    assert events["sso_roles"]["ignored"] == ["Bogus@nowhere", "not-a-role"]

    # signing out ends the session here and at the provider (RP-initiated logout)
    page.click("form[action$='/logout'] button[type=submit]")
    page.wait_for_url(f"{provider}/oauth2/end_session**")
    assert "id_token_hint=" in page.url
    page.goto("/tasks")
    page.wait_for_url(f"{live_server}/login**")
    page.context.close()


def _alur_redirect(client: Any) -> str:
    started = client.get("/login/sso")
    assert started.status_code == 302, started.text
    return str(started.headers["Location"])


def _authorize(url: str, sub: str) -> str:
    """The provider's consent step, as the browser's form post would do it: the redirect back to Alur."""
    answer = requests.post(url, data={"sub": sub}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return str(answer.headers["Location"])


def _come_back(client: Any, location: str) -> Any:
    parts = urlparse(location)
    return client.get(f"{parts.path}?{parts.query}")


def test_roles_follow_the_claim_at_each_sign_in_and_local_roles_stay(app: Any, provider: str) -> None:
    services = app.extensions["alur.services"]
    client = app.test_client()
    assert _come_back(client, _authorize(_alur_redirect(client), "siti-001")).status_code == 302
    with services.db.transaction() as session:  # an admin gives a local role; the provider drops the Kasi role
        siti = session.scalar(select(Account).where(Account.username == "siti"))
        assert siti is not None
        session.add(Membership(user_id=siti.id, unit_id=siti.memberships[0].unit_id, role="pengawas"))
    requests.put(f"{provider}/users/siti-001", json={"preferred_username": "siti", "groups": []}, timeout=10)
    again = app.test_client()
    assert _come_back(again, _authorize(_alur_redirect(again), "siti-001")).status_code == 302
    with services.db.reading() as session:
        roles = {(m.role, m.source) for m in session.scalars(select(Membership).join(Account)
                                                             .where(Account.username == "siti"))}
    assert roles == {("pengawas", "local")}
    assert again.get("/tasks").status_code == 200


def test_a_provider_name_equal_to_a_local_account_is_refused_not_merged(app: Any, provider: str) -> None:
    client = app.test_client()
    answer = _come_back(client, _authorize(_alur_redirect(client), "budi-002"))
    assert answer.status_code == 409
    assert "tidak terhubung" in answer.text or "not linked" in answer.text
    assert client.get("/tasks").status_code == 302  # not signed in


def test_a_forged_or_replayed_callback_signs_nobody_in(app: Any, provider: str) -> None:
    client = app.test_client()
    location = _authorize(_alur_redirect(client), "siti-001")
    stranger = app.test_client()  # another browser: no state, nonce or PKCE verifier of its own
    assert _come_back(stranger, location).status_code == 401
    parts = urlparse(location)
    query = parse_qs(parts.query)
    tampered = f"{parts.path}?{urlencode({'code': 'not-a-code', 'state': query['state'][0]})}"
    assert client.get(tampered).status_code == 401
    assert client.get("/login/sso/callback?error=access_denied").status_code == 401
    assert client.get("/tasks").status_code == 302


def test_an_expired_id_token_is_refused(settings: Settings) -> None:
    with _provider(max_age=timedelta(minutes=-10)) as server:
        url = f"http://localhost:{server.server_port}"
        expired_app = _app(settings, url)
        client = expired_app.test_client()
        answer = _come_back(client, _authorize(_alur_redirect(client), "siti-001"))
        assert answer.status_code == 401
        assert client.get("/tasks").status_code == 302
        with expired_app.extensions["alur.services"].db.reading() as session:
            assert session.scalar(select(Account).where(Account.username == "siti")) is None
        expired_app.extensions["alur.services"].db.dispose()


def _id_token_for(provider: str, client_id: str, nonce: str) -> dict[str, Any]:
    """A real token response of the provider to ``client_id``, through its code flow."""
    query = {"client_id": client_id, "redirect_uri": "http://localhost/cb", "response_type": "code",
             "scope": "openid", "nonce": nonce, "state": "s1"}
    location = _authorize(f"{provider}/oauth2/authorize?{urlencode(query)}", "siti-001")
    code = parse_qs(urlparse(location).query)["code"][0]
    token = requests.post(f"{provider}/oauth2/token", timeout=10, auth=(client_id, "x"),
                          data={"grant_type": "authorization_code", "code": code,
                                "redirect_uri": "http://localhost/cb"}).json()
    assert "id_token" in token
    return dict(token)


def test_an_id_token_for_another_client_is_refused(app: Any, provider: str) -> None:
    """A real id_token the provider issued to another relying party: Alur's client (the one its callback
    uses) refuses its audience, while the same token issued to Alur passes."""
    nonce = "n-0123456789"
    with app.test_request_context():
        client = app.extensions["alur.sso_client"]
        ours = client.parse_id_token(_id_token_for(provider, "alur", nonce), nonce=nonce, leeway=sso.LEEWAY)
        assert ours["sub"] == "siti-001" and ours["aud"] in ("alur", ["alur"])
        theirs = _id_token_for(provider, "another-app", nonce)
        with pytest.raises(Exception, match=re.compile("aud|azp", re.I)):
            client.parse_id_token(theirs, nonce=nonce, leeway=sso.LEEWAY)
        with pytest.raises(Exception, match=re.compile("nonce", re.I)):
            client.parse_id_token(_id_token_for(provider, "alur", nonce), nonce="another", leeway=sso.LEEWAY)


def test_password_sign_in_can_be_turned_off(settings: Settings, provider: str) -> None:
    closed = _app(settings, provider, password_signin=False)
    services = closed.extensions["alur.services"]
    accounts.create_user(services, "kasi", PASSWORD, [])
    client = closed.test_client()
    page = client.get("/login")
    assert 'id="sso-sign-in"' in page.text and 'name="password"' not in page.text
    token = client.post("/api/auth/token", json={"username": "kasi", "password": PASSWORD})
    assert token.status_code == 403
    services.db.dispose()


def test_the_settings_come_from_the_environment(tmp_path: Any) -> None:
    from service.config import ConfigError

    base = {"ALUR_INSTANCE_DIR": str(tmp_path), "ALUR_SECRET_KEY": "k"}
    found = Settings.from_env({**base, "ALUR_OIDC_DISCOVERY_URL": "https://sso.example/.well-known/openid-configuration",
                               "ALUR_OIDC_CLIENT_ID": "alur", "ALUR_OIDC_CLIENT_SECRET": "s",
                               "ALUR_OIDC_ROLE_CLAIM": "alur_roles", "ALUR_PASSWORD_SIGNIN": "0"})
    assert found.sso is not None and found.sso.role_claim == "alur_roles" and not found.password_signin
    with pytest.raises(ConfigError, match="CLIENT_ID"):
        Settings.from_env({**base, "ALUR_OIDC_DISCOVERY_URL": "https://sso.example/x"})
    with pytest.raises(ConfigError, match="nobody can sign in"):
        Settings.from_env({**base, "ALUR_PASSWORD_SIGNIN": "0"})
    with pytest.raises(ConfigError, match="openid"):
        Settings.from_env({**base, "ALUR_OIDC_DISCOVERY_URL": "https://sso.example/x", "ALUR_OIDC_CLIENT_ID": "a",
                           "ALUR_OIDC_CLIENT_SECRET": "s", "ALUR_OIDC_SCOPES": "email"})


def test_the_login_page_offers_sso_beside_the_password(app: Any, sign_in: Callable[..., Any]) -> None:
    page = app.test_client().get("/login")
    assert "SSO Kukar" in page.text and 'name="password"' in page.text
    assert sign_in("budi").get("/tasks").status_code == 200

