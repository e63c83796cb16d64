"""Schemas shared by the case and task resources."""

from __future__ import annotations

import marshmallow as ma

from service.api.guards import MAX_INTEGER_COLUMN

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


class PageArgsSchema(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100000))
    per_page = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=200))


class PageSchema(ma.Schema):
    total = ma.fields.Integer()
    page = ma.fields.Integer()
    per_page = ma.fields.Integer()
