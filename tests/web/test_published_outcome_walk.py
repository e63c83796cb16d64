"""Issue 10 in headless Chromium: the reporter's follow-up page shows what the office published — the typed
reply (escaped, with its label), the letter to download through the page's session — and a rejection shows
its reason instead of a bare green "selesai"."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from support.helpers import Persona
from support.outcomes import PDF, REASON, REPLY, answer, complete_kasi_task, deploy, file_report
from support.web import open_follow_up, sqlite_only

from service.commands.public import COMPLETED_WITH_OUTCOME
from service.store.models import Attachment


@sqlite_only
def test_reporter_reads_the_reply_downloads_the_letter_and_reads_a_rejection_reason(
        app: Any, admin: Persona, make_persona: Callable[..., Persona], new_page: Callable[..., Any],
        tmp_path: Path) -> None:
    client = app.test_client()
    assert deploy(client, admin).status_code == 201
    kasi = make_persona("kasi.tanggapan", "Kasi@unit-a")
    code, secret = file_report(client, "anonim")
    answer(client, kasi)

    page = new_page()
    open_follow_up(page, code, secret)
    status = page.locator("#status-text")
    assert status.inner_text() == COMPLETED_WITH_OUTCOME
    assert "status-completed" not in (status.get_attribute("class") or "")  # neutral: the outcome says more
    outcome = page.locator("#outcome")
    assert outcome.locator("h2").inner_text() == "Hasil penanganan laporan Anda"
    assert outcome.locator(".message-text").first.inner_text() == "Tanggapan atas laporan Anda: jawaban atas laporan"
    assert outcome.locator("dt").all_inner_texts() == ["Tanggapan", "Surat balasan"]
    assert outcome.locator("dd").first.inner_text() == REPLY  # the office's "<b>" is text, not markup
    assert outcome.locator("b").count() == 0
    assert page.locator(".thread .from-kantor dt").all_inner_texts() == ["Tanggapan", "Surat balasan"]
    with page.expect_download() as download:
        outcome.get_by_role("link", name="surat-balasan.pdf").click()
    saved = tmp_path / "surat.pdf"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "surat-balasan.pdf" and saved.read_bytes() == PDF
    with app.extensions["alur.services"].db.reading() as session:
        internal = session.scalars(select(Attachment.id).where(Attachment.field == "catatan_internal")).one()
    assert page.request.get(f"/lapor/tindak-lanjut/lampiran/{internal}").status == 404  # never published
    assert page.console_errors == []

    rejected_code, rejected_secret = file_report(client, "anonim")
    complete_kasi_task(client, kasi, {"keputusan": "ditolak", "alasan": REASON})
    page.get_by_role("button", name="Keluar").click()
    open_follow_up(page, rejected_code, rejected_secret)
    assert page.locator("#status-text").inner_text() == COMPLETED_WITH_OUTCOME
    rejection = page.locator("#outcome")
    assert rejection.locator(".message-text").first.inner_text() == (
        "Tanggapan atas laporan Anda: Laporan tidak dapat diproses")
    assert rejection.locator("dt").all_inner_texts() == ["Alasan penolakan"]
    assert rejection.locator("dd").inner_text() == REASON
    assert page.request.get(f"/lapor/tindak-lanjut/lampiran/{internal}").status == 404  # another report's file
