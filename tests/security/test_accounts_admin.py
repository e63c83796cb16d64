"""Account administration: the users API (global admins, ``admin@UNIT``), the user's own password on the
API and the web (``/akun/sandi``), the ``alur users`` commands, and the account history."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from click.testing import CliRunner
from sqlalchemy import select
from support.helpers import PASSWORD, Persona
from support.web import csrf_of

from service.cli import main
from service.commands import accounts
from service.commands.context import Services
from service.errors import Unauthorized
from service.store.models import User, UserEvent

NEW_PASSWORD = "kata-sandi-baru-456"


@pytest.fixture
def people(make_persona: Callable[..., Persona], units: dict[str, str]) -> dict[str, Persona]:
    return {
        "boss": make_persona("boss", admin=True),
        "admin_a": make_persona("admin.a", "admin@unit-a"),
        "kasi_a": make_persona("kasi.a", "Kasi@unit-a"),
        "both": make_persona("kasi.ab", "Kasi@unit-a", "Kasi@unit-b"),
    }


def events(services: Services, username: str) -> list[tuple[str | None, str]]:
    with services.db.reading() as session:
        rows = session.execute(select(UserEvent.actor, UserEvent.action).join(User)
                               .where(User.username == username).order_by(UserEvent.id)).all()
    return [(actor, action) for actor, action in rows]


def test_a_global_admin_creates_lists_and_administers_accounts(app: Any, client: Any,
                                                               people: dict[str, Persona]) -> None:
    boss = people["boss"].headers
    created = client.post("/api/users", headers=boss, json={
        "username": "sekretariat.b", "password": PASSWORD, "email": "sekretariat@kukar.go.id",
        "display_name": "Sekretariat B", "roles": ["Sekretariat@unit-b", "Kasi@unit-b"]})
    assert created.status_code == 201, created.json
    assert created.json["roles"] == ["Kasi@unit-b", "Sekretariat@unit-b"]
    assert created.json["email"] == "sekretariat@kukar.go.id" and "password" not in created.json
    listed = client.get("/api/users", headers=boss)
    assert listed.status_code == 200
    assert [u["username"] for u in listed.json] == ["admin.a", "boss", "kasi.a", "kasi.ab", "sekretariat.b"]
    for action in ("disable", "enable", "unlock"):
        assert client.post(f"/api/users/sekretariat.b/{action}", headers=boss).status_code == 200, action
    reset = client.post("/api/users/sekretariat.b/password", headers=boss, json={"password": NEW_PASSWORD})
    assert reset.status_code == 200 and reset.json["active"] is True
    assert events(app.extensions["alur.services"], "sekretariat.b") == [
        ("boss", "created"), ("boss", "disabled"), ("boss", "enabled"), ("boss", "unlocked"),
        ("boss", "password_reset")]


def test_the_users_api_refuses_bad_requests(client: Any, people: dict[str, Persona]) -> None:
    boss = people["boss"].headers
    new = {"username": "baru", "password": PASSWORD, "roles": ["Kasi@unit-a"]}
    assert client.post("/api/users", json=new).status_code == 401
    assert client.post("/api/users", headers=boss, json={**new, "username": "kasi.a"}).status_code == 409
    for bad in ({"password": "pendek"}, {"username": "dua kata"}, {"username": "x\ny"}, {"roles": ["Kasi"]},
                {"email": "bukan-surel"}, {"password": "x" * 501}):
        response = client.post("/api/users", headers=boss, json={**new, **bad})
        assert response.status_code == 422 and response.json["errors"], bad
    assert client.post("/api/users", headers=boss, json={**new, "roles": ["Kasi@tidak-ada"]}).status_code == 404
    assert client.post("/api/users/tidak-ada/disable", headers=boss).status_code == 404
    assert client.post("/api/users/boss/disable", headers=boss).status_code == 409  # not oneself
    own = client.post("/api/users/boss/password", headers=boss, json={"password": NEW_PASSWORD})
    assert own.status_code == 409  # one's own password needs the old one
    assert client.post("/api/users/kasi.a/password", headers=boss, json={"password": "pendek"}).status_code == 422
    assert client.post("/api/users/kasi.a/password", headers=boss, json={}).status_code == 422


def test_staff_may_not_administer_accounts(client: Any, people: dict[str, Persona]) -> None:
    kasi = people["kasi_a"].headers
    assert client.get("/api/users", headers=kasi).status_code == 403
    assert client.post("/api/users/kasi.ab/disable", headers=kasi).status_code == 403
    assert client.post("/api/users", headers=kasi, json={"username": "baru", "password": PASSWORD,
                                                         "roles": ["Kasi@unit-a"]}).status_code == 403


def test_a_unit_admin_administers_only_users_wholly_in_its_units(client: Any, people: dict[str, Persona]) -> None:
    unit_admin = people["admin_a"].headers
    listed = client.get("/api/users", headers=unit_admin)
    assert [u["username"] for u in listed.json] == ["admin.a", "kasi.a"]  # not the global admin, nor kasi.ab
    assert client.post("/api/users/kasi.a/disable", headers=unit_admin).status_code == 200
    for username in ("kasi.ab", "boss"):  # a membership elsewhere; a global admin: not shown to exist
        assert client.post(f"/api/users/{username}/disable", headers=unit_admin).status_code == 404
        assert client.post(f"/api/users/{username}/password", headers=unit_admin,
                           json={"password": NEW_PASSWORD}).status_code == 404
    new = {"username": "staf.a", "password": PASSWORD, "roles": ["Kasi@unit-a"]}
    assert client.post("/api/users", headers=unit_admin, json=new).status_code == 201
    assert client.post("/api/users", headers=unit_admin, json={**new, "username": "staf.b",
                                                               "roles": ["Kasi@unit-b"]}).status_code == 403
    assert client.post("/api/users", headers=unit_admin, json={**new, "username": "super",
                                                               "is_admin": True}).status_code == 403
    assert client.post("/api/users", headers=unit_admin, json={**new, "username": "tanpa-peran",
                                                               "roles": []}).status_code == 422


def test_changing_ones_own_password_needs_the_old_one(app: Any, client: Any, people: dict[str, Persona]) -> None:
    kasi = people["kasi_a"].headers
    wrong = client.post("/api/auth/password", headers=kasi,
                        json={"old_password": "salah-salah", "new_password": NEW_PASSWORD})
    assert wrong.status_code == 422 and wrong.json["errors"] == [{"field": "old_password", "message": "wrong"}]
    short = client.post("/api/auth/password", headers=kasi, json={"old_password": PASSWORD, "new_password": "x"})
    assert short.status_code == 422 and short.json["errors"][0]["field"] == "new_password"
    assert client.post("/api/auth/password", json={"old_password": PASSWORD,
                                                   "new_password": NEW_PASSWORD}).status_code == 401
    assert client.post("/api/auth/password", headers=kasi, json={"old_password": PASSWORD}).status_code == 422
    with time_machine.travel(datetime.now(UTC), tick=False):
        for _ in range(4):  # the old password is guessed through the sign-in throttle
            client.post("/api/auth/password", headers=kasi,
                        json={"old_password": "salah-salah", "new_password": NEW_PASSWORD})
        held = client.post("/api/auth/password", headers=kasi, json={"old_password": PASSWORD,
                                                                     "new_password": NEW_PASSWORD})
        assert held.status_code == 429 and held.headers["Retry-After"] == "1"


def _password_form(browser: Any, **fields: str) -> Any:
    page = browser.get("/akun/sandi")
    assert page.status_code == 200 and "Ubah kata sandi" in page.text
    return browser.post("/akun/sandi", data={"csrf_token": csrf_of(page.text), **fields})


def test_the_web_password_page(app: Any, people: dict[str, Persona]) -> None:
    assert app.test_client().get("/akun/sandi").status_code == 302  # signed-in users only
    browser, other = app.test_client(), app.test_client()
    for each in (browser, other):
        form = {"username": "kasi.a", "password": PASSWORD, "csrf_token": csrf_of(each.get("/login").text)}
        assert each.post("/login", data=form).status_code == 302
    assert browser.post("/akun/sandi", data={"old_password": PASSWORD, "new_password": NEW_PASSWORD,
                                             "confirm_password": NEW_PASSWORD}).status_code == 400  # no CSRF
    wrong = _password_form(browser, old_password="salah-salah", new_password=NEW_PASSWORD,
                           confirm_password=NEW_PASSWORD)
    assert wrong.status_code == 422 and "Kata sandi lama salah." in wrong.text
    differ = _password_form(browser, old_password=PASSWORD, new_password=NEW_PASSWORD, confirm_password="lain")
    assert differ.status_code == 422 and "konfirmasinya berbeda" in differ.text
    short = _password_form(browser, old_password=PASSWORD, new_password="pendek", confirm_password="pendek")
    assert short.status_code == 422 and "8 sampai 500 karakter" in short.text
    done = _password_form(browser, old_password=PASSWORD, new_password=NEW_PASSWORD,
                          confirm_password=NEW_PASSWORD)
    assert done.status_code == 200 and "Kata sandi Anda telah diubah" in done.text
    assert browser.get("/tasks").status_code == 200  # this browser stays signed in
    assert other.get("/tasks").status_code == 302  # every other session ended
    assert events(app.extensions["alur.services"], "kasi.a")[-1] == ("kasi.a", "password_changed")


@pytest.fixture
def alur(services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``alur …`` in this process, on the test database."""
    monkeypatch.setenv("ALUR_DATABASE_URL", services.settings.database_url)
    monkeypatch.setenv("ALUR_SECRET_KEY", services.settings.secret_key)
    monkeypatch.setenv("ALUR_INSTANCE_DIR", str(tmp_path / "instance"))
    runner = CliRunner()

    def run(*args: str, input: str | None = None, ok: bool = True) -> Any:
        result = runner.invoke(main, list(args), input=input)
        assert (result.exit_code == 0) == ok, (args, result.output, result.exception)
        return result

    return run


def test_the_users_commands(services: Services, alur: Callable[..., Any], units: Any) -> None:
    alur("users", "create", "kasi.a", "--role", "Kasi@unit-a", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert accounts.authenticate(services, "kasi.a", PASSWORD).username == "kasi.a"
    alur("users", "disable", "kasi.a")
    with pytest.raises(Unauthorized):
        accounts.authenticate(services, "kasi.a", PASSWORD)
    alur("users", "enable", "kasi.a")
    alur("users", "password", "kasi.a", "--password-file", "-", input=f"{NEW_PASSWORD}\n")
    assert accounts.authenticate(services, "kasi.a", NEW_PASSWORD).username == "kasi.a"
    alur("users", "password", "kasi.a", input="lagi-baru-789\nlagi-baru-789\n")  # a hidden prompt, twice
    assert accounts.authenticate(services, "kasi.a", "lagi-baru-789").username == "kasi.a"
    alur("users", "unlock", "kasi.a")
    assert "No such option" in alur("users", "password", "kasi.a", "--password", "x", ok=False).output
    assert "does not exist" in alur("users", "disable", "tidak-ada", ok=False).output
    assert "at least 8" in alur("users", "password", "kasi.a", "--password-file", "-", input="pendek\n",
                                ok=False).output
    assert [action for _, action in events(services, "kasi.a")] == [
        "created", "disabled", "enabled", "password_reset", "password_reset", "unlocked"]
    assert {actor for actor, _ in events(services, "kasi.a")} == {"system:cli"}
