"""The DUMAS SOP walked through the web pages in headless Chromium, one lane's user after another.

The reporter's filing is the setup step (the public intake is not a staff page). Each lane's user
signs in, sees only their task, claims it, fills the @rjsf/core form (one server-side validation
error shown next to its field, one attachment), and the case reaches its end. Screenshots of the
task list, a task form and the case page go to ``build/screenshots/`` (``ALUR_UPDATE_SCREENSHOTS=1``:
``docs/screenshots/``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from support.web import ESELON_UNIT_NAME, SCREENSHOTS, TIDAK_BERKADAR, Dumas, browser_login, sqlite_only

from service.commands.display import case_label
from service.store.models import Case

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def open_my_only_task(page: Any, username: str, task_name: str, case_name: str) -> None:
    """Sign in; the task list holds exactly this one task; claim it (htmx) and open it."""
    browser_login(page, username)
    rows = page.locator("tr[data-task-id]")
    assert rows.count() == 1, f"{username} should see only their task"
    assert rows.locator(".task-name").inner_text() == task_name
    assert rows.locator(".case-key").inner_text() == case_name
    rows.get_by_role("button", name="Ambil").click()
    page.locator("tr[data-task-id] button", has_text="Lepaskan").wait_for()  # refreshed without a reload
    page.locator("tr[data-task-id] .task-name").click()
    page.locator("form.rjsf").wait_for()


def submit(page: Any) -> None:
    page.get_by_role("button", name="Selesaikan tugas").click()


def finish(page: Any) -> None:
    submit(page)
    page.wait_for_url("**/cases/**")


def field_errors(page: Any, field_id: str) -> str:
    group = page.locator(".form-group", has=page.locator(f"#{field_id}")).first
    return str(group.locator(".error-detail").inner_text())


def sees_nothing(new_page: Callable[..., Any], username: str) -> None:
    page = new_page()
    browser_login(page, username)
    assert page.locator("tr[data-task-id]").count() == 0, f"{username} sees a task of another lane"
    page.context.close()


@sqlite_only
@pytest.mark.parametrize("path", ["berkadar", "eselon"])
def test_dumas_walk(dumas: Dumas, new_page: Callable[..., Any], path: str) -> None:
    key = f"DUMAS/0{'17' if path == 'berkadar' else '18'}/X/2025"
    case_id = dumas.start(key)
    with dumas.services.db.reading() as session:
        shown = case_label(session.get(Case, case_id))  # the Nomor registrasi: what the task list shows

    # Langkah 2: Inspektorat — a server-side validation error first, shown next to its field
    page = new_page()
    browser_login(page, "inspektorat")
    if path == "berkadar":
        page.locator("tr[data-task-id]").wait_for()
        page.screenshot(path=str(SCREENSHOTS / "task-list.png"), full_page=True)
    page.context.close()
    for other in ("inspektur", "sekretariat", "eselon2"):
        sees_nothing(new_page, other)
    page = new_page()
    open_my_only_task(page, "inspektorat", "Menerima, mencatat dan memverifikasi laporan", shown)
    page.fill("#root_laporan_hasil_verifikasi", "Laporan lengkap, identitas pelapor ada.")
    page.get_by_label("lengkap", exact=True).check()
    submit(page)
    page.locator(".error-detail").first.wait_for()
    assert "nomor_registrasi" in field_errors(page, "root_nomor_registrasi")
    assert page.locator("#form-error").is_visible()
    if path == "berkadar":
        page.screenshot(path=str(SCREENSHOTS / "task-form.png"), full_page=True)
    page.fill("#root_nomor_registrasi", key)
    finish(page)
    assert page.locator(".case-status").inner_text() == "berjalan"
    page.context.close()

    # Langkah 3: Inspektur
    page = new_page()
    open_my_only_task(page, "inspektur", "Mengkoordinasikan penelaahan dan menyalurkan hasil penelaahan", shown)
    page.fill("#root_inti_masalah", "Pungutan liar surat keterangan")
    category = "berkadar pengawasan" if path == "berkadar" else TIDAK_BERKADAR["kategori_telaah"]
    page.get_by_label(category, exact=True).check()
    page.fill("#root_memo_kepala_inspektorat", "Ditindaklanjuti sesuai SOP")
    if path == "eselon":  # forwarded to the reported unit kerja: which one, and why (the reporter reads it)
        page.select_option("#root_unit_kerja_terlapor", label=ESELON_UNIT_NAME)
        page.fill("#root_alasan_kategori", TIDAK_BERKADAR["alasan_kategori"])
    finish(page)
    page.context.close()

    upload = {"name": "laporan-audit.pdf", "mimeType": "application/pdf", "buffer": PDF}
    if path == "berkadar":
        # Langkah 4: Sekretariat Inspektorat, then langkah 5: Inspektur with the audit report attached
        page = new_page()
        open_my_only_task(page, "sekretariat", "Menindaklanjuti penyaluran hasil penelaahan yang berkadar pengawasan",
                          shown)
        page.fill("#root_nomor_agenda", "AG-17")
        page.fill("#root_tanggal_diterima", "2025-10-06")
        finish(page)
        page.context.close()
        page = new_page()
        open_my_only_task(page, "inspektur", "Tindak lanjut pengaduan berkadar pengawasan (tanggapan/audit)", shown)
        page.get_by_label("audit dengan tujuan tertentu", exact=True).check()
        page.fill("#root_laporan_tindak_lanjut", "Audit selesai")
        page.fill("#root_kesimpulan", "Terbukti sebagian")
    else:
        # Langkah 6: Eselon II with the report attached
        page = new_page()
        open_my_only_task(page, "eselon2", "Menindaklanjuti pengaduan tidak berkadar pengawasan", shown)
        page.fill("#root_laporan_tindak_lanjut", "Pembinaan kepada kepala desa")
        page.fill("#root_kesimpulan", "Tidak terbukti")
    page.set_input_files("#root_berkas_laporan_tindak_lanjut", files=[upload])
    page.locator("text=laporan-audit.pdf").first.wait_for()
    finish(page)

    # the case page: completed, timeline, attachment, diagram with markers
    assert page.locator(".case-status").inner_text() == "selesai"
    assert page.locator("ul.files a", has_text="laporan-audit.pdf").count() == 1
    assert page.locator("tr.event-task_completed").count() == (4 if path == "berkadar" else 3)
    page.wait_for_selector("#diagram[data-rendered=true]")
    assert page.locator("#diagram .djs-element.alur-done").count() == (4 if path == "berkadar" else 3)
    assert page.console_errors == []
    if path == "berkadar":
        page.screenshot(path=str(SCREENSHOTS / "case-page.png"), full_page=True)
    assert case_id in page.url
