"""The caller's task list and the work on one task."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, jsonify
from flask.views import MethodView

from service.api.cases import CaseSchema, case_json
from service.api.guards import Blueprint
from service.api.schemas import PageArgsSchema, PageSchema, TaskSchema, task_json
from service.api.security import BEARER, current_actor, services
from service.commands import task_list
from service.commands import tasks as commands
from service.commands.tasks import TaskView
from service.store.models import Task

blp = Blueprint("tasks", __name__, url_prefix="/api/tasks", description="Human tasks of your lanes")


class TaskListSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(TaskSchema))
    #: ``total`` counts at most ``count_cap + 1`` tasks; true when there are more (show "1,000+")
    total_capped = ma.fields.Boolean()
    #: pass as ``cursor`` for the next page (keyset paging); null on the last page
    next_cursor = ma.fields.String(allow_none=True)


class TaskQueryArgsSchema(PageArgsSchema):
    lane = ma.fields.String()
    unit = ma.fields.String()
    mine = ma.fields.Boolean(load_default=False)
    overdue = ma.fields.Boolean()
    due_before = ma.fields.AwareDateTime(default_timezone=None)
    definition_key = ma.fields.String()
    sort = ma.fields.String(load_default="due_at", validate=ma.validate.OneOf(sorted(task_list.SORTS)))
    #: the ``next_cursor`` of the previous page (same filters and sort); ``page`` is then not used
    cursor = ma.fields.String(validate=ma.validate.Length(min=1, max=400))


class TaskDetailSchema(TaskSchema):
    form = ma.fields.Dict(allow_none=True)
    case_data = ma.fields.Dict()
    case_status = ma.fields.String()


class CompleteSchema(ma.Schema):
    data = ma.fields.Raw(load_default=dict)


def detail_json(view: TaskView) -> dict[str, Any]:
    """:class:`TaskDetailSchema`'s dump of a task read, built directly (see :func:`task_json`)."""
    return {**task_json(view.task), "form": None if view.form is None else dict(view.form),
            "case_data": dict(view.case_data), "case_status": str(view.case_status)}


def list_json(found: task_list.TaskPage, page: int, per_page: int) -> dict[str, Any]:
    """:class:`TaskListSchema`'s dump of a page of the task list, built directly (see :func:`task_json`)."""
    return {"total": int(found.total), "page": int(page), "per_page": int(per_page),
            "items": [task_json(task, found.roles[task.id]) for task in found.items],
            "total_capped": found.total_capped, "next_cursor": found.next_cursor}


@blp.route("")
class Tasks(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(TaskQueryArgsSchema(), location="query")
    @blp.response(200, TaskListSchema)
    def get(self, args: dict[str, Any]) -> Response:
        """Ready tasks of every (lane, unit) you hold; mine=true for the ones you claimed"""
        found = task_list.page_tasks(services(), current_actor(), task_list.TaskQuery(**args))
        return jsonify(list_json(found, args["page"], args["per_page"]))


@blp.route("/<string:task_id>")
class OneTask(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, TaskDetailSchema)
    def get(self, task_id: str) -> Response:
        """A task with its form (JSON Schema + UI schema) and the case data"""
        return jsonify(detail_json(commands.get_task(services(), current_actor(), task_id)))


@blp.route("/<string:task_id>/claim")
class Claim(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, TaskSchema)
    @blp.alt_response(409, description="Someone else holds the task")
    def post(self, task_id: str) -> Task:
        """Claim a task"""
        return commands.claim(services(), current_actor(), task_id)


@blp.route("/<string:task_id>/unclaim")
class Unclaim(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, TaskSchema)
    def post(self, task_id: str) -> Task:
        """Give a claimed task back"""
        return commands.unclaim(services(), current_actor(), task_id)


@blp.route("/<string:task_id>/complete")
class Complete(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(CompleteSchema())
    @blp.response(200, CaseSchema)
    @blp.alt_response(422, description="Form errors, each naming its field")
    @blp.alt_response(409, description="No longer ready, or changed at the same time")
    @blp.alt_response(403, description="Not your lane or unit")
    def post(self, body: dict[str, Any], task_id: str) -> Response:
        """Complete a task with its form data"""
        return jsonify(case_json(commands.complete_view(services(), current_actor(), task_id, body["data"])))
