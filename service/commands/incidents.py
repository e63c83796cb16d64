"""What an administrator must look at: cases whose timers keep failing (status ``error``) and mail that
reached nobody (outbox ``failed``: given up after the last attempt, or an escalation to a role nobody
holds in the unit). Each administrator sees the incidents of the units they administer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from service.commands.context import Actor, Services
from service.engine import CaseStatus
from service.store.models import Case, OutboxItem, Unit
from service.store.states import OutboxStatus


@dataclass(frozen=True)
class Incident:
    kind: str  # "case" (timers failed) or the outbox row's kind ("escalation", "notification", …)
    unit: str
    case_id: str | None
    outbox_id: int | None
    recipient_role: str | None
    error: str | None
    at: datetime


def incidents(services: Services, actor: Actor) -> list[Incident]:
    """Open incidents of the units ``actor`` administers, oldest first."""
    with services.db.reading() as session:
        found = [
            Incident("case", case.unit.code, case.id, None, None, case.last_error, case.updated_at)
            for case in session.scalars(select(Case).where(Case.status == CaseStatus.ERROR.value))
            if actor.administers(case.unit_id)
        ]
        rows = session.execute(select(OutboxItem, Unit.code).outerjoin(Unit, Unit.id == OutboxItem.unit_id)
                               .where(OutboxItem.status == OutboxStatus.FAILED.value))
        found += [
            Incident(item.kind, code or "", item.case_id, item.id, item.recipient_role, item.last_error,
                     item.created_at)
            for item, code in rows
            if actor.is_admin or (item.unit_id is not None and actor.administers(item.unit_id))
        ]
    return sorted(found, key=lambda incident: incident.at)
