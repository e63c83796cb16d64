"""The append-only, hash-chained case history."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, lazyload

from service.engine import utc_now
from service.store.models import Case, HistoryEntry

GENESIS = "0" * 64


class HistoryWriter:
    """Appends entries for one case within one transaction, chaining each to the previous hash.

    The chain's head is the case row's ``history_head``: reading it costs nothing when the command
    holds the case already, and each append moves it, so the case row is written with its optimistic
    lock. Of two commands appending to one case at the same moment, the second fails that check
    (409) instead of linking to the same entry and forking the chain (the 64-client race found it).
    """

    def __init__(self, session: Session, case_id: str, actor: str | None, case: Case | None = None) -> None:
        self.session = session
        self.case_id = case_id
        self.actor = actor
        self._case = case
        self._last: str | None = None
        #: what this writer appended, in order (a command's answer is built from them)
        self.entries: list[HistoryEntry] = []

    def hold(self) -> None:
        """Lock the case row now, before the command locks other rows (the order is case, then tasks),
        and read its chain head as committed: a command that locks no other row first needs no hold."""
        self._case = self.session.get(Case, self.case_id, with_for_update=True, populate_existing=True,
                                      options=[lazyload(Case.definition), lazyload(Case.unit)])
        self._last = None

    def _row(self) -> Case:
        if self._case is None:
            # in the session already for nearly every command (no statement then)
            self._case = self.session.get(Case, self.case_id, options=[lazyload(Case.definition),
                                                                       lazyload(Case.unit)])
            if self._case is None:
                raise LookupError(f"case {self.case_id} is not stored")
        return self._case

    def _previous(self) -> str:
        if self._last is None:
            self._last = self._row().history_head or GENESIS
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
        self.entries.append(entry)
        self._row().history_head = digest
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
