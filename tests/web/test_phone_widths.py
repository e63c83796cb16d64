"""No page of the web blueprints is wider than a phone (390 × 844 CSS px) in Chromium.

The pages are the GET routes of the ``web_*`` blueprints in ``app.url_map`` at run time, so a page
added later is checked too: a route this module does not know how to open (neither in :data:`PAGES`
nor in :data:`NOT_PAGES` with a reason) fails the test, naming its endpoint. Each page is opened as
the persona who uses it (anonymous for the public pages, the reporter signed in with code and secret,
an officer with a task and a case, an administrator, a head of office), with its URL parameters taken
from real seeded objects (a filed report with a file, a task, the DUMAS revision, a user, a unit, an
outbox mail). ``documentElement`` and ``body`` must not scroll sideways. axe-core then runs on the
public pages and the unit settings page (no serious or critical violation).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import url_for
from sqlalchemy import select
from support.web import (
    KEY,
    PASSWORD,
    SCREENSHOTS,
    UNIT,
    Dumas,
    axe_violations,
    browser_login,
    csrf_of,
    open_follow_up,
    sqlite_only,
)

from service.commands import accounts
from service.store.models import Case, Definition, OutboxItem, Task

PHONE = {"width": 390, "height": 844}

#: GET routes of the web blueprints that are not pages (a file, JSON or an asset), with the reason
NOT_PAGES: dict[str, str] = {
    "web_static.static": "the built CSS/JS assets",
    "web_cases.diagram": "the case's BPMN XML, read by the diagram island",
    "web_cases.download": "an attachment download (a file)",
    "web_modeler.diagram": "the revision's BPMN XML, read by the modeler",
    "web_modeler.forms": "JSON for the modeler's form picker",
    "web_modeler.diff": "JSON for the modeler's revision diff",
    "web_public.download": "a reporter's attachment download (a file)",
    "web_dashboard.sla_csv_download": "the SLA report as CSV (a file)",
    "web_dashboard.sla_xlsx_download": "the SLA report as XLSX (a file)",
    "web_dashboard.sop_document": "the SOP document as PDF (a file)",
    "web_register.register_export": "the case register as CSV/XLSX (a file)",
    "web_cases.archive": "a completed case's archive (a ZIP file)",
    "web_sso.start": "a redirect to the identity provider (its refusal is the login page, checked above)",
    "web_sso.callback": "the identity provider's return: a redirect (its refusal is the login page)",
}


@dataclass(frozen=True)
class Seeds:
    """The real objects the pages' URLs name."""

    case_id: str
    task_id: str
    key: str
    number: int
    username: str
    unit: str
    outbox_id: int
    code: str
    secret: str


#: endpoint → (persona, its URL parameters from the seeds). Personas: ``anonymous``, ``reporter``
#: (signed in on the follow-up page with code and secret), ``staff`` (the Inspektorat's officer, who has
#: the task), ``admin`` (global administrator), ``head`` (the Inspektur, head of office, and pengawas).
PAGES: dict[str, tuple[str, Callable[[Seeds], dict[str, Any]]]] = {
    "web_auth.login": ("anonymous", lambda s: {}),
    "web_auth.password": ("staff", lambda s: {}),
    "web_tasks.home": ("staff", lambda s: {}),
    "web_tasks.task_list": ("staff", lambda s: {}),
    "web_tasks.task_page": ("staff", lambda s: {"task_id": s.task_id}),
    "web_cases.case_page": ("staff", lambda s: {"case_id": s.case_id}),
    "web_public.report_page": ("anonymous", lambda s: {}),
    "web_public.follow_up_page": ("reporter", lambda s: {}),
    "web_admin.index": ("admin", lambda s: {}),
    "web_admin.user_list": ("admin", lambda s: {}),
    "web_admin.user_detail": ("admin", lambda s: {"username": s.username}),
    "web_admin.unit_list": ("admin", lambda s: {}),
    "web_admin.unit_detail": ("admin", lambda s: {"code": s.unit}),
    "web_acting.grant_list": ("admin", lambda s: {}),
    "web_outbox.outbox_list": ("admin", lambda s: {}),
    "web_outbox.outbox_item": ("admin", lambda s: {"outbox_id": s.outbox_id}),
    "web_modeler.modeler_index": ("admin", lambda s: {}),
    "web_modeler.modeler_page": ("admin", lambda s: {"key": s.key, "number": s.number}),
    "web_modeler.decision_page": ("admin", lambda s: {"key": s.key, "number": s.number,
                                                     "decision_id": "tujuan_penyaluran_dumas"}),
    # the pages of issue 14 (case register, dashboard, counter intake, notifications)
    "web_register.register_page": ("head", lambda s: {}),
    "web_dashboard.dashboard_page": ("head", lambda s: {}),
    "web_dashboard.dashboard_print": ("head", lambda s: {}),
    "web_counter.counter_page": ("staff", lambda s: {}),
    "web_counter.receipt_page": ("staff", lambda s: {"case_id": s.case_id}),
    "web_notifications.notification_list": ("head", lambda s: {}),
}
#: pages shown in another state than their plain GET (same template set, other parts of it)
EXTRA = [("anonymous", "/lapor/tindak-lanjut", "the follow-up sign-in form"),
         ("staff", "/cases/00000000-0000-0000-0000-000000000000", "the staff error page (404)")]

#: the elements wider than the viewport (for the failure message)
_WIDEST = """() => [...document.querySelectorAll('body *')]
  .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
  .filter((el) => !el.closest('.table-scroll, .diagram, .djs-container'))
  .slice(0, 6).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '') +
    ' ' + Math.round(el.getBoundingClientRect().right) + 'px')"""
_FITS = ("() => ({doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, "
         "inner: window.innerWidth})")


def _seed(dumas: Dumas) -> Seeds:
    """A public report with a file and an e-mail (so an outbox mail), a message from the office, a head."""
    services = dumas.services
    accounts.create_user(services, "kepala", PASSWORD, [f"Inspektur@{UNIT}", f"pengawas@{UNIT}"],
                         display_name="Kepala Inspektorat Contoh")
    client = dumas.app.test_client()
    png = "data:image/png;name=bukti-pungutan-dengan-nama-berkas-yang-sangat-panjang-sekali.png;base64," + \
        base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32).decode()
    filed = client.post("/lapor/kirim", headers={"X-CSRFToken": csrf_of(client.get("/lapor").text)}, json={
        "unit": UNIT, "definition_key": KEY, "mode": "rahasia",
        "data": {"kategori_terlapor": "Kepala Desa", "jenis_laporan": "penyalahgunaan wewenang",
                 "saluran": "tertulis", "lampiran": [png], "lokasi_kasus": "Desa Tumbang Samba",
                 "uraian": "Pungutan liar tanpa dasar hukum; tautan bukti https://contoh.example/"
                           + "sangat-panjang-" * 12 + " dan kode 12345678901234567890123456789012345678901234567890"},
        "identity": {"nama": "Siti Rahmah", "nik": "6206011203850001", "alamat": "Jl. Tjilik Riwut 3",
                     "telepon": "081234567890", "pekerjaan": "Pedagang", "email": "siti.rahmah@contoh.id"}})
    assert filed.status_code == 201, filed.json
    with services.db.reading() as session:
        case_id = str(session.scalars(select(Case.id).order_by(Case.created_at.desc())).first())
        task_id = str(session.scalars(select(Task.id).where(Task.case_id == case_id)).first())
        number = int(session.scalars(select(Definition.version).where(Definition.key == KEY)).first() or 1)
        outbox_id = int(session.scalars(select(OutboxItem.id).order_by(OutboxItem.id)).first() or 0)
    staff = dumas.app.test_client()
    page = staff.get("/login")
    staff.post("/login", data={"username": "inspektorat", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    token = csrf_of(staff.get(f"/cases/{case_id}").text)
    assert staff.post(f"/cases/{case_id}/pelapor/pesan", data={
        "text": "Mohon kirim foto kuitansi: " + "https://contoh.example/unggah/" + "x" * 80,
        "csrf_token": token}).status_code == 302
    assert staff.post(f"/cases/{case_id}/comments", data={"body": "Catatan " + "panjang" * 40,
                                                         "csrf_token": token}).status_code == 302
    return Seeds(case_id, task_id, KEY, number, "inspektorat", UNIT, outbox_id, filed.json["tracking_code"],
                 filed.json["secret"])


def _pages(app: Any) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(persona, endpoint, rule) of every page, and the endpoints this module does not know."""
    found, unknown = [], []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.endpoint):
        blueprint = rule.endpoint.split(".", 1)[0]
        if not blueprint.startswith("web_") or "GET" not in (rule.methods or ()) or rule.endpoint in NOT_PAGES:
            continue
        if rule.endpoint not in PAGES:
            unknown.append(f"{rule.endpoint} ({rule.rule})")
            continue
        found.append((PAGES[rule.endpoint][0], rule.endpoint, rule.rule))
    return found, unknown


def _settle(page: Any) -> None:
    """The page and its islands rendered: the network idle, then two frames."""
    page.wait_for_load_state("networkidle")
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def _overflow(page: Any, where: str) -> str | None:
    sizes = page.evaluate(_FITS)
    if sizes["doc"] <= sizes["inner"] and sizes["body"] <= sizes["inner"]:
        return None
    return f"{where}: scrollWidth {sizes['doc']} (body {sizes['body']}) > {sizes['inner']}: {page.evaluate(_WIDEST)}"


@sqlite_only
def test_no_page_is_wider_than_a_phone(dumas: Dumas, new_page: Callable[..., Any]) -> None:
    seeds = _seed(dumas)
    pages, unknown = _pages(dumas.app)
    assert {endpoint for _persona, endpoint, _rule in pages} >= {
        "web_public.report_page", "web_public.follow_up_page", "web_tasks.task_list", "web_cases.case_page"}
    personas: dict[str, Any] = {}

    def as_(persona: str) -> Any:
        if persona not in personas:
            page = new_page()
            page.set_viewport_size(PHONE)
            if persona in ("staff", "admin", "head"):
                browser_login(page, {"staff": "inspektorat", "admin": "admin", "head": "kepala"}[persona])
            elif persona == "reporter":
                open_follow_up(page, seeds.code, seeds.secret)
            personas[persona] = page
        return personas[persona]

    problems = [f"{endpoint}: no way to open it in tests/web/test_phone_widths.py (add it to PAGES or NOT_PAGES)"
                for endpoint in unknown]
    with dumas.app.test_request_context():
        targets = [(persona, endpoint, url_for(endpoint, **PAGES[endpoint][1](seeds)))
                   for persona, endpoint, _rule in pages]
    targets += [(persona, what, path) for persona, path, what in EXTRA]
    (SCREENSHOTS / "phone").mkdir(parents=True, exist_ok=True)
    checked = 0
    for persona, endpoint, path in targets:
        page = as_(persona)
        response = page.goto(path)
        expected = 404 if "404" in endpoint else 200
        if response is None or response.status != expected:
            problems.append(f"{endpoint} {path} as {persona}: HTTP {response.status if response else '?'}")
            continue
        _settle(page)
        page.screenshot(path=str(SCREENSHOTS / "phone" / f"{re.sub(r'[^a-z0-9_.]+', '-', endpoint)}.png"),
                        full_page=True)
        found = _overflow(page, f"{endpoint} {path} as {persona}")
        if found:
            problems.append(found)
        checked += 1
    assert not problems, "\n".join(problems)
    assert checked == len(targets)
    # the check sees an overflow: one element wider than the phone makes the page scroll sideways
    page = as_("staff")
    page.evaluate("() => { const wide = document.createElement('div'); wide.style.width = '600px';"
                  " wide.textContent = 'x'; document.querySelector('main').append(wide); }")
    assert _overflow(page, "probe") is not None
    assert all(page.console_errors == [] for page in personas.values()), [p.console_errors for p in personas.values()]


@sqlite_only
def test_the_reporter_and_unit_pages_have_no_serious_axe_violations(
        dumas: Dumas, new_page: Callable[..., Any]) -> None:
    seeds = _seed(dumas)
    reporter = new_page(bypass_csp=True)  # axe-core is injected inline
    for width in (1280, 390):
        reporter.set_viewport_size({"width": width, "height": 900})
        reporter.goto("/lapor")
        reporter.locator("form.rjsf").wait_for()
        assert axe_violations(reporter) == [], ("/lapor", width)
        open_follow_up(reporter, seeds.code, seeds.secret)
        assert re.search(r"Laporan Anda sebagaimana dikirim", reporter.content())
        assert axe_violations(reporter) == [], ("/lapor/tindak-lanjut", width)
        reporter.get_by_role("button", name="Keluar").click()
    admin = new_page(bypass_csp=True)
    browser_login(admin, "admin")
    admin.goto(f"/admin/unit/{UNIT}")
    assert axe_violations(admin) == [], f"/admin/unit/{UNIT}"


def test_a_page_this_module_does_not_know_is_named() -> None:
    """A new web page without an entry here is reported by its endpoint (so it cannot escape the check)."""
    from flask import Blueprint, Flask

    app = Flask(__name__)
    probe = Blueprint("web_probe", __name__)
    probe.add_url_rule("/probe/<item>", "probe_page", lambda item: item)
    probe.add_url_rule("/probe.csv", "probe_export", lambda: "", methods=["POST"])  # not a GET: not a page
    app.register_blueprint(probe)
    pages, unknown = _pages(app)
    assert pages == [] and unknown == ["web_probe.probe_page (/probe/<item>)"]
