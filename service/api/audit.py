"""The tamper-evident history checked (per case), a completed case's archive, and a unit's audit log
exported for the Inspektorat."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, send_file
from flask.views import MethodView

from service.api.guards import Blueprint
from service.api.security import BEARER, current_actor, services
from service.commands import audit
from service.commands.archive import archive_for
from service.commands.history import ChainCheck
from service.commands.spreadsheets import csv_lines, jsonl_lines

blp = Blueprint("audit", __name__, url_prefix="/api",
                description="History verification, case archives and the audit log")


class BrokenRowSchema(ma.Schema):
    id = ma.fields.Integer(allow_none=True, metadata={"description": "null: rows are missing after the last"})
    position = ma.fields.Integer(metadata={"description": "1-based position in the case's history"})
    action = ma.fields.String(allow_none=True)
    at = ma.fields.DateTime(allow_none=True)
    reason = ma.fields.String(metadata={"description": "altered | link | head"})


class ChainCheckSchema(ma.Schema):
    case_id = ma.fields.String()
    intact = ma.fields.Boolean()
    rows = ma.fields.Integer()
    first_broken = ma.fields.Nested(BrokenRowSchema, attribute="broken", allow_none=True)


class AuditLogArgsSchema(ma.Schema):
    unit = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    first = ma.fields.Date(data_key="from", required=True)
    last = ma.fields.Date(data_key="to", required=True)
    format = ma.fields.String(load_default="csv", validate=ma.validate.OneOf(["csv", "jsonl"]))


@blp.route("/cases/<string:case_id>/history/verify")
class VerifyHistory(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, ChainCheckSchema)
    def get(self, case_id: str) -> ChainCheck:
        """Check the case's hash chain; names the first broken row"""
        return audit.verify_case(services(), current_actor(), case_id)


@blp.route("/cases/<string:case_id>/archive")
class CaseArchive(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, description="ZIP: berkas-perkara.pdf, lampiran/, riwayat.jsonl, diagram.bpmn, manifest.json",
                  content_type="application/zip")
    @blp.alt_response(409, description="The case is not completed (or was purged before it was archived)")
    def get(self, case_id: str) -> Response:
        """The archive of a completed case (for those who see the whole case); made now if not yet made"""
        found = archive_for(services(), current_actor(), case_id)
        name = f"arsip-{found.label.replace('/', '-')}.zip"
        response = send_file(found.path, mimetype="application/zip", as_attachment=True, download_name=name,
                             max_age=0)
        response.headers["X-Archive-SHA256"] = found.sha256
        return response


@blp.route("/audit-log")
class AuditLog(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(AuditLogArgsSchema(), location="query")
    @blp.response(200, description="CSV or JSON Lines, one row per event",
                  content_type="text/csv")
    @blp.alt_response(403, description="Not an administrator or pengawas of the unit")
    def get(self, args: dict[str, Any]) -> Response:
        """A unit's audit log over a period (dates in the unit's timezone, inclusive): case history rows with
        their hashes, account, unit-settings and SOP-revision events"""
        period = audit.AuditPeriod(args["unit"], args["first"], args["last"])
        rows = audit.audit_rows(services(), current_actor(), period)
        lines = csv_lines if args["format"] == "csv" else jsonl_lines
        name = f"audit-{period.unit_code}-{period.first}-{period.last}.{args['format']}"
        mimetype = "text/csv" if args["format"] == "csv" else "application/x-ndjson"
        return Response(lines(audit.AUDIT_FIELDS, rows), mimetype=mimetype,
                        headers={"Content-Disposition": f"attachment; filename={name}"})
