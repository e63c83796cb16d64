"""Retention: after an SOP's ``retensi_tahun`` the worker purges a completed case's personal data.

What a purge removes: the reporter's sealed identity and secret (the follow-up code stops working), the
attachments (rows, and files no other case shares), staff notes, the reporter thread, the history rows
(their text carries the forms' free text), the workflow state, and every case field that is not a
categorical answer of a form (a choice, a yes/no) or the channel/mode. What stays is an anonymous
statistical record: the case row (SOP revision, unit, Nomor registrasi, dates, status, categorical
answers) and its tasks (steps, lanes, times against the Mutu Baku). The archive made at completion
(:mod:`service.commands.archive`) is made first if missing and is kept outside the database.

The history starts a new chain with one ``case_purged`` row naming the archive's SHA-256 and how many
rows left, so ``alur history verify`` still checks the case. A dry run lists what would be purged and
changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import delete, func, select, text, update

from service.commands.archive import build_archive
from service.commands.attachments import path_of
from service.commands.cases import revision_forms
from service.commands.context import Services
from service.commands.display import CHANNEL_KEY, MODE_KEY, case_label
from service.commands.history import HistoryWriter
from service.engine import CaseStatus, utc_now
from service.engine.properties import RETENTION_YEARS
from service.engine.sop_metadata import process_properties
from service.store.models import Attachment, Case, Comment, ConversationMessage, Definition, HistoryEntry, Reporter

log = logging.getLogger("alur.retention")
RETENTION_ACTOR = "system:retensi"


@dataclass(frozen=True)
class Expired:
    """A case past its SOP's retention, as a dry run lists it."""

    case_id: str
    label: str
    unit: str
    sop: str
    completed_at: datetime
    retention_years: int
    attachments: int
    has_identity: bool


def retention_years(services: Services, definition: Definition) -> int | None:
    """The revision's ``retensi_tahun`` (None: kept whole); read once per revision."""

    def read() -> int | None:
        value = process_properties(definition.bpmn_xml.encode()).get(RETENTION_YEARS, "").strip()
        return int(value) if value.isdigit() else None

    return cast(int | None, services.memo.get(("retention", definition.id, definition.checksum), read))


def years_before(moment: datetime, years: int) -> datetime:
    """The same calendar day ``years`` earlier (28 February for a 29th of February)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def expired(services: Services, now: datetime | None = None) -> list[Expired]:
    """Completed, not yet purged cases whose SOP revision's retention ran out by ``now``."""
    moment = now or utc_now()
    found: list[Expired] = []
    with services.db.reading() as session:
        revisions = session.scalars(select(Definition).where(Definition.id.in_(
            select(Case.definition_id).where(Case.status == CaseStatus.COMPLETED.value, Case.purged_at.is_(None)))))
        for definition in revisions:
            years = retention_years(services, definition)
            if years is None:
                continue
            cases = session.execute(
                select(Case, func.count(Attachment.id), Reporter.identity_ciphertext.is_not(None))
                .outerjoin(Attachment, Attachment.case_id == Case.id).outerjoin(Reporter, Reporter.case_id == Case.id)
                .where(Case.definition_id == definition.id, Case.status == CaseStatus.COMPLETED.value,
                       Case.purged_at.is_(None), Case.completed_at <= years_before(moment, years))
                .group_by(Case.id, Reporter.identity_ciphertext).order_by(Case.completed_at))
            found += [Expired(case.id, case_label(case), case.unit.code, definition.key,
                              case.completed_at or moment, years, count, bool(identity))
                      for case, count, identity in cases]
    return found


def categorical(forms: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The case fields kept for statistics: answers that are a choice or a yes/no in one of the forms,
    and the channel and reporting mode; free text (names, descriptions, addresses) never."""
    kept: set[str] = {CHANNEL_KEY, MODE_KEY}
    for form in forms.values():
        schema = form.get("schema", form) if isinstance(form, Mapping) else {}
        props = schema.get("properties", {}) if isinstance(schema, Mapping) else {}
        for name, prop in props.items() if isinstance(props, Mapping) else ():
            if isinstance(prop, Mapping) and (prop.get("type") == "boolean" or "enum" in prop or "oneOf" in prop):
                kept.add(str(name))
    return {key: value for key, value in data.items() if key in kept and isinstance(value, (str, bool, int, float))}


def purge(services: Services, now: datetime | None = None, dry_run: bool = True) -> list[Expired]:
    """Purge every expired case (each in its own transaction, after its archive exists); with ``dry_run``
    only list them. Returns the cases purged (or that would be)."""
    due = expired(services, now)
    if dry_run:
        return due
    for case in due:
        archive = build_archive(services, case.case_id)
        _purge_one(services, case, archive.sha256)
        log.info("purged case %s (%s, %d attachment(s)) after %d year(s)", case.case_id, case.sop, case.attachments,
                 case.retention_years)
    if due:
        _compact_search_index(services)
    return due


def _purge_one(services: Services, target: Expired, archive_sha256: str) -> None:
    shared: list[str] = []
    with services.db.transaction() as session:
        case = session.get(Case, target.case_id, with_for_update={"of": Case})
        if case is None or case.purged_at is not None:
            return
        hashes = list(session.scalars(select(Attachment.sha256).where(Attachment.case_id == case.id)))
        rows = session.scalar(select(func.count()).select_from(HistoryEntry).where(HistoryEntry.case_id == case.id))
        for model in (Attachment, Comment, ConversationMessage, HistoryEntry):
            session.execute(delete(model).where(model.case_id == case.id))
        session.execute(update(Reporter).where(Reporter.case_id == case.id)
                        .values(identity_ciphertext=None, secret_hash=None))
        case.data = categorical(revision_forms(services, case.definition), case.data or {})
        case.state = {}
        case.tracking_code = None
        case.purged_at = utc_now()
        case.history_head = None  # a new chain: the purge row is its first link
        HistoryWriter(session, case.id, RETENTION_ACTOR, case).add(
            "case_purged", {"archive_sha256": archive_sha256, "history_rows_removed": rows,
                            "retention_years": target.retention_years})
        session.flush()
        shared = [sha for sha in set(hashes)
                  if session.scalar(select(func.count()).select_from(Attachment).where(Attachment.sha256 == sha)) == 0]
    for sha in shared:  # after the commit: a file goes only once no row names it
        path_of(services, sha).unlink(missing_ok=True)


def _compact_search_index(services: Services) -> None:
    """SQLite's search forgets the purged rows by itself (migration 0021's triggers: the deleted notes,
    messages and history rows, and the case's data once ``purged_at`` is set), but FTS5 keeps a deleted
    row's words in its index segments until they are merged: merge them all, so purged words are gone
    from the file too (PostgreSQL's GIN entries go with their rows' vacuum)."""
    with services.db.transaction() as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("INSERT INTO case_search (case_search) VALUES ('optimize')"))
