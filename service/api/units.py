"""Unit calendars: closed days (cuti bersama, local closures) and office hours."""

from __future__ import annotations

from datetime import date
from typing import Any

import marshmallow as ma
from flask.views import MethodView

from service.api.guards import Blueprint
from service.api.security import BEARER, current_actor, services
from service.commands import accounts
from service.commands import calendars as commands
from service.errors import InvalidInput
from service.store.models import ClosedDay, Unit

blp = Blueprint("units", __name__, url_prefix="/api/units", description="Offices and their working-day calendars")


class ClosedDaySchema(ma.Schema):
    day = ma.fields.Date(required=True)
    kind = ma.fields.String(load_default="cuti_bersama", validate=ma.validate.OneOf(commands.CLOSED_DAY_KINDS))
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=300))


class WorkingHoursSchema(ma.Schema):
    hours = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String(), validate=ma.validate.Length(equal=2)),
        required=True,
    )


class UnitSchema(ma.Schema):
    code = ma.fields.String()
    name = ma.fields.String()
    timezone = ma.fields.String()
    working_hours = ma.fields.Dict(allow_none=True)


class NewUnitSchema(ma.Schema):
    code = ma.fields.String(required=True, validate=ma.validate.Length(min=2, max=64))
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    timezone = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))
    parent = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))


@blp.route("")
class Units(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(NewUnitSchema())
    @blp.response(201, UnitSchema)
    def post(self, body: dict[str, Any]) -> Unit:
        """Create an office (administrators) or a sub-unit of one (its administrators): bidang, unit kerja"""
        return accounts.create_unit(services(), body["code"], body["name"], body["timezone"], body["parent"],
                                    actor=current_actor())


@blp.route("/<string:code>/sub-units")
class SubUnits(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, UnitSchema(many=True))
    def get(self, code: str) -> list[Unit]:
        """The sub-units of an office (tasks are routed to them by the ``tujuan_unit`` property)"""
        return accounts.sub_units(services(), current_actor(), code)


@blp.route("/<string:code>/closed-days")
class ClosedDays(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, ClosedDaySchema(many=True))
    def get(self, code: str) -> list[ClosedDay]:
        """Closed days of a unit besides the national holidays"""
        return commands.list_closed_days(services(), current_actor(), code)

    @blp.doc(security=BEARER)
    @blp.arguments(ClosedDaySchema())
    @blp.response(201, ClosedDaySchema)
    def post(self, body: dict[str, Any], code: str) -> ClosedDay:
        """Add a closed day (administrators of the unit)"""
        return commands.add_closed_day(services(), current_actor(), code, body["day"], body["kind"], body["note"])


@blp.route("/<string:code>/closed-days/<string:day>")
class OneClosedDay(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(204)
    def delete(self, code: str, day: str) -> None:
        """Remove a closed day"""
        try:
            parsed = date.fromisoformat(day)
        except ValueError as exc:
            raise InvalidInput(f"Not a date like 2026-03-20: {day[:40]!r}",
                               [{"field": "day", "message": "not a date like 2026-03-20"}]) from exc
        commands.remove_closed_day(services(), current_actor(), code, parsed)


@blp.route("/<string:code>/working-hours")
class WorkingHours(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(WorkingHoursSchema())
    @blp.response(200, UnitSchema)
    def put(self, body: dict[str, Any], code: str) -> Unit:
        """Replace the office hours: {"hours": {"0": ["07:30", "16:00"], …}}"""
        return commands.set_working_hours(services(), current_actor(), code, body["hours"])
