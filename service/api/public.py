"""The public's endpoints: file a report, follow it up with its code and secret. No login.

A wrong secret and an unknown code both answer 404; a code locked after 20 wrong secrets answers
429. Submissions are rate-limited per client.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from service.api.limits import FOLLOW_UP_LIMIT, limiter, submission_limit
from service.api.security import services
from service.commands import public as commands
from service.commands.public import FollowUp, Receipt
from service.errors import NotFound

blp = Blueprint("public", __name__, url_prefix="/api/public",
                description="Reports from the public (no login): filing and follow-up")

SECRET_HEADER = "X-Report-Secret"


class IdentitySchema(ma.Schema):
    nama = ma.fields.String(validate=ma.validate.Length(max=200))
    nik = ma.fields.String(validate=ma.validate.Length(max=16))
    alamat = ma.fields.String(validate=ma.validate.Length(max=500))
    telepon = ma.fields.String(validate=ma.validate.Length(max=20))
    email = ma.fields.String(validate=ma.validate.Length(max=254))
    pekerjaan = ma.fields.String(validate=ma.validate.Length(max=200))


class PublicReportSchema(ma.Schema):
    unit = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    definition_key = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    mode = ma.fields.String(required=True, validate=ma.validate.OneOf(commands.MODES))
    data = ma.fields.Dict(load_default=dict)
    identity = ma.fields.Nested(IdentitySchema, allow_none=True)


class ReceiptSchema(ma.Schema):
    tracking_code = ma.fields.String()
    secret = ma.fields.String()


class ReporterTaskSchema(ma.Schema):
    id = ma.fields.String()
    name = ma.fields.String()
    form = ma.fields.Dict(allow_none=True)
    context = ma.fields.Dict()


class FollowUpSchema(ma.Schema):
    tracking_code = ma.fields.String()
    status = ma.fields.String()
    status_text = ma.fields.String()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    steps = ma.fields.List(ma.fields.String())
    messages = ma.fields.List(ma.fields.Dict())
    tasks = ma.fields.List(ma.fields.Nested(ReporterTaskSchema))


class ReporterMessageSchema(ma.Schema):
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=5000))
    attachments = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=8_000_000)),
                                 validate=ma.validate.Length(max=5), load_default=list)


class DeliveredSchema(ma.Schema):
    delivered = ma.fields.Boolean()


class ReporterCompleteSchema(ma.Schema):
    data = ma.fields.Raw(load_default=dict)


def _secret() -> str:
    secret = request.headers.get(SECRET_HEADER, "")
    if not secret:
        raise NotFound("No report with this code and secret")
    return secret


@blp.route("/reports")
class Reports(MethodView):
    decorators = [limiter.limit(submission_limit, methods=["POST"])]

    @blp.arguments(PublicReportSchema)
    @blp.response(201, ReceiptSchema)
    @blp.alt_response(422, description="A field is not valid; errors name it")
    @blp.alt_response(429, description="Too many submissions from this client")
    def post(self, body: dict[str, Any]) -> Receipt:
        """File a report (anonim, rahasia or biasa); the secret is shown only once"""
        return commands.file_report(services(), commands.PublicReport(**body))


@blp.route("/reports/<string:code>")
class OneReport(MethodView):
    decorators = [limiter.limit(FOLLOW_UP_LIMIT)]

    @blp.doc(parameters=[{"in": "header", "name": SECRET_HEADER, "required": True, "schema": {"type": "string"}}])
    @blp.response(200, FollowUpSchema)
    @blp.alt_response(404, description="Unknown code or wrong secret")
    @blp.alt_response(429, description="The code is locked after 20 wrong secrets")
    def get(self, code: str) -> FollowUp:
        """Status, replies and messages of a report, for its reporter"""
        return commands.follow_up(services(), code, _secret())


@blp.route("/reports/<string:code>/messages")
class ReportMessages(MethodView):
    decorators = [limiter.limit(FOLLOW_UP_LIMIT)]

    @blp.doc(parameters=[{"in": "header", "name": SECRET_HEADER, "required": True, "schema": {"type": "string"}}])
    @blp.arguments(ReporterMessageSchema)
    @blp.response(201, DeliveredSchema)
    def post(self, body: dict[str, Any], code: str) -> dict[str, bool]:
        """The reporter adds information; it reaches the case as a BPMN message"""
        return {"delivered": commands.reporter_message(services(), code, _secret(), body["text"])}


@blp.route("/reports/<string:code>/tasks/<string:task_id>/complete")
class ReporterTask(MethodView):
    decorators = [limiter.limit(FOLLOW_UP_LIMIT)]

    @blp.doc(parameters=[{"in": "header", "name": SECRET_HEADER, "required": True, "schema": {"type": "string"}}])
    @blp.arguments(ReporterCompleteSchema)
    @blp.response(200, FollowUpSchema)
    def post(self, body: dict[str, Any], code: str, task_id: str) -> FollowUp:
        """The reporter completes their own task (e.g. completing an incomplete report)"""
        secret = _secret()
        commands.reporter_complete(services(), code, secret, task_id, body["data"])
        return commands.follow_up(services(), code, secret)
