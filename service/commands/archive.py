"""The archive of a completed case: the SOP's "Mengarsipkan" as a file the office keeps outside Alur.

One ZIP per case under ``<data dir>/archives/<year>/<case id>.zip``:

- ``berkas-perkara.pdf``: the case file (Nomor registrasi, SOP revision, the report by its form labels,
  every decision, the path taken through the SOP's steps — listed, and drawn on the revision's flowchart
  with the steps taken highlighted —, the timeline, the attachments' hashes);
- ``lampiran/…``: the attachments, as uploaded;
- ``riwayat.jsonl``: the history rows with their hashes (``alur history verify`` rules apply);
- ``diagram.bpmn``: the revision's diagram (opens in any BPMN modeler);
- ``manifest.json``: case, revision, the chain's head and the SHA-256 of every other file.

The reporter's identity is not in it (it is sealed in the database and purged with it). The worker
archives each completed case once (:func:`archive_completed`); a full viewer may download it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands import access
from service.commands.attachments import path_of
from service.commands.context import Actor, Services
from service.commands.display import case_label, decisions, report_fields
from service.commands.sop_document import document_of
from service.documents import flowchart
from service.engine import CaseStatus, utc_now
from service.errors import Conflict, NotFound
from service.store.models import Attachment, Case, CaseArchive, HistoryEntry

TEMPLATES = Path(__file__).resolve().parent.parent / "documents" / "templates"
ARCHIVES = "archives"
#: history rows that mark a step of the SOP's flowchart as passed: a completed task, a notification sent
_STEPS_TAKEN = ("task_completed", "notification")


@dataclass(frozen=True)
class ArchiveFile:
    case_id: str
    label: str
    path: Path
    sha256: str
    size: int


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


def steps_taken(history: list[HistoryEntry]) -> frozenset[str]:
    """The element ids of the SOP steps a case went through, from its history."""
    return frozenset(e.element_id for e in history if e.action in _STEPS_TAKEN and e.element_id)


def case_file_html(services: Services, case: Case, history: list[HistoryEntry], files: list[Attachment]) -> str:
    """The case file as HTML (printed to ``berkas-perkara.pdf``)."""
    done = decisions(services, case.definition, history)
    return _environment().get_template("case_file.html").render(
        case=case, label=case_label(case), report=report_fields(services, case.definition, case.data or {}),
        decisions=done, path=[d.name for d in done], history=history, files=files, made_at=utc_now(),
        diagram=document_of(case.definition, steps_taken(history)),
        swatches=(Markup(flowchart.swatch(True)), Markup(flowchart.swatch(False))))  # constant SVG, no user text


def _case_file_pdf(services: Services, case: Case, history: list[HistoryEntry], files: list[Attachment]) -> bytes:
    from weasyprint import HTML  # imported on use: it loads Pango and takes a moment

    pdf: bytes = HTML(string=case_file_html(services, case, history, files), base_url=str(TEMPLATES)).write_pdf()
    return pdf


def _history_lines(history: list[HistoryEntry]) -> bytes:
    rows = [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action, "task_id": e.task_id,
             "element_id": e.element_id, "data": e.data, "prev_hash": e.prev_hash, "hash": e.hash} for e in history]
    return "".join(json.dumps(row, ensure_ascii=False, sort_keys=True, default=str) + "\n"
                   for row in rows).encode()


def _contents(services: Services, session: Session, case: Case) -> dict[str, bytes]:
    history = list(session.scalars(select(HistoryEntry).where(HistoryEntry.case_id == case.id)
                                   .order_by(HistoryEntry.id)))
    files = list(session.scalars(select(Attachment).where(Attachment.case_id == case.id)
                                 .order_by(Attachment.created_at, Attachment.id)))
    contents = {"berkas-perkara.pdf": _case_file_pdf(services, case, history, files),
                "riwayat.jsonl": _history_lines(history), "diagram.bpmn": case.definition.bpmn_xml.encode()}
    for number, found in enumerate(files, start=1):
        contents[f"lampiran/{number:03d}-{Path(found.filename).name}"] = path_of(services, found.sha256).read_bytes()
    manifest = {"case_id": case.id, "registration_number": case.registration_number, "unit": case.unit.code,
                "sop": case.definition.key, "version": case.definition.version, "status": case.status,
                "created_at": case.created_at.isoformat(),
                "completed_at": case.completed_at.isoformat() if case.completed_at else None,
                "history_rows": len(history), "history_head": case.history_head,
                "files": {name: _sha256(data) for name, data in sorted(contents.items())}}
    contents["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    return contents


def _zip(contents: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def build_archive(services: Services, case_id: str) -> ArchiveFile:
    """Archive a completed case (once: an existing archive is returned as it is). The file is written
    under a temporary name and renamed, then recorded; a crash leaves no half archive on record."""
    with services.db.transaction() as session:
        case = session.get(Case, case_id, with_for_update={"of": Case})
        if case is None:
            raise NotFound(f"Case {case_id} does not exist")
        stored = session.get(CaseArchive, case_id)
        if stored is not None:
            return ArchiveFile(case.id, case_label(case), services.settings.data_dir / stored.path, stored.sha256,
                               stored.size)
        if case.status != CaseStatus.COMPLETED or case.purged_at is not None:
            raise Conflict("Only a completed case is archived", [{"field": "status", "message": case.status}])
        data = _zip(_contents(services, session, case))
        relative = Path(ARCHIVES) / f"{(case.completed_at or utc_now()):%Y}" / f"{case.id}.zip"
        target = services.settings.data_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_suffix(".zip.part")
        temporary.write_bytes(data)
        os.replace(temporary, target)
        digest = _sha256(data)
        session.add(CaseArchive(case_id=case.id, path=str(relative), sha256=digest, size=len(data)))
        return ArchiveFile(case.id, case_label(case), target, digest, len(data))


def archive_completed(services: Services, limit: int = 20) -> int:
    """Archive up to ``limit`` completed cases that have none yet (the worker's sweep); how many."""
    with services.db.reading() as session:
        waiting = list(session.scalars(
            select(Case.id).outerjoin(CaseArchive, CaseArchive.case_id == Case.id)
            .where(Case.status == CaseStatus.COMPLETED.value, Case.purged_at.is_(None), CaseArchive.case_id.is_(None))
            .order_by(Case.completed_at).limit(limit)))
    for case_id in waiting:
        build_archive(services, case_id)
    return len(waiting)


def archive_for(services: Services, actor: Actor, case_id: str) -> ArchiveFile:
    """The archive to download, for someone who sees the whole case; made now if the worker has not yet."""
    with services.db.reading() as session:
        access.full_view(session, actor, case_id)
    return build_archive(services, case_id)


def archived_at(session: Session, case_id: str) -> datetime | None:
    stored = session.get(CaseArchive, case_id)
    return stored.created_at if stored else None


def read_members(path: Path) -> dict[str, Any]:
    """An archive's files by name (for checks and tests)."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
