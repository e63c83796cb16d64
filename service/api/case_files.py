"""A case's staff notes (comments) and files (attachments): the same commands as the case page."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, send_file
from flask.views import MethodView

from service.api.guards import Blueprint
from service.api.security import BEARER, current_actor, services
from service.commands import attachments, comments
from service.store.models import Attachment, Comment

blp = Blueprint("case_files", __name__, url_prefix="/api", description="Staff notes and files of a case")


class CommentSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    task_id = ma.fields.String(allow_none=True, load_default=None, validate=ma.validate.Length(max=36))
    author = ma.fields.String(dump_only=True)
    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=comments.MAX_LENGTH))
    created_at = ma.fields.DateTime(dump_only=True)


class AttachmentSchema(ma.Schema):
    id = ma.fields.String()
    task_id = ma.fields.String(allow_none=True)
    field = ma.fields.String(allow_none=True)
    filename = ma.fields.String()
    content_type = ma.fields.String()
    size = ma.fields.Integer()
    sha256 = ma.fields.String()
    created_at = ma.fields.DateTime()


@blp.route("/cases/<string:case_id>/comments")
class CaseComments(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, CommentSchema(many=True))
    def get(self, case_id: str) -> list[Comment]:
        """Staff notes on a case, oldest first"""
        return comments.list_comments(services(), current_actor(), case_id)

    @blp.doc(security=BEARER)
    @blp.arguments(CommentSchema())
    @blp.response(201, CommentSchema)
    def post(self, body: dict[str, Any], case_id: str) -> Comment:
        """Add a staff note to a case"""
        return comments.add_comment(services(), current_actor(), case_id, body["body"], task_id=body["task_id"])


@blp.route("/cases/<string:case_id>/attachments")
class CaseAttachments(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, AttachmentSchema(many=True))
    def get(self, case_id: str) -> list[Attachment]:
        """The files of a case the caller may open"""
        return attachments.list_for_case(services(), current_actor(), case_id)


@blp.route("/attachments/<string:attachment_id>")
class OneAttachment(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, description="The file's bytes")
    def get(self, attachment_id: str) -> Response:
        """Download a file of a case"""
        found, path = attachments.open_attachment(services(), current_actor(), attachment_id)
        return send_file(path, mimetype=found.content_type, as_attachment=True, download_name=found.filename,
                         max_age=0)
