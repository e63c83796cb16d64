"""What handlers do with a report's reporter: reveal the identity (logged), talk through the thread.

Who may see a ``rahasia`` identity: the roles in the SOP's ``identitas_pelapor`` property
(comma-separated), else the lane of the SOP's first user task (the intake desk), and the unit's
administrators — each reveal needs a reason and is written to the case history. A ``biasa``
identity may be seen by every handler of the unit, still logged. ``anonim`` keeps none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands.access import Visible, full_view
from service.commands.context import Actor, Services
from service.commands.history import HistoryWriter
from service.commands.identity import IdentityVault
from service.engine.compiler import outline, steps
from service.engine.properties import IDENTITY_REVEALERS, listed
from service.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.store.models import Case, ConversationMessage, OutboxItem, Reporter

MIN_REASON = 10


def _case_and_reporter(session: Session, actor: Actor, case_id: str) -> tuple[Case, Reporter]:
    case = full_view(session, actor, case_id).case
    reporter = session.scalar(select(Reporter).where(Reporter.case_id == case.id))
    if reporter is None:
        raise NotFound(f"Case {case_id} was not filed as a report")
    return case, reporter


def intake_desk(xml: bytes) -> str | None:
    """The SOP's intake desk: the lane of its first user task. It registers reports at the counter
    (:func:`service.commands.public.may_register`) and, unless the SOP names others, guards identities."""
    first = next(iter(steps(xml)), None)
    return first.lane if first is not None and first.lane else None


def identity_roles(case: Case) -> set[str]:
    xml = case.definition.bpmn_xml.encode()
    roles = set(listed(outline(xml).metadata, IDENTITY_REVEALERS))
    if not roles:
        desk = intake_desk(xml)
        roles = {desk} if desk else set()
    return roles


@dataclass(frozen=True)
class RevealedIdentity:
    mode: str
    identity: dict[str, Any]


def _guards_identity(actor: Actor, case: Case) -> bool:
    """The unit's administrators and the roles the SOP lets see a ``rahasia`` identity."""
    return actor.administers(case.unit_id) or bool(actor.roles_in(case.unit_id) & identity_roles(case))


def _may_reveal(actor: Actor, case: Case, reporter: Reporter) -> bool:
    return reporter.identity_ciphertext is not None and (reporter.mode == "biasa" or _guards_identity(actor, case))


@dataclass(frozen=True)
class ReporterSummary:
    """What the case page shows about a report's reporter: never the identity itself."""

    mode: str
    channel: str
    may_reveal: bool
    messages: list[ConversationMessage]
    #: the follow-up code is locked after too many wrong secrets
    locked: bool = False
    may_unlock: bool = False


def summary_of(session: Session, actor: Actor, found: Visible) -> ReporterSummary | None:
    """The reporter side of a case the actor sees (``found``: the decision of :func:`visible`); None when
    the case was not filed as a report or the viewer sees only some of its fields."""
    if not found.full:
        return None
    case = found.case
    reporter = session.scalar(select(Reporter).where(Reporter.case_id == case.id))
    if reporter is None:
        return None
    messages = list(session.scalars(select(ConversationMessage).where(ConversationMessage.case_id == case.id)
                                    .order_by(ConversationMessage.id)))
    return ReporterSummary(reporter.mode, reporter.channel, _may_reveal(actor, case, reporter), messages,
                           locked=reporter.locked_at is not None, may_unlock=_guards_identity(actor, case))


def reveal_identity(services: Services, actor: Actor, case_id: str, reason: str) -> RevealedIdentity:
    if len(reason.strip()) < MIN_REASON:
        raise InvalidInput("Say why you need the identity (at least 10 characters)",
                           [{"field": "reason", "message": "too short"}])
    with services.db.transaction() as session:
        case, reporter = _case_and_reporter(session, actor, case_id)
        if reporter.mode == "anonim" or reporter.identity_ciphertext is None:
            raise Conflict("This report is anonymous: no identity was kept")
        if not _may_reveal(actor, case, reporter):
            raise Forbidden("Your roles may not see the identity of this reporter")
        identity = IdentityVault.of(services.settings).open(reporter.identity_ciphertext)
        HistoryWriter(session, case.id, actor.username).add("identity_revealed", {"reason": reason.strip()})
        return RevealedIdentity(reporter.mode, identity)


@dataclass(frozen=True)
class FollowUpLock:
    locked: bool
    failed_attempts: int


def unlock_follow_up(services: Services, actor: Actor, case_id: str, reason: str) -> FollowUpLock:
    """Open a follow-up code locked after too many wrong secrets (e.g. the reporter mistyped it and
    called the office); the wrong secrets counted so far and the reason go to the case history."""
    if len(reason.strip()) < MIN_REASON:
        raise InvalidInput("Say why the code is unlocked (at least 10 characters)",
                           [{"field": "reason", "message": "too short"}])
    with services.db.transaction() as session:
        case, reporter = _case_and_reporter(session, actor, case_id)
        if not _guards_identity(actor, case):
            raise Forbidden("Your roles may not unlock this report's follow-up code")
        if reporter.locked_at is None:
            raise Conflict("The follow-up code of this report is not locked")
        HistoryWriter(session, case.id, actor.username).add(
            "follow_up_unlocked", {"reason": reason.strip(), "failed_attempts": reporter.failed_attempts})
        reporter.locked_at = None
        reporter.failed_attempts = 0
        return FollowUpLock(locked=False, failed_attempts=0)


def post_to_reporter(services: Services, actor: Actor, case_id: str, text: str) -> ConversationMessage:
    """A handler's question or reply; the reporter reads it on the follow-up page (and by mail)."""
    with services.db.transaction() as session:
        case, _reporter = _case_and_reporter(session, actor, case_id)
        message = ConversationMessage(case_id=case.id, sender="petugas", author_id=actor.user_id or None, text=text)
        session.add(message)
        session.add(OutboxItem(kind="reporter_message", case_id=case.id, unit_id=case.unit_id,
                               recipient_role="Pelapor", payload={"text": text}))
        HistoryWriter(session, case.id, actor.username).add("message_to_reporter", {"length": len(text)})
        return message


def conversation(services: Services, actor: Actor, case_id: str) -> list[ConversationMessage]:
    with services.db.reading() as session:
        case, _reporter = _case_and_reporter(session, actor, case_id)
        return list(session.scalars(select(ConversationMessage).where(ConversationMessage.case_id == case.id)
                                    .order_by(ConversationMessage.id)))
