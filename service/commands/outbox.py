"""The mail outbox: claim a row, compose its mail in Indonesian, mark it sent or retry later.

A row is claimed with a conditional UPDATE checked by row count (``pending``, or ``sending`` whose
lease ran out because a worker died) and marked ``sent`` in its own transaction right after the
SMTP server accepted it. A worker killed before that mark leaves the row to be re-sent once the
lease expires; one killed while talking to the server leaves it unsent. So every mail goes out
once, except in the instant between the server's "250 OK" and the commit.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from service.commands.accounts import role_holders
from service.commands.context import Services
from service.commands.display import case_label
from service.commands.history import HistoryWriter
from service.commands.identity import IdentityVault
from service.commands.outcomes import one_line, shown_value
from service.config import MAIL_CATCHER
from service.store.models import Case, OutboxItem, Reporter, Unit, User
from service.store.states import OutboxStatus

MAX_ATTEMPTS = 8
SUBJECTS = {
    "notification": "Perkembangan laporan {code}",
    "reporter_message": "Pesan baru tentang laporan {code}",
    "receipt": "Laporan Anda telah diterima ({code})",
    "reporter_task": "Kantor meminta tanggapan Anda: {step} (laporan {code})",
    "escalation": "Batas waktu SOP terlewati: {key}",
    "task": "Tugas baru: {key}",
}
#: kinds mailed to the reporter of a public report (their address is in the encrypted identity)
TO_REPORTER = ("notification", "reporter_message", "receipt", "reporter_task")
FOLLOW_UP_PATH = "/lapor/tindak-lanjut"
#: the payload key under which a row keeps the mail it became (recipients, subject, text)
MAIL_KEY = "mail"
_templates = Environment(loader=FileSystemLoader(Path(__file__).parent.parent / "worker" / "templates"),
                         undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


@dataclass(frozen=True)
class OutgoingMail:
    outbox_id: int
    message: EmailMessage


def claim_next(services: Services, now: datetime) -> int | None:
    """Take the oldest sendable row for this worker; None when there is none."""
    sendable = or_(
        (OutboxItem.status == OutboxStatus.PENDING.value)
        & or_(OutboxItem.next_attempt_at.is_(None), OutboxItem.next_attempt_at <= now),
        (OutboxItem.status == OutboxStatus.SENDING.value) & (OutboxItem.lease_until < now),
    )
    with services.db.transaction() as session:
        candidates = session.scalars(select(OutboxItem.id).where(sendable).order_by(OutboxItem.id).limit(5)).all()
        for outbox_id in candidates:
            claimed = session.execute(
                update(OutboxItem).where(OutboxItem.id == outbox_id, sendable)
                .values(status=OutboxStatus.SENDING.value,
                        lease_until=now + timedelta(seconds=services.settings.mail_lease_seconds),
                        attempts=OutboxItem.attempts + 1)
            )
            if claimed.rowcount == 1:  # type: ignore[attr-defined]
                return outbox_id
    return None


def _staff_emails(session: Session, unit_id: int | None, role: str | None) -> list[str]:
    if unit_id is None or role is None:
        return []
    return sorted(email for email in session.scalars(
        role_holders(unit_id, role).with_only_columns(User.email).where(User.email.is_not(None))
    ) if email)


def _role_is_held(session: Session, unit_id: int | None, role: str | None) -> bool:
    """Whether an active user holds ``role`` in the unit (with or without a mail address)."""
    return unit_id is not None and role is not None and session.scalar(
        role_holders(unit_id, role).limit(1)) is not None


def _undeliverable(session: Session, item: OutboxItem) -> None:
    """An escalation to a role nobody holds reached nobody: an incident (``failed``, listed in
    ``GET /api/reports/incidents``, and on the case's history), never a silent skip."""
    unit = session.get(Unit, item.unit_id) if item.unit_id is not None else None
    item.status, item.lease_until = OutboxStatus.FAILED.value, None
    item.last_error = f"no user holds role {item.recipient_role} in unit {unit.code if unit else item.unit_id}"
    if item.case_id:
        HistoryWriter(session, item.case_id, None).add(
            "escalation_undeliverable", {"role": item.recipient_role, "error": item.last_error, "outbox_id": item.id},
            element_id=item.payload.get("element_id"))


def _reporter_email(services: Services, session: Session, case_id: str | None) -> list[str]:
    reporter = session.scalar(select(Reporter).where(Reporter.case_id == case_id)) if case_id else None
    if reporter is None or reporter.identity_ciphertext is None:
        return []
    email = IdentityVault.of(services.settings).open(reporter.identity_ciphertext).get("email")
    return [email] if email else []


def _local(moment: str | None, timezone: str) -> str | None:
    """An ISO instant as the reporter reads it: in the office's zone, in Indonesian, with WIB/WITA/WIT."""
    if not moment:
        return None
    local = datetime.fromisoformat(moment)
    with suppress(OverflowError):  # a due date at the end of year 9999 UTC is past it in WIB: keep UTC
        local = local.astimezone(ZoneInfo(timezone))
    return f"{format_datetime(local, 'd MMMM yyyy HH:mm', locale='id')} {local.tzname()}"


def compose(services: Services, outbox_id: int) -> OutgoingMail | None:
    """The mail of a claimed row, or None when it has nobody to go to: the row is then ``skipped``, or
    ``failed`` (an incident) for an escalation to a role nobody holds."""
    with services.db.transaction() as session:
        item = session.get(OutboxItem, outbox_id)
        assert item is not None
        case = session.get(Case, item.case_id) if item.case_id else None
        to_reporter = item.recipient_role == "Pelapor" and item.kind in TO_REPORTER
        recipients = (_reporter_email(services, session, item.case_id) if to_reporter
                      else _staff_emails(session, item.unit_id, item.recipient_role))
        if not recipients and item.kind == "escalation" and not _role_is_held(session, item.unit_id,
                                                                              item.recipient_role):
            _undeliverable(session, item)
            return None
        if not recipients:
            item.status, item.lease_until = OutboxStatus.SKIPPED.value, None
            return None
        context = {
            "tracking_code": case.tracking_code if case else "", "case_id": item.case_id,
            "business_key": case.business_key if case else None,
            "case_label": case_label(case) if case else item.case_id or "",
            "unit_name": case.unit.name if case else "Alur",
            "definition_title": case.definition.title if case else "", "role": item.recipient_role,
            "element_name": item.payload.get("element_name"), "timer": item.payload.get("timer", ""),
            "step": item.payload.get("step") or item.payload.get("element_id", ""),
            "due_at": item.payload.get("due_at"),
            "due_local": _local(item.payload.get("due_at"), case.unit.timezone if case else "Asia/Jakarta"),
            "text": item.payload.get("text"), "follow_up_url": services.settings.public_url + FOLLOW_UP_PATH,
            "fields": [(field["label"], shown_value(field["value"])) for field in item.payload.get("fields") or []],
        }
        message = EmailMessage()
        message["Subject"] = one_line(SUBJECTS[item.kind].format(
            code=context["tracking_code"], key=context["case_label"], step=context["step"]))[:250]
        message["From"] = services.settings.mail_from
        message["To"] = ", ".join(recipients)
        message["Message-ID"] = make_msgid(idstring=f"alur-outbox-{item.id}")
        message.set_content(_templates.get_template(f"{item.kind}.txt").render(**context))
        item.payload = {**item.payload, MAIL_KEY: kept_mail(message, to_reporter)}
        return OutgoingMail(outbox_id, message)


def mask_address(address: str) -> str:
    """``r***@example.org``: enough to tell reporters' mails apart, not enough to name one."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}" if local else "***"


def kept_mail(message: EmailMessage, to_reporter: bool) -> dict[str, str]:
    """What the outbox row keeps of its mail for the Outbox page: a reporter's address only masked
    (their identity stays in the encrypted vault)."""
    recipients = [part.strip() for part in str(message["To"]).split(",")]
    shown = [mask_address(address) for address in recipients] if to_reporter else recipients
    return {"to": ", ".join(shown), "subject": str(message["Subject"]),
            "body": str(message.get_content()) if not message.is_multipart() else ""}


def mark_sent(services: Services, outbox_id: int, now: datetime) -> None:
    """``sent``; ``caught`` when the demo's local catcher took it (nothing left the machine)."""
    status = OutboxStatus.CAUGHT if services.settings.mail_backend == MAIL_CATCHER else OutboxStatus.SENT
    with services.db.transaction() as session:
        session.execute(update(OutboxItem).where(OutboxItem.id == outbox_id)
                        .values(status=status.value, sent_at=now, lease_until=None, last_error=None))


def mark_failed(services: Services, outbox_id: int, now: datetime, error: Exception) -> None:
    """Retry later with backoff; after :data:`MAX_ATTEMPTS` the row is ``failed`` for an admin to see."""
    with services.db.transaction() as session:
        item = session.get(OutboxItem, outbox_id)
        assert item is not None
        item.last_error = f"{type(error).__name__}: {error}"[:2000]
        item.lease_until = None
        if item.attempts >= MAX_ATTEMPTS:
            item.status = OutboxStatus.FAILED.value
        else:
            item.status = OutboxStatus.PENDING.value
            item.next_attempt_at = now + timedelta(minutes=min(2 ** item.attempts, 24 * 60))
