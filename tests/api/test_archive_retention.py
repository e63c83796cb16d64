"""The archive of a completed case and the retention purge (issue 15, item 5), on SQLite and PostgreSQL.

A public report with an identity and an attachment runs through ``review.bpmn`` (with ``retensi_tahun``)
to completion; the worker's sweep archives it; five years and a day later a dry run lists it, and the real
run removes identity, attachments and free text of that case and nothing of the others."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import subprocess
import sys
from datetime import timedelta
from typing import Any

from lxml import html as lxml_html
from pypdf import PdfReader
from sqlalchemy import select, text
from support.helpers import ROOT, Persona, all_rows_as_text, deploy_bytes, review_variant

from service.commands import archive, audit, retention
from service.commands.attachments import path_of
from service.engine import utc_now
from service.engine.properties import IDENTIFYING_FIELDS, REQUIRED_IDENTITY, RETENTION_YEARS
from service.store.models import Attachment, Case, CaseArchive, HistoryEntry, Reporter, Task
from service.worker.loop import run_once

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x07" * 48
PNG = "data:image/png;name=bukti-pungli.png;base64," + base64.b64encode(PNG_BYTES).decode()
IDENTITY = {"nama": "Ratna Widyaningsih", "nik": "3305015203850002", "nip": "198503122010011002",
            "unit_kerja": "Bidang Perizinan"}
ALUR = (sys.executable, "-m", "service.cli")


def _deploy(client: Any, admin: Persona, key: str, years: str | None, *more: tuple[str, str]) -> None:
    props = {IDENTIFYING_FIELDS: "nip,unit_kerja", REQUIRED_IDENTITY: "nama,nip,unit_kerja"}
    if years:
        props[RETENTION_YEARS] = years
    entries = "".join(f'<camunda:property name="{name}" value="{value}" />' for name, value in props.items())
    xml = review_variant(key, ('<camunda:property name="nomor_sop" value="UJI/001" />',
                               f'<camunda:property name="nomor_sop" value="UJI/001" />{entries}'),
                         ('camunda:formKey="uji-pengaduan"', 'camunda:formKey="uji-pengaduan-asn"'), *more)
    response = deploy_bytes(client, admin, xml)
    assert response.status_code == 201, response.json


def _report_to_the_end(app: Any, client: Any, staff: dict[str, Persona], key: str, words: str) -> str:
    filed = client.post("/api/public/reports", json={
        "unit": "unit-a", "definition_key": key, "mode": "rahasia", "identity": IDENTITY,
        "data": {"judul": f"Pungutan {words}", "uraian": f"Uraian {words} di loket", "lampiran": [PNG]}})
    assert filed.status_code == 201, filed.json
    services = app.extensions["alur.services"]
    with services.db.reading() as session:
        case_id = session.scalar(select(Case.id).order_by(Case.created_at.desc()).limit(1))
        assert case_id is not None
        (first,) = session.scalars(select(Task.id).where(Task.case_id == case_id))
    moved = client.post(f"/api/tasks/{first}/complete", headers=staff["kasi_a"].headers,
                        json={"data": {"hasil": "lengkap", "catatan": f"catatan {words}"}})
    assert moved.status_code == 200, moved.json
    done = client.post(f"/api/tasks/{moved.json['tasks'][0]['id']}/complete", headers=staff["kabid_a"].headers,
                       json={"data": {}})
    assert done.json["status"] == "completed", done.json
    return str(case_id)


def test_a_completed_case_is_archived_and_purged_after_its_retention_and_nothing_else(
        app: Any, client: Any, admin: Persona, staff: dict[str, Persona]) -> None:
    services = app.extensions["alur.services"]
    _deploy(client, admin, "wbs_arsip", "5")
    _deploy(client, admin, "wbs_abadi", None)
    old = _report_to_the_end(app, client, staff, "wbs_arsip", "kedaluwarsa")
    kept = _report_to_the_end(app, client, staff, "wbs_abadi", "tanpa-retensi")
    running = client.post("/api/public/reports", json={
        "unit": "unit-a", "definition_key": "wbs_arsip", "mode": "rahasia", "identity": IDENTITY,
        "data": {"judul": "Pungutan berjalan", "lampiran": [PNG]}})
    assert running.status_code == 201

    assert run_once(services, archive=True)  # the worker's sweep archives both completed cases
    with services.db.reading() as session:
        assert {a.case_id for a in session.scalars(select(CaseArchive))} == {old, kept}
        stored = session.get(CaseArchive, old)
        assert stored is not None
    zipped = services.settings.data_dir / stored.path
    assert hashlib.sha256(zipped.read_bytes()).hexdigest() == stored.sha256
    members = archive.read_members(zipped)
    manifest = json.loads(members["manifest.json"])
    assert {name: hashlib.sha256(data).hexdigest() for name, data in members.items() if name != "manifest.json"} \
        == manifest["files"]
    (attached,) = [name for name in members if name.startswith("lampiran/")]
    assert attached.endswith("bukti-pungli.png") and members[attached] == PNG_BYTES
    pdf = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(members["berkas-perkara.pdf"])).pages)
    for expected in ("Berkas Perkara", manifest["registration_number"], "Pungutan kedaluwarsa",
                     "Verifikasi kelengkapan", "catatan kedaluwarsa", hashlib.sha256(PNG_BYTES).hexdigest()[:16]):
        assert expected in pdf.replace("\n", " "), expected
    assert IDENTITY["nama"] not in pdf and IDENTITY["nip"] not in pdf
    lines = [json.loads(line) for line in members["riwayat.jsonl"].decode().splitlines()]
    assert lines[-1]["hash"] == manifest["history_head"] and lines[0]["prev_hash"] == "0" * 64

    # the download through the API is the same file
    download = client.get(f"/api/cases/{old}/archive", headers=staff["admin_a"].headers)
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert hashlib.sha256(download.data).hexdigest() == stored.sha256 == download.headers["X-Archive-SHA256"]
    assert client.get(f"/api/cases/{old}/archive", headers=staff["kasi_b"].headers).status_code == 404
    with services.db.reading() as session:
        open_case = session.scalar(select(Case.id).where(Case.status == "running"))
    assert client.get(f"/api/cases/{open_case}/archive", headers=staff["admin_a"].headers).status_code == 409

    # a day before the five years: nothing; a day after: the dry run lists the expired case only
    completed = _completed_at(services, old)
    assert retention.purge(services, completed + timedelta(days=5 * 365), dry_run=True) == []
    later = completed + timedelta(days=5 * 366 + 1)
    listed = retention.purge(services, later, dry_run=True)
    assert [(c.case_id, c.attachments, c.has_identity, c.retention_years) for c in listed] == [(old, 1, True, 5)]
    before = all_rows_as_text(services)
    assert "kedaluwarsa" in before and _identity_of(services, old) is not None

    assert [c.case_id for c in retention.purge(services, later, dry_run=False)] == [old]
    with services.db.reading() as session:
        case = session.get(Case, old)
        assert case is not None and case.purged_at is not None and case.status == "completed"
        assert case.data.get("hasil") == "lengkap" and set(case.data) <= {"hasil", "mode_pelapor", "saluran_pengaduan"}
        assert case.registration_number and case.tracking_code is None and case.state == {}
        assert session.scalars(select(Attachment).where(Attachment.case_id == old)).all() == []
        (purge_row,) = session.scalars(select(HistoryEntry).where(HistoryEntry.case_id == old)).all()
        assert purge_row.action == "case_purged" and purge_row.data["archive_sha256"] == stored.sha256
        assert len(session.scalars(select(Task).where(Task.case_id == old)).all()) == 2  # the statistics stay
        kept_files = session.scalars(select(Attachment.sha256).where(Attachment.case_id == kept)).all()
    assert _identity_of(services, old) is None
    after = all_rows_as_text(services)
    assert "kedaluwarsa" not in after  # no free text of the purged case anywhere, search tables included
    assert "tanpa-retensi" in after and "Pungutan berjalan" in after  # the others untouched
    assert _identity_of(services, kept) is not None
    assert all(path_of(services, sha).exists() for sha in kept_files)  # shared content stays for the others
    assert zipped.exists()  # the archive outlives the purge
    assert all(check.intact for check in audit.verify_all(services))
    assert retention.purge(services, later, dry_run=False) == []  # once


def _completed_at(services: Any, case_id: str) -> Any:
    with services.db.reading() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.completed_at is not None
        return case.completed_at


def _identity_of(services: Any, case_id: str) -> str | None:
    with services.db.reading() as session:
        return session.scalar(select(Reporter.identity_ciphertext).where(Reporter.case_id == case_id))


def test_an_unshared_attachment_file_is_deleted_with_the_purge(app: Any, client: Any, admin: Persona,
                                                                staff: dict[str, Persona]) -> None:
    services = app.extensions["alur.services"]
    _deploy(client, admin, "wbs_arsip", "1")
    case_id = _report_to_the_end(app, client, staff, "wbs_arsip", "satu")
    sha = hashlib.sha256(PNG_BYTES).hexdigest()
    assert path_of(services, sha).exists()
    purged = retention.purge(services, utc_now() + timedelta(days=367), dry_run=False)
    assert [c.case_id for c in purged] == [case_id]
    assert not path_of(services, sha).exists()
    with services.db.reading() as session:
        assert session.get(CaseArchive, case_id) is not None  # archived before the purge, though never swept


def test_the_retention_property_is_checked_at_deploy(client: Any, admin: Persona) -> None:
    for bad in ("lima", "0", "101", "2.5"):
        entries = f'<camunda:property name="{RETENTION_YEARS}" value="{bad}" />'
        response = deploy_bytes(client, admin, review_variant(
            "wbs_salah", ('<camunda:property name="nomor_sop" value="UJI/001" />',
                          f'<camunda:property name="nomor_sop" value="UJI/001" />{entries}')))
        assert response.status_code == 422, bad
        assert any("retensi_tahun" in error["message"] for error in response.json["errors"]), response.json


def test_the_commands_list_and_purge(app: Any, client: Any, admin: Persona, staff: dict[str, Persona]) -> None:
    services = app.extensions["alur.services"]
    _deploy(client, admin, "wbs_arsip", "1")
    case_id = _report_to_the_end(app, client, staff, "wbs_arsip", "perintah")
    settings = services.settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
    env.update(ALUR_DATABASE_URL=settings.database_url, ALUR_INSTANCE_DIR=str(settings.data_dir.parent),
               ALUR_DATA_DIR=str(settings.data_dir), ALUR_FORMS_DIR=str(settings.forms_dir))

    def alur(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*ALUR, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=180,
                              check=False)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        return done

    assert "archived 1 case(s)" in alur("archive", "build").stdout
    assert "would purge 0 case(s)" in alur("archive", "purge").stdout  # not a year old yet
    with services.db.transaction() as session:  # completed more than a year ago
        session.execute(text("UPDATE cases SET completed_at = :at WHERE id = :id"),
                        {"at": utc_now() - timedelta(days=400), "id": case_id})
    dry = alur("archive", "purge").stdout
    assert "would purge 1 case(s)" in dry and "identity yes" in dry
    assert _identity_of(services, case_id) is not None
    assert "purged 1 case(s)" in alur("archive", "purge", "--apply").stdout
    assert _identity_of(services, case_id) is None


# the rejection's end becomes a step of the flowchart (a row the case below does not go through)
REJECTION_STEP = ('<bpmn:endEvent id="end_ditolak" name="Ditolak">',
                  '<bpmn:endEvent id="end_ditolak" name="Ditolak"><bpmn:extensionElements><camunda:properties>'
                  '<camunda:property name="langkah" value="3" /></camunda:properties></bpmn:extensionElements>')


def test_the_case_file_draws_the_flowchart_with_the_steps_taken_highlighted(
        app: Any, client: Any, admin: Persona, staff: dict[str, Persona]) -> None:
    services = app.extensions["alur.services"]
    _deploy(client, admin, "wbs_diagram", None, REJECTION_STEP)
    case_id = _report_to_the_end(app, client, staff, "wbs_diagram", "diagram")

    members = archive.read_members(archive.build_archive(services, case_id).path)
    reader = PdfReader(io.BytesIO(members["berkas-perkara.pdf"]))
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]
    (diagram,) = [page for page in pages if "Diagram dan jalur yang ditempuh" in page]
    for expected in ("Pelaksana", "Pelapor", "Kasi", "Kabid", "Verifikasi kelengkapan", "Tindak lanjut",
                     "Ditolak", "Langkah yang ditempuh", "Langkah yang tidak ditempuh"):
        assert expected in diagram, expected

    with services.db.reading() as session:  # the HTML the PDF is printed from, by the archive's own function
        case = session.get(Case, case_id)
        assert case is not None
        history = list(session.scalars(select(HistoryEntry).where(HistoryEntry.case_id == case_id)
                                       .order_by(HistoryEntry.id)))
        page = lxml_html.fromstring(archive.case_file_html(services, case, history, []))
    rows = page.xpath("//table[@class='flowchart']/tbody/tr")
    assert [row.get("data-element") for row in rows] == ["verifikasi", "end_ditolak", "tindak_lanjut"]
    marked = {row.get("data-element"): len(row.xpath(".//svg//*[contains(concat(' ', @class, ' '), ' done ')]"))
              for row in rows}
    assert marked == {"verifikasi": 1, "tindak_lanjut": 1, "end_ditolak": 0}
    assert {row.get("data-element") for row in rows if row.get("class") == "done"} == {"verifikasi", "tindak_lanjut"}
    assert all(len(row.xpath(".//svg//*[contains(@class, 'symbol')]")) == 1 for row in rows)  # one symbol a row
