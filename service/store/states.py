"""The states of stored rows the engine knows nothing of: SOP revisions and the mail outbox.

Case and task states are the engine's (``service.engine.states``). Columns hold the values
(``RevisionStatus.ACTIVE.value``); code compares and assigns through these members, never bare strings.
"""

from __future__ import annotations

from enum import StrEnum


class RevisionStatus(StrEnum):
    """A revision (``definitions`` row) of an SOP: draft → approved → active → retired."""

    DRAFT = "draft"
    APPROVED = "approved"
    ACTIVE = "active"
    RETIRED = "retired"


class OutboxStatus(StrEnum):
    """A mail in the outbox: pending → sending (leased by a worker) → sent (or caught), or failed / skipped."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last attempt
    SKIPPED = "skipped"  # nothing to send it to (e.g. the reporter left no address)
    CAUGHT = "caught"  # kept by the demo's local catcher (ALUR_MAIL_BACKEND=catcher), never sent


#: the revisions cases may start on or move to: active ones, and approved ones from their Tanggal Efektif
RUNNABLE_REVISIONS = (RevisionStatus.ACTIVE.value, RevisionStatus.APPROVED.value)
