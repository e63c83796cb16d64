"""Issue 10: the reporter's mail (real SMTP on loopback) carries what the office published and the follow-up
link; a request for information (a new Pelapor-lane task) is mailed too; headers stay one line."""

from __future__ import annotations

from email.message import Message
from typing import Any

import pytest
from support.helpers import Persona
from support.outcomes import BPMN, IDENTITY, QUESTION, REPLY, answer, complete_kasi_task, deploy, file_report, follow
from support.smtp import smtp_server

from service.commands.context import Services
from service.mail import SMTPMailer
from service.worker.outbox import send_once

PUBLIC_URL = "https://lapor.contoh.go.id"
FOLLOW_UP_LINK = f"{PUBLIC_URL}/lapor/tindak-lanjut"


@pytest.fixture
def kasi(make_persona: Any, units: dict[str, str]) -> Persona:
    return make_persona("kasi.tanggapan", "Kasi@unit-a")


def _mailer(services: Services, port: int) -> SMTPMailer:
    services.settings = services.settings.with_overrides({"smtp_host": "127.0.0.1", "smtp_port": port,
                                                          "public_url": PUBLIC_URL})
    return SMTPMailer(services.settings)


def _subject(mail: Message) -> str:
    """The Subject unfolded (a long header is folded onto continuation lines, as RFC 5322 allows)."""
    return " ".join(str(mail["Subject"]).split())


def _body(mail: Message) -> str:
    assert not mail.is_multipart()  # names of files, never their bytes
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().replace("\r\n", "\n")


def test_request_for_information_and_answer_reach_the_reporter_by_mail(
        app: Any, client: Any, admin: Persona, kasi: Persona) -> None:
    services = app.extensions["alur.services"]
    assert deploy(client, admin).status_code == 201
    code, secret = file_report(client)
    complete_kasi_task(client, kasi, {"keputusan": "kurang", "kekurangan_laporan": QUESTION})
    with smtp_server() as (handler, port):
        mailer = _mailer(services, port)
        assert send_once(services, mailer) == 2  # the receipt and the request (the Kasi has no address)
        receipt, request = handler.messages
        assert request["To"] == IDENTITY["email"]
        assert _subject(request) == f"Kantor meminta tanggapan Anda: Melengkapi laporan (laporan {code})"
        body = _body(request)
        assert f"Kekurangan laporan:\n    {QUESTION}" in body
        assert "Mohon tanggapi paling lambat" in body and " WIB." in body
        assert FOLLOW_UP_LINK in body and FOLLOW_UP_LINK in _body(receipt)
        assert secret not in body

        task = follow(client, code, secret).json["tasks"][0]
        done = client.post(f"/api/public/reports/{code}/tasks/{task['id']}/complete",
                           headers={"X-Report-Secret": secret}, json={"data": {"uraian_tambahan": "Loket 2."}})
        assert done.status_code == 200, done.json
        answer(client, kasi)
        assert send_once(services, mailer) == 1
        outcome = handler.messages[-1]
    assert outcome["To"] == IDENTITY["email"] and _subject(outcome) == f"Perkembangan laporan {code}"
    body = _body(outcome)
    assert "Tanggapan atas laporan Anda: jawaban atas laporan" in body
    reply = "\n".join(f"    {line}" for line in REPLY.splitlines())
    assert f"Tanggapan:\n{reply}\n" in body  # as typed, not HTML-escaped: the mail is plain text
    assert "Surat balasan:\n    surat-balasan.pdf" in body
    assert "catatan-internal" not in body and "%PDF" not in body
    assert FOLLOW_UP_LINK in body and secret not in body


def test_a_task_name_with_line_breaks_gives_a_one_line_subject(
        app: Any, client: Any, admin: Persona, kasi: Persona) -> None:
    services = app.extensions["alur.services"]
    bpmn = BPMN.read_text(encoding="utf-8").replace(
        'name="Melengkapi laporan"', 'name="Melengkapi&#13;&#10;Bcc: penyusup@contoh.id&#10;laporan"')
    assert deploy(client, admin, bpmn.encode()).status_code == 201
    code, _ = file_report(client)
    complete_kasi_task(client, kasi, {"keputusan": "kurang", "kekurangan_laporan": QUESTION})
    with smtp_server() as (handler, port):
        assert send_once(services, _mailer(services, port)) == 2
        request = handler.messages[-1]
    assert request["Bcc"] is None and request.get_all("To") == [IDENTITY["email"]]
    assert _subject(request) == ("Kantor meminta tanggapan Anda: Melengkapi Bcc: penyusup@contoh.id laporan "
                                       f"(laporan {code})")
