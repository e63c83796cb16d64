"""Laporan berkala (issue 11, acceptance 3): periodic SOPs run per calendar period, at the opening of the
unit's office on the first working day, and their report form opens with the figures of the period.

The cases counted are driven through the REST API with the clock moved by time-machine; the
expectations are counted by hand from the cases each test seeds. 004 (Inspektorat Kab. Katingan, WIB)
reports per semester, 003b (Dinas Sosial Kab. Kutai Kartanegara, WITA) per quarter.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select
from support.helpers import PASSWORD
from support.sop_driver import BPMN_DIR, FORMS_DIR, Sop, deploy, form, ready
from support.web import csrf_of

from service.catalogue import BUNDLED_OFFICES, SUB_UNITS
from service.commands import accounts
from service.config import Settings
from service.engine.compiler import steps
from service.store.models import Case, Definition, Task
from service.worker.loop import run_once

DUMAS = "dumas-inspektorat-katingan"
ONLINE = "pengaduan-online-dinsos-kukar"
INSPEKTORAT = "inspektorat-katingan"
DINSOS = "dinsos-kukar"
DEPLOYED = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)  # Monday 5 January 2026, 08:00 WIB / 09:00 WITA
SECOND = timedelta(seconds=1)


@pytest.fixture
def forms_dir() -> Path:
    return FORMS_DIR


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Tokens that outlive a year of clock moves."""
    return replace(settings, token_hours=24 * 800)


@pytest.fixture
def clock(app: Any) -> Iterator[Any]:
    with time_machine.travel(DEPLOYED, tick=False) as traveller:
        yield traveller


@pytest.fixture
def sop(app: Any, clock: Any, make_persona: Callable[..., Any]) -> Sop:
    """The two offices (with their sub-units) and the main and periodic SOPs of 003b and 004."""
    services = app.extensions["alur.services"]
    for office in BUNDLED_OFFICES:
        if office.code in (INSPEKTORAT, DINSOS):
            accounts.create_unit(services, office.code, office.name, office.timezone)
            for unit in SUB_UNITS.get(office.code, ()):
                accounts.create_unit(services, unit.code, unit.name, unit.timezone, parent=office.code)
    found = Sop(app, clock, make_persona, make_persona("admin", admin=True))
    for key in (DUMAS, f"{DUMAS}-laporan-berkala", ONLINE, f"{ONLINE}-laporan-berkala"):
        response = deploy(found.client, found.admin, BPMN_DIR / f"{key}.bpmn")
        assert response.status_code == 201, (key, response.json)
        found.deployed[key] = dict(response.json)
    return found


def _reports(sop: Sop, key: str) -> list[Case]:
    with sop.services.db.reading() as session:
        return list(session.scalars(select(Case).join(Definition, Case.definition_id == Definition.id)
                                    .where(Definition.key == f"{key}-laporan-berkala").order_by(Case.created_at)))


def _sweep_at(sop: Sop, moment: datetime) -> None:
    sop.clock.move_to(moment)
    run_once(sop.services)


def _names(key: str) -> dict[str, str]:
    return {step.element_id: step.name for step in steps((BPMN_DIR / f"{key}.bpmn").read_bytes())}


def _label(form_key: str, field: str) -> str:
    schema = json.loads((FORMS_DIR / f"{form_key}.schema.json").read_text(encoding="utf-8"))
    return str(schema["properties"][field]["title"])


def _per_step(data: dict[str, Any]) -> dict[str, tuple[int, int]]:
    return {row["langkah"]: (row["jumlah"], row["terlambat"]) for row in data["rekap_langkah"]}


def _web_form(sop: Sop, username: str, task_id: str) -> dict[str, Any]:
    """The form island of the task page as the signed-in user's browser gets it (schema, ui, formData)."""
    client = sop.app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf_of(client.get("/login").text)})
    assert response.status_code == 302, response.text
    page = client.get(f"/tasks/{task_id}").text
    found = re.search(r'<script type="application/json" id="task-form-config">(.*?)</script>', page, re.S)
    assert found, "no form on the task page"
    return dict(json.loads(found.group(1)))


def _counts(rows: list[dict[str, Any]], *columns: str) -> list[tuple[Any, ...]]:
    return [tuple(row[column] for column in columns) for row in rows]


# --- 004: semesteran -----------------------------------------------------------------------------------

def _pengaduan(saluran: str) -> dict[str, Any]:
    return form("dumas-pengaduan", nama="Siti Rahmah", pekerjaan="Guru", saluran=saluran,
                uraian="Pungutan liar pada pelayanan surat keterangan desa", lokasi_kasus="Desa Tumbang Samba")


def _dumas(sop: Sop, at: datetime, saluran: str, hasil: str | None = None, kategori: str | None = None,
           tindak_lanjut: str | None = None) -> dict[str, Any]:
    """A DUMAS report received at ``at`` and worked at once as far as the decisions given."""
    sop.clock.move_to(at)
    case = sop.start(DUMAS, _pengaduan(saluran))
    if hasil is not None:
        case = sop.work(case, "Task_verifikasi", "Inspektorat", form("dumas-verifikasi", hasil_verifikasi=hasil))
    if kategori is not None:
        case = sop.work(case, "Task_penelaahan", "Inspektur", form("dumas-penelaahan", kategori_telaah=kategori))
        local_day = at.astimezone(ZoneInfo("Asia/Jakarta")).date().isoformat()
        case = sop.work(case, "Task_penyaluran", "Sekretariat Inspektorat",
                        form("dumas-penyaluran-sekretariat", tanggal_diterima=local_day))
    if tindak_lanjut is not None:
        case = sop.work(case, "Task_tindak_lanjut_inspektur", "Inspektur",
                        form("dumas-tindak-lanjut-inspektur", bentuk_tindak_lanjut=tindak_lanjut))
    return case


def _no_report_until(sop: Sop, key: str, run: datetime, *earlier: datetime) -> list[Case]:
    """No report case at any of ``earlier`` nor a second before ``run``; one more at ``run``."""
    before = [case.id for case in _reports(sop, key)]
    for moment in (*earlier, run - SECOND):
        _sweep_at(sop, moment)
        assert [case.id for case in _reports(sop, key)] == before, moment
    _sweep_at(sop, run)
    after = _reports(sop, key)
    assert len(after) == len(before) + 1
    assert after[-1].created_at == run
    return after


def test_the_semester_report_starts_on_1_july_and_on_the_first_working_day_of_january_with_the_counts(
        sop: Sop) -> None:
    names, lengkap = _names(DUMAS), "lengkap"
    # Semester I 2026 (1 January – 30 June, WIB)
    a = _dumas(sop, datetime(2026, 2, 2, 2, 0, tzinfo=UTC), "langsung", lengkap, "berkadar pengawasan",
               "tanggapan tertulis")
    assert a["status"] == "completed"
    b = _dumas(sop, datetime(2026, 3, 2, 2, 0, tzinfo=UTC), "surat elektronik", "tidak dapat diproses")
    assert b["status"] == "completed"
    c = _dumas(sop, datetime(2026, 4, 1, 2, 0, tzinfo=UTC), "tertulis", lengkap, "berkadar pengawasan")
    assert ready(c) == ["Task_tindak_lanjut_inspektur"]  # the 60 days run out at the end of May
    _sweep_at(sop, datetime(2026, 6, 15, 2, 0, tzinfo=UTC))
    with sop.services.db.reading() as session:
        assert session.scalars(select(Task.breached_at).where(
            Task.case_id == c["id"], Task.element_id == "Task_tindak_lanjut_inspektur")).one() is not None
    f = _dumas(sop, datetime(2026, 6, 30, 16, 30, tzinfo=UTC), "surat elektronik")  # 23:30 WIB on 30 June
    assert ready(f) == ["Task_verifikasi"]

    # the report does not start at midnight nor before the office opens: 1 July 2026 08:00 WIB
    _sweep_at(sop, datetime(2026, 6, 30, 17, 0, tzinfo=UTC))  # 1 July 00:00 WIB
    assert _reports(sop, DUMAS) == []
    e = _dumas(sop, datetime(2026, 6, 30, 17, 30, tzinfo=UTC), "langsung")  # 1 July 00:30 WIB: semester II
    [report] = _no_report_until(sop, DUMAS, datetime(2026, 7, 1, 1, 0, tzinfo=UTC),
                                datetime(2026, 6, 30, 16, 59, 59, tzinfo=UTC))
    assert report.business_key == f"{DUMAS}-laporan-berkala@2026-S1"
    hasil, kategori, bentuk = (_label("dumas-verifikasi", "hasil_verifikasi"),
                               _label("dumas-penelaahan", "kategori_telaah"),
                               _label("dumas-tindak-lanjut-inspektur", "bentuk_tindak_lanjut"))
    figures = report.data
    assert {name: figures[name] for name in ("periode", "periode_awal", "periode_akhir", "jumlah_pengaduan",
                                             "jumlah_selesai", "jumlah_belum_selesai", "jumlah_terlambat")} == {
        "periode": "Semester I 2026", "periode_awal": "2026-01-01", "periode_akhir": "2026-06-30",
        "jumlah_pengaduan": 4, "jumlah_selesai": 2, "jumlah_belum_selesai": 2, "jumlah_terlambat": 1}
    assert _per_step(figures) == {names["Task_verifikasi"]: (4, 0), names["Task_penelaahan"]: (2, 0),
                                  names["Task_penyaluran"]: (2, 0), names["Task_tindak_lanjut_inspektur"]: (2, 1)}
    assert _counts(figures["rekap_saluran"], "saluran", "jumlah") == [
        ("surat elektronik", 2), ("langsung", 1), ("tertulis", 1)]
    assert _counts(figures["rekap_keputusan"], "keputusan", "hasil", "jumlah") == [
        (hasil, "lengkap", 2), (hasil, "belum diputuskan", 1), (hasil, "tidak dapat diproses", 1),
        (kategori, "belum diputuskan", 2), (kategori, "berkadar pengawasan", 2),
        (bentuk, "belum diputuskan", 3), (bentuk, "tanggapan tertulis", 1)]

    # the Sekretariat Inspektorat prepares the report (the figures are shown, read-only), the Inspektur
    # receives it
    [task] = sop.tasks("Sekretariat Inspektorat", INSPEKTORAT)
    assert task["element_id"] == "Task_laporan_berkala"
    detail = sop.client.get(f"/api/tasks/{task['id']}", headers=sop.staff("Sekretariat Inspektorat",
                                                                          INSPEKTORAT).headers).json
    assert detail["form"]["schema"]["properties"]["jumlah_pengaduan"]["readOnly"] is True
    assert detail["case_data"]["jumlah_terlambat"] == 1
    island = _web_form(sop, sop.staff("Sekretariat Inspektorat", INSPEKTORAT).persona.username, task["id"])
    assert {name: island["formData"][name] for name in ("periode", "jumlah_pengaduan", "rekap_saluran")} == {
        name: figures[name] for name in ("periode", "jumlah_pengaduan", "rekap_saluran")}
    case = sop.case(str(report.id))
    assert sop.refused(case, "Task_laporan_berkala", "Sekretariat Inspektorat", {"jumlah_terlambat": 0}) == [
        "jumlah_terlambat"]  # a figure is computed, never typed
    # the form sends the figures it shows back unchanged, with the sekretariat's narrative
    shown = {name: detail["case_data"][name] for name in detail["form"]["schema"]["properties"]
             if name in detail["case_data"]}
    case = sop.work(case, "Task_laporan_berkala", "Sekretariat Inspektorat",
                    {**shown, "laporan_berkala": "Satu pengaduan berkadar pengawasan masih dalam audit."})
    assert ready(case) == ["Task_terima_laporan_berkala"] and case["tasks"][0]["lane"] == "Inspektur"
    case = sop.work(case, "Task_terima_laporan_berkala", "Inspektur", {"catatan_inspektur": "Percepat audit."})
    assert case["status"] == "completed"
    assert case["data"]["jumlah_pengaduan"] == 4 and case["data"]["rekap_langkah"] == figures["rekap_langkah"]

    # Semester II 2026: e (1 July 00:30 WIB, still waiting) and g; c is finished now but was received in semester I
    sop.clock.move_to(datetime(2026, 8, 3, 2, 0, tzinfo=UTC))
    sop.work(sop.case(c["id"]), "Task_tindak_lanjut_inspektur", "Inspektur",
             form("dumas-tindak-lanjut-inspektur", bentuk_tindak_lanjut="audit investigasi"))
    g = _dumas(sop, datetime(2026, 11, 2, 2, 0, tzinfo=UTC), "tertulis", "tidak dapat diproses")
    assert g["status"] == "completed" and ready(e) == ["Task_verifikasi"]
    # 1 January 2027 is a Friday and a holiday (Tahun Baru): the report starts on Monday 4 January 08:00 WIB
    reports = _no_report_until(sop, DUMAS, datetime(2027, 1, 4, 1, 0, tzinfo=UTC),
                               datetime(2026, 12, 31, 17, 0, tzinfo=UTC), datetime(2027, 1, 1, 1, 0, tzinfo=UTC))
    second = reports[-1]
    assert second.business_key == f"{DUMAS}-laporan-berkala@2026-S2"
    assert {name: second.data[name] for name in ("periode", "periode_awal", "periode_akhir", "jumlah_pengaduan",
                                                 "jumlah_selesai", "jumlah_belum_selesai", "jumlah_terlambat")} == {
        "periode": "Semester II 2026", "periode_awal": "2026-07-01", "periode_akhir": "2026-12-31",
        "jumlah_pengaduan": 2, "jumlah_selesai": 1, "jumlah_belum_selesai": 1, "jumlah_terlambat": 0}
    assert _per_step(second.data) == {names["Task_verifikasi"]: (2, 0)}
    assert _counts(second.data["rekap_saluran"], "saluran", "jumlah") == [("langsung", 1), ("tertulis", 1)]
    assert _counts(second.data["rekap_keputusan"], "keputusan", "hasil", "jumlah") == [
        (hasil, "belum diputuskan", 1), (hasil, "tidak dapat diproses", 1), (kategori, "belum diputuskan", 2),
        (bentuk, "belum diputuskan", 2)]


# --- 003b: per triwulan --------------------------------------------------------------------------------

def _online(sop: Sop, at: datetime, media: str, verified: str | None = None) -> dict[str, Any]:
    sop.clock.move_to(at)
    case = sop.start(ONLINE, form("dinsos-online-pengaduan", media=media, isi_pesan="PKH belum cair"))
    if verified is not None:
        case = sop.work(case, "Task_penerimaan", "Admin Media Sosial", form("dinsos-online-penerimaan"))
    if verified:
        case = sop.work(case, "Task_verifikasi", "Admin Media Sosial",
                        form("dinsos-online-verifikasi", hasil_verifikasi_pesan=verified))
    return case


def test_the_quarterly_report_of_the_online_complaints_starts_on_1_april(sop: Sop) -> None:
    names = _names(ONLINE)
    p = _online(sop, datetime(2026, 2, 2, 1, 0, tzinfo=UTC), "WhatsApp", "tidak terkait pengaduan")
    assert p["status"] == "completed"
    q = _online(sop, datetime(2026, 3, 3, 1, 0, tzinfo=UTC), "Instagram", "")  # verification left waiting: late
    assert ready(q) == ["Task_verifikasi"]
    r = _online(sop, datetime(2026, 3, 31, 15, 30, tzinfo=UTC), "Facebook")  # 23:30 WITA on 31 March
    assert ready(r) == ["Task_penerimaan"]
    # 1 April 2026 08:00 WITA (00:00 UTC), not at midnight WITA
    [report] = _no_report_until(sop, ONLINE, datetime(2026, 4, 1, 0, 0, tzinfo=UTC),
                                datetime(2026, 3, 31, 16, 0, tzinfo=UTC))
    assert report.business_key == f"{ONLINE}-laporan-berkala@2026-T1"
    figures = report.data
    assert {name: figures[name] for name in ("periode", "periode_awal", "periode_akhir", "jumlah_pengaduan",
                                             "jumlah_selesai", "jumlah_belum_selesai", "jumlah_terlambat")} == {
        "periode": "Triwulan I 2026", "periode_awal": "2026-01-01", "periode_akhir": "2026-03-31",
        "jumlah_pengaduan": 3, "jumlah_selesai": 1, "jumlah_belum_selesai": 2, "jumlah_terlambat": 1}
    assert _per_step(figures) == {names["Task_penerimaan"]: (3, 0), names["Task_verifikasi"]: (2, 1)}
    assert _counts(figures["rekap_saluran"], "saluran", "jumlah") == [("Facebook", 1), ("Instagram", 1),
                                                                      ("WhatsApp", 1)]
    label = _label("dinsos-online-verifikasi", "hasil_verifikasi_pesan")
    assert _counts(figures["rekap_keputusan"], "keputusan", "hasil", "jumlah") == [
        (label, "belum diputuskan", 2), (label, "tidak terkait pengaduan", 1)]
    [task] = sop.tasks("Sekretaris", DINSOS)
    assert (task["definition_key"], task["element_id"]) == (f"{ONLINE}-laporan-berkala", "Task_laporan_berkala")
    with sop.services.db.reading() as session:
        assert session.get(Case, report.id) is not None
