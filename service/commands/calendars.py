"""Working-day calendars of units: office hours and closed days an admin manages (the unit's
administrator, or its office's); every change is written to the unit's history (``unit_events``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from typing import Any, cast

from sqlalchemy import ColumnElement, ScalarSelect, String, Table, func, literal_column, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import QueryableAttribute, Session

from service.commands.accounts import UnitAction, check_email, managed_unit_ids, record_unit_event, unit_by_code
from service.commands.context import Actor, Services
from service.engine import WorkCalendar
from service.engine.calendar import validate_hours
from service.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.store.models import ClosedDay, Unit, UnitEvent

CLOSED_DAY_KINDS = ("cuti_bersama", "libur_daerah", "libur_kantor")


def closed_days(session: Session, unit_id: int) -> list[date]:
    """The unit's own closed days (national holidays are the calendar's)."""
    return list(session.scalars(select(ClosedDay.day).where(ClosedDay.unit_id == unit_id)))


def closed_days_column(unit_id: ColumnElement[int] | QueryableAttribute[int]) -> ScalarSelect[str | None]:
    """The closed days of the unit ``unit_id`` names, as one text (``2026-12-24,2026-12-31``, or null):
    read along another statement; :func:`days_of` turns it into dates."""
    days = cast(Table, ClosedDay.__table__)
    # the separator written into the SQL, not bound: a read through the driver binds every value by name
    separator: Any = literal_column("','", String())
    return (select(func.aggregate_strings(sql_cast(days.c.day, String), separator))
            .where(days.c.unit_id == unit_id).scalar_subquery())


def days_of(text: str | None) -> tuple[date, ...]:
    """The dates of a :func:`closed_days_column` value."""
    return tuple(date.fromisoformat(day) for day in text.split(",")) if text else ()


def calendar_for(session: Session, unit: Unit) -> WorkCalendar:
    """The unit's calendar: its timezone and hours, national holidays and its own closed days."""
    return WorkCalendar.of(unit.timezone, unit.working_hours, closed_days(session, unit.id))


def unit_calendar(services: Services, unit: Unit, days: Iterable[date]) -> WorkCalendar:
    """:func:`calendar_for` from the unit's settings and closed days the caller read already, built
    once per process for each distinct set of them (the key holds all it depends on)."""
    key_days = tuple(sorted(set(days)))
    hours = json.dumps(unit.working_hours, sort_keys=True) if unit.working_hours else None
    return cast(WorkCalendar, services.memo.get(
        ("calendar", unit.timezone, hours, key_days),
        lambda: WorkCalendar.of(unit.timezone, unit.working_hours, key_days)))


def _admin_unit(session: Session, actor: Actor, code: str) -> Unit:
    unit = unit_by_code(session, code)
    if not actor.administers(unit.id) and unit.id not in managed_unit_ids(session, actor):
        raise Forbidden(f"Only an administrator of {code} may change its calendar")
    return unit


def unit_settings(services: Services, actor: Actor, code: str) -> tuple[Unit, list[ClosedDay], list[UnitEvent]]:
    """A unit as its administrator sees it: the unit, its closed days and its history (newest first)."""
    with services.db.reading() as session:
        unit = _admin_unit(session, actor, code)
        days = session.scalars(select(ClosedDay).where(ClosedDay.unit_id == unit.id).order_by(ClosedDay.day))
        events = session.scalars(select(UnitEvent).where(UnitEvent.unit_id == unit.id).order_by(UnitEvent.id.desc()))
        return unit, list(days), list(events)


def list_closed_days(services: Services, actor: Actor, code: str) -> list[ClosedDay]:
    with services.db.reading() as session:
        unit = unit_by_code(session, code)
        if not actor.is_member(unit.id):
            raise NotFound(f"Unit '{code}' does not exist")
        return list(session.scalars(select(ClosedDay).where(ClosedDay.unit_id == unit.id).order_by(ClosedDay.day)))


def add_closed_day(services: Services, actor: Actor, code: str, day: date, kind: str, note: str = "") -> ClosedDay:
    if kind not in CLOSED_DAY_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(CLOSED_DAY_KINDS)}", [{"field": "kind", "message": kind}])
    if len(note) > 300:
        raise InvalidInput("A note has at most 300 characters", [{"field": "note", "message": "too long"}])
    with services.db.transaction() as session:
        unit = _admin_unit(session, actor, code)
        if session.scalar(select(ClosedDay).where(ClosedDay.unit_id == unit.id, ClosedDay.day == day)):
            raise Conflict(f"{day.isoformat()} is already a closed day of {code}",
                           [{"field": "day", "message": "already a closed day"}])
        closed = ClosedDay(unit_id=unit.id, day=day, kind=kind, note=note)
        session.add(closed)
        record_unit_event(session, unit.id, actor, UnitAction.CLOSED_DAY_ADDED, day=day.isoformat(), kind=kind,
                          note=note)
        return closed


def remove_closed_day(services: Services, actor: Actor, code: str, day: date) -> None:
    with services.db.transaction() as session:
        unit = _admin_unit(session, actor, code)
        closed = session.scalar(select(ClosedDay).where(ClosedDay.unit_id == unit.id, ClosedDay.day == day))
        if closed is None:
            raise NotFound(f"{day.isoformat()} is not a closed day of {code}")
        session.delete(closed)
        record_unit_event(session, unit.id, actor, UnitAction.CLOSED_DAY_REMOVED, day=day.isoformat(),
                          kind=closed.kind)


def set_working_hours(services: Services, actor: Actor, code: str, hours: dict[str, Any]) -> Unit:
    """Replace the office hours: {"0": ["08:00", "16:00"], …}; weekdays left out are closed.

    Validated by :func:`service.engine.calendar.validate_hours` (whole minutes, opening before closing,
    a minimum span, seven weekdays at most), so no calendar function can spin on them.
    """
    checked = validate_hours(hours)
    with services.db.transaction() as session:
        unit = _admin_unit(session, actor, code)
        record_unit_event(session, unit.id, actor, UnitAction.HOURS_SET, hours=checked, before=unit.working_hours)
        unit.working_hours = checked
        return unit


#: the office contact a reporter sees on the follow-up page: field → the column's length
CONTACT_FIELDS = {"contact_phone": 50, "contact_email": 200, "contact_address": 300}
_PHONE = re.compile(r"^\+?[0-9 ()./-]{5,50}$")


def set_contact(services: Services, actor: Actor, code: str, contact: dict[str, str]) -> Unit:
    """Set how reporters reach the office (phone, e-mail, address; empty clears one), in the unit's history."""
    checked: dict[str, str | None] = {}
    errors = []
    for name, length in CONTACT_FIELDS.items():
        value = " ".join(str(contact.get(name) or "").split())
        if len(value) > length:
            errors.append({"field": name, "message": f"at most {length} characters"})
        elif value and name == "contact_phone" and (not _PHONE.fullmatch(value) or sum(c.isdigit() for c in value) < 5):
            errors.append({"field": name, "message": "not a phone number"})
        elif value and name == "contact_email":
            try:
                check_email(value)
            except InvalidInput:
                errors.append({"field": name, "message": "not an e-mail address"})
        checked[name] = value or None
    if errors:
        raise InvalidInput("The office contact has invalid fields", errors)
    with services.db.transaction() as session:
        unit = _admin_unit(session, actor, code)
        before = {name: getattr(unit, name) for name in CONTACT_FIELDS}
        record_unit_event(session, unit.id, actor, UnitAction.CONTACT_SET, contact=checked, before=before)
        for name, given in checked.items():
            setattr(unit, name, given)
        return unit
