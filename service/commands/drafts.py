"""Diagrams edited in the modeler: check one without saving it, save it as a draft revision.

Saving from an approved, active or retired revision deploys a new draft version (never touching
the revision cases run on); saving from a draft replaces that draft's diagram in place, so a
modeler's successive saves make one new version, not one per click. Both run Alur's deploy
checks and compile the diagram first, exactly as :func:`service.commands.definitions.deploy`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from service import forms as form_files
from service.commands.context import PROCESS_OWNER_ROLE, Actor, Services
from service.commands.definitions import DeployRequest, deploy, derive_metadata, prepare, stored_decisions
from service.commands.revisions import APPROVER_ROLE, record_event
from service.engine import dmn, outline, sop_metadata
from service.engine.deploy_checks import NS
from service.engine.safe_xml import parse_xml
from service.errors import Conflict, ErrorDetail, Forbidden, InvalidDiagram, InvalidInput, NotFound
from service.store.models import Definition
from service.store.states import RevisionStatus


@dataclass(frozen=True)
class SavedDraft:
    definition: Definition
    #: "created" (a new draft version), "updated" (the draft's diagram replaced) or "unchanged"
    outcome: str


@dataclass(frozen=True)
class FormChoice:
    key: str
    title: str


def may_edit(actor: Actor, unit_id: int) -> bool:
    return actor.administers(unit_id) or PROCESS_OWNER_ROLE in actor.roles_in(unit_id)


def may_open(actor: Actor, unit_id: int) -> bool:
    """The modeler is for process owners, approvers and administrators of the unit."""
    return may_edit(actor, unit_id) or APPROVER_ROLE in actor.roles_in(unit_id)


def _revision(session: Session, actor: Actor, key: str, number: int, *, lock: bool = False) -> Definition:
    query = select(Definition).where(Definition.key == key, Definition.version == number)
    row = session.scalar(query.with_for_update(of=Definition) if lock else query)
    if row is None or not actor.is_member(row.unit_id):
        raise NotFound(f"SOP '{key}' has no version {number}")
    if not may_open(actor, row.unit_id):
        raise Forbidden("The modeler is for process owners, approvers and administrators of the unit")
    return row


def open_revision(services: Services, actor: Actor, key: str, number: int) -> Definition:
    """A revision to show in the modeler (404 outside the unit, 403 without a modeler role)."""
    with services.db.reading() as session:
        return _revision(session, actor, key, number)


def _same_key(xml: bytes, key: str) -> None:
    """The modeler edits one SOP: a diagram whose process id changed would be another SOP."""
    found = outline(xml).key
    if found != key:
        process = parse_xml(xml).getroot().xpath("//bpmn:process[@isExecutable='true']", namespaces=NS)[0]
        raise InvalidDiagram(f"The process id must stay '{key}'",
                             [{"element_id": found, "line": process.sourceline,
                               "message": f"process id '{found}' is not '{key}': keep the SOP's key"}])


def _uploaded_forms(services: Services, base: Definition) -> dict[str, form_files.Form]:
    """Forms of the base revision that were uploaded with it (not in the forms directory) stay."""
    return {key: form for key, form in (base.forms or {}).items()
            if form_files.load_directory_form(services.settings.forms_dir, key) is None}


def check(services: Services, actor: Actor, key: str, number: int, xml: bytes) -> list[ErrorDetail]:
    """Alur's deploy checks and SpiffWorkflow's parse for ``xml`` as a revision of ``key``; nothing is
    saved. The problems found (each with ``element_id`` and/or ``line``), or none."""
    with services.db.reading() as session:
        base = _revision(session, actor, key, number)
        try:
            _same_key(xml, key)
            prepare(services, session, base.unit_id, outline(xml), xml, _uploaded_forms(services, base),
                    stored_decisions(base.decisions or {}))
        except InvalidInput as exc:
            return exc.details or [{"message": exc.message}]
    return []


def _with_table(base: Definition, table: tuple[str, bytes] | None) -> dict[str, bytes]:
    """The base revision's decision tables as DMN files, with ``table`` (decision id, DMN XML), if
    given, in place of the base's table of that id: the decision editor changes one table, never its id."""
    files = stored_decisions(base.decisions or {})
    if table is None:
        return files
    decision_id, data = table
    if decision_id not in (base.decisions or {}):
        raise NotFound(f"Version {base.version} of '{base.key}' has no decision '{decision_id}'",
                       [{"field": "decision_id", "message": "unknown"}])
    found = dmn.read(data, f"{decision_id}.dmn")
    if found.decision_id != decision_id:
        raise InvalidDiagram(f"The decision id must stay '{decision_id}'",
                             [{"field": "dmn", "element_id": found.decision_id,
                               "message": f"decision id '{found.decision_id}' is not '{decision_id}': keep the "
                                          "table's id"}])
    return {**files, f"{decision_id}.dmn": data}


def save(services: Services, actor: Actor, key: str, number: int, xml: bytes | None,
         expected_checksum: str | None = None, table: tuple[str, bytes] | None = None) -> SavedDraft:
    """Save ``xml`` as a draft, starting from version ``number`` (see the module's docstring).

    ``expected_checksum`` is the checksum of the draft the modeler loaded: when someone saved it in
    the meantime, nothing is overwritten (:class:`Conflict`). ``xml`` None keeps the base revision's
    diagram; ``table`` (decision id, DMN XML) replaces that one decision table of the base revision
    (the decision editor), through the same deploy checks.
    """
    if xml is not None:
        _same_key(xml, key)
    with services.db.transaction() as session:
        base = _revision(session, actor, key, number, lock=True)
        if not may_edit(actor, base.unit_id):
            raise Forbidden("Only process owners or administrators of the unit may save a draft")
        if xml is None:
            xml = base.bpmn_xml.encode("utf-8")
        uploaded = _uploaded_forms(services, base)
        decisions = _with_table(base, table)
        if base.status == RevisionStatus.DRAFT.value:
            return _replace_draft(services, session, actor, base, xml, uploaded, expected_checksum, decisions)
        unit = base.unit.code
        # a draft made from revision N starts with N's SOP metadata (what the diagram does not set itself)
        xml = sop_metadata.carry(xml, base.sop_metadata or {})
    definition, created = deploy(services, actor, DeployRequest(  # the base revision's decision tables stay
        bpmn=xml, forms=uploaded, decisions=decisions, unit=unit, status=RevisionStatus.DRAFT.value))
    return SavedDraft(definition, "created" if created else "unchanged")


def _replace_draft(services: Services, session: Session, actor: Actor, draft: Definition, xml: bytes,
                   uploaded: dict[str, form_files.Form], expected_checksum: str | None,
                   decisions: dict[str, bytes]) -> SavedDraft:
    if expected_checksum and expected_checksum != draft.checksum:
        raise Conflict(f"Version {draft.version} of '{draft.key}' was saved by someone else in the meantime",
                       [{"field": "checksum", "message": "stale"}])
    diagram = outline(xml)
    prepared = prepare(services, session, draft.unit_id, diagram, xml, uploaded, decisions)
    if prepared.checksum == draft.checksum:
        return SavedDraft(draft, "unchanged")
    draft.bpmn_xml = xml.decode("utf-8")
    draft.checksum = prepared.checksum
    draft.forms = prepared.forms
    draft.decisions = prepared.decisions
    draft.dependencies = [dep.id for dep in prepared.dependencies]
    derive_metadata(draft, diagram.metadata, diagram.title)  # the diagram is the revision, metadata included
    record_event(session, draft, actor.username, "draft_saved", {"checksum": prepared.checksum})
    session.flush()
    services.specs.get((draft.id, draft.checksum), lambda: prepared.compiled)
    return SavedDraft(draft, "updated")


def form_choices(services: Services, actor: Actor, key: str, number: int) -> list[FormChoice]:
    """The form keys a user task of this revision may name: ``forms/`` and the revision's own forms."""
    with services.db.reading() as session:
        base = _revision(session, actor, key, number)
        snapshot = dict(base.forms or {})
    found: dict[str, str] = {}
    directory: Path = services.settings.forms_dir
    for path in sorted(directory.glob("*.schema.json")) if directory.is_dir() else []:
        form_key = path.name.removesuffix(".schema.json")
        try:
            title = json.loads(path.read_text(encoding="utf-8")).get("title")
        except (OSError, ValueError, AttributeError):
            continue  # not a readable form: deploy would refuse it too
        found[form_key] = str(title or "")
    for form_key, form in snapshot.items():
        found.setdefault(form_key, str((form.get("schema") or {}).get("title") or ""))
    return [FormChoice(form_key, title) for form_key, title in sorted(found.items())]
