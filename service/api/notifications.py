"""Your in-app notifications: escalations and overdue SOP steps that reached you."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from service.api.guards import Blueprint
from service.api.schemas import PageArgsSchema, PageSchema
from service.api.security import BEARER, current_actor, services
from service.commands import notifications as commands
from service.commands.notifications import Entry, NotificationKind

blp = Blueprint("notifications", __name__, url_prefix="/api/notifications",
                description="Escalations and overdue steps that reached you (the web page's bell)")


class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    case_id = ma.fields.String()
    task_id = ma.fields.String(allow_none=True)
    kind = ma.fields.String(metadata={"enum": [kind.value for kind in NotificationKind]})
    #: the case's name: its Nomor registrasi, else its business key
    label = ma.fields.String()
    step = ma.fields.String()
    due_at = ma.fields.AwareDateTime(allow_none=True)
    #: the role the escalation reached you as (``escalation``)
    role = ma.fields.String(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    read_at = ma.fields.AwareDateTime(allow_none=True)
    #: the step is still open: the case still needs you
    open = ma.fields.Boolean()


class NotificationListSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(NotificationSchema))
    unread = ma.fields.Integer()


class MarkedSchema(ma.Schema):
    marked = ma.fields.Integer()


@blp.route("")
class Notifications(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(PageArgsSchema(), location="query")
    @blp.response(200, NotificationListSchema)
    def get(self, args: dict[str, Any]) -> commands.NotificationPage:
        """Your notifications, newest first, with how many are unread"""
        return commands.list_notifications(services(), current_actor(), args["page"], args["per_page"])


@blp.route("/<int:notification_id>/read")
class ReadOne(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, NotificationSchema)
    @blp.alt_response(404, description="No such notification of yours")
    def post(self, notification_id: int) -> Entry:
        """Mark one of your notifications read"""
        return commands.mark_read(services(), current_actor(), notification_id)


@blp.route("/read")
class ReadAll(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, MarkedSchema)
    def post(self) -> dict[str, int]:
        """Mark all your notifications read; how many were unread"""
        return {"marked": commands.mark_all_read(services(), current_actor())}
