"""Administrasi: accounts and unit settings in the web UI (``service/web/admin.py``).

The walk (issue 14, acceptance 2) runs in Chromium; the access rules, the bad input and the history on
both databases through the test client.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from support.web import PASSWORD, SCREENSHOTS, axe_violations, browser_login, csrf_of, sqlite_only

from service.commands import accounts
from service.commands.context import Services
from service.store.models import Unit, UnitEvent, User, UserEvent

NEW_PASSWORD = "kata-sandi-baru-456"


@pytest.fixture
def offices(app: Any) -> Services:
    """unit-a with a sub-unit, unit-b; a global admin, admin@unit-a, a Kasi of each unit."""
    services: Services = app.extensions["alur.services"]
    accounts.create_unit(services, "unit-a", "Unit A", "Asia/Jakarta")
    accounts.create_unit(services, "unit-a-bidang", "Bidang A", parent="unit-a")
    accounts.create_unit(services, "unit-b", "Unit B", "Asia/Makassar")
    accounts.create_user(services, "admin", PASSWORD, [], is_admin=True)
    accounts.create_user(services, "admin.a", PASSWORD, ["admin@unit-a"])
    accounts.create_user(services, "kasi.a", PASSWORD, ["Kasi@unit-a"])
    accounts.create_user(services, "staf.bidang", PASSWORD, ["Kasi@unit-a-bidang"])
    accounts.create_user(services, "kasi.b", PASSWORD, ["Kasi@unit-b"])
    return services


def user_events(services: Services, username: str) -> list[tuple[str | None, str]]:
    with services.db.reading() as session:
        rows = session.execute(select(UserEvent.actor, UserEvent.action).join(User)
                               .where(User.username == username).order_by(UserEvent.id)).all()
    return [(actor, action) for actor, action in rows]


def unit_events(services: Services, code: str) -> list[tuple[str | None, str]]:
    with services.db.reading() as session:
        rows = session.execute(select(UnitEvent.actor, UnitEvent.action).join(Unit, Unit.id == UnitEvent.unit_id)
                               .where(Unit.code == code).order_by(UnitEvent.id)).all()
    return [(actor, action) for actor, action in rows]


def post(client: Any, page: str, target: str, **fields: str) -> Any:
    """A form of ``page`` sent to ``target`` with the page's CSRF token."""
    return client.post(target, data={"csrf_token": csrf_of(client.get(page).text), **fields})


# --- the walk ---------------------------------------------------------------------------------------

@sqlite_only
def test_an_admin_creates_a_user_who_changes_the_password_and_is_deactivated(
        app: Any, offices: Services, new_page: Callable[..., Any]) -> None:
    admin = new_page()
    browser_login(admin, "admin")
    admin.get_by_role("link", name="Administrasi").click()
    admin.wait_for_url("**/admin/pengguna")
    admin.fill("#new-username", "staf.baru")
    admin.fill("#new-email", "staf.baru@katingan.go.id")
    admin.fill("#new-role", "Kasi")
    admin.select_option("#new-unit", "unit-a")
    admin.get_by_role("button", name="Buat pengguna").click()
    temporary = admin.locator("#temporary-password").inner_text().strip()
    assert len(temporary) >= 8
    assert "Kasi@unit-a" in admin.locator("#roles").inner_text()
    assert admin.locator("#user-email").inner_text() == "staf.baru@katingan.go.id"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    admin.screenshot(path=str(SCREENSHOTS / "admin-user.png"), full_page=True)

    user = new_page()
    browser_login(user, "staf.baru", temporary)
    user.get_by_role("link", name="staf.baru").click()  # the user menu: one's own password
    user.fill("#old_password", temporary)
    user.fill("#new_password", NEW_PASSWORD)
    user.fill("#confirm_password", NEW_PASSWORD)
    user.get_by_role("button", name="Ubah kata sandi").click()
    user.locator("#password-done").wait_for()
    api = app.test_client()
    token = api.post("/api/auth/token", json={"username": "staf.baru", "password": NEW_PASSWORD}).json["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/tasks", headers=bearer).status_code == 200

    admin.goto("/admin/pengguna/staf.baru")  # the page the create form answered with is not reloaded: no resend
    admin.get_by_role("button", name="Nonaktifkan").click()
    admin.locator("#admin-done").wait_for()
    assert admin.locator("#user-status").inner_text().startswith("nonaktif")

    user.goto("/tasks")
    user.wait_for_url(re.compile(r".*/login.*"))  # the session ended at once
    assert api.get("/api/tasks", headers=bearer).status_code == 401  # and so did the token
    assert user_events(offices, "staf.baru") == [
        ("admin", "created"), ("staf.baru", "password_changed"), ("admin", "disabled")]
    assert admin.console_errors == [] and user.console_errors == []


@sqlite_only
def test_the_admin_pages_have_no_serious_axe_violations_and_fit_a_phone(
        offices: Services, new_page: Callable[..., Any]) -> None:
    page = new_page(bypass_csp=True)  # axe-core is injected inline
    browser_login(page, "admin")
    for path in ("/admin/pengguna", "/admin/pengguna/kasi.a", "/admin/unit", "/admin/unit/unit-a"):
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(path)
        if path == "/admin/unit/unit-a":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "admin-unit.png"), full_page=True)
        assert axe_violations(page) == [], path
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path


# --- who may ----------------------------------------------------------------------------------------

def test_the_admin_forms_need_the_csrf_token_and_speak_english_on_request(
        offices: Services, sign_in: Callable[..., Any]) -> None:
    admin = sign_in("admin")
    assert admin.post("/admin/pengguna/kasi.a/nonaktifkan").status_code == 400
    assert admin.post("/admin/unit/unit-a/jam-kerja", data={"csrf_token": "forged"}).status_code == 400
    assert user_events(offices, "kasi.a") == [(None, "created")]
    page = admin.get("/admin/unit/unit-a")
    assert "Jam kerja" in page.text and "Senin" in page.text
    admin.post("/language", data={"lang": "en", "next": "/admin", "csrf_token": csrf_of(page.text)})
    assert "Office hours" in admin.get("/admin/unit/unit-a").text


def test_staff_get_403_on_the_administration(offices: Services, sign_in: Callable[..., Any]) -> None:
    kasi = sign_in("kasi.a")
    assert "Administrasi" not in kasi.get("/tasks").text
    for path in ("/admin/pengguna", "/admin/pengguna/kasi.a", "/admin/unit", "/admin/unit/unit-a"):
        assert kasi.get(path).status_code == 403, path
    token = csrf_of(kasi.get("/tasks").text)
    refused = kasi.post("/admin/unit/unit-a/jam-kerja", data={"csrf_token": token, "open_0": "1",
                                                               "opens_0": "07:00", "closes_0": "15:00"})
    assert refused.status_code == 403
    assert kasi.post("/admin/pengguna", data={"csrf_token": token, "username": "x.y", "role": "Kasi",
                                              "unit": "unit-a"}).status_code == 403
    assert user_events(offices, "kasi.a") == [(None, "created")]
    assert unit_events(offices, "unit-a") == [(None, "created"), (None, "sub_unit_created")]


def test_a_unit_admin_manages_only_its_units_and_sub_units(offices: Services, sign_in: Callable[..., Any]) -> None:
    unit_admin = sign_in("admin.a")
    assert "Administrasi" in unit_admin.get("/tasks").text
    listed = unit_admin.get("/admin/pengguna").text
    assert "kasi.a" in listed and "staf.bidang" in listed and "kasi.b" not in listed
    assert unit_admin.get("/admin/pengguna/kasi.b").status_code == 404  # another unit's user is not shown
    page = "/admin/pengguna/kasi.a"
    assert post(unit_admin, page, "/admin/pengguna/kasi.b/nonaktifkan").status_code == 404
    assert post(unit_admin, page, "/admin/pengguna/admin/sandi", password=NEW_PASSWORD).status_code == 404
    assert post(unit_admin, "/admin/pengguna", "/admin/pengguna", username="staf.b", role="Kasi",
                unit="unit-b").status_code == 403
    assert post(unit_admin, page, "/admin/pengguna/kasi.a/peran", role="Kasi", unit="unit-b").status_code == 403
    assert unit_admin.get("/admin/unit/unit-b").status_code == 403
    assert unit_admin.get("/admin/pengguna?unit=unit-b").status_code == 403
    # the sub-unit's user and calendar are the office admin's
    assert post(unit_admin, "/admin/pengguna/staf.bidang", "/admin/pengguna/staf.bidang/nonaktifkan").status_code \
        == 303
    assert unit_admin.get("/admin/unit/unit-a-bidang").status_code == 200
    assert user_events(offices, "kasi.b") == [(None, "created")]


# --- bad input --------------------------------------------------------------------------------------

def test_bad_input_shows_an_indonesian_error_and_saves_nothing(offices: Services,
                                                               sign_in: Callable[..., Any]) -> None:
    admin = sign_in("admin")
    unit_page = "/admin/unit/unit-a"
    before = admin.get(unit_page).text
    assert 'value="08:00"' in before  # the default hours, Monday to Friday
    bad = post(admin, unit_page, f"{unit_page}/jam-kerja", open_0="1", opens_0="07:30", closes_0="16:00",
               open_1="1", opens_1="16:00", closes_1="08:00")
    assert bad.status_code == 422
    assert 'id="error_1"' in bad.text and "jam buka sebelum jam tutup" in bad.text
    assert 'id="error_0"' not in bad.text and 'value="07:30"' in bad.text  # what was typed stays
    with offices.db.reading() as session:
        assert session.scalar(select(Unit.working_hours).where(Unit.code == "unit-a")) is None
    empty = post(admin, unit_page, f"{unit_page}/jam-kerja", open_2="1", opens_2="", closes_2="16:00")
    assert empty.status_code == 422 and 'id="error_2"' in empty.text

    assert post(admin, unit_page, f"{unit_page}/libur", day="bukan-tanggal", kind="libur_kantor").status_code == 422
    assert post(admin, unit_page, f"{unit_page}/sub-unit", code="Huruf Besar", name="X").status_code == 422
    taken = post(admin, unit_page, f"{unit_page}/sub-unit", code="unit-b", name="Lagi")
    assert taken.status_code == 409 and "sudah ada" in taken.text

    users_page = "/admin/pengguna"
    for fields, field, status in (({"username": "dua kata"}, "username", 422),
                                  ({"email": "bukan-surel"}, "email", 422),
                                  ({"password": "pendek"}, "password", 422),
                                  ({"role": ""}, "role", 422),
                                  ({"username": "kasi.a"}, "username", 409),
                                  ({"unit": "tidak-ada"}, "unit", 404)):
        sent = {"username": "staf.baru", "email": "", "role": "Kasi", "unit": "unit-a", "password": "",
                "display_name": "<b>Staf</b>", **fields}
        response = post(admin, users_page, users_page, **sent)
        assert response.status_code == status, fields
        assert f'id="new-{field}-error"' in response.text, fields
        assert "<b>Staf</b>" not in response.text  # escaped
    with offices.db.reading() as session:
        assert session.scalar(select(User).where(User.username == "staf.baru")) is None
    assert unit_events(offices, "unit-a") == [(None, "created"), (None, "sub_unit_created")]


# --- the history ------------------------------------------------------------------------------------

def test_every_action_is_in_the_account_or_unit_history(offices: Services, sign_in: Callable[..., Any]) -> None:
    admin = sign_in("admin.a")
    created = post(admin, "/admin/pengguna", "/admin/pengguna", username="staf.baru", email="staf@a.go.id",
                   role="pengawas", unit="unit-a", password="")
    assert created.status_code == 200 and 'id="temporary-password"' in created.text
    page = "/admin/pengguna/staf.baru"
    for target, fields in ((f"{page}/peran", {"role": "approver", "unit": "unit-a"}),
                           (f"{page}/peran/hapus", {"role": "approver@unit-a"}),
                           (f"{page}/nonaktifkan", {}), (f"{page}/aktifkan", {}), (f"{page}/buka-kunci", {})):
        assert post(admin, page, target, **fields).status_code == 303, target
    reset = post(admin, page, f"{page}/sandi", password=NEW_PASSWORD)
    assert reset.status_code == 200 and 'id="temporary-password"' not in reset.text
    last = post(admin, page, f"{page}/peran/hapus", role="pengawas@unit-a")
    assert last.status_code == 409 and 'id="remove-error"' in last.text  # its last role stays
    assert user_events(offices, "staf.baru") == [
        ("admin.a", action) for action in ("created", "role_added", "role_removed", "disabled", "enabled",
                                           "unlocked", "password_reset")]
    shown = admin.get(page).text
    assert "Peran ditambahkan" in shown and "Kata sandi diatur ulang" in shown

    unit_page = "/admin/unit/unit-a"
    assert post(admin, unit_page, f"{unit_page}/jam-kerja", open_0="1", opens_0="07:30",
                closes_0="16:00").status_code == 303
    assert post(admin, unit_page, f"{unit_page}/libur", day="2026-12-24", kind="cuti_bersama",
                note="Cuti bersama Natal").status_code == 303
    assert post(admin, unit_page, f"{unit_page}/libur", day="2026-12-24",
                kind="libur_kantor").status_code == 409  # the same day twice
    assert post(admin, unit_page, f"{unit_page}/libur/hapus", day="2026-12-24").status_code == 303
    assert post(admin, unit_page, f"{unit_page}/sub-unit", code="unit-a-bidang-2", name="Bidang 2").status_code == 303
    assert unit_events(offices, "unit-a")[2:] == [
        ("admin.a", action) for action in ("hours_set", "closed_day_added", "closed_day_removed",
                                           "sub_unit_created")]
    assert unit_events(offices, "unit-a-bidang-2") == [("admin.a", "created")]
    with offices.db.reading() as session:
        assert session.scalar(select(Unit.working_hours).where(Unit.code == "unit-a")) == {"0": ["07:30", "16:00"]}
    assert "Jam kerja diubah" in admin.get(unit_page).text
