"""The life of an SOP revision: draft → approved → active (from its Tanggal Efektif) → retired.

Process owners deploy drafts and edit their SOP metadata; a user with the ``approver`` role of the
unit approves (and becomes *Disahkan oleh*); an administrator activates and retires. Every step is
appended to ``definition_events``, the revision's own history.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.commands.context import PROCESS_OWNER_ROLE, Actor, Services
from service.commands.definitions import is_effective, schedule_revision, unit_today
from service.engine import outline, utc_now
from service.engine.diff import DiagramDiff, diff_diagrams
from service.engine.properties import SOP_SECTIONS
from service.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.store.models import Definition, DefinitionEvent, Schedule, User
from service.store.states import RevisionStatus

APPROVER_ROLE = "approver"

#: SOP document sections kept as lists of strings in ``sop_metadata``
__all__ = ["APPROVER_ROLE", "SECTIONS", "activate", "approve", "diff", "events", "is_effective",
           "record_event", "retire", "update_metadata"]

SECTIONS = tuple(name for name, _heading in SOP_SECTIONS)
#: columns of ``definitions`` editable on a draft
TEXT_FIELDS = ("title", "sop_number", "approved_by")
DATE_FIELDS = ("created_on", "revised_on", "effective_on")


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


def update_metadata(services: Services, actor: Actor, key: str, number: int,
                    changes: Mapping[str, Any]) -> Definition:
    """Edit SOP metadata and document sections of a draft (process owners and administrators)."""
    with services.db.transaction() as session:
        definition = _revision(session, actor, key, number)
        if not (actor.administers(definition.unit_id) or PROCESS_OWNER_ROLE in actor.roles_in(definition.unit_id)):
            raise Forbidden("Only process owners or administrators of the unit may edit a revision")
        _require_status(definition, RevisionStatus.DRAFT.value)
        changed: dict[str, Any] = {}
        for name in TEXT_FIELDS:
            if name in changes:
                setattr(definition, name, changes[name] or ("" if name == "title" else None))
                changed[name] = changes[name]
        for name in DATE_FIELDS:
            if name in changes:
                value = _as_date(name, changes[name])
                setattr(definition, name, value)
                changed[name] = value.isoformat() if value else None
        sections = {name: [str(item) for item in changes[name]] for name in SECTIONS if name in changes}
        if sections:
            definition.sop_metadata = {**(definition.sop_metadata or {}), **sections}
            changed.update(sections)
        if changed:
            record_event(session, definition, actor.username, "metadata_updated", changed)
        return definition


def approve(services: Services, actor: Actor, key: str, number: int) -> Definition:
    """A draft becomes approved; the approver is recorded as *Disahkan oleh*."""
    with services.db.transaction() as session:
        definition = _revision(session, actor, key, number)
        if APPROVER_ROLE not in actor.roles_in(definition.unit_id):
            raise Forbidden(f"Approving needs the role '{APPROVER_ROLE}' in unit {definition.unit.code}")
        _require_status(definition, RevisionStatus.DRAFT.value)
        user = session.get(User, actor.user_id)
        definition.status = RevisionStatus.APPROVED.value
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
        schedule_revision(session, definition, outline(definition.bpmn_xml.encode()).start_timer)
        record_event(session, definition, actor.username, "activated",
                     {"effective_on": definition.effective_on.isoformat()})
        return definition


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
        return definition


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
