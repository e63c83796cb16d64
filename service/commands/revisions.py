"""The life of an SOP revision: draft → approved → active (from its Tanggal Efektif) → retired.

Process owners deploy drafts and edit their SOP metadata, which is written into the draft's diagram
(:mod:`service.engine.sop_metadata`; approved, active and retired revisions are immutable); a user
with the ``approver`` role of the unit approves (and becomes *Disahkan oleh* when the SOP names no
signatory); an administrator activates and retires. Every step is appended to
``definition_events``, the revision's own history.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.commands.context import PROCESS_OWNER_ROLE, Actor, Services
from service.commands.definitions import (
    derive_metadata,
    is_effective,
    revision_checksum,
    schedule_revision,
    unit_today,
)
from service.engine import outline, properties, sop_metadata, utc_now
from service.engine.diff import DiagramDiff, diff_diagrams
from service.engine.properties import SOP_SECTIONS
from service.engine.schedule import schedule_text
from service.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.store.models import Definition, DefinitionEvent, Schedule, User
from service.store.states import RevisionStatus

APPROVER_ROLE = "approver"

__all__ = ["APPROVER_ROLE", "SECTIONS", "activate", "approve", "diff", "events", "is_effective", "metadata",
           "record_event", "replace_metadata", "retire", "update_metadata"]

#: SOP document sections, kept in the diagram one entry per line
SECTIONS = tuple(name for name, _heading in SOP_SECTIONS)
#: the API's names of the ``definitions`` columns a draft's metadata sets → the process property
COLUMN_PROPERTIES = {"title": properties.TITLE, "sop_number": properties.SOP_NUMBER,
                     "created_on": properties.CREATED_ON, "revised_on": properties.REVISED_ON,
                     "effective_on": properties.EFFECTIVE_ON, "approved_by": properties.APPROVED_BY}


def record_event(session: Session, definition: Definition, actor: str | None, action: str,
                 data: Mapping[str, Any] | None = None) -> None:
    session.add(DefinitionEvent(definition_id=definition.id, actor=actor, action=action, data=dict(data or {})))


def _revision(session: Session, actor: Actor, key: str, number: int) -> Definition:
    row = session.scalar(select(Definition).where(Definition.key == key, Definition.version == number)
                         .with_for_update(of=Definition))
    if row is None or not actor.is_member(row.unit_id):
        raise NotFound(f"SOP '{key}' has no version {number}")
    return row


def _require_status(definition: Definition, *allowed: str) -> None:
    if definition.status not in allowed:
        raise Conflict(f"Version {definition.version} of '{definition.key}' is {definition.status}; "
                       f"this needs {' or '.join(allowed)}",
                       [{"field": "status", "message": definition.status}])


def _as_date(name: str, value: Any) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise InvalidInput(f"{name} must be a date like 2026-01-31",
                           [{"field": name, "message": f"not a date: {value!r}"}]) from exc


def _editable(session: Session, actor: Actor, key: str, number: int) -> Definition:
    definition = _revision(session, actor, key, number)
    if not (actor.administers(definition.unit_id) or PROCESS_OWNER_ROLE in actor.roles_in(definition.unit_id)):
        raise Forbidden("Only process owners or administrators of the unit may edit a revision")
    _require_status(definition, RevisionStatus.DRAFT.value)
    return definition


def _store(definition: Definition, values: Mapping[str, str]) -> dict[str, str]:
    """Write the metadata ``values`` (property → text) into the draft's diagram, so the file stays the
    revision: its checksum and the derived columns follow. Returns the properties that changed."""
    problems = [{"field": name, "message": text} for name, value in values.items()
                for text in properties.problems(name, value, properties.Place.PROCESS)]
    if problems:
        raise InvalidInput("Some SOP metadata is not valid: " + ", ".join(p["field"] for p in problems), problems)
    old_xml = definition.bpmn_xml.encode()
    before = sop_metadata.process_properties(old_xml)
    xml = sop_metadata.write(old_xml, values)
    after = sop_metadata.process_properties(xml)
    changed = {name: after.get(name, "") for name in sop_metadata.NAMES if before.get(name, "") != after.get(name, "")}
    if not changed:
        return {}
    definition.bpmn_xml = xml.decode("utf-8")
    definition.checksum = revision_checksum(xml, definition.forms or {}, definition.decisions or {})
    derive_metadata(definition, after, outline(xml).title)
    return changed


def metadata(services: Services, actor: Actor, key: str, number: int) -> sop_metadata.SopMetadata:
    """The SOP metadata of a revision, read from its diagram."""
    with services.db.reading() as session:
        definition = session.scalar(select(Definition).where(Definition.key == key, Definition.version == number))
        if definition is None or not actor.is_member(definition.unit_id):
            raise NotFound(f"SOP '{key}' has no version {number}")
        return sop_metadata.read(definition.bpmn_xml.encode())


def replace_metadata(services: Services, actor: Actor, key: str, number: int,
                     meta: sop_metadata.SopMetadata) -> sop_metadata.SopMetadata:
    """Set all the SOP metadata of a draft (process owners and administrators); approved, active and
    retired revisions are immutable (:class:`Conflict`)."""
    with services.db.transaction() as session:
        definition = _editable(session, actor, key, number)
        if changed := _store(definition, sop_metadata.to_properties(meta)):
            record_event(session, definition, actor.username, "metadata_updated", changed)
        return sop_metadata.read(definition.bpmn_xml.encode())


def update_metadata(services: Services, actor: Actor, key: str, number: int,
                    changes: Mapping[str, Any]) -> Definition:
    """Edit some SOP metadata of a draft by the API's column names (``title``, ``sop_number``, …,
    ``approved_by`` = the signing official's name) and section names; only the fields sent change."""
    with services.db.transaction() as session:
        definition = _editable(session, actor, key, number)
        values = dict(sop_metadata.process_properties(definition.bpmn_xml.encode()))
        changed: dict[str, Any] = {}
        for name, prop in COLUMN_PROPERTIES.items():
            if name not in changes:
                continue
            if prop in sop_metadata.DATE_NAMES:
                value = _as_date(name, changes[name])
                values[prop] = value.isoformat() if value else ""
                changed[name] = values[prop] or None
            else:
                values[prop] = str(changes[name] or "")
                changed[name] = changes[name]
        for name in SECTIONS:
            if name in changes:
                entries = sop_metadata.lines([str(item) for item in changes[name] or []])
                values[name] = "\n".join(entries)
                changed[name] = list(entries)
        if _store(definition, values):
            record_event(session, definition, actor.username, "metadata_updated", changed)
        return definition


def approve(services: Services, actor: Actor, key: str, number: int) -> Definition:
    """A draft becomes approved; the approver is recorded as *Disahkan oleh* when the SOP's metadata
    names no signatory (``disahkan_oleh``); the approval itself is in the revision's history."""
    with services.db.transaction() as session:
        definition = _revision(session, actor, key, number)
        if APPROVER_ROLE not in actor.roles_in(definition.unit_id):
            raise Forbidden(f"Approving needs the role '{APPROVER_ROLE}' in unit {definition.unit.code}")
        _require_status(definition, RevisionStatus.DRAFT.value)
        user = session.get(User, actor.user_id)
        definition.status = RevisionStatus.APPROVED.value
        if not definition.approved_by:  # the SOP names its signatory itself (Disahkan oleh): that stays
            definition.approved_by = (user.display_name if user else "") or actor.username
        definition.approved_at = utc_now()
        record_event(session, definition, actor.username, "approved",
                     {"approved_by": definition.approved_by,
                      "effective_on": definition.effective_on.isoformat() if definition.effective_on else None})
        return definition


def activate(services: Services, actor: Actor, key: str, number: int,
             effective_on: date | None = None) -> Definition:
    """An approved revision becomes active, from ``effective_on`` (default: its date, else today)."""
    with services.db.transaction() as session:
        definition = _revision(session, actor, key, number)
        if not actor.administers(definition.unit_id):
            raise Forbidden("Only an administrator of the unit may activate a revision")
        _require_status(definition, RevisionStatus.APPROVED.value)
        definition.effective_on = effective_on or definition.effective_on or unit_today(definition)
        definition.status = RevisionStatus.ACTIVE.value
        diagram = outline(definition.bpmn_xml.encode())
        schedule_revision(session, definition, schedule_text(diagram.start_timer, diagram.start_properties))
        record_event(session, definition, actor.username, "activated",
                     {"effective_on": definition.effective_on.isoformat()})
        if is_effective(definition, unit_today(definition)):
            _retire_superseded(session, actor, definition)
        return definition


def _retire_superseded(session: Session, actor: Actor, definition: Definition) -> None:
    """The older active revisions of the SOP in its unit are retired once ``definition`` is in force:
    no new case starts on them; the cases running on them go on on their own revision. (A revision
    activated from a later Tanggal Efektif leaves the one in force active until then.)"""
    older = session.scalars(select(Definition).where(
        Definition.key == definition.key, Definition.unit_id == definition.unit_id,
        Definition.version < definition.version, Definition.status == RevisionStatus.ACTIVE.value,
    ).with_for_update(of=Definition))
    for row in older:
        row.status = RevisionStatus.RETIRED.value
        record_event(session, row, actor.username, "retired",
                     {"previous_status": RevisionStatus.ACTIVE.value, "superseded_by": definition.version})


def retire(services: Services, actor: Actor, key: str, number: int) -> Definition:
    """No new case starts on a retired revision; its running cases go on (or are migrated)."""
    with services.db.transaction() as session:
        definition = _revision(session, actor, key, number)
        if not actor.administers(definition.unit_id):
            raise Forbidden("Only an administrator of the unit may retire a revision")
        _require_status(definition, RevisionStatus.APPROVED.value, RevisionStatus.ACTIVE.value)
        previous = definition.status
        definition.status = RevisionStatus.RETIRED.value
        session.execute(delete(Schedule).where(Schedule.definition_id == definition.id))
        record_event(session, definition, actor.username, "retired", {"previous_status": previous})
        if previous == RevisionStatus.ACTIVE.value:
            _reinstate_superseded(session, actor, definition)
        return definition


def _reinstate_superseded(session: Session, actor: Actor, definition: Definition) -> None:
    """Retiring an active revision puts the revisions its activation retired (:func:`_retire_superseded`)
    back in force: withdrawing a new revision falls back to the one it replaced."""
    retired = session.scalars(select(Definition).where(
        Definition.key == definition.key, Definition.unit_id == definition.unit_id,
        Definition.version < definition.version, Definition.status == RevisionStatus.RETIRED.value,
    ).order_by(Definition.version).with_for_update(of=Definition)).all()
    for row in retired:
        last = session.scalar(select(DefinitionEvent).where(DefinitionEvent.definition_id == row.id)
                              .order_by(DefinitionEvent.id.desc()).limit(1))
        if last is None or last.action != "retired" or (last.data or {}).get("superseded_by") != definition.version:
            continue
        row.status = RevisionStatus.ACTIVE.value
        diagram = outline(row.bpmn_xml.encode())
        schedule_revision(session, row, schedule_text(diagram.start_timer, diagram.start_properties))
        record_event(session, row, actor.username, "reinstated", {"after_retiring": definition.version})


def events(services: Services, actor: Actor, key: str, number: int) -> list[DefinitionEvent]:
    with services.db.reading() as session:
        definition = session.scalar(select(Definition).where(Definition.key == key, Definition.version == number))
        if definition is None or not actor.is_member(definition.unit_id):
            raise NotFound(f"SOP '{key}' has no version {number}")
        return list(session.scalars(select(DefinitionEvent).where(DefinitionEvent.definition_id == definition.id)
                                    .order_by(DefinitionEvent.id)))


def diff(services: Services, actor: Actor, key: str, from_version: int, to_version: int) -> DiagramDiff:
    """Added, removed and changed elements between two revisions of one SOP."""
    with services.db.reading() as session:
        rows = {row.version: row for row in session.scalars(
            select(Definition).where(Definition.key == key, Definition.version.in_([from_version, to_version])))}
    for number, name in ((from_version, "from"), (to_version, "to")):
        if number not in rows or not actor.is_member(rows[number].unit_id):
            raise NotFound(f"SOP '{key}' has no version {number}", [{"field": name, "message": "unknown"}])
    return diff_diagrams(rows[from_version].bpmn_xml.encode(), rows[to_version].bpmn_xml.encode())
