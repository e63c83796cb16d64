"""Issue 10, published outcomes: what a notification to the Pelapor publishes (``tampilkan``) reaches the
follow-up API with its form labels; the reporter downloads a published file, and nothing else of the office."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from support.helpers import Persona
from support.outcomes import (
    PDF,
    PNG,
    QUESTION,
    REASON,
    REPLY,
    answer,
    complete_kasi_task,
    data_url,
    deploy,
    file_report,
    follow,
)

from service.commands.public import COMPLETED_WITH_OUTCOME
from service.store.models import Attachment, HistoryEntry, OutboxItem


@pytest.fixture
def sop(client: Any, admin: Persona) -> None:
    response = deploy(client, admin)
    assert response.status_code == 201, response.json


@pytest.fixture
def kasi(make_persona: Any, units: dict[str, str]) -> Persona:
    return make_persona("kasi.tanggapan", "Kasi@unit-a")


def _attachment_id(app: Any, field: str) -> str:
    with app.extensions["alur.services"].db.reading() as session:
        return str(session.scalars(select(Attachment.id).where(Attachment.field == field)).one())


def test_follow_up_shows_the_typed_reply_with_its_label_and_the_published_letter(
        app: Any, client: Any, sop: None, kasi: Persona) -> None:
    code, secret = file_report(client)
    answer(client, kasi)
    status = follow(client, code, secret)
    assert status.status_code == 200, status.json
    body = status.json
    letter = _attachment_id(app, "surat_balasan")
    download_url = f"/api/public/reports/{code}/attachments/{letter}"
    office = [m for m in body["messages"] if m["from"] == "kantor"]
    assert office == [{
        "from": "kantor", "at": office[0]["at"],
        "text": "Tanggapan atas laporan Anda: jawaban atas laporan",
        "fields": [
            {"name": "tanggapan", "label": "Tanggapan", "value": REPLY, "attachments": []},
            {"name": "surat_balasan", "label": "Surat balasan",
             "value": {"attachment_id": letter, "filename": "surat-balasan.pdf"},
             "attachments": [{"attachment_id": letter, "filename": "surat-balasan.pdf",
                              "download_url": download_url}]},
        ],
    }]
    assert body["status"] == "completed" and body["status_text"] == COMPLETED_WITH_OUTCOME
    assert body["outcome"] == office[0]
    assert "catatan-internal.pdf" not in status.text  # not published


def test_reporter_downloads_the_published_letter_but_not_the_internal_note(
        app: Any, client: Any, sop: None, kasi: Persona) -> None:
    code, secret = file_report(client)
    answer(client, kasi)
    secret_header = {"X-Report-Secret": secret}
    letter = client.get(f"/api/public/reports/{code}/attachments/{_attachment_id(app, 'surat_balasan')}",
                        headers=secret_header)
    assert letter.status_code == 200 and letter.data == PDF
    assert letter.mimetype == "application/pdf" and "surat-balasan.pdf" in letter.headers["Content-Disposition"]
    assert letter.headers["Cache-Control"] == "no-store"
    internal = client.get(f"/api/public/reports/{code}/attachments/{_attachment_id(app, 'catatan_internal')}",
                          headers=secret_header)
    assert internal.status_code == 404 and internal.json["code"] == "not_found"
    unknown = client.get(f"/api/public/reports/{code}/attachments/00000000-0000-0000-0000-000000000000",
                         headers=secret_header)
    assert unknown.status_code == 404 and unknown.json == internal.json


def test_download_with_a_wrong_secret_or_another_reports_code_is_404(
        app: Any, client: Any, sop: None, kasi: Persona) -> None:
    code, secret = file_report(client)
    answer(client, kasi)
    other_code, other_secret = file_report(client)
    letter = _attachment_id(app, "surat_balasan")
    url = f"/api/public/reports/{code}/attachments/{letter}"
    wrong = client.get(url, headers={"X-Report-Secret": "0000000000000000"})
    assert wrong.status_code == 404 and wrong.json["code"] == "not_found"
    assert client.get(url).status_code == 404  # no secret at all
    elsewhere = client.get(f"/api/public/reports/{other_code}/attachments/{letter}",
                           headers={"X-Report-Secret": other_secret})
    assert elsewhere.status_code == 404  # published, but to another report
    for _ in range(19):  # the wrong secret above was the first of 20
        client.get(url, headers={"X-Report-Secret": "0000000000000000"})
    assert client.get(url, headers={"X-Report-Secret": secret}).status_code == 429  # locked, like the others


def test_a_rejection_publishes_its_reason_from_a_message_end_event(
        client: Any, sop: None, kasi: Persona) -> None:
    code, secret = file_report(client, "anonim")
    complete_kasi_task(client, kasi, {"keputusan": "ditolak", "alasan": REASON})
    body = follow(client, code, secret).json
    assert body["status"] == "completed" and body["status_text"] == COMPLETED_WITH_OUTCOME
    assert body["outcome"]["text"] == "Tanggapan atas laporan Anda: Laporan tidak dapat diproses"
    assert body["outcome"]["fields"] == [
        {"name": "alasan", "label": "Alasan penolakan", "value": REASON, "attachments": []}]


def test_a_reporter_task_is_queued_for_mail_with_its_question_and_the_reporter_may_fetch_own_files(
        app: Any, client: Any, sop: None, kasi: Persona) -> None:
    code, secret = file_report(client)
    complete_kasi_task(client, kasi, {"keputusan": "kurang", "kekurangan_laporan": QUESTION})
    services = app.extensions["alur.services"]
    with services.db.reading() as session:
        [row] = session.scalars(select(OutboxItem).where(OutboxItem.kind == "reporter_task")).all()
        assert row.recipient_role == "Pelapor" and row.payload["step"] == "Melengkapi laporan"
        assert row.payload["fields"] == [{"name": "kekurangan_laporan", "label": "Kekurangan laporan",
                                          "value": QUESTION}]
        assert row.payload["due_at"] is not None  # camunda:dueDate="hari_kerja(14)"
    secret_header = {"X-Report-Secret": secret}
    task = follow(client, code, secret).json["tasks"][0]
    done = client.post(f"/api/public/reports/{code}/tasks/{task['id']}/complete", headers=secret_header, json={
        "data": {"uraian_tambahan": "Tanggal 3 Maret, loket 2.",
                 "lampiran": [data_url(PNG, "image/png", "foto-loket.png")]}})
    assert done.status_code == 200, done.json
    own = client.get(f"/api/public/reports/{code}/attachments/{_attachment_id(app, 'lampiran')}",
                     headers=secret_header)
    assert own.status_code == 200 and own.data == PNG


def test_an_anonymous_reporter_task_queues_no_mail(app: Any, client: Any, sop: None, kasi: Persona) -> None:
    file_report(client, "anonim")
    complete_kasi_task(client, kasi, {"keputusan": "kurang", "kekurangan_laporan": QUESTION})
    with app.extensions["alur.services"].db.reading() as session:
        kinds = session.scalars(select(OutboxItem.kind).order_by(OutboxItem.id)).all()
        notifications = session.scalar(select(func.count()).select_from(HistoryEntry)
                                       .where(HistoryEntry.action == "notification"))
    assert kinds == ["task"] and notifications == 0  # the Kasi's new task only; nobody to tell the reporter


def test_openapi_documents_published_fields_and_the_download(client: Any) -> None:
    spec = client.get("/api/openapi.json").json
    path = spec["paths"]["/api/public/reports/{code}/attachments/{attachment_id}"]["get"]
    assert {p["name"] for p in path["parameters"]} >= {"X-Report-Secret"}
    assert set(path["responses"]) >= {"200", "404", "429"}
    schemas = spec["components"]["schemas"]
    assert set(schemas["FollowUpMessage"]["properties"]) == {"from", "text", "at", "fields"}
    assert set(schemas["PublishedField"]["properties"]) == {"name", "label", "value", "attachments"}
    assert "outcome" in schemas["FollowUp"]["properties"]
