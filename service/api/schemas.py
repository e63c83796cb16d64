"""Schemas shared by the case and task resources."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma

from service.api.guards import MAX_INTEGER_COLUMN
from service.store.models import Task

#: A revision number in a request: stored in an ``integer`` column.
VERSION_RANGE = ma.validate.Range(min=1, max=MAX_INTEGER_COLUMN)


class TaskSchema(ma.Schema):
    id = ma.fields.String()
    case_id = ma.fields.String()
    definition_key = ma.fields.String()
    element_id = ma.fields.String()
    name = ma.fields.String()
    lane = ma.fields.String(allow_none=True)
    roles = ma.fields.Function(lambda t: sorted(c.role for c in t.candidates))
    unit = ma.fields.Function(lambda t: t.unit.code)
    status = ma.fields.String()
    claimed_by = ma.fields.Integer(allow_none=True)
    due_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    completed_at = ma.fields.DateTime(allow_none=True)
    form_key = ma.fields.String(allow_none=True)


def text(value: Any) -> str | None:
    """A ``ma.fields.String``'s dump of ``value``."""
    return None if value is None else str(value)


def moment(value: datetime | None) -> str | None:
    """A ``ma.fields.DateTime``'s dump of ``value`` (ISO 8601)."""
    return None if value is None else value.isoformat()


def task_json(task: Task, roles: list[str] | None = None) -> dict[str, Any]:
    """:class:`TaskSchema`'s dump of ``task``, built directly: the task list and the task read answer
    with it (marshmallow cost a fifth of a list request). The schema stays the OpenAPI contract;
    ``tests/api/test_task_json.py`` holds the two to the same JSON. ``roles``: the task's candidate
    roles, sorted, when its ``candidates`` were not loaded (the task list reads them as one column)."""
    claimed_by = task.claimed_by
    return {
        "id": text(task.id), "case_id": text(task.case_id), "definition_key": text(task.definition_key),
        "element_id": text(task.element_id), "name": text(task.name), "lane": text(task.lane),
        "roles": sorted(candidate.role for candidate in task.candidates) if roles is None else roles,
        "unit": task.unit.code,
        "status": text(task.status), "claimed_by": None if claimed_by is None else int(claimed_by),
        "due_at": moment(task.due_at), "created_at": moment(task.created_at),
        "completed_at": moment(task.completed_at), "form_key": text(task.form_key),
    }


class PageArgsSchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100000))
    per_page = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=200))


class PageSchema(ma.Schema):
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
