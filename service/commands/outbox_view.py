"""The Outbox page's reading side: the mail the outbox holds, as its administrators may see it.

A global administrator sees every row; an ``admin`` of a unit the rows of that unit and of its
sub-units (``outbox.unit_id`` is the unit whose role the mail goes to, or the case's unit for mail to
the reporter). Rows show what the mail said (:func:`service.commands.outbox.kept_mail`): a reporter's
address only masked, for every administrator, since the row never holds it in clear.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.commands.accounts import managed_unit_ids
from service.commands.context import REPORTER_ROLE, Actor, Services
from service.commands.outbox import MAIL_KEY, SUBJECTS
from service.commands.users import is_an_administrator
from service.errors import Forbidden, NotFound
from service.store.models import OutboxItem, Unit

PER_PAGE = 25


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    created_at: datetime
    sent_at: datetime | None
    kind: str
    status: str
    recipient: str  # the mail's To (a reporter's masked), or the role it waits to go to
    subject: str
    body: str | None  # None until the worker composed the mail
    error: str | None
    unit: str | None
    timezone: str
    case_id: str | None


@dataclass(frozen=True)
class OutboxPage:
    entries: list[OutboxEntry]
    page: int
    pages: int
    total: int


def _visible_units(session: Session, actor: Actor) -> set[int] | None:
    """The unit ids whose mail ``actor`` may read (None: all); Forbidden for a non-administrator."""
    if not is_an_administrator(actor):
        raise Forbidden("Only administrators read the outbox")
    return None if actor.is_admin else managed_unit_ids(session, actor)


def _entry(item: OutboxItem, unit: Unit | None) -> OutboxEntry:
    mail: dict[str, Any] = item.payload.get(MAIL_KEY) or {}
    role = item.recipient_role or ""
    waiting_for = role if role == REPORTER_ROLE or unit is None else f"{role} @ {unit.code}"
    subject = mail.get("subject") or SUBJECTS.get(item.kind, item.kind).split("{")[0].rstrip(" :(")
    return OutboxEntry(item.id, item.created_at, item.sent_at, item.kind, item.status,
                       str(mail.get("to") or waiting_for), str(subject), mail.get("body"), item.last_error,
                       unit.code if unit else None, unit.timezone if unit else "Asia/Jakarta", item.case_id)


def outbox_page(services: Services, actor: Actor, page: int = 1, per_page: int = PER_PAGE) -> OutboxPage:
    """One page of the outbox rows ``actor`` administers, newest first."""
    with services.db.reading() as session:
        units = _visible_units(session, actor)
        scope = [] if units is None else [OutboxItem.unit_id.in_(units)]
        total = session.scalar(select(func.count(OutboxItem.id)).where(*scope)) or 0
        pages = max((total + per_page - 1) // per_page, 1)
        page = min(max(page, 1), pages)
        rows = session.execute(
            select(OutboxItem, Unit).outerjoin(Unit, Unit.id == OutboxItem.unit_id).where(*scope)
            .order_by(OutboxItem.created_at.desc(), OutboxItem.id.desc())
            .offset((page - 1) * per_page).limit(per_page)
        ).all()
        return OutboxPage([_entry(item, unit) for item, unit in rows], page, pages, total)


def outbox_entry(services: Services, actor: Actor, outbox_id: int) -> OutboxEntry:
    """One row with its mail's text; NotFound when it is not of a unit ``actor`` administers."""
    with services.db.reading() as session:
        units = _visible_units(session, actor)
        item = session.get(OutboxItem, outbox_id)
        if item is None or (units is not None and item.unit_id not in units):
            raise NotFound(f"Outbox item {outbox_id} not found")
        return _entry(item, session.get(Unit, item.unit_id) if item.unit_id is not None else None)
