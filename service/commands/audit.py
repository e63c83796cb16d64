"""Checking the tamper-evident case history, and the audit log of a unit for the Inspektorat.

Every history row carries the hash of its content and of the row before it
(:func:`service.commands.history.check_chain`); anyone who may see a case may check its chain, the
system (CLI) checks every case. The audit log is what happened in a unit over a period, for an
auditor to read outside Alur: every case history row (with its hashes, so the export itself can be
checked), and the account, unit-settings and SOP-revision events. It holds no reporter identity:
that is never written to history.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands import access
from service.commands.accounts import managed_unit_ids, unit_by_code
from service.commands.context import Actor, Services
from service.commands.history import ChainCheck, check_chain
from service.engine.properties import SUPERVISORS
from service.errors import Forbidden, InvalidInput
from service.store.models import (
    Case,
    Definition,
    DefinitionEvent,
    HistoryEntry,
    Membership,
    Unit,
    UnitEvent,
    User,
    UserEvent,
)

#: the longest period one export covers (an auditor exports a year at most per file)
MAX_PERIOD_DAYS = 400
AUDIT_FIELDS = ("source", "at", "actor", "action", "case_id", "registration_number", "task_id", "element_id",
                "subject", "data", "prev_hash", "hash")


def _chain(session: Session, case: Case) -> ChainCheck:
    entries = list(session.scalars(select(HistoryEntry).where(HistoryEntry.case_id == case.id)
                                   .order_by(HistoryEntry.id)))
    return check_chain(case.id, entries, case.history_head)


def verify_case(services: Services, actor: Actor, case_id: str) -> ChainCheck:
    """Check one case's history chain; 404 unless ``actor`` may see the case."""
    with services.db.reading() as session:
        return _chain(session, access.visible_case(session, actor, case_id))


def verify_all(services: Services, batch: int = 500) -> Iterator[ChainCheck]:
    """Check every case's chain (the CLI, as the system): one ordered scan of the history table, cases
    in batches, so memory stays flat in the number of cases."""
    after = ""
    while True:
        with services.db.reading() as session:
            heads = session.execute(select(Case.id, Case.history_head).where(Case.id > after)
                                    .order_by(Case.id).limit(batch)).all()
            if not heads:
                return
            rows = session.scalars(select(HistoryEntry).where(HistoryEntry.case_id.in_([h.id for h in heads]))
                                   .order_by(HistoryEntry.case_id, HistoryEntry.id))
            by_case = {case_id: list(entries) for case_id, entries in groupby(rows, key=lambda e: e.case_id)}
            checks = [check_chain(h.id, by_case.get(h.id, []), h.history_head) for h in heads]
        yield from checks
        after = heads[-1].id


def may_audit(session: Session, actor: Actor, unit: Unit) -> bool:
    """Who reads a unit's audit log: its administrators (``admin@`` the unit or its office, global admins)
    and its ``pengawas``."""
    return unit.id in managed_unit_ids(session, actor) or SUPERVISORS in actor.roles_by_unit.get(unit.id, ())


@dataclass(frozen=True)
class AuditPeriod:
    unit_code: str
    first: date
    last: date  # inclusive


def _bounds(unit: Unit, period: AuditPeriod) -> tuple[datetime, datetime]:
    if period.last < period.first:
        raise InvalidInput("The period ends before it starts",
                           [{"field": "to", "message": "must be on or after 'from'"}])
    if (period.last - period.first).days >= MAX_PERIOD_DAYS:
        raise InvalidInput(f"An audit export covers at most {MAX_PERIOD_DAYS} days",
                           [{"field": "to", "message": f"at most {MAX_PERIOD_DAYS} days after 'from'"}])
    zone = ZoneInfo(unit.timezone)
    start = datetime.combine(period.first, time(), zone)
    end = datetime.combine(period.last + timedelta(days=1), time(), zone)
    return start, end


def audit_rows(services: Services, actor: Actor, period: AuditPeriod) -> Iterator[dict[str, Any]]:
    """The unit's audit log over the period (days in the unit's timezone), oldest first within each
    source: case history, then account, unit and SOP-revision events. Checks run before the first row,
    so a refusal is an ordinary 403/404/422, never a broken download."""
    with services.db.reading() as session:
        unit = unit_by_code(session, period.unit_code)
        if not may_audit(session, actor, unit):
            raise Forbidden("Only the unit's administrators and pengawas read its audit log")
        start, end = _bounds(unit, period)
    return _rows(services, unit.id, start, end)


def _rows(services: Services, unit_id: int, start: datetime, end: datetime) -> Iterator[dict[str, Any]]:
    with services.db.reading(streaming=True) as session:
        history = session.execute(
            select(HistoryEntry, Case.registration_number).join(Case, Case.id == HistoryEntry.case_id)
            .where(Case.unit_id == unit_id, HistoryEntry.at >= start, HistoryEntry.at < end)
            .order_by(HistoryEntry.at, HistoryEntry.id).execution_options(yield_per=1000))
        for entry, number in history:
            yield _row("case", entry.at, entry.actor, entry.action, entry.data, case_id=entry.case_id,
                       registration_number=number, task_id=entry.task_id, element_id=entry.element_id,
                       prev_hash=entry.prev_hash, hash=entry.hash)
        members = select(Membership.user_id).where(Membership.unit_id == unit_id)
        accounts = session.execute(
            select(UserEvent, User.username).join(User, User.id == UserEvent.user_id)
            .where(UserEvent.user_id.in_(members), UserEvent.at >= start, UserEvent.at < end)
            .order_by(UserEvent.at, UserEvent.id))
        for event, username in accounts:
            yield _row("account", event.at, event.actor, event.action, event.data, subject=username)
        for unit_event in session.scalars(select(UnitEvent).where(UnitEvent.unit_id == unit_id, UnitEvent.at >= start,
                                                                  UnitEvent.at < end)
                                          .order_by(UnitEvent.at, UnitEvent.id)):
            yield _row("unit", unit_event.at, unit_event.actor, unit_event.action, unit_event.data)
        revisions = session.execute(
            select(DefinitionEvent, Definition.key, Definition.version)
            .join(Definition, Definition.id == DefinitionEvent.definition_id)
            .where(Definition.unit_id == unit_id, DefinitionEvent.at >= start, DefinitionEvent.at < end)
            .order_by(DefinitionEvent.at, DefinitionEvent.id))
        for revision_event, key, version in revisions:
            yield _row("revision", revision_event.at, revision_event.actor, revision_event.action,
                       revision_event.data, subject=f"{key} v{version}")


def _row(source: str, at: datetime, actor: str | None, action: str, data: dict[str, Any] | None,
         **fields: Any) -> dict[str, Any]:
    row = dict.fromkeys(AUDIT_FIELDS)
    row.update(source=source, at=at.isoformat(), actor=actor, action=action,
               data=json.dumps(data or {}, sort_keys=True, ensure_ascii=False, default=str), **fields)
    return row
