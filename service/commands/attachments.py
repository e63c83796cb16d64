"""Files added to a case through a task form, stored outside the database.

The bundled forms declare their attachments (``lampiran``) as arrays of data-url strings, which is
what @rjsf/core's file widget produces. Kept as they are, those strings would be copied into the
case data, the workflow state and every history row (a 2 MB scan becomes ~2.7 MB of base64 three
times over). So on completion each data-url is decoded, checked (size, declared and sniffed type),
written once under ``<data_dir>/attachments/<sha256[:2]>/<sha256>`` and replaced in the task data
by a reference ``attachment:<id>``; the ``attachments`` row is written in the completion's
transaction. A file of a completion that then fails stays on disk, unreferenced and harmless
(content-addressed: the same bytes are stored once).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands.access import Visible, visible
from service.commands.context import Actor, Services
from service.errors import FormInvalid, NotFound
from service.store.models import Attachment

REFERENCE = "attachment:"
MAX_BYTES = 2 * 1024 * 1024
#: declared type → the first bytes a real file of that type starts with (None: plain text, not sniffed)
ALLOWED_TYPES: dict[str, tuple[bytes, ...] | None] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "text/plain": None,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
}
_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)(?P<params>(;[^;,]*)*);base64,(?P<data>[A-Za-z0-9+/=\s]*)$")


@dataclass(frozen=True)
class StoredFile:
    id: str
    field: str
    filename: str
    content_type: str
    size: int
    sha256: str


def file_fields(form: Mapping[str, Any] | None) -> list[str]:
    """Top-level fields of a form that hold files (``format: data-url``, alone or as array items)."""
    properties = ((form or {}).get("schema") or {}).get("properties") or {}
    found = []
    for name, prop in properties.items():
        if not isinstance(prop, dict):
            continue
        items = prop.get("items") if prop.get("type") == "array" else None
        if prop.get("format") == "data-url" or (isinstance(items, dict) and items.get("format") == "data-url"):
            found.append(name)
    return found


def path_of(services: Services, sha256: str) -> Path:
    return services.settings.data_dir / "attachments" / sha256[:2] / sha256


def _invalid(field: str, message: str) -> FormInvalid:
    return FormInvalid(f"{field}: {message}", [{"field": field, "message": message}])


def _decode(field: str, value: Any) -> tuple[str, str, bytes]:
    """(filename, content type, bytes) of one data-url; :class:`FormInvalid` naming ``field``."""
    match = _DATA_URL.match(value) if isinstance(value, str) else None
    if match is None:
        raise _invalid(field, "must be a file (a base64 data URL)")
    if len(match["data"]) > MAX_BYTES * 4 // 3 + 8:
        raise _invalid(field, f"file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        content = base64.b64decode(match["data"], validate=False)
    except (binascii.Error, ValueError) as exc:
        raise _invalid(field, "file is not valid base64") from exc
    content_type = match["type"].lower()
    if content_type not in ALLOWED_TYPES:
        raise _invalid(field, f"files of type {content_type} are not accepted (PDF, PNG, JPEG, DOCX, TXT)")
    signatures = ALLOWED_TYPES[content_type]
    if signatures is not None and not content.startswith(signatures):
        raise _invalid(field, f"file content is not {content_type}")
    if signatures is None and b"\x00" in content[:4096]:
        raise _invalid(field, "a text file must not contain binary data")
    if len(content) > MAX_BYTES:
        raise _invalid(field, f"file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    params = dict(p.partition("=")[::2] for p in match["params"].split(";") if p)
    filename = Path(unquote(params.get("name", "") or "lampiran")).name[:200] or "lampiran"
    return filename, content_type, content


def _write(services: Services, sha256: str, content: bytes) -> None:
    target = path_of(services, sha256)
    if target.is_file():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _entries(form: Mapping[str, Any] | None, data: Mapping[str, Any]) -> Iterator[tuple[str, int | None, Any]]:
    for name in file_fields(form):
        value = data.get(name)
        if isinstance(value, list):
            for index, item in enumerate(value):
                yield name, index, item
        elif value is not None:
            yield name, None, value


def store_files(services: Services, form: Mapping[str, Any] | None, data: Any) -> tuple[Any, list[StoredFile]]:
    """Write the data-url files of ``data`` to disk; the data with references instead, and the files."""
    if not isinstance(data, dict):
        return data, []
    out: dict[str, Any] = {key: (list(value) if isinstance(value, list) else value) for key, value in data.items()}
    stored: list[StoredFile] = []
    for name, index, value in list(_entries(form, data)):
        field = name if index is None else f"{name}.{index}"
        filename, content_type, content = _decode(field, value)
        sha256 = hashlib.sha256(content).hexdigest()
        _write(services, sha256, content)
        found = StoredFile(str(uuid.uuid4()), name, filename, content_type, len(content), sha256)
        stored.append(found)
        if index is None:
            out[name] = REFERENCE + found.id
        else:
            out[name][index] = REFERENCE + found.id
    return out, stored


def rows(case_id: str, task_id: str | None, files: list[StoredFile], uploaded_by: int | None) -> list[Attachment]:
    """The ``attachments`` rows of files that :func:`store_files` wrote, for the command's transaction."""
    return [Attachment(id=f.id, case_id=case_id, task_id=task_id, field=f.field, filename=f.filename,
                       content_type=f.content_type, size=f.size, sha256=f.sha256, uploaded_by=uploaded_by or None)
            for f in files]


def referenced_ids(data: Mapping[str, Any]) -> set[str]:
    """The attachment ids that values of ``data`` refer to (``attachment:<id>``, alone or in lists)."""
    found = set()
    for value in data.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item.startswith(REFERENCE):
                found.add(item[len(REFERENCE):])
    return found


def _may_open(found: Visible, attachment: Attachment) -> bool:
    """A need-to-know viewer opens only the files its fields refer to."""
    return found.full or attachment.id in referenced_ids(found.data(found.case.data))


def list_for_case(services: Services, actor: Actor, case_id: str) -> list[Attachment]:
    with services.db.reading() as session:
        return files_of(session, visible(session, actor, case_id))


def files_of(session: Session, found: Visible) -> list[Attachment]:
    """The case's attachments its viewer may open (``found``: the decision of :func:`visible`)."""
    rows = session.scalars(select(Attachment).where(Attachment.case_id == found.case.id)
                           .order_by(Attachment.created_at, Attachment.id))
    return [row for row in rows if _may_open(found, row)]


def open_attachment(services: Services, actor: Actor, attachment_id: str) -> tuple[Attachment, Path]:
    """The attachment row and its file, if the actor may see its case (and, need-to-know, this file)."""
    with services.db.reading() as session:
        found = session.get(Attachment, attachment_id)
        try:
            allowed = found is not None and _may_open(visible(session, actor, found.case_id), found)
        except NotFound:
            allowed = False
        if found is None or not allowed:
            raise NotFound(f"Attachment {attachment_id} does not exist or is not visible to you")
        path = path_of(services, found.sha256)
        if not path.is_file():
            raise NotFound(f"The file of attachment {attachment_id} is missing")
        return found, path
