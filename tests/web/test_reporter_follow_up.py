"""The reporter's follow-up page shows their own report: the text and files as sent, the mode, a
timeline of what they may know, the SOP's expected handling time and the office's contact; never an
internal note, a staff name or an internal field. The receipt's Salin/Unduh buttons in Chromium. The
unit administrator edits the contact on the unit settings page, recorded in the unit history.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from support.web import PASSWORD, UNIT, Dumas, csrf_of, open_follow_up, sqlite_only

from service.commands import accounts
from service.store.models import Unit, UnitEvent

REPORT = {"kategori_terlapor": "Kepala Desa", "jenis_laporan": "penyimpangan", "saluran": "tertulis",
          "uraian": "Pungutan liar Rp 75.000 pada pengurusan surat keterangan usaha di kantor desa",
          "lokasi_kasus": "Desa Tumbang Samba"}
IDENTITY = {"nama": "Siti Rahmah", "nik": "6206011203850001", "alamat": "Jl. Tjilik Riwut 3, Kasongan",
            "telepon": "081234567890", "pekerjaan": "Pedagang"}
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
#: the officer who handles the report: their name and username must never reach the reporter
OFFICER, OFFICER_NAME = "budi.verifikator", "Budi Santoso Verifikator"
INTERNAL_NOTE = "Catatan internal: terlapor kerabat pejabat, hati-hati"
INTERNAL_FINDING = "Hasil verifikasi internal: bukti tidak cukup kuat"
OFFICE_MESSAGE = "Terima kasih, laporan Anda sedang kami periksa."
REASON = "Laporan bukan kewenangan Inspektorat: silakan sampaikan ke Ombudsman."
CONTACT = {"contact_phone": "(0536) 4041234", "contact_email": "dumas@inspektorat.contoh.go.id",
           "contact_address": "Jl. Contoh Demo No. 1, Kasongan"}


def _contact(dumas: Dumas, sign_in: Callable[..., Any], **fields: str) -> Any:
    admin = sign_in("admin")
    page = admin.get(f"/admin/unit/{UNIT}")
    return admin, admin.post(f"/admin/unit/{UNIT}/kontak", data={"csrf_token": csrf_of(page.text), **fields})


def _file(client: Any) -> dict[str, str]:
    token = csrf_of(client.get("/lapor").text)
    png = "data:image/png;name=bukti-kuitansi.png;base64," + base64.b64encode(PNG).decode()
    response = client.post("/lapor/kirim", headers={"X-CSRFToken": token}, json={
        "unit": UNIT, "definition_key": "dumas-inspektorat-katingan", "mode": "rahasia",
        "data": {**REPORT, "lampiran": [png]}, "identity": IDENTITY})
    assert response.status_code == 201, response.json
    receipt: dict[str, str] = response.json
    return receipt


def _open(client: Any, receipt: dict[str, str]) -> str:
    page = client.get("/lapor/tindak-lanjut")
    signed = client.post("/lapor/tindak-lanjut", data={"code": receipt["tracking_code"], "secret": receipt["secret"],
                                                       "csrf_token": csrf_of(page.text)})
    assert signed.status_code == 302
    html: str = client.get("/lapor/tindak-lanjut").text
    return html


def _officer_handles(dumas: Dumas, sign_in: Callable[..., Any]) -> None:
    """The officer writes an internal note, messages the reporter and closes the report as not processable."""
    accounts.create_user(dumas.services, OFFICER, PASSWORD, [f"Inspektorat@{UNIT}"], display_name=OFFICER_NAME)
    staff = sign_in(OFFICER)
    tasks = staff.get("/tasks").text
    task_id = re.search(r'data-task-id="([^"]+)"', tasks)
    assert task_id
    case_id = re.search(r'href="/cases/([^"#?]+)', tasks)
    assert case_id
    case_page = staff.get(f"/cases/{case_id.group(1)}").text
    token = csrf_of(case_page)
    assert staff.post(f"/cases/{case_id.group(1)}/comments",
                      data={"body": INTERNAL_NOTE, "csrf_token": token}).status_code == 302
    assert staff.post(f"/cases/{case_id.group(1)}/pelapor/pesan",
                      data={"text": OFFICE_MESSAGE, "csrf_token": token}).status_code == 302
    claimed = staff.post(f"/tasks/{task_id.group(1)}/claim", data={"csrf_token": token})
    assert claimed.status_code in (200, 302, 303)
    done = staff.post(f"/tasks/{task_id.group(1)}/complete", headers={"X-CSRFToken": token}, json={"data": {
        "nomor_registrasi": "001/DUMAS/XI/2026", "laporan_hasil_verifikasi": INTERNAL_FINDING,
        "hasil_verifikasi": "tidak dapat diproses", "alasan_tidak_dapat_diproses": REASON}})
    assert done.status_code == 200, done.json


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_reporter_sees_their_report_timeline_expected_time_and_contact_never_internals(
        dumas: Dumas, sign_in: Callable[..., Any]) -> None:
    _admin, saved = _contact(dumas, sign_in, **CONTACT)
    assert saved.status_code == 303
    client = dumas.app.test_client()
    receipt = _file(client)
    html = _open(client, receipt)
    report = re.search(r'<section aria-labelledby="submission-title".*?</section>', html, re.S)
    assert report, "the report as sent is on the page"
    shown = _text(report.group(0))
    for label, value in (("Uraian pengaduan", REPORT["uraian"]), ("Lokasi kasus", REPORT["lokasi_kasus"]),
                         ("Terlapor", "Kepala Desa"), ("Jenis laporan", "penyimpangan"),
                         ("Bukti pendukung laporan", "bukti-kuitansi.png")):
        assert f"{label} {value}" in shown, (label, shown)
    for secret in IDENTITY.values():  # the identity is kept encrypted, apart from the report
        assert secret not in html
    download = re.search(r'href="(/lapor/tindak-lanjut/lampiran/[^"]+)"', report.group(0))
    assert download
    file = client.get(download.group(1))
    assert file.status_code == 200 and file.data == PNG
    facts = _text(re.search(r'<dl class="facts" id="facts">.*?</dl>', html, re.S).group(0))  # type: ignore[union-attr]
    assert "Identitas Anda Rahasia" in facts
    assert "Perkiraan waktu penanganan 60 hari" in facts  # the Inspektur's 60 hari, the SOP's longest step
    contact = _text(re.search(r'<section aria-labelledby="contact-title".*?</section>', html, re.S).group(0))  # type: ignore[union-attr]
    assert ("Telepon (0536) 4041234" in contact and "dumas@inspektorat.contoh.go.id" in contact
            and "Jl. Contoh Demo No. 1, Kasongan" in contact), contact
    assert 'href="tel:(0536)4041234"' in html and 'href="mailto:dumas@inspektorat.contoh.go.id"' in html

    _officer_handles(dumas, sign_in)
    html = client.get("/lapor/tindak-lanjut").text
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', html, re.S)
    assert timeline
    events = [_text(item) for item in re.findall(r"<li[^>]*>(.*?)</li>", timeline.group(1), re.S)]
    kinds = re.findall(r'<li class="event-([a-z_]+)"', timeline.group(1))
    assert kinds == ["received", "in_process", "message_received", "published", "completed"], events
    assert events[1].endswith("Diproses: Menerima, mencatat dan memverifikasi laporan")
    assert "Laporan diterima" in events[0] and "Penanganan selesai" in events[4]
    assert REASON in html  # the published outcome
    for internal in (INTERNAL_NOTE, INTERNAL_FINDING, OFFICER, OFFICER_NAME, "Inspektorat@", "001/DUMAS/XI/2026"):
        assert internal not in html, internal


def test_the_follow_up_page_without_a_contact_says_so_and_an_anonymous_mode_is_named(
        dumas: Dumas, sign_in: Callable[..., Any]) -> None:
    client = dumas.app.test_client()
    html = _open(client, _file(client))
    assert "Kantor belum mencantumkan kontak." in html
    assert 'id="report-mode">Rahasia<' in html


def test_a_unit_admin_edits_the_contact_recorded_in_the_unit_history(
        dumas: Dumas, sign_in: Callable[..., Any]) -> None:
    accounts.create_user(dumas.services, "admin.katingan", PASSWORD, [f"admin@{UNIT}"])
    unit_admin = sign_in("admin.katingan")
    page = unit_admin.get(f"/admin/unit/{UNIT}")
    assert page.status_code == 200 and 'id="contact-form"' in page.text
    bad = unit_admin.post(f"/admin/unit/{UNIT}/kontak", data={
        "csrf_token": csrf_of(page.text), "contact_phone": "telepon kami", "contact_email": "bukan-email",
        "contact_address": "Jl. Baru"})
    assert bad.status_code == 422
    assert 'id="contact_phone-error"' in bad.text and 'id="contact_email-error"' in bad.text
    assert "Ini bukan alamat surel." in bad.text and "Nomor telepon terdiri atas" in bad.text
    assert 'value="telepon kami"' in bad.text  # the typed values stay in the form
    with dumas.services.db.reading() as session:
        unit = session.scalars(select(Unit).where(Unit.code == UNIT)).one()
        assert (unit.contact_phone, unit.contact_email, unit.contact_address) == (None, None, None)  # nothing saved
    saved = unit_admin.post(f"/admin/unit/{UNIT}/kontak", data={"csrf_token": csrf_of(page.text), **CONTACT})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("selesai=contact_set")
    shown = unit_admin.get(saved.headers["Location"]).text
    assert f'value="{CONTACT["contact_email"]}"' in shown and "Kontak untuk pelapor diubah" in shown
    cleared = unit_admin.post(f"/admin/unit/{UNIT}/kontak", data={"csrf_token": csrf_of(page.text),
                                                                 **{**CONTACT, "contact_address": "  "}})
    assert cleared.status_code == 303
    with dumas.services.db.reading() as session:
        unit = session.scalars(select(Unit).where(Unit.code == UNIT)).one()
        assert (unit.contact_phone, unit.contact_email, unit.contact_address) == (
            CONTACT["contact_phone"], CONTACT["contact_email"], None)
        events = session.scalars(select(UnitEvent).where(UnitEvent.unit_id == unit.id,
                                                         UnitEvent.action == "contact_set")
                                 .order_by(UnitEvent.id)).all()
    assert [(e.actor, e.data["contact"]["contact_address"], e.data["before"]["contact_address"]) for e in events] == [
        ("admin.katingan", CONTACT["contact_address"], None), ("admin.katingan", None, CONTACT["contact_address"])]
    outsider = sign_in("luar")
    refused = outsider.post(f"/admin/unit/{UNIT}/kontak", data={
        "csrf_token": csrf_of(outsider.get("/tasks").text), **CONTACT})
    assert refused.status_code == 403
    no_token = unit_admin.post(f"/admin/unit/{UNIT}/kontak", data=CONTACT)
    assert no_token.status_code == 400


# --- the receipt in Chromium -------------------------------------------------------------------------

@sqlite_only
def test_the_receipt_copies_and_downloads_the_code_and_secret(
        dumas: Dumas, new_page: Callable[..., Any], tmp_path: Path) -> None:
    page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/lapor")
    page.locator("form.rjsf").wait_for()
    page.get_by_label("Kepala Desa", exact=True).check()
    page.get_by_label("penyimpangan", exact=True).check()
    page.get_by_label("tertulis", exact=True).check()
    page.fill("#root_uraian", REPORT["uraian"])
    page.fill("#root_lokasi_kasus", REPORT["lokasi_kasus"])
    page.get_by_label("Rahasia", exact=True).check()
    for name, value in IDENTITY.items():
        page.fill(f"#identity_{name}", value)
    page.get_by_role("button", name="Kirim laporan").click()
    page.locator("#secret").wait_for()
    code = page.locator("#tracking-code").inner_text().replace(" ", "")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    page.get_by_role("button", name="Salin").click()
    page.locator("#receipt-notice.ok").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    grouped_code = " ".join(code[i:i + 4] for i in range(0, 16, 4))
    grouped_secret = " ".join(secret[i:i + 4] for i in range(0, 16, 4))
    assert f"Kode laporan: {grouped_code}" in copied and f"Kata sandi: {grouped_secret}" in copied
    assert "/lapor/tindak-lanjut" in copied

    with page.expect_download() as info:
        page.get_by_role("button", name="Unduh").click()
    download = info.value
    assert download.suggested_filename == f"laporan-{code}.txt"
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    text = target.read_text(encoding="utf-8")
    assert f"Kode laporan: {grouped_code}" in text and f"Kata sandi: {grouped_secret}" in text
    assert re.search(r"Halaman tindak lanjut: http://127\.0\.0\.1:\d+/lapor/tindak-lanjut", text), text
    assert "Tanggal: " in text
    assert page.console_errors == []

    # the fallback: without clipboard access the numbers are selected for a manual copy
    page.evaluate("Object.defineProperty(navigator, 'clipboard', "
                  "{value: {writeText: () => Promise.reject(new Error('no'))}})")
    page.get_by_role("button", name="Salin").click()
    page.get_by_text("Menyalin tidak dapat dilakukan di sini", exact=False).wait_for()
    selected = page.evaluate("String(window.getSelection())")
    assert grouped_code in selected and grouped_secret in selected

    open_follow_up(page, code, secret)
    assert page.locator("#laporan").get_by_text(REPORT["uraian"]).is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
