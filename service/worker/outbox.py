"""The mail worker's step: send what the outbox holds, one row at a time."""

from __future__ import annotations

import logging

from service.commands.context import Services
from service.commands.outbox import claim_next, compose, mark_failed, mark_sent
from service.engine import utc_now
from service.mail import Mailer

log = logging.getLogger("alur.mail")


def send_once(services: Services, mailer: Mailer, limit: int = 100) -> int:
    """Send up to ``limit`` mails; returns how many went out."""
    sent = 0
    for _ in range(limit):
        outbox_id = claim_next(services, utc_now())
        if outbox_id is None:
            break
        mail = compose(services, outbox_id)
        if mail is None:
            continue
        try:
            mailer.send(mail.message)
        except Exception as exc:  # SMTP, network, refusal: retry later, keep going
            log.warning("mail %s not sent: %s", outbox_id, type(exc).__name__)
            mark_failed(services, outbox_id, utc_now(), exc)
            continue
        mark_sent(services, outbox_id, utc_now())
        sent += 1
    return sent
