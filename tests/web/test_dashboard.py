"""Dasbor: the head of office reads figures that match the cases seeded through the real commands.

The seed, on a frozen clock (time-machine): in Dinas Sosial Kab. Kutai Kartanegara, one online complaint
received in August 2025 whose first step breached then and that is still open; on Monday 6 October 2025
(the fourth quarter) three online complaints (media Facebook, Facebook, WhatsApp: one closed, one whose
first step breaches five minutes later when the worker's timer sweep runs, one open) and two walk-in
complaints filed through the public intake (channels telepon and langsung); and a WBS complaint in
DPMPTSP Kukar that the head sees as its Kasi but that is another office (it must not count).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import select
from support.sop_driver import BPMN_DIR, FORMS_DIR, Sop, deploy, form
from support.web import PASSWORD, SCREENSHOTS, axe_violations, browser_login

from service.catalogue import BUNDLED_OFFICES, SUB_UNITS
from service.commands import accounts
from service.commands.public import PublicReport, file_report
from service.commands.spreadsheets import safe_cell
from service.config import Settings
from service.store.models import Task
from service.worker.loop import run_once

UNIT = "dinsos-kukar"
OTHER = "dpmptsp-kukar"
ONLINE = "pengaduan-online-dinsos-kukar"
WALK_IN = "pengaduan-langsung-dinsos-kukar"
WBS = "wbs-dpmptsp-kukar"
ADMIN = "Admin Media Sosial"
#: Monday 6 October 2025, 09:00 WITA: the fourth quarter, the second semester
START = datetime(2025, 10, 6, 1, 0, tzinfo=UTC)
AUGUST = datetime(2025, 8, 20, 1, 0, tzinfo=UTC)
QUARTER = {"unit": UNIT, "from": "2025-10-01", "to": "2025-12-31"}
#: what the head must read for QUARTER: per SOP (received, open, late, closed)
EXPECTED = {ONLINE: (3, 3, 1, 1), WALK_IN: (2, 2, 0, 0)}
CHANNELS = {(ONLINE, "Facebook"): 2, (ONLINE, "WhatsApp"): 1, (WALK_IN, "telepon"): 1, (WALK_IN, "langsung"): 1}


@pytest.fixture
def forms_dir() -> Any:
    return FORMS_DIR


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Tokens that outlive the seed's clock moves (August to October)."""
    return replace(settings, token_hours=24 * 366)


def online(media: str) -> dict[str, Any]:
    return form("dinsos-online-pengaduan", media=media, akun_pengirim="@warga.tenggarong",
                isi_pesan="PKH belum cair, mohon ditindaklanjuti", tautan="https://facebook.com/posts/1")


@dataclass
class Seeded:
    services: Any
    other_case: str


@pytest.fixture
def seeded(app: Any, make_persona: Callable[..., Any]) -> Iterator[Seeded]:
    services = app.extensions["alur.services"]
    with time_machine.travel(AUGUST, tick=False) as clock:
        for office in BUNDLED_OFFICES:
            accounts.create_unit(services, office.code, office.name, office.timezone)
            for sub in SUB_UNITS.get(office.code, ()):
                accounts.create_unit(services, sub.code, sub.name, sub.timezone, parent=office.code)
        sop = Sop(app, clock, make_persona, make_persona("admin", admin=True))
        for name in (ONLINE, f"{ONLINE}-laporan-berkala", WALK_IN, "surat-keluar", WBS):
            response = deploy(sop.client, sop.admin, BPMN_DIR / f"{name}.bpmn")
            assert response.status_code == 201, (name, response.json)
            sop.deployed[response.json["key"]] = dict(response.json)
        make_persona("kadis", f"Kepala Dinas@{UNIT}", f"Kasi@{OTHER}")
        make_persona("admin.medsos", f"{ADMIN}@{UNIT}")
        make_persona("pengawas.dinsos", f"pengawas@{UNIT}")

        # August: received before the quarter, its first step breached in August, still open in October
        sop.start(ONLINE, online("Instagram"))
        clock.move_to(AUGUST + timedelta(minutes=5, seconds=1))
        assert run_once(services) is True

        clock.move_to(START)
        closed = sop.work(sop.start(ONLINE, online("Facebook")), "Task_penerimaan", ADMIN,
                          form("dinsos-online-penerimaan"))
        closed = sop.work(closed, "Task_verifikasi", ADMIN, form(
            "dinsos-online-verifikasi", hasil_verifikasi_pesan="tidak terkait pengaduan",
            alasan_bukan_pengaduan="Pesan berisi promosi produk, bukan pengaduan layanan Dinas Sosial.",
            catatan_verifikasi="Promosi"))
        assert closed["status"] == "completed"
        late = sop.start(ONLINE, online("Facebook"))
        sop.work(sop.start(ONLINE, online("WhatsApp")), "Task_penerimaan", ADMIN, form("dinsos-online-penerimaan"))
        for channel in ("telepon", "langsung"):
            report = {"materi_aduan": "Bantuan sembako belum diterima"}
            file_report(services, PublicReport(UNIT, WALK_IN, "anonim", report, channel=channel))
        other = sop.start(WBS, form("wbs-kukar-pengaduan", saluran="website", uraian="Pungutan pada izin usaha"))
        # the worker's sweep just past the 5 minutes of the online complaint's first step
        clock.move_to(START + timedelta(minutes=5, seconds=1))
        assert run_once(services) is True
        with services.db.reading() as session:
            breached = session.execute(select(Task.case_id, Task.element_id).where(Task.breached_at.is_not(None))
                                       .order_by(Task.breached_at)).all()
        # in October: the online complaint's first step, and the other office's WBS complaint (late too)
        assert {(case_id, element) for case_id, element in breached[1:]} == {
            (late["id"], "Task_penerimaan"), (other["id"], "Task_pemeriksaan")}
    yield Seeded(services, other["id"])


def read_figures(page: Any) -> dict[str, tuple[int, ...]]:
    rows = page.locator("#sop-table tbody tr")
    found = {}
    for index in range(rows.count()):
        row = rows.nth(index)
        found[row.get_attribute("data-sop")] = tuple(
            int(row.locator(f'[data-figure="{name}"]').inner_text()) for name in ("received", "open", "late", "closed"))
    return found


def test_the_head_of_office_reads_figures_that_match_the_seeded_cases(
        seeded: Seeded, new_page: Callable[..., Any], make_persona: Callable[..., Any], app: Any) -> None:
    client = app.test_client()
    token = client.post("/api/auth/token", json={"username": "kadis", "password": PASSWORD}).json["token"]
    # the head sees the other office's case (as its Kasi), yet the dashboard of their office does not count it
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/cases/{seeded.other_case}", headers=bearer).status_code == 200

    page = new_page(bypass_csp=True)  # bypass: axe-core is injected inline; the CSP itself is tested below
    browser_login(page, "kadis")
    page.click("#nav-dashboard")
    page.wait_for_url("**/dasbor")
    assert page.locator("h1").inner_text().startswith("Dasbor")
    page.goto("/dasbor?" + "&".join(f"{k}={v}" for k, v in QUARTER.items()))
    assert page.locator("#period-label").inner_text() == "Triwulan IV 2025"
    assert read_figures(page) == EXPECTED
    totals = {name: int(page.locator(f'.dash-totals [data-figure="{name}"]').inner_text())
              for name in ("received", "open", "late", "closed")}
    assert totals == {"received": 5, "open": 5, "late": 1, "closed": 1}
    channels = page.locator("#channel-table tbody tr")
    assert {(channels.nth(i).get_attribute("data-sop"), channels.nth(i).get_attribute("data-channel")):
            int(channels.nth(i).locator('[data-figure="count"]').inner_text())
            for i in range(channels.count())} == CHANNELS
    steps = page.locator(f'table.steps-table[data-sop="{ONLINE}"]')
    assert steps.locator('tr[data-step="Task_penerimaan"] [data-figure="count"]').inner_text() == "2"
    assert steps.locator('tr[data-step="Task_verifikasi"] [data-figure="count"]').inner_text() == "1"
    assert steps.locator('tr[data-step="Task_penerimaan"] [data-figure="within"]').inner_text() == "100%"
    # the periodic report SOP is listed with its SOP document, not counted as complaints
    assert "Laporan" in page.locator("#periodic-title + ul").inner_text()

    # Chart.js drew every chart: a canvas with pixels on it
    page.wait_for_function("Number(document.body.dataset.charts) >= 3")
    for canvas in ("#chart-sops", "#chart-channels", "#chart-steps-1"):
        assert page.locator(canvas).get_attribute("data-drawn") == "true"
        assert page.evaluate("""(selector) => { const c = document.querySelector(selector);
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) return true; return false; }""", canvas), canvas

    # the SLA report as XLSX: the same figures as the step table
    with page.expect_download() as download:
        page.click(f'a[data-xlsx="{ONLINE}"]')
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    sheet = book["SLA"]
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    by_step = {row[header.index("element_id")]: row for row in rows}
    assert by_step["Task_penerimaan"][header.index("count")] == 2
    assert by_step["Task_verifikasi"][header.index("count")] == 1
    assert by_step["Task_penerimaan"][header.index("within_target")] == 1.0
    assert by_step["Task_respon"][header.index("count")] == 0

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    assert axe_violations(page) == []
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.console_errors == []

    # the print view of the semester report, under the real CSP
    printed = new_page()
    browser_login(printed, "kadis")
    printed.goto(f"/dasbor/cetak?unit={UNIT}&from=2025-07-01&to=2025-12-31")
    printed.emulate_media(media="print")
    printed.wait_for_function("Number(document.body.dataset.charts) >= 3")
    assert printed.locator("h1").inner_text() == "Laporan penanganan pengaduan"
    assert printed.locator("header.top").is_hidden() and printed.locator("#sop-table").is_visible()
    # the semester holds August's complaint too: received in it, its breach in it
    assert read_figures(printed) == {ONLINE: (4, 3, 2, 1), WALK_IN: (2, 2, 0, 0)}
    office = "Dinas Sosial Kabupaten Kutai Kartanegara"
    assert printed.locator("#period-label").inner_text() == f"{office} · Semester II 2025"
    assert printed.console_errors == []


def test_who_may_read_it_and_bad_periods(seeded: Seeded, sign_in: Callable[..., Any]) -> None:
    staff = sign_in("admin.medsos")
    assert "nav-dashboard" not in staff.get("/tasks").text
    for path in ("/dasbor", "/dasbor/cetak", f"/dasbor/sla/{ONLINE}.xlsx", f"/dasbor/sop/{ONLINE}/1.pdf"):
        refused = staff.get(path)
        assert refused.status_code == 403, path
        assert "Hanya kepala kantor dan pengawas" in refused.text
    supervisor = sign_in("pengawas.dinsos")  # the pengawas role reads it too (the cases access.py lets it see)
    assert "nav-dashboard" in supervisor.get("/tasks").text and supervisor.get("/dasbor").status_code == 200
    head = sign_in("kadis")
    assert "nav-dashboard" in head.get("/tasks").text
    # August alone: the complaint received then, breached then, open at the end of August
    august = head.get(f"/dasbor?unit={UNIT}&from=2025-08-01&to=2025-08-31")
    assert august.status_code == 200 and "Agustus 2025" in august.text
    row = august.text.split(f'<tr data-sop="{ONLINE}">')[1].split("</tr>")[0]
    names = ("received", "open", "late", "closed")
    assert [row.split(f'data-figure="{name}">')[1].split("<")[0] for name in names] == ["1", "1", "1", "0"]
    # a preset is this office's period of today (and wins over dates sent with it)
    semester = head.get("/dasbor", query_string={"unit": UNIT, "preset": "semester", **QUARTER})
    assert semester.status_code == 200
    assert re.search(r'id="period-label">Semester (I|II) 20\d\d<', semester.text)
    # a range that is no calendar period is named by its days
    assert "2 Oktober 2025 – 3 Oktober 2025" in head.get(f"/dasbor?unit={UNIT}&from=2025-10-02&to=2025-10-03").text
    for bad, field, message in (
            ({"from": "2025-13-01", "to": "2025-12-31"}, "dash-from-error", "Masukkan tanggal seperti 2026-01-31."),
            ({"from": "2025-12-31", "to": "2025-10-01"}, "dash-to-error", "Akhir periode sebelum awalnya."),
            ({"from": "2025-10-01"}, "dash-to-error", "Isi kedua tanggal periode, atau pilih periode."),
            ({"preset": "abad"}, "dash-preset-error", "Pilih salah satu periode yang tersedia."),
            ({"from": "1900-01-01", "to": "9999-12-31"}, "dash-to-error",
             "Periode terlalu panjang: paling lama lima tahun."),
            ({"from": "x" * 5000, "to": "<script>"}, "dash-from-error", "Masukkan tanggal seperti 2026-01-31.")):
        answer = head.get("/dasbor", query_string={"unit": UNIT, **bad})
        assert answer.status_code == 400, bad
        assert f'id="{field}">{message}<' in answer.text, (bad, answer.text[:2000])
        assert "<script>" not in answer.text.split('id="dashboard-data"')[0].split("<main")[1]
    assert head.get("/dasbor?unit=tidak-ada").status_code == 404
    assert head.get(f"/dasbor?unit={OTHER}").status_code == 404  # a Kasi there, not its head
    assert head.get(f"/dasbor/sla/{ONLINE}.csv?unit={UNIT}&from=2025-13-01&to=2025-12-31").status_code == 422
    csv = head.get(f"/dasbor/sla/{ONLINE}.csv", query_string=QUARTER)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert "Task_penerimaan" in csv.text
    pdf = head.get(f"/dasbor/sop/{ONLINE}/1.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")



def test_the_api_gives_the_sla_report_as_xlsx_with_formulas_quoted(seeded: Seeded, app: Any) -> None:
    client = app.test_client()
    token = client.post("/api/auth/token", json={"username": "kadis", "password": PASSWORD}).json["token"]
    answer = client.get("/api/reports/sla", headers={"Authorization": f"Bearer {token}"},
                        query_string={"definition_key": ONLINE, "format": "xlsx"})
    assert answer.status_code == 200, answer.text
    sheet = load_workbook(io.BytesIO(answer.data))["SLA"]
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:3] == ["definition_key", "element_id", "name"]
    assert {row[1]: row[header.index("count")] for row in rows}["Task_penerimaan"] == 2
    assert safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and safe_cell("-1") == "'-1" and safe_cell(1) == 1
