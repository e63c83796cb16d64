"""Notifikasi: the escalations and overdue steps that reached the signed-in user, and the bell in the header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.commands import notifications
from service.commands.notifications import Entry, NotificationKind
from service.web.helpers import actor, current_actor, local_time, login_required, safe_next, services, web_blueprint
from service.web.i18n import gettext as _

blp = web_blueprint("web_notifications", __name__)


@dataclass(frozen=True)
class Bell:
    """The header's bell: the unread count and what a screen reader says of it."""

    count: int
    label: str


def bell() -> Bell | None:
    """The signed-in user's bell, read once per request (one statement), on the pages that show it."""
    if "alur_bell" not in g:
        me = current_actor()
        count = notifications.unread_count(services(), me) if me is not None and me.user_id else 0
        g.alur_bell = Bell(count, _("Unread notifications: %(n)s", n=count)) if me is not None else None
    found: Bell | None = g.alur_bell
    return found


@blp.app_context_processor
def _header() -> dict[str, Any]:
    return {"notification_bell": bell}


def kind_text(entry: Entry) -> str:
    """What happened, in a line: an escalation to the user's role, or their own step running late."""
    if entry.kind == NotificationKind.ESCALATION.value:
        return _("Escalated to %(role)s: the SOP time of this step ran out", role=entry.role or "")
    return _("Your step is past its SOP time")


def shown(entry: Entry) -> dict[str, str]:
    """The entry's times in its unit's timezone."""
    return {"due": local_time(entry.due_at, entry.timezone), "created": local_time(entry.created_at, entry.timezone)}


@blp.get("/notifikasi")
@login_required
def notification_list() -> ResponseReturnValue:
    page = notifications.list_notifications(services(), actor(), request.args.get("page", 1, type=int) or 1)
    return render_template("web/notifications.html", page=page, kind_text=kind_text,
                           times={entry.id: shown(entry) for entry in page.items})


def _back() -> ResponseReturnValue:
    return redirect(safe_next(request.form.get("next"), url_for("web_notifications.notification_list")))


@blp.post("/notifikasi/<int:notification_id>/baca")
@login_required
def mark_read(notification_id: int) -> ResponseReturnValue:
    notifications.mark_read(services(), actor(), notification_id)
    return _back()


@blp.post("/notifikasi/baca-semua")
@login_required
def mark_all_read() -> ResponseReturnValue:
    notifications.mark_all_read(services(), actor())
    return _back()
