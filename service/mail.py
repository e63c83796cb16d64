"""Outbound mail: the one seam through which Alur talks SMTP (tests patch or point it at aiosmtpd)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Protocol

from service.config import MAIL_CATCHER, Settings


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class SMTPMailer:
    """Sends each message over its own SMTP session (STARTTLS and login when configured)."""

    def __init__(self, settings: Settings) -> None:
        if not settings.smtp_host:
            raise ValueError("ALUR_SMTP_HOST is not set")
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.starttls = settings.smtp_starttls
        self.user = settings.smtp_user
        self.password = settings.smtp_password

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=30) as smtp:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


class CatcherMailer:
    """The demo's local catcher (``ALUR_MAIL_BACKEND=catcher``): nothing leaves the machine. The outbox
    row already keeps what the mail says (:func:`service.commands.outbox.compose`), and is marked
    ``caught``: administrators read it on the Outbox page."""

    def send(self, message: EmailMessage) -> None:
        return None


def mailer_for(settings: Settings) -> Mailer | None:
    """The configured mailer, or None when no SMTP server is configured (mail then waits)."""
    if settings.mail_backend == MAIL_CATCHER:
        return CatcherMailer()
    return SMTPMailer(settings) if settings.smtp_host else None
