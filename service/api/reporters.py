"""Handlers and reporters: staff intake, the identity (revealed with a reason), the message thread."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from service.api.guards import Blueprint
from service.api.public import PublicReportSchema, ReceiptSchema
from service.api.security import BEARER, current_actor, services
from service.commands import public, reporters
from service.commands.public import Receipt
from service.commands.reporters import FollowUpLock, RevealedIdentity
from service.store.models import ConversationMessage

blp = Blueprint("reporters", __name__, url_prefix="/api", description="Reporters of cases: intake, identity, thread")


class IntakeSchema(PublicReportSchema):
    channel = ma.fields.String(load_default="langsung", validate=ma.validate.OneOf(public.CHANNELS))


class RevealSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1000))


class IdentityResultSchema(ma.Schema):
    mode = ma.fields.String()
    identity = ma.fields.Dict()


class ThreadMessageSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    sender = ma.fields.String(dump_only=True)
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=5000))
    created_at = ma.fields.DateTime(dump_only=True)


@blp.route("/intake")
class Intake(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(IntakeSchema())
    @blp.response(201, ReceiptSchema)
    def post(self, body: dict[str, Any]) -> Receipt:
        """Register a report received in person, by phone, sms, email or the kotak saran"""
        return public.file_report(services(), public.PublicReport(**body), registered_by=current_actor())


@blp.route("/cases/<string:case_id>/identity")
class Identity(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(RevealSchema())
    @blp.response(200, IdentityResultSchema)
    @blp.alt_response(403, description="Your roles may not see this identity")
    def post(self, body: dict[str, Any], case_id: str) -> RevealedIdentity:
        """Reveal the reporter's identity (the reason is written to the case history)"""
        return reporters.reveal_identity(services(), current_actor(), case_id, body["reason"])


class UnlockSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1000))


class FollowUpLockSchema(ma.Schema):
    locked = ma.fields.Boolean()
    failed_attempts = ma.fields.Integer()


@blp.route("/cases/<string:case_id>/reporter/unlock")
class Unlock(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(UnlockSchema())
    @blp.response(200, FollowUpLockSchema)
    @blp.alt_response(403, description="Your roles may not unlock it (those that may reveal the identity, admins)")
    @blp.alt_response(409, description="The follow-up code is not locked")
    @blp.alt_response(422, description="No reason, or one of fewer than 10 characters")
    def post(self, body: dict[str, Any], case_id: str) -> FollowUpLock:
        """Unlock a follow-up code locked after 20 wrong secrets (the reason goes to the case history)"""
        return reporters.unlock_follow_up(services(), current_actor(), case_id, body["reason"])


@blp.route("/cases/<string:case_id>/conversation")
class Conversation(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, ThreadMessageSchema(many=True))
    def get(self, case_id: str) -> list[ConversationMessage]:
        """The thread between the office and the reporter"""
        return reporters.conversation(services(), current_actor(), case_id)

    @blp.doc(security=BEARER)
    @blp.arguments(ThreadMessageSchema())
    @blp.response(201, ThreadMessageSchema)
    def post(self, body: dict[str, Any], case_id: str) -> ConversationMessage:
        """Ask the reporter a question or send a reply"""
        return reporters.post_to_reporter(services(), current_actor(), case_id, body["text"])
