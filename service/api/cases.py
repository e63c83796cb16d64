"""Cases (process instances): start, list, read, message, cancel."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, jsonify
from flask.views import MethodView

from service.api.guards import Blueprint
from service.api.schemas import VERSION_RANGE, PageArgsSchema, PageSchema, TaskSchema, moment, task_json, text
from service.api.security import BEARER, current_actor, services
from service.commands import cases as commands
from service.commands.cases import CaseView
from service.commands.timers import retry_case
from service.engine import CaseStatus
from service.store.models import HistoryEntry

blp = Blueprint("cases", __name__, url_prefix="/api/cases", description="Cases: one complaint each")


class HistorySchema(ma.Schema):
    id = ma.fields.Integer()
    task_id = ma.fields.String(allow_none=True)
    element_id = ma.fields.String(allow_none=True)
    actor = ma.fields.String(allow_none=True)
    action = ma.fields.String()
    at = ma.fields.DateTime()
    data = ma.fields.Dict()
    hash = ma.fields.String()


class CaseSummarySchema(ma.Schema):
    id = ma.fields.String(attribute="case.id")
    definition_key = ma.fields.Function(lambda v: v.case.definition.key)
    version = ma.fields.Function(lambda v: v.case.definition.version)
    unit = ma.fields.Function(lambda v: v.case.unit.code)
    status = ma.fields.String(attribute="case.status")
    business_key = ma.fields.String(attribute="case.business_key", allow_none=True)
    registration_number = ma.fields.String(attribute="case.registration_number", allow_none=True)
    next_timer_at = ma.fields.DateTime(attribute="case.next_timer_at", allow_none=True)
    created_at = ma.fields.DateTime(attribute="case.created_at")
    completed_at = ma.fields.DateTime(attribute="case.completed_at", allow_none=True)


class CaseSchema(CaseSummarySchema):
    data = ma.fields.Dict()
    tasks = ma.fields.List(ma.fields.Nested(TaskSchema))
    history = ma.fields.List(ma.fields.Nested(HistorySchema))


def _history_json(entry: HistoryEntry) -> dict[str, Any]:
    return {"id": None if entry.id is None else int(entry.id), "task_id": text(entry.task_id),
            "element_id": text(entry.element_id), "actor": text(entry.actor), "action": text(entry.action),
            "at": moment(entry.at), "data": None if entry.data is None else dict(entry.data), "hash": text(entry.hash)}


def case_json(view: CaseView) -> dict[str, Any]:
    """:class:`CaseSchema`'s dump of a case, built directly: a case start and a task completion answer
    with it (see :func:`~service.api.schemas.task_json`; ``tests/api/test_task_json.py`` holds the two
    to the same JSON)."""
    case = view.case
    return {
        "id": text(case.id), "definition_key": case.definition.key, "version": case.definition.version,
        "unit": case.unit.code, "status": text(case.status), "business_key": text(case.business_key),
        "registration_number": text(case.registration_number), "next_timer_at": moment(case.next_timer_at),
        "created_at": moment(case.created_at), "completed_at": moment(case.completed_at),
        "data": None if view.data is None else dict(view.data), "tasks": [task_json(task) for task in view.tasks],
        "history": [_history_json(entry) for entry in view.history],
    }


class CaseListSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(CaseSummarySchema))
    total_capped = ma.fields.Boolean(metadata={"description": "True when there are more than 1,000 cases: "
                                                             "``total`` is then 1,001 (shown as \"1,000+\")"})


#: one line of text: no CR, LF or other control character (it reaches lists and mail subjects)
ONE_LINE = ma.validate.Regexp(r"\A[^\x00-\x1f\x7f\x85\u2028\u2029]*\Z",
                              error="must be one line of text, without line breaks or control characters")


class StartCaseSchema(ma.Schema):
    definition_key = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    version = ma.fields.Integer(validate=VERSION_RANGE)
    business_key = ma.fields.String(validate=[ma.validate.Length(max=200), ONE_LINE])
    data = ma.fields.Dict(load_default=dict)


class CaseQueryArgsSchema(PageArgsSchema):
    definition_key = ma.fields.String()
    status = ma.fields.String(validate=ma.validate.OneOf([status.value for status in CaseStatus]))
    business_key = ma.fields.String()
    unit = ma.fields.String()
    q = ma.fields.String(validate=[ma.validate.Length(max=200), ONE_LINE],
                         metadata={"description": "Words of the case's data or history (every word, as a prefix), "
                                                  "or its Nomor registrasi or tracking code"})


class MessageSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    data = ma.fields.Dict(load_default=dict)


class MessageResultSchema(ma.Schema):
    delivered = ma.fields.Boolean()
    buffered = ma.fields.Boolean()


class CancelSchema(ma.Schema):
    reason = ma.fields.String(validate=ma.validate.Length(max=1000))


@blp.route("")
class Cases(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(CaseQueryArgsSchema(), location="query")
    @blp.response(200, CaseListSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Cases of your units, newest first"""
        found = commands.list_cases(services(), current_actor(), commands.CaseQuery(**args))
        return {"items": found.items, "total": found.total, "total_capped": found.total_capped,
                "page": args["page"], "per_page": args["per_page"]}

    @blp.doc(security=BEARER)
    @blp.arguments(StartCaseSchema())
    @blp.response(201, CaseSchema)
    @blp.alt_response(403, description="Your roles may not start this SOP")
    @blp.alt_response(422, description="The start form's data is not valid")
    def post(self, body: dict[str, Any]) -> tuple[Response, int]:
        """Start a case of an SOP (latest active revision, or a pinned version)"""
        return jsonify(case_json(commands.start_case_view(services(), current_actor(),
                                                          commands.StartRequest(**body)))), 201


@blp.route("/<string:case_id>")
class OneCase(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, CaseSchema)
    def get(self, case_id: str) -> Response:
        """One case with its ready tasks and its history"""
        return jsonify(case_json(commands.get_case(services(), current_actor(), case_id, lean=True)))


@blp.route("/<string:case_id>/messages")
class Messages(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(MessageSchema())
    @blp.response(200, MessageResultSchema)
    @blp.alt_response(202, schema=MessageResultSchema, description="Buffered until the process can catch it")
    def post(self, body: dict[str, Any], case_id: str) -> tuple[dict[str, bool], int]:
        """Send a BPMN message to a case"""
        delivered = commands.send_message(services(), current_actor(), case_id, body["name"], body["data"])
        return {"delivered": delivered, "buffered": not delivered}, 200 if delivered else 202


@blp.route("/<string:case_id>/cancel")
class Cancel(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(CancelSchema())
    @blp.response(200, CaseSchema)
    def post(self, body: dict[str, Any], case_id: str) -> CaseView:
        """Cancel a running case (administrators of its unit)"""
        actor = current_actor()
        commands.cancel_case(services(), actor, case_id, body.get("reason"))
        return commands.get_case(services(), actor, case_id)


@blp.route("/<string:case_id>/retry")
class Retry(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, CaseSchema)
    @blp.alt_response(409, description="The case is not in error")
    def post(self, case_id: str) -> CaseView:
        """Retry a case whose timers failed repeatedly (an incident; administrators of its unit)"""
        actor = current_actor()
        retry_case(services(), actor, case_id)
        return commands.get_case(services(), actor, case_id)
