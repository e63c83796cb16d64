"""The public's endpoints: file a report, follow it up with its code and secret. No login.

A wrong secret and an unknown code both answer 404; a code locked after 20 wrong secrets answers
429. Submissions are rate-limited per client.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, request, send_file, url_for
from flask.views import MethodView

from service.api.guards import Blueprint
from service.api.limits import FOLLOW_UP_LIMIT, limiter, submission_limit
from service.api.security import services
from service.commands import public as commands
from service.commands.public import FollowUp, Receipt
from service.errors import NotFound

blp = Blueprint("public", __name__, url_prefix="/api/public",
                description="Reports from the public (no login): filing and follow-up")

SECRET_HEADER = "X-Report-Secret"


class IdentitySchema(ma.Schema):
    """The standard identity fields, plus the fields the SOP declares identifying (``data_identitas``,
    e.g. ``nip``); which are accepted and required is the SOP's identity policy, checked by the command."""

    class Meta:
        unknown = ma.INCLUDE

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


class PublishedAttachmentSchema(ma.Schema):
    attachment_id = ma.fields.String()
    filename = ma.fields.String()
    download_url = ma.fields.String(metadata={"description": f"GET it with the {SECRET_HEADER} header"})


class PublishedFieldSchema(ma.Schema):
    name = ma.fields.String()
    label = ma.fields.String(metadata={"description": "The field's title in the SOP's forms"})
    value = ma.fields.Raw(metadata={"description": "As the office entered it; a file is "
                                                   "{attachment_id, filename} (a list for several files)"})
    attachments = ma.fields.List(ma.fields.Nested(PublishedAttachmentSchema))


class FollowUpMessageSchema(ma.Schema):
    sender = ma.fields.String(data_key="from", attribute="from",
                              metadata={"description": "kantor (published by the SOP), petugas or pelapor"})
    text = ma.fields.String()
    at = ma.fields.DateTime()
    published = ma.fields.List(ma.fields.Nested(PublishedFieldSchema), data_key="fields", attribute="fields",
                               metadata={"description": "The case fields the office published with this message"})


class FollowUpSchema(ma.Schema):
    tracking_code = ma.fields.String()
    status = ma.fields.String()
    status_text = ma.fields.String()
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()
    steps = ma.fields.List(ma.fields.String())
    messages = ma.fields.List(ma.fields.Nested(FollowUpMessageSchema))
    outcome = ma.fields.Nested(FollowUpMessageSchema, allow_none=True,
                               metadata={"description": "Of a completed report: the office's last message"})
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


def _linked(status: FollowUp) -> FollowUp:
    """``status`` with a download URL on every published attachment."""
    for message in status.messages:
        for field in message.get("fields") or []:
            for entry in field["attachments"]:
                entry["download_url"] = url_for("public.ReportAttachment", code=status.tracking_code,
                                                attachment_id=entry["attachment_id"])
    return status


@blp.route("/reports")
class Reports(MethodView):
    decorators = [limiter.limit(submission_limit, methods=["POST"])]

    @blp.arguments(PublicReportSchema())
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
        return _linked(commands.follow_up(services(), code, _secret()))


@blp.route("/reports/<string:code>/attachments/<string:attachment_id>")
class ReportAttachment(MethodView):
    decorators = [limiter.limit(FOLLOW_UP_LIMIT)]

    @blp.doc(parameters=[{"in": "header", "name": SECRET_HEADER, "required": True, "schema": {"type": "string"}}])
    @blp.response(200, description="The file", content_type="application/octet-stream")
    @blp.alt_response(404, description="Unknown code, wrong secret, or a file not published to the reporter")
    @blp.alt_response(429, description="The code is locked after 20 wrong secrets")
    def get(self, code: str, attachment_id: str) -> Response:
        """Download a file the office published to the reporter, or one the reporter sent"""
        found, path = commands.reporter_attachment(services(), code, _secret(), attachment_id)
        response = send_file(path, mimetype=found.content_type, as_attachment=True, download_name=found.filename,
                             max_age=0)
        response.headers["Cache-Control"] = "no-store"  # a reporter's file: not kept by shared caches
        return response


@blp.route("/reports/<string:code>/messages")
class ReportMessages(MethodView):
    decorators = [limiter.limit(FOLLOW_UP_LIMIT)]

    @blp.doc(parameters=[{"in": "header", "name": SECRET_HEADER, "required": True, "schema": {"type": "string"}}])
    @blp.arguments(ReporterMessageSchema())
    @blp.response(201, DeliveredSchema)
    def post(self, body: dict[str, Any], code: str) -> dict[str, bool]:
        """The reporter adds information; it reaches the case as a BPMN message"""
        return {"delivered": commands.reporter_message(services(), code, _secret(), body["text"])}


@blp.route("/reports/<string:code>/tasks/<string:task_id>/complete")
class ReporterTask(MethodView):
    decorators = [limiter.limit(FOLLOW_UP_LIMIT)]

    @blp.doc(parameters=[{"in": "header", "name": SECRET_HEADER, "required": True, "schema": {"type": "string"}}])
    @blp.arguments(ReporterCompleteSchema())
    @blp.response(200, FollowUpSchema)
    def post(self, body: dict[str, Any], code: str, task_id: str) -> FollowUp:
        """The reporter completes their own task (e.g. completing an incomplete report)"""
        secret = _secret()
        commands.reporter_complete(services(), code, secret, task_id, body["data"])
        return _linked(commands.follow_up(services(), code, secret))
