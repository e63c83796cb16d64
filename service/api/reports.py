"""Reports: the SLA table per SOP step (JSON, CSV or XLSX), and the incidents an administrator must see."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from service.api.guards import Blueprint
from service.api.security import BEARER, current_actor, services
from service.commands.incidents import incidents
from service.commands.reports import SlaRow, sla_report
from service.commands.sla_tables import sla_csv, sla_filename, sla_xlsx

blp = Blueprint("reports", __name__, url_prefix="/api/reports", description="Mutu Baku measured against reality")


class SlaQueryArgsSchema(ma.Schema):
    definition_key = ma.fields.String(required=True)
    unit = ma.fields.String()
    start = ma.fields.AwareDateTime(data_key="from", default_timezone=None)
    end = ma.fields.AwareDateTime(data_key="to", default_timezone=None)
    format = ma.fields.String(load_default="json", validate=ma.validate.OneOf(["json", "csv", "xlsx"]),
                              metadata={"description": "json, or the same rows as a file: csv, or xlsx (one sheet "
                                                       "'SLA'; text that would start a formula is quoted)"})


class SlaRowSchema(ma.Schema):
    definition_key = ma.fields.String()
    element_id = ma.fields.String()
    name = ma.fields.String()
    lane = ma.fields.String(allow_none=True)
    target = ma.fields.String(allow_none=True)
    sla_timer = ma.fields.String(allow_none=True)
    count = ma.fields.Integer()
    median_seconds = ma.fields.Float(allow_none=True)
    p90_seconds = ma.fields.Float(allow_none=True)
    within_target = ma.fields.Float(allow_none=True)


class SlaReportSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(SlaRowSchema))


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _csv(rows: list[SlaRow]) -> Response:
    return Response(sla_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={sla_filename(rows, 'csv')}"})


def _xlsx(rows: list[SlaRow]) -> Response:
    """The same columns as the CSV, one sheet; text that would start a formula is quoted."""
    return Response(sla_xlsx(rows), mimetype=XLSX,
                    headers={"Content-Disposition": f"attachment; filename={sla_filename(rows, 'xlsx')}"})


@blp.route("/sla")
class SlaReport(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(SlaQueryArgsSchema(), location="query")
    @blp.response(200, SlaReportSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Per SOP step: count, median and p90 office time, the SOP's target, share within target"""
        rows = sla_report(services(), current_actor(), args["definition_key"], args.get("unit"),
                          args.get("start"), args.get("end"))
        if args["format"] == "csv":
            return _csv(rows)
        return _xlsx(rows) if args["format"] == "xlsx" else {"items": rows}


class IncidentSchema(ma.Schema):
    kind = ma.fields.String()
    unit = ma.fields.String()
    case_id = ma.fields.String(allow_none=True)
    outbox_id = ma.fields.Integer(allow_none=True)
    recipient_role = ma.fields.String(allow_none=True)
    error = ma.fields.String(allow_none=True)
    at = ma.fields.DateTime()


class IncidentListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(IncidentSchema))


@blp.route("/incidents")
class Incidents(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, IncidentListSchema)
    def get(self) -> Any:
        """Failing cases and undeliverable mail (escalations to an unheld role) of the units you administer"""
        return {"items": incidents(services(), current_actor())}
