"""Perlu perhatian Anda: a breached SLA step reaches its escalation target in the app, not only by mail.

The bundled WBS of DPMPTSP Kukar: langkah 2 (Kasi, 5 menit kerja) escalates to the Kabid. The case starts
on the frozen clock of the SOP tests, the clock moves just past the step's due time and the worker sweeps
once, mailing through a real SMTP server on loopback. The Kabid then finds the case under the bell and
on the task list (Chromium, 1280 and 390 px, axe-core); the Kasi gets the overdue notice; a Kabid of
another office and another role of the same office get nothing. Opening the case reads the notice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from support.smtp import smtp_server
from support.sop_driver import START, form, instant, unit_of
from support.web import PASSWORD, SCREENSHOTS, axe_violations, browser_login, csrf_of, sqlite_only

from service.catalogue import BUNDLED_OFFICES, SUB_UNITS
from service.commands import accounts
from service.commands.accounts import actor_by_id
from service.commands.cases import StartRequest, start_case_view
from service.commands.context import Services
from service.commands.display import case_label
from service.mail import SMTPMailer
from service.store.db import Database
from service.store.models import Case, Notification, User
from service.worker.loop import run_once

ROOT = Path(__file__).resolve().parents[2]
WBS = ROOT / "bpmn" / "wbs-dpmptsp-kukar.bpmn"
SURAT_KELUAR = ROOT / "bpmn" / "surat-keluar.bpmn"  # called by the WBS: deployed first
UNIT = "dpmptsp-kukar"
STEP = "Memeriksa aduan dari kotak pengaduan/website"
ESCALATION_SUBJECT = "Batas waktu SOP terlewati"
#: username → the role it holds (ROLE@UNIT) and its mail address
PEOPLE = {
    "pelapor": ("Pelapor@dpmptsp-kukar", None),
    "kasi": ("Kasi@dpmptsp-kukar", "kasi@contoh.go.id"),
    "kabid": ("Kabid@dpmptsp-kukar", "kabid@contoh.go.id"),
    "bidang": ("Bidang Terkait@dpmptsp-kukar", "bidang@contoh.go.id"),
    "kabid.lamandau": ("Kabid@dpmptsp-lamandau", "kabid.lamandau@contoh.go.id"),
}


@dataclass
class Breach:
    """A WBS case whose langkah 2 breached, the mail the worker sent, and who is who."""

    services: Services
    case_id: str
    task_id: str
    label: str
    users: dict[str, int]
    mails: list[Any]

    def notices(self) -> list[tuple[str, str, str | None]]:
        """(username, kind, task id) of every notification stored, in order."""
        with self.services.db.reading() as session:
            rows = session.execute(select(User.username, Notification.kind, Notification.task_id)
                                   .join(User, User.id == Notification.user_id).order_by(Notification.id)).all()
            return [(username, kind, task_id) for username, kind, task_id in rows]


def _deploy(client: Any, token: str, path: Path) -> None:
    with path.open("rb") as handle:
        response = client.post("/api/definitions", headers={"Authorization": f"Bearer {token}"},
                               data={"bpmn": (handle, path.name), "unit": unit_of(path)},
                               content_type="multipart/form-data")
    assert response.status_code == 201, response.json


@pytest.fixture
def breach(app: Any) -> Breach:
    """The case breached on the frozen clock; the test runs on the real one again (session cookies)."""
    services: Services = app.extensions["alur.services"]
    for office in BUNDLED_OFFICES:
        accounts.create_unit(services, office.code, office.name, office.timezone)
        for sub in SUB_UNITS.get(office.code, ()):
            accounts.create_unit(services, sub.code, sub.name, sub.timezone, parent=office.code)
    accounts.create_user(services, "admin", PASSWORD, [], is_admin=True)
    users = {name: accounts.create_user(services, name, PASSWORD, [role], email=email).id
             for name, (role, email) in PEOPLE.items()}
    client = app.test_client()
    token = client.post("/api/auth/token", json={"username": "admin", "password": PASSWORD}).json["token"]
    _deploy(client, token, SURAT_KELUAR)
    _deploy(client, token, WBS)
    with smtp_server() as (handler, port), time_machine.travel(START, tick=False) as clock:
        services.settings = services.settings.with_overrides({"smtp_host": "127.0.0.1", "smtp_port": port})
        mailer = SMTPMailer(services.settings)
        reporter = actor_by_id(services, users["pelapor"])
        view = start_case_view(services, reporter, StartRequest(WBS.stem, business_key="WBS/UJI/001",
                                                                data=form("wbs-kukar-pengaduan")))
        (task,) = view.tasks
        assert task.name == STEP and task.due_at is not None
        run_once(services, mailer=mailer)  # the new task's mail to the Kasi; no timer is due yet
        assert _count(services) == 0
        clock.move_to(instant(task.due_at.isoformat()) + timedelta(seconds=1))
        assert run_once(services, mailer=mailer) is True
        mails = [m for m in handler.messages if str(m["Subject"]).startswith(ESCALATION_SUBJECT)]
    with services.db.reading() as session:
        case = session.get(Case, view.case.id)
        assert case is not None
        label = case_label(case)
    return Breach(services, view.case.id, task.id, label, users, mails)


def _count(services: Services) -> int:
    with services.db.reading() as session:
        return len(session.scalars(select(Notification.id)).all())


def test_the_breach_notifies_the_escalation_target_and_the_steps_own_role_exactly_once(
        breach: Breach, settings: Any) -> None:
    assert sorted(breach.notices()) == [("kabid", "escalation", breach.task_id), ("kasi", "overdue", breach.task_id)]
    assert [m["To"] for m in breach.mails] == ["kabid@contoh.go.id"]  # the mail goes to the same people, as today
    with breach.services.db.reading() as session:
        note = session.scalars(select(Notification).where(Notification.kind == "escalation")).one()
        assert note.read_at is None and note.case_id == breach.case_id
        assert note.data["step"] == STEP and note.data["label"] == breach.label and note.data["role"] == "Kabid"
        assert note.data["due_at"]

    # the sweep again, later, and a restarted worker (its own connection pool): nothing is added
    with time_machine.travel(START + timedelta(days=3), tick=False):
        assert run_once(breach.services) is False
        restarted = Services(db=Database(settings.database_url), settings=breach.services.settings)
        try:
            assert run_once(restarted) is False
            with restarted.db.reading() as session:
                assert len(session.scalars(select(Notification.id)).all()) == 2
        finally:
            restarted.db.dispose()
    assert len(breach.notices()) == 2


def test_the_kabid_sees_the_bell_and_the_case_the_others_see_nothing(
        breach: Breach, sign_in: Callable[..., Any]) -> None:
    kabid = sign_in("kabid")
    tasks = kabid.get("/tasks")
    assert tasks.status_code == 200
    assert 'aria-label="1 notifikasi belum dibaca"' in tasks.text
    assert '<span class="bell-count" aria-hidden="true">1</span>' in tasks.text
    assert "Perlu perhatian Anda" in tasks.text and f'href="/cases/{breach.case_id}"' in tasks.text
    listed = kabid.get("/notifikasi")
    assert listed.status_code == 200 and breach.label in listed.text and STEP in listed.text
    assert "Dieskalasi ke Kabid" in listed.text

    kasi = sign_in("kasi")  # the step's own role: overdue, on its list too
    page = kasi.get("/tasks").text
    assert 'aria-label="1 notifikasi belum dibaca"' in page and "Langkah Anda melewati Waktu SOP" in page

    for other in ("bidang", "kabid.lamandau"):
        page = sign_in(other).get("/tasks").text
        assert 'aria-label="0 notifikasi belum dibaca"' in page, other
        assert "bell-count" not in page and "Perlu perhatian Anda" not in page, other
        assert breach.case_id not in sign_in(other).get("/notifikasi").text, other


def test_marking_read_needs_the_csrf_token_and_only_reaches_the_users_own(
        breach: Breach, sign_in: Callable[..., Any]) -> None:
    with breach.services.db.reading() as session:
        ids = {kind: note_id for kind, note_id in session.execute(select(Notification.kind, Notification.id))}
    kabid, kasi = sign_in("kabid"), sign_in("kasi")
    token = csrf_of(kabid.get("/notifikasi").text)
    assert kabid.post(f"/notifikasi/{ids['escalation']}/baca").status_code == 400  # no CSRF token
    assert kabid.post(f"/notifikasi/{ids['overdue']}/baca", data={"csrf_token": token}).status_code == 404
    assert kabid.post("/notifikasi/999999/baca", data={"csrf_token": token}).status_code == 404
    done = kabid.post(f"/notifikasi/{ids['escalation']}/baca", data={"csrf_token": token, "next": "https://evil.example/"})
    assert done.status_code == 302 and done.headers["Location"] == "/notifikasi"
    assert 'aria-label="0 notifikasi belum dibaca"' in kabid.get("/tasks").text
    assert "Perlu perhatian Anda" in kabid.get("/tasks").text  # read, but the step is still open
    kasi_token = csrf_of(kasi.get("/notifikasi").text)
    assert kasi.post("/notifikasi/baca-semua", data={"csrf_token": kasi_token}).status_code == 302
    assert 'aria-label="0 notifikasi belum dibaca"' in kasi.get("/tasks").text


def test_the_attention_list_empties_once_the_step_is_done(breach: Breach, sign_in: Callable[..., Any]) -> None:
    kasi = sign_in("kasi")
    assert kasi.post(f"/tasks/{breach.task_id}/complete", json={"data": form("wbs-kukar-pemeriksaan")},
                     headers={"X-CSRFToken": csrf_of(kasi.get("/tasks").text)}).status_code == 200
    page = sign_in("kabid").get("/tasks").text
    assert "Perlu perhatian Anda" not in page
    assert 'aria-label="1 notifikasi belum dibaca"' in page  # the notice itself stays until read
    assert "langkah sudah selesai" in sign_in("kabid").get("/notifikasi").text


@sqlite_only
def test_the_kabid_opens_the_case_from_the_bell_in_chromium(breach: Breach, new_page: Callable[..., Any]) -> None:
    page = new_page(bypass_csp=True)  # axe-core is injected inline
    browser_login(page, "kabid")
    bell = page.locator("#bell")
    assert bell.get_attribute("aria-label") == "1 notifikasi belum dibaca"
    assert bell.locator(".bell-count").inner_text() == "1"
    section = page.get_by_role("region", name="Perlu perhatian Anda")
    assert section.locator("a", has_text=breach.label).count() == 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "perlu-perhatian.png"))
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    bell.click()
    page.wait_for_url("**/notifikasi")
    assert page.locator("[data-notification-id]").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "notifikasi-390.png"), full_page=True)
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})

    page.locator("[data-notification-id] a.notice-case").click()
    page.wait_for_url(f"**/cases/{breach.case_id}")
    assert page.locator("#bell").get_attribute("aria-label") == "0 notifikasi belum dibaca"
    assert page.locator("#bell .bell-count").count() == 0  # the count is hidden at 0
    page.goto("/tasks")
    assert page.get_by_role("region", name="Perlu perhatian Anda").locator("a", has_text=breach.label).count() == 1
    assert page.console_errors == []
