"""Kotak Keluar (Outbox): the mail the outbox holds, for administrators — in the demo, the local catcher."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask.typing import ResponseReturnValue

from service.commands.context import Actor
from service.commands.outbox_view import OutboxEntry, outbox_entry, outbox_page
from service.commands.users import is_an_administrator
from service.config import MAIL_CATCHER
from service.errors import Forbidden
from service.store.states import OutboxStatus
from service.web.helpers import actor, error_page, local_time, login_required, services, web_blueprint
from service.web.i18n import gettext as _

blp = web_blueprint("web_outbox", __name__)


def _forbidden(error: Forbidden) -> ResponseReturnValue:
    return error_page(403, _("Only an administrator of this unit may open this page."))


blp.register_error_handler(Forbidden, _forbidden)


def status_label(status: str) -> str:
    labels = {
        OutboxStatus.PENDING.value: _("Waiting"), OutboxStatus.SENDING.value: _("Sending"),
        OutboxStatus.SENT.value: _("Sent"), OutboxStatus.FAILED.value: _("Failed"),
        OutboxStatus.SKIPPED.value: _("Skipped: no address"), OutboxStatus.CAUGHT.value: _("Caught (demo, not sent)"),
    }
    return labels.get(status, status)


def kind_label(kind: str) -> str:
    labels = {
        "notification": _("Progress to the reporter"), "reporter_message": _("Message to the reporter"),
        "receipt": _("Receipt to the reporter"), "reporter_task": _("Request to the reporter"),
        "escalation": _("Escalation"), "task": _("New task"),
    }
    return labels.get(kind, kind)


def _when(entry: OutboxEntry) -> dict[str, str]:
    return {"created": local_time(entry.created_at, entry.timezone),
            "sent": local_time(entry.sent_at, entry.timezone) if entry.sent_at else ""}


def may_read(me: Actor | None) -> bool:
    """Does the navigation show the Outbox."""
    return me is not None and is_an_administrator(me)


@blp.app_context_processor
def _navigation() -> dict[str, Any]:
    return {"may_read_outbox": may_read}


@blp.get("/admin/outbox")
@login_required
def outbox_list() -> ResponseReturnValue:
    page = outbox_page(services(), actor(), request.args.get("page", 1, type=int) or 1)
    return render_template("web/outbox.html", page=page, when={e.id: _when(e) for e in page.entries},
                           status_label=status_label, kind_label=kind_label,
                           catcher=services().settings.mail_backend == MAIL_CATCHER)


@blp.get("/admin/outbox/<int:outbox_id>")
@login_required
def outbox_item(outbox_id: int) -> ResponseReturnValue:
    entry = outbox_entry(services(), actor(), outbox_id)
    return render_template("web/outbox_item.html", entry=entry, when=_when(entry), status_label=status_label,
                           kind_label=kind_label, back=request.args.get("page", 1, type=int) or 1)
