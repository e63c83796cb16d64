"""The case page and the task page speak the office's language (issue 14, item 1).

Staff read a case by its Nomor registrasi (not the citizen's tracking code nor the UUID), each field
by its form label (booleans as Ya/Tidak, choices by their titles), and on a task page the case's report
and the decisions so far come before the form. The DUMAS forms are deployed from a copy of the forms
directory whose verification form has a boolean and a hostile, very long label.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from support.web import (
    ESELON_UNIT,
    ESELON_UNIT_NAME,
    FORMS_DIR,
    KEY,
    PENGADUAN,
    TIDAK_BERKADAR,
    UNIT,
    XSS,
    Dumas,
    axe_violations,
    browser_login,
    csrf_of,
)

from service.commands import display, outbox
from service.commands.accounts import actor_by_id
from service.commands.task_list import TaskQuery, list_tasks
from service.store.models import Case, OutboxItem, User

#: the verification form's label of ``laporan_hasil_verifikasi`` in this test's forms: hostile and long
HOSTILE_LABEL = XSS + " Laporan hasil verifikasi " + "panjang" * 40
#: one unbroken word far wider than a phone
LONG_WORD = "Pungutan" + "liar" * 120
REGISTRATION = "999/DUMAS/XI/2026"
VERIFIED = {"nomor_registrasi": "R-31", "laporan_hasil_verifikasi": f"Catatan verifikator {XSS}",
            "hasil_verifikasi": "lengkap", "ada_keluhan": False}
BERKADAR = {"inti_masalah": "Pungutan liar", "kategori_telaah": "berkadar pengawasan",
            "memo_kepala_inspektorat": "Ditindaklanjuti sesuai SOP"}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def forms_dir(tmp_path: Path) -> Path:
    """The repository's forms, with a boolean and a hostile long label in the DUMAS verification form."""
    target = tmp_path / "forms"
    shutil.copytree(FORMS_DIR, target)
    schema_path = target / "dumas-verifikasi.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    schema["properties"]["laporan_hasil_verifikasi"]["title"] = HOSTILE_LABEL
    schema["properties"]["ada_keluhan"] = {"type": "boolean", "title": "Ada keluhan lanjutan"}
    schema_path.write_text(json.dumps(schema), encoding="utf-8")
    ui_path = target / "dumas-verifikasi.ui.json"
    ui = json.loads(ui_path.read_text(encoding="utf-8"))
    ui["ui:order"] = [*ui["ui:order"], "ada_keluhan"]
    ui_path.write_text(json.dumps(ui), encoding="utf-8")
    return target


def _file_case(dumas: Dumas) -> str:
    """A DUMAS report with a hostile, long uraian, numbered :data:`REGISTRATION` by the office."""
    case_id = dumas.start("DUMAS/031/X/2025", uraian=f"{XSS} {LONG_WORD}")
    with dumas.services.db.transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        case.registration_number = REGISTRATION
    return case_id


def _task_id(dumas: Dumas, username: str) -> str:
    found, _ = list_tasks(dumas.services, actor_by_id(dumas.services, dumas.users[username]), TaskQuery())
    assert len(found) == 1, username
    return str(found[0].id)


def _complete(client: Any, task_id: str, data: dict[str, Any]) -> None:
    token = csrf_of(client.get(f"/tasks/{task_id}").text)
    response = client.post(f"/tasks/{task_id}/complete", json={"data": data}, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.json


def _section(html: str, section_id: str) -> str:
    found = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.DOTALL)
    assert found, f"no section #{section_id}"
    return found.group(0)


def _verified_and_reviewed(dumas: Dumas, sign_in: Callable[[str], Any], review: dict[str, Any]) -> str:
    case_id = _file_case(dumas)
    _complete(sign_in("inspektorat"), _task_id(dumas, "inspektorat"), VERIFIED)
    _complete(sign_in("inspektur"), _task_id(dumas, "inspektur"), review)
    return case_id


def test_the_task_page_shows_the_report_and_the_decisions_by_their_labels_before_the_form(
        dumas: Dumas, sign_in: Callable[[str], Any]) -> None:
    case_id = _verified_and_reviewed(dumas, sign_in, BERKADAR)
    sekretariat = sign_in("sekretariat")
    html = sekretariat.get(f"/tasks/{_task_id(dumas, 'sekretariat')}").text

    # the report, the decisions, then the form
    assert html.index('id="laporan"') < html.index('id="keputusan"') < html.index('id="task-form"')
    report = _section(html, "laporan")
    for label, value in (("Jenis laporan", "penyalahgunaan wewenang"), ("Terlapor", "Kepala Desa"),
                         ("Disampaikan secara", "langsung"), ("Uraian pengaduan", LONG_WORD)):
        assert re.search(rf"<dt>{re.escape(label)}</dt>\s*<dd>[^<]*{re.escape(value)}", report), label
    assert "jenis_laporan" not in report and "kategori_terlapor" not in report
    # never the reporter's identity in the report
    for identity in (PENGADUAN["nama"], PENGADUAN["nik"], PENGADUAN["telepon"], "Nama lengkap"):
        assert identity not in report

    decisions = _section(html, "keputusan")
    steps = re.findall(r'<h3 class="decision-name">([^<]*)</h3>', decisions)
    assert steps == ["Menerima, mencatat dan memverifikasi laporan",
                     "Mengkoordinasikan penelaahan dan menyalurkan hasil penelaahan"]  # newest last
    assert re.search(r"<dt>Ada keluhan lanjutan</dt>\s*<dd>Tidak</dd>", decisions)
    assert re.search(r"<dt>Hasil verifikasi</dt>\s*<dd>lengkap</dd>", decisions)
    assert re.search(r"<dt>Kategori</dt>\s*<dd>berkadar pengawasan</dd>", decisions)
    assert ">inspektorat ·" in decisions and ">inspektur ·" in decisions
    assert "ada_keluhan" not in decisions and "False" not in html and "hasil_verifikasi" not in decisions
    # hostile labels and values are text
    assert XSS not in html and "&lt;script&gt;window.__xss=1&lt;/script&gt;" in decisions
    assert "&lt;img src=x onerror=" in report

    # the case by its Nomor registrasi: task page, task list, case page (not the UUID, not a tracking code)
    assert f'<dd class="case-key">{REGISTRATION}</dd>' in html
    assert f'class="case-key">{REGISTRATION}</a>' in sekretariat.get("/tasks").text
    page = sekretariat.get(f"/cases/{case_id}").text
    assert f'<h1>Perkara <span class="case-key">{REGISTRATION}</span></h1>' in page
    assert f"<title>Perkara {REGISTRATION} · Alur</title>" in page
    timeline = re.search(r'<table class="timeline">.*?</table>', page, re.DOTALL)
    assert timeline and re.search(r"<dt>Ada keluhan lanjutan</dt>\s*<dd>Tidak</dd>", timeline.group(0))
    assert "ada_keluhan" not in timeline.group(0)
    assert "Uraian pengaduan" in _section(page, "laporan")

    # English: the same fields, booleans in English
    sekretariat.post("/language", data={"lang": "en", "next": "/tasks", "csrf_token": csrf_of(html)})
    english = sekretariat.get(f"/tasks/{_task_id(dumas, 'sekretariat')}").text
    assert re.search(r"<dt>Ada keluhan lanjutan</dt>\s*<dd>No</dd>", _section(english, "keputusan"))
    assert "Previous decisions" in english and "Report" in english


def test_a_need_to_know_viewer_reads_only_its_fields_and_choices_read_by_their_titles(
        dumas: Dumas, sign_in: Callable[[str], Any]) -> None:
    review = {"inti_masalah": "Pungutan liar", "memo_kepala_inspektorat": "Salurkan", **TIDAK_BERKADAR}
    case_id = _verified_and_reviewed(dumas, sign_in, review)

    # the Eselon II of the unit kerja sees the complaint and the Inspektur's memo, not the verifier's notes
    eselon = sign_in("eselon2")
    html = eselon.get(f"/tasks/{_task_id(dumas, 'eselon2')}").text
    report, decisions = _section(html, "laporan"), _section(html, "keputusan")
    assert "Uraian pengaduan" in report and "Lokasi kasus" in report
    assert "Catatan verifikator" not in html and "Ada keluhan lanjutan" not in html
    assert re.search(r"<dt>Memo Kepala Inspektorat/laporan hasil penelaahan</dt>\s*<dd>Salurkan</dd>", decisions)
    assert PENGADUAN["nama"] not in html and PENGADUAN["nik"] not in html
    assert html.index('id="keputusan"') < html.index('id="task-form"')

    # an enum value by its ui:enumNames title on the case page of a full viewer
    page = sign_in("inspektur").get(f"/cases/{case_id}").text
    timeline = re.search(r'<table class="timeline">.*?</table>', page, re.DOTALL)
    assert timeline is not None
    assert re.search(rf"<dt>Unit kerja Eselon II yang terlapor</dt>\s*<dd>{ESELON_UNIT_NAME}</dd>", timeline.group(0))
    assert f"<dd>{ESELON_UNIT}</dd>" not in timeline.group(0)


def test_a_public_report_shows_its_mode_and_channel_never_the_identity(
        dumas: Dumas, client: Any, sign_in: Callable[[str], Any]) -> None:
    identity = {name: PENGADUAN[name] for name in ("nama", "nik", "alamat", "telepon", "pekerjaan")}
    data = {name: value for name, value in PENGADUAN.items() if name not in identity}
    receipt = client.post("/api/public/reports", json={"unit": UNIT, "definition_key": KEY, "mode": "rahasia",
                                                       "data": data, "identity": identity})
    assert receipt.status_code == 201, receipt.json
    inspektorat = sign_in("inspektorat")
    html = inspektorat.get(f"/tasks/{_task_id(dumas, 'inspektorat')}").text
    report = _section(html, "laporan")
    assert '<strong class="reporter-mode">rahasia</strong>' in report
    assert '<strong class="report-channel">formulir daring</strong>' in report
    assert re.search(r"<dt>Uraian pengaduan</dt>\s*<dd>Pungutan liar", report)
    for value in identity.values():
        assert value not in html
    assert receipt.json["tracking_code"] not in html  # staff read the Nomor registrasi, not the citizen's code
    with dumas.services.db.reading() as session:
        case = session.scalars(select(Case).where(Case.tracking_code == receipt.json["tracking_code"])).one()
    assert f'<dd class="case-key">{display.case_label(case)}</dd>' in html


def test_staff_mail_names_the_case_by_its_nomor_registrasi(dumas: Dumas) -> None:
    services = dumas.services
    with services.db.transaction() as session:
        user = session.get(User, dumas.users["inspektorat"])
        assert user is not None
        user.email = "inspektorat@katingan.contoh.id"
    case_id = _file_case(dumas)
    with services.db.reading() as session:
        outbox_id = session.scalar(select(OutboxItem.id).where(OutboxItem.case_id == case_id,
                                                                OutboxItem.kind == "task"))
    assert outbox_id is not None
    mail = outbox.compose(services, outbox_id)
    assert mail is not None and mail.message["Subject"] == f"Tugas baru: {REGISTRATION}"


def test_labels_of_booleans_choices_lists_files_and_unknown_keys() -> None:
    forms = {
        "langkah": {"schema": {"type": "object", "properties": {
            "setuju": {"type": "boolean", "title": "Disetujui"},
            "kanal": {"type": "string", "title": "Kanal", "enum": ["sms", "surat"], "enumNames": ["SMS", "Surat"]},
            "tingkat": {"type": "integer", "title": "Tingkat",
                        "oneOf": [{"const": 1, "title": "Rendah"}, {"const": 2, "title": "Tinggi"}]},
            "unit": {"type": "string", "title": "Unit", "enum": ["a", "b"]},
            "topik": {"type": "array", "title": "Topik", "items": {"type": "string", "enum": ["x", "y"],
                                                                   "enumNames": ["Topik X", "Topik Y"]}},
            "berkas": {"type": "array", "title": "Berkas", "items": {"type": "string", "format": "data-url"}},
            "catatan": {"type": "string", "title": "Catatan"},
        }}, "ui": {"ui:order": ["catatan", "*"], "unit": {"ui:enumNames": ["Unit A", "Unit B"]}}},
        "lain": {"schema": {"type": "object", "properties": {"dari_form_lain": {"type": "string", "title": "Lain"}}}},
    }
    data = {"setuju": False, "kanal": "surat", "tingkat": 2, "unit": "b", "topik": ["y", "x"],
            "berkas": ["attachment:f1", "attachment:f2"], "catatan": "", "dari_form_lain": "v",
            "tak_dikenal": True}
    shown = display.labelled(forms, "langkah", data)
    assert [(f.label, f.text, f.files) for f in shown] == [
        ("Disetujui", "Tidak", ()), ("Kanal", "Surat", ()), ("Tingkat", "Tinggi", ()), ("Unit", "Unit B", ()),
        ("Topik", "Topik Y, Topik X", ()), ("Berkas", "", ("f1", "f2")), ("Lain", "v", ()),
        ("tak_dikenal", "Ya", ())]
    assert display.labelled(forms, "langkah", {"setuju": True}, ("Yes", "No"))[0].text == "Yes"
    assert display.label_of(None, None, "0123456789abcdef") == "01234567"
    assert display.label_of(None, "DUMAS/1", "0123456789abcdef") == "DUMAS/1"
    assert display.label_of("001/DUMAS/XI/2026", "DUMAS/1", "0123456789abcdef") == "001/DUMAS/XI/2026"


def _fits(page: Any) -> bool:
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


def test_in_chromium_the_report_and_decisions_come_first_and_nothing_overflows_at_390_px(
        dumas: Dumas, sign_in: Callable[[str], Any], new_page: Callable[..., Any]) -> None:
    case_id = _verified_and_reviewed(dumas, sign_in, BERKADAR)
    task_id = _task_id(dumas, "sekretariat")
    page = new_page(bypass_csp=True)  # axe is injected inline; escaping alone must keep the payload inert
    browser_login(page, "sekretariat")
    assert page.locator("tr[data-task-id] .case-key").inner_text() == REGISTRATION
    page.goto(f"/tasks/{task_id}")
    page.locator("form.rjsf").wait_for()
    order = page.evaluate("""() => {
        const [report, steps, form] = ['#laporan', '#keputusan', '#task-form'].map(s => document.querySelector(s));
        return [report.compareDocumentPosition(steps), steps.compareDocumentPosition(form)]
            .every(p => p & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")
    assert order
    report, steps, form = (page.locator(s).bounding_box() for s in ("#laporan", "#keputusan", "#task-form"))
    assert report and steps and form
    assert report["y"] + report["height"] <= steps["y"] and steps["y"] + steps["height"] <= form["y"]
    label = page.locator("#keputusan dt", has_text="Laporan hasil verifikasi").first
    assert label.inner_text().startswith("<script>")  # the hostile label is text
    assert page.locator("#keputusan dt", has_text="Ada keluhan lanjutan").count() == 1
    value = page.locator("#keputusan dd", has_text="Catatan verifikator").bounding_box()
    assert value and value["width"] >= 400  # a long label takes at most 40 % of the row, not the value's room
    assert page.evaluate("() => window.__xss === undefined")
    assert axe_violations(page) == [], "task page"

    page.set_viewport_size(PHONE)
    for path in (f"/tasks/{task_id}", f"/cases/{case_id}"):
        page.goto(path)
        page.locator("#laporan").wait_for()
        assert _fits(page), f"{path} overflows at 390 px"
        uraian = page.locator("#laporan dd", has_text=LONG_WORD[:40]).bounding_box()
        assert uraian and uraian["x"] + uraian["width"] <= PHONE["width"], path  # the long word wraps
    decision = page.locator("tr.event-task_completed dt", has_text="Laporan hasil verifikasi").first
    box = decision.bounding_box()
    assert box and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("() => window.__xss === undefined")
    assert page.console_errors == []
