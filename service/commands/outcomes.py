"""What the office tells the reporter: the text of a notification and the case fields it publishes.

An event that notifies the Pelapor names the fields it publishes in its ``tampilkan`` property (see
:mod:`service.engine.properties`); a Pelapor-lane task names the fields that give it context the same
way. They are resolved once, when the event is thrown or the task created, from the case data as that
command leaves it, and stored in the history row and the outbox payload: the follow-up API, its page
and the mail show what was published then, not what the case data became later. A field carries its
form label (the property's ``title`` in the revision's forms); attachment references become
``{"attachment_id", "filename"}`` entries, which the reporter may download.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands import attachments  # the module, not its names: attachments → tasks → sync → here
from service.commands.context import REPORTER_ROLE, Services
from service.errors import NotFound
from service.store.models import Attachment, HistoryEntry, Task

#: removed from an event's label before it is shown to the reporter: the modeler's note of who it is for
_FOR_REPORTER = (
    re.compile(r"\s*\((?:notifikasi )?ke pelapor\)", re.IGNORECASE),
    re.compile(r"^(?:notifikasi|pemberitahuan|pesan) ke pelapor\s*:?\s*", re.IGNORECASE),
    re.compile(r"\s+ke pelapor$", re.IGNORECASE),
    re.compile(r"^menerima\s+", re.IGNORECASE),  # the SOP's step is the reporter's: "Pelapor menerima …"
)


def one_line(text: str | None) -> str:
    """``text`` on one line (no CR/LF or runs of spaces): safe in a mail header and in a heading."""
    return " ".join((text or "").split())


def reporter_text(element_name: str | None) -> str:
    """The sentence the reporter reads for a notification thrown by the element ``element_name``."""
    subject = one_line(element_name)
    for pattern in _FOR_REPORTER:
        subject = pattern.sub("", subject).strip()
    return f"Tanggapan atas laporan Anda: {subject}" if subject else "Ada tanggapan atas laporan Anda."


def field_labels(forms: Mapping[str, Any]) -> dict[str, str]:
    """Field name → the ``title`` its property has in any of the revision's forms (the first form wins)."""
    labels: dict[str, str] = {}
    for form in forms.values():
        properties = ((form or {}).get("schema") or {}).get("properties") or {}
        for name, prop in properties.items():
            title = prop.get("title") if isinstance(prop, dict) else None
            if isinstance(title, str) and title.strip() and name not in labels:
                labels[name] = one_line(title)
    return labels


def _references(value: Any) -> Iterator[str]:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, str) and item.startswith(attachments.REFERENCE):
            yield item.removeprefix(attachments.REFERENCE)


def _resolved(value: Any, files: Mapping[str, str]) -> Any:
    """``value`` with attachment references replaced by download entries (unknown ones dropped)."""
    if isinstance(value, list):
        return [_resolved(item, files) for item in value if not _dangling(item, files)]
    if isinstance(value, str) and value.startswith(attachments.REFERENCE):
        found = value.removeprefix(attachments.REFERENCE)
        return {"attachment_id": found, "filename": files[found]}
    return value


def _dangling(value: Any, files: Mapping[str, str]) -> bool:
    return (isinstance(value, str) and value.startswith(attachments.REFERENCE)
            and value.removeprefix(attachments.REFERENCE) not in files)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def published_fields(session: Session, case_id: str, forms: Mapping[str, Any], names: Iterable[str],
                     data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``[{"name", "label", "value"}]`` for the fields ``names`` that hold a value in ``data``, in order."""
    wanted = [name for name in dict.fromkeys(names) if not _empty(data.get(name))]
    ids = {found for name in wanted for found in _references(data[name])}
    files = {row.id: row.filename for row in session.execute(
        select(Attachment.id, Attachment.filename).where(Attachment.case_id == case_id, Attachment.id.in_(ids)))} \
        if ids else {}
    labels = field_labels(forms)
    out = []
    for name in wanted:
        value = None if _dangling(data[name], files) else _resolved(data[name], files)
        if not _empty(value):
            out.append({"name": name, "label": labels.get(name, name), "value": value})
    return out


def attachment_ids(fields: Iterable[Mapping[str, Any]]) -> set[str]:
    """The attachments published through ``fields`` (as :func:`published_fields` returns them)."""
    found: set[str] = set()
    for field in fields:
        value = field.get("value")
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and isinstance(item.get("attachment_id"), str):
                found.add(item["attachment_id"])
    return found


def shown_value(value: Any) -> str:
    """A published value as a person reads it (in a mail or a page): Ya/Tidak, lists joined, file names."""
    if isinstance(value, bool):
        return "Ya" if value else "Tidak"
    if isinstance(value, list):
        return ", ".join(shown_value(item) for item in value)
    if isinstance(value, dict):
        return str(value["filename"]) if "filename" in value else ", ".join(
            f"{key}: {shown_value(item)}" for key, item in value.items())
    return str(value)


# --- what the reporter reads and may download ------------------------------------------------------------

def for_reporter(data: Mapping[str, Any]) -> bool:
    """Whether a ``notification`` history row was meant for the reporter (older rows: by message name)."""
    if "recipient" in data:
        return data["recipient"] == REPORTER_ROLE
    return "pelapor" in str(data.get("message") or "")


def _files(value: Any) -> list[dict[str, str]]:
    items = value if isinstance(value, list) else [value]
    return [{"attachment_id": item["attachment_id"], "filename": item["filename"]} for item in items
            if isinstance(item, dict) and "attachment_id" in item]


def office_message(entry: HistoryEntry) -> dict[str, Any]:
    """A notification to the reporter as the follow-up shows it: its text and the fields it published.

    Each field is ``{"name", "label", "value", "attachments": [{"attachment_id", "filename"}]}``.
    """
    fields = [{"name": field.get("name"), "label": field.get("label") or field.get("name"), "value": field.get("value"),
               "attachments": _files(field.get("value"))} for field in entry.data.get("fields") or []]
    text = entry.data.get("text") or reporter_text(entry.data.get("element_name"))
    return {"from": "kantor", "text": text, "at": entry.at, "fields": fields}


def notifications(session: Session, case_id: str) -> list[HistoryEntry]:
    """The case's notifications to the reporter, oldest first."""
    rows = session.scalars(select(HistoryEntry).where(HistoryEntry.case_id == case_id,
                                                      HistoryEntry.action == "notification")
                           .order_by(HistoryEntry.id)).all()
    return [row for row in rows if for_reporter(row.data or {})]


def reporter_attachment(services: Services, case_id: str, attachment_id: str) -> tuple[Attachment, Path]:
    """An attachment of the case the reporter may download: one published to them, or one they uploaded
    (with the report, or on a Pelapor-lane task). Anything else is "not found", like an unknown id."""
    with services.db.reading() as session:
        found = session.get(Attachment, attachment_id)
        allowed = found is not None and found.case_id == case_id and (
            found.task_id is None
            or session.scalar(select(Task.lane).where(Task.id == found.task_id, Task.case_id == case_id))
            == REPORTER_ROLE
            or any(attachment_id in attachment_ids(entry.data.get("fields") or [])
                   for entry in notifications(session, case_id)))
        if found is None or not allowed:
            raise NotFound("No such attachment in this report")
        path = attachments.path_of(services, found.sha256)
        if not path.is_file():
            raise NotFound("The file of this attachment is missing")
        return found, path
