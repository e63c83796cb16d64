"""Writing a deployed revision back to the repository's files (``alur export``).

``bpmn/`` and ``forms/`` are the hand-maintained sources of the bundled SOPs (docs/DIAGRAMS.md). A
revision edited in the modeler becomes the bundled version by exporting it: its BPMN exactly as
stored (the bytes the modeler saved, so the checksum is the same) to ``<bpmn_dir>/<key>.bpmn``, and
each form of its snapshot to ``<forms_dir>/<formKey>.schema.json`` and ``.ui.json``, written the way
``forms/`` is written (two-space JSON, UTF-8, a final newline). The deploy checksum covers the BPMN
bytes and the forms' content, so deploying the exported files again finds the same revision.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from service.commands.context import Services
from service.engine.dmn import DECISION_ID
from service.errors import InvalidInput, NotFound
from service.store.models import Definition, Unit
from service.store.states import RevisionStatus

#: a form key that is a plain file name (as ``service.forms`` reads them): never a path
_FORM_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$")


@dataclass(frozen=True)
class Exported:
    key: str
    version: int
    status: str
    checksum: str
    bpmn: Path
    forms: list[Path]
    #: the revision's decision tables, as ``<bpmn_dir>/<decision id>.dmn`` (where deploys look for them)
    decisions: list[Path] = field(default_factory=list)


def form_text(document: Any) -> str:
    """A form file's text, as ``forms/`` holds it."""
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _revision(services: Services, key: str, version: int | None, unit: str | None) -> Definition:
    """Version ``version`` of ``key``, or without it the newest active revision (in ``unit`` if given)."""
    with services.db.reading() as session:
        query = select(Definition).join(Unit, Definition.unit_id == Unit.id).where(Definition.key == key)
        if unit is not None:
            query = query.where(Unit.code == unit)
        if version is not None:
            query = query.where(Definition.version == version)
        else:
            query = query.where(Definition.status == RevisionStatus.ACTIVE.value)
        found = session.scalar(query.order_by(Definition.version.desc()).limit(1))
        if found is None:
            where = f" in unit {unit}" if unit else ""
            what = f"no version {version}" if version is not None else "no active revision (name one with --version)"
            raise NotFound(f"'{key}' has {what}{where}")
        session.expunge(found)
        return found


def export(services: Services, key: str, bpmn_dir: Path, forms_dir: Path, *, version: int | None = None,
           unit: str | None = None) -> Exported:
    """Write the revision's BPMN and forms into ``bpmn_dir`` and ``forms_dir``; returns what was written."""
    definition = _revision(services, key, version, unit)
    bpmn_dir.mkdir(parents=True, exist_ok=True)
    bpmn_path = bpmn_dir / f"{definition.key}.bpmn"
    bad = sorted(k for k in definition.forms or {} if not _FORM_KEY.match(k))
    if bad:
        raise InvalidInput(f"Form keys that are not file names: {', '.join(bad)}",
                           [{"field": "forms", "message": f"{k!r} is not a file name"} for k in bad])
    bpmn_path.write_bytes(definition.bpmn_xml.encode("utf-8"))
    written: list[Path] = []
    if definition.forms:
        forms_dir.mkdir(parents=True, exist_ok=True)
    for form_key, form in sorted((definition.forms or {}).items()):
        schema_path = forms_dir / f"{form_key}.schema.json"
        schema_path.write_bytes(form_text(form["schema"]).encode("utf-8"))
        written.append(schema_path)
        ui = form.get("ui") or {}
        ui_path = forms_dir / f"{form_key}.ui.json"
        if ui or ui_path.exists():  # an empty ui is the same as none: no new file for it
            ui_path.write_bytes(form_text(ui).encode("utf-8"))
            written.append(ui_path)
    tables = []
    for decision_id, text in sorted((definition.decisions or {}).items()):
        if not DECISION_ID.match(decision_id):  # checked at deploy: a decision id is a file name
            raise InvalidInput(f"Decision id {decision_id!r} is not a file name", [{"field": "dmn"}])
        tables.append(bpmn_dir / f"{decision_id}.dmn")
        tables[-1].write_bytes(text.encode("utf-8"))
    return Exported(definition.key, definition.version, definition.status, definition.checksum, bpmn_path, written,
                    tables)
