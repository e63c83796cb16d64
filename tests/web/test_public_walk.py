"""A reporter and the Inspektorat in headless Chromium against a real server thread, with mail to a real
SMTP server on loopback (aiosmtpd).

A confidential DUMAS report (004 takes no anonymous one) without an email, with a PNG attached, gets a
code and a secret; the Inspektorat finds it
incomplete and asks for more (the reporter's "Melengkapi laporan" task shows the question) and also
writes in the thread; the reporter opens the follow-up page, reads both, completes the task and adds a
message; the Inspektorat's verification is ready again, staff finish the case along the Eselon II
path, and the reporter finally reads the closing status and reply. A ``rahasia`` report with an email
gets its receipt mail: the code is in it, the secret is not. Screenshots go to
``build/screenshots/`` (``ALUR_UPDATE_SCREENSHOTS=1``: ``docs/screenshots/``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from support.smtp import smtp_server
from support.web import PASSWORD, SCREENSHOTS, TIDAK_BERKADAR, Dumas, browser_login, open_follow_up, sqlite_only

from service.commands.public import COMPLETED_WITH_OUTCOME
from service.mail import SMTPMailer
from service.worker.outbox import send_once

#: what 004 requires (``identitas_wajib``); no email, so nobody is mailed about the walk's report
IDENTITY = {"nama": "Siti Rahmah", "nik": "6206011203850001", "alamat": "Jl. Tjilik Riwut 3, Kasongan",
            "telepon": "081234567890", "pekerjaan": "Pedagang"}
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82")
QUESTION = "Mohon sebutkan tanggal kejadian dan nama petugas desa yang meminta pungutan."
OFFICE_NOTE = "Terima kasih, laporan Anda sedang kami verifikasi."
ANSWER = "Kejadian tanggal 3 Maret 2026 di kantor desa, oleh Sekretaris Desa."
WITNESSES = "Saksi: dua warga yang antre bersama saya."
FINAL_REPLY = "Hasil tindak lanjut: Kepala Desa telah dibina dan pungutan dihentikan."


def _fill_report(page: Any, mode: str, identity: dict[str, str] | None = None) -> None:
    page.goto("/lapor")
    page.locator("form.rjsf").wait_for()
    page.get_by_label("Kepala Desa", exact=True).check()
    page.get_by_label("penyimpangan", exact=True).check()
    page.get_by_label("tertulis", exact=True).check()
    page.fill("#root_uraian", "Pungutan liar Rp 50.000 untuk surat keterangan tidak mampu.")
    page.fill("#root_lokasi_kasus", "Desa Tumbang Samba, Kec. Katingan Tengah")
    page.get_by_label({"anonim": "Anonim", "rahasia": "Rahasia", "biasa": "Biasa"}[mode], exact=True).check()
    for name, value in (identity or {}).items():
        page.fill(f"#identity_{name}", value)


def _receipt(page: Any) -> tuple[str, str]:
    page.get_by_role("button", name="Kirim laporan").click()
    page.locator("#secret").wait_for()
    code = page.locator("#tracking-code").inner_text().replace(" ", "")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    assert len(code) == 16 and len(secret) == 16 and code.isdigit() and secret.isdigit()
    return code, secret


def _api(dumas: Dumas) -> tuple[Any, Callable[[str], dict[str, str]]]:
    client = dumas.app.test_client()

    def headers(username: str) -> dict[str, str]:
        token = client.post("/api/auth/token", json={"username": username, "password": PASSWORD}).json["token"]
        return {"Authorization": f"Bearer {token}"}

    return client, headers


def _complete_only_task(client: Any, headers: dict[str, str], data: dict[str, Any]) -> None:
    items = client.get("/api/tasks", headers=headers).json["items"]
    assert len(items) == 1, items
    done = client.post(f"/api/tasks/{items[0]['id']}/complete", headers=headers, json={"data": data})
    assert done.status_code == 200, done.json


@sqlite_only
def test_confidential_report_question_answer_and_final_reply(dumas: Dumas, new_page: Callable[..., Any]) -> None:
    # the reporter files a confidential report with evidence
    reporter = new_page()
    _fill_report(reporter, "rahasia", IDENTITY)
    reporter.set_input_files("#root_lampiran", files=[{"name": "bukti-kuitansi.png", "mimeType": "image/png",
                                                       "buffer": PNG}])
    reporter.locator("text=bukti-kuitansi.png").first.wait_for()
    reporter.screenshot(path=str(SCREENSHOTS / "public-report.png"), full_page=True)
    code, secret = _receipt(reporter)
    assert reporter.locator("#receipt-mailed").count() == 0
    reporter.screenshot(path=str(SCREENSHOTS / "public-receipt.png"), full_page=True)

    # the Inspektorat finds it incomplete and asks; and writes in the thread
    staff = new_page()
    browser_login(staff, "inspektorat")
    staff.locator("tr[data-task-id] .task-name").click()
    staff.locator("form.rjsf").wait_for()
    staff.fill("#root_nomor_registrasi", "001/DUMAS/2026")
    staff.fill("#root_laporan_hasil_verifikasi", "Kronologi belum lengkap")
    staff.get_by_label("tidak lengkap", exact=True).check()
    staff.fill("#root_kekurangan_laporan", QUESTION)
    staff.get_by_role("button", name="Selesaikan tugas").click()
    staff.wait_for_url("**/cases/**")
    case_url = staff.url.split("?")[0]
    assert staff.locator("ul.files a", has_text="bukti-kuitansi.png").count() == 1
    assert staff.locator(".reporter-mode").inner_text() == "rahasia"
    staff.fill("#reporter-text", OFFICE_NOTE)
    staff.get_by_role("button", name="Kirim ke pelapor").click()
    staff.locator("#pelapor .message-text", has_text=OFFICE_NOTE).wait_for()

    # the reporter reads the question and the note, answers the task, adds a message
    open_follow_up(reporter, code, secret)
    assert reporter.locator("#status-text").inner_text() == "Laporan Anda sedang ditindaklanjuti"
    assert reporter.locator(".reporter-task h2").inner_text() == "Kantor meminta Anda: Melengkapi laporan"
    assert reporter.locator(".request").inner_text() == QUESTION
    assert reporter.locator(".thread .from-petugas .message-text").inner_text() == OFFICE_NOTE
    reporter.locator("form.rjsf").wait_for()
    reporter.screenshot(path=str(SCREENSHOTS / "follow-up.png"), full_page=True)
    reporter.fill("#root_uraian_tambahan", ANSWER)
    reporter.get_by_role("button", name="Kirim ke kantor").click()
    reporter.wait_for_function("() => !document.querySelector('.reporter-task')")
    assert reporter.locator(".steps li").all_inner_texts() == ["Menerima, mencatat dan memverifikasi laporan"]
    reporter.fill("#message-text", WITNESSES)
    reporter.get_by_role("button", name="Kirim pesan").click()
    reporter.locator("#message-sent").wait_for()
    assert reporter.locator(".thread .from-pelapor").count() == 1

    # the case continues: the Inspektorat's verification is ready again, with the answer in the case
    staff.goto(case_url)
    assert staff.locator("#pelapor .from-pelapor .message-text").inner_text() == WITNESSES
    client, headers = _api(dumas)
    inspektorat = headers("inspektorat")
    task = client.get("/api/tasks", headers=inspektorat).json["items"]
    assert [t["name"] for t in task] == ["Menerima, mencatat dan memverifikasi laporan"]
    case = client.get(f"/api/cases/{task[0]['case_id']}", headers=inspektorat).json
    assert case["data"]["uraian_tambahan"] == ANSWER
    _complete_only_task(client, inspektorat, {"nomor_registrasi": "001/DUMAS/2026",
                                              "laporan_hasil_verifikasi": "Lengkap", "hasil_verifikasi": "lengkap"})
    _complete_only_task(client, headers("inspektur"), {
        "inti_masalah": "Pungutan liar surat keterangan", "memo_kepala_inspektorat": "Teruskan ke Eselon II",
        **TIDAK_BERKADAR})
    replied = client.post(f"/api/cases/{case['id']}/conversation", headers=inspektorat, json={"text": FINAL_REPLY})
    assert replied.status_code == 201
    _complete_only_task(client, headers("eselon2"), {"laporan_tindak_lanjut": "Pembinaan kepada kepala desa",
                                                     "kesimpulan": "Terbukti, pungutan dihentikan"})

    # the reporter sees the final status and reply; the case takes no more messages
    reporter.reload()
    assert reporter.locator("#status-text").inner_text() == COMPLETED_WITH_OUTCOME  # the final notification
    assert FINAL_REPLY in reporter.locator(".thread").inner_text()
    assert reporter.locator("#message-text").count() == 0
    reporter.get_by_role("button", name="Keluar").click()
    reporter.locator("#secret").wait_for()  # back to code + secret
    assert reporter.console_errors == [] and staff.console_errors == []

    # no email given: no mail to anybody about it (the staff have no email addresses either)
    with smtp_server() as (handler, port):
        settings = dumas.services.settings.with_overrides({"smtp_host": "127.0.0.1", "smtp_port": port})
        assert send_once(dumas.services, SMTPMailer(settings)) == 0
        assert handler.messages == []


@sqlite_only
def test_rahasia_report_with_email_gets_a_receipt_mail_without_the_secret(
        dumas: Dumas, new_page: Callable[..., Any]) -> None:
    page = new_page()
    _fill_report(page, "rahasia", {**IDENTITY, "email": "siti.rahmah@contoh.id"})
    code, secret = _receipt(page)
    assert page.locator("#receipt-mailed").is_visible()
    with smtp_server() as (handler, port):
        settings = dumas.services.settings.with_overrides({"smtp_host": "127.0.0.1", "smtp_port": port})
        assert send_once(dumas.services, SMTPMailer(settings)) == 1
        assert send_once(dumas.services, SMTPMailer(settings)) == 0  # sent once
        [mail] = handler.messages
    body = mail.get_payload(decode=True).decode()
    assert mail["To"] == "siti.rahmah@contoh.id"
    assert code in mail["Subject"] and code in body
    assert secret not in str(mail) and secret not in body
