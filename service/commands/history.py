"""The append-only, hash-chained case history."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
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
        digest = _digest(previous, self.case_id, task_id, element_id, self.actor, action, moment, data or {})
        # a new row, built as the ORM builds one it loads (its values straight into the instance's dict):
        # it is only ever inserted, and both writers (the flush, write_in_one) read that dict
        entry = HistoryEntry.built(dict(case_id=self.case_id, task_id=task_id, element_id=element_id,
                                        actor=self.actor, action=action, at=moment, data=data or {},
                                        prev_hash=previous, hash=digest))
        self.session.add(entry)
        self.entries.append(entry)
        self._row().history_head = digest
        self._last = digest
        return entry


def entry_digest(previous: str, entry: HistoryEntry) -> str:
    """The hash of ``entry``'s content linked to ``previous`` (the hash of the case's row before it)."""
    return _digest(previous, entry.case_id, entry.task_id, entry.element_id, entry.actor, entry.action, entry.at,
                   entry.data)


def _digest(previous: str, case_id: str, task_id: str | None, element_id: str | None, actor: str | None,
            action: str, at: datetime, data: dict[str, Any]) -> str:
    payload = json.dumps([previous, case_id, task_id, element_id, actor, action, at.isoformat(), data],
                         sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class BrokenRow:
    """The first history row where a case's chain does not hold. ``id`` is None when rows are missing
    after the last stored one (the case's head names a row that is gone)."""

    id: int | None
    position: int  # 1-based, in the case's order
    action: str | None
    at: datetime | None
    reason: str  # "altered" | "link" | "head"


@dataclass(frozen=True)
class ChainCheck:
    case_id: str
    rows: int
    broken: BrokenRow | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def check_chain(case_id: str, entries: Sequence[HistoryEntry], head: str | None) -> ChainCheck:
    """Walk a case's history in order (``entries`` sorted by id) and name the first row that breaks the
    chain: its content no longer matches its hash (``altered``), it does not link to the row before it
    (``link``: a row before it was removed, inserted or re-hashed), or the case's stored head is not the
    last row's hash (``head``: rows were removed at the end). ``head`` None skips the last check (cases
    written before the head was kept)."""
    previous = GENESIS
    for position, entry in enumerate(entries, start=1):
        reason = ("link" if entry.prev_hash != previous
                  else "altered" if entry_digest(previous, entry) != entry.hash else None)
        if reason:
            return ChainCheck(case_id, len(entries), BrokenRow(entry.id, position, entry.action, entry.at, reason))
        previous = entry.hash
    if head is not None and head != (entries[-1].hash if entries else GENESIS):
        return ChainCheck(case_id, len(entries), BrokenRow(None, len(entries) + 1, None, None, "head"))
    return ChainCheck(case_id, len(entries), None)


def verify_chain(entries: list[HistoryEntry]) -> bool:
    """True when every entry's hash matches its content and links to the one before."""
    return check_chain(entries[0].case_id if entries else "", entries, None).intact
