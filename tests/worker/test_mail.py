"""The mail outbox against a real SMTP server on loopback: content, recipients, retries, exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from support.helpers import ROOT, deploy_file
from support.smtp import free_port, smtp_server

from service.commands import accounts
from service.commands.context import Services
from service.commands.display import case_label
from service.config import Settings
from service.engine import utc_now
from service.mail import SMTPMailer
from service.store.db import Database
from service.store.models import Case, OutboxItem, Unit, User
from service.worker.outbox import send_once

DUMAS = "dumas-inspektorat-katingan"
REPORT = {"kategori_terlapor": "Aparat Desa", "jenis_laporan": "penyimpangan", "saluran": "surat elektronik",
          "uraian": "Pungutan liar pada pengurusan surat keterangan", "lokasi_kasus": "Desa Tumbang Lahang"}
IDENTITY = {"nama": "Rahmat Hidayat", "nik": "6206011201900002", "email": "rahmat.hidayat@contoh.id",
            "alamat": "Jl. Tjilik Riwut 9", "telepon": "085249900117", "pekerjaan": "Wiraswasta"}


def _mailing(services: Services, port: int) -> SMTPMailer:
    services.settings = services.settings.with_overrides({"smtp_host": "127.0.0.1", "smtp_port": port,
                                                          "forms_dir": ROOT / "forms"})
    return SMTPMailer(services.settings)


def test_reporter_and_staff_mail_in_indonesian_to_the_right_people(app: Any, admin: Any, make_persona: Any,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    services = app.extensions["alur.services"]
    client = app.test_client()
    with smtp_server() as (handler, port):
        mailer = _mailing(services, port)
        assert deploy_file(client, admin, ROOT / "bpmn" / f"{DUMAS}.bpmn").status_code == 201
        inspektorat = make_persona("verifikator", "Inspektorat@unit-a")
        with services.db.transaction() as session:
            user = session.scalar(select(User).where(User.username == "verifikator"))
            assert user is not None
            user.email = "verifikator@inspektorat.contoh.id"
        receipt = client.post("/api/public/reports", json={"unit": "unit-a", "definition_key": DUMAS,
                                                           "mode": "rahasia", "data": REPORT, "identity": IDENTITY})
        assert receipt.status_code == 201
        no_email = {k: v for k, v in IDENTITY.items() if k != "email"}  # 004 takes no anonymous report
        without_mail = client.post("/api/public/reports", json={
            "unit": "unit-a", "definition_key": DUMAS, "mode": "biasa", "data": REPORT, "identity": no_email})
        assert without_mail.status_code == 201
        case_id = client.get("/api/cases", headers=inspektorat.headers).json["items"][-1]["id"]
        assert client.post(f"/api/cases/{case_id}/conversation", headers=inspektorat.headers,
                           json={"text": "Mohon kirim foto kwitansi"}).status_code == 201
        assert send_once(services, mailer) == 4  # receipt + message to the reporter, 2 new-task mails
        by_subject = {m["Subject"]: m for m in handler.messages}
        code = receipt.json["tracking_code"]
        # staff read a case by its Nomor registrasi (service.commands.display.case_label), the reporter by the code
        with services.db.reading() as session:
            number, other = (case_label(session.scalars(select(Case).where(Case.tracking_code == tracking)).one())
                             for tracking in (code, without_mail.json["tracking_code"]))
        assert set(by_subject) == {f"Laporan Anda telah diterima ({code})", f"Pesan baru tentang laporan {code}",
                                   f"Tugas baru: {number}", f"Tugas baru: {other}"}
        to_reporter = by_subject[f"Laporan Anda telah diterima ({code})"]
        assert to_reporter["To"] == IDENTITY["email"]
        body = to_reporter.get_payload()
        assert code in body and receipt.json["secret"] not in body and "Terima kasih" in body
        assert "Mohon kirim foto kwitansi" not in by_subject[f"Pesan baru tentang laporan {code}"].get_payload()
        assert by_subject[f"Tugas baru: {number}"]["To"] == "verifikator@inspektorat.contoh.id"
    with services.db.reading() as session:
        states = sorted(item.status for item in session.scalars(select(OutboxItem)))
    assert states == ["sent"] * 4
    assert IDENTITY["email"] not in caplog.text and IDENTITY["nik"] not in caplog.text


def test_unreachable_server_is_retried_with_backoff(app: Any, units: Any) -> None:
    services = app.extensions["alur.services"]
    mailer = _mailing(services, free_port())  # nothing listens there
    _staff_with_mail(services, "kabid", "Kabid@unit-a")
    _escalations(services, 1)
    assert send_once(services, mailer) == 0
    with services.db.reading() as session:
        item = session.scalars(select(OutboxItem)).one()
    assert item.status == "pending" and item.attempts == 1 and "ConnectionRefused" in (item.last_error or "")
    assert item.next_attempt_at is not None and item.next_attempt_at > utc_now()
    with smtp_server() as (handler, port):
        mailer = _mailing(services, port)
        assert send_once(services, mailer) == 0  # not yet: backing off
        with time_machine.travel(utc_now() + timedelta(minutes=3)):
            assert send_once(services, mailer) == 1
        assert len(handler.messages) == 1


def _staff_with_mail(services: Services, username: str, role: str) -> None:
    accounts.create_user(services, username, "rahasia-uji-123", [role])
    with services.db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        user.email = f"{username}@contoh.id"


def _escalations(services: Services, count: int) -> None:
    with services.db.transaction() as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == "unit-a"))
        session.add_all(OutboxItem(kind="escalation", unit_id=unit_id, recipient_role="Kabid",
                                   payload={"timer": f"Batas waktu {n}", "step": "Tindak lanjut"})
                        for n in range(count))


def _worker(url: str, port: int, instance: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ALUR_DATABASE_URL": url, "ALUR_SMTP_HOST": "127.0.0.1", "ALUR_SMTP_PORT": str(port),
           "ALUR_MAIL_LEASE_SECONDS": "1", "ALUR_INSTANCE_DIR": str(instance)}
    return subprocess.Popen([sys.executable, "-m", "service.cli", "worker", "--once"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_killed_mail_worker_sends_every_mail_exactly_once(postgres_db: str, tmp_path: Path) -> None:
    url = postgres_db
    services = Services(db=Database(url), settings=Settings(database_url=url, secret_key="k", data_dir=tmp_path,
                                                            forms_dir=tmp_path))
    accounts.create_unit(services, "unit-a", "Unit A")
    _staff_with_mail(services, "kabid", "Kabid@unit-a")
    total = 30
    _escalations(services, total)
    with smtp_server() as (handler, port):
        handler.hold_at = 12  # the 13th mail waits at RCPT: the worker is killed mid-conversation
        first = _worker(url, port, tmp_path)
        assert handler.holding.wait(timeout=60), first.stderr.read() if first.stderr else ""
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        handler.release.set()
        assert len(handler.messages) == 12
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with services.db.reading() as session:
                left = session.scalars(select(OutboxItem).where(OutboxItem.status != "sent")).all()
            if not left:
                break
            again = _worker(url, port, tmp_path)  # picks up the killed one's row once its lease ran out
            assert again.wait(timeout=60) == 0, again.stderr.read() if again.stderr else ""
            time.sleep(0.3)
        ids = handler.message_ids()
    assert len(ids) == total and len(set(ids)) == total
    with services.db.reading() as session:
        assert {item.status for item in session.scalars(select(OutboxItem))} == {"sent"}
    services.db.dispose()
