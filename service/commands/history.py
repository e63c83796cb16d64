"""The append-only, hash-chained case history."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.engine import utc_now
from service.store.models import Case, HistoryEntry

GENESIS = "0" * 64


class HistoryWriter:
    """Appends entries for one case within one transaction, chaining each to the previous hash."""

    def __init__(self, session: Session, case_id: str, actor: str | None) -> None:
        self.session = session
        self.case_id = case_id
        self.actor = actor
        self._last: str | None = None

    def hold(self) -> None:
        """Lock the case's chain now, before the command locks other rows (the order is case, then tasks)."""
        self._previous()

    def _previous(self) -> str:
        if self._last is None:
            # Each append holds the case row until commit: a claim and a completion, or two buffered
            # messages, on one case would otherwise both link to the same entry and fork the chain
            # (the 64-client race found it). Before any pending task change is flushed: case first.
            with self.session.no_autoflush:
                self.session.execute(select(Case.id).where(Case.id == self.case_id).with_for_update())
            self._last = self.session.scalar(
                select(HistoryEntry.hash).where(HistoryEntry.case_id == self.case_id)
                .order_by(HistoryEntry.id.desc()).limit(1)
            ) or GENESIS
        return self._last

    def add(self, action: str, data: dict[str, Any] | None = None, task_id: str | None = None,
            element_id: str | None = None, at: datetime | None = None) -> HistoryEntry:
        moment = at or utc_now()
        previous = self._previous()
        payload = json.dumps([previous, self.case_id, task_id, element_id, self.actor, action,
                              moment.isoformat(), data or {}], sort_keys=True, default=str)
        digest = hashlib.sha256(payload.encode()).hexdigest()
        entry = HistoryEntry(case_id=self.case_id, task_id=task_id, element_id=element_id, actor=self.actor,
                             action=action, at=moment, data=data or {}, prev_hash=previous, hash=digest)
        self.session.add(entry)
        self._last = digest
        return entry


def verify_chain(entries: list[HistoryEntry]) -> bool:
    """True when every entry's hash matches its content and links to the one before."""
    previous = GENESIS
    for entry in entries:
        payload = json.dumps([previous, entry.case_id, entry.task_id, entry.element_id, entry.actor,
                              entry.action, entry.at.isoformat(), entry.data], sort_keys=True, default=str)
        if entry.prev_hash != previous or hashlib.sha256(payload.encode()).hexdigest() != entry.hash:
            return False
        previous = entry.hash
    return True
