"""The office's register number of a case (Nomor registrasi): ``NNN/CODE/MONTH/YEAR``, e.g. ``001/DUMAS/XI/2026``.

Each unit numbers its cases per year, restarting at 1 on 1 January of the unit's timezone; ``CODE`` is
the unit's ``registration_code`` and ``MONTH`` the month of the case's creation in Roman numerals.
Every path that creates a case (staff start, public and counter intake, scheduled starts) goes through
:func:`service.commands.cases.record_new_case`, which calls :func:`next_registration_number` in the
case's own transaction.

The counter (``registration_counters``) is incremented by one ``INSERT … ON CONFLICT DO UPDATE …
RETURNING`` statement on both databases (SQLite ≥ 3.35): on PostgreSQL the row stays locked until the
case's transaction ends, so two concurrent creations in one unit get distinct, gap-free numbers (a
rolled-back creation gives its number back); SQLite serialises writers anyway.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Dialect, Integer, Table, bindparam, literal_column
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.store import driver
from service.store.built_once import built_once
from service.store.driver import DriverStatement
from service.store.models import RegistrationCounter, Unit

ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


def format_number(number: int, code: str, month: int, year: int) -> str:
    """``001/DUMAS/XI/2026``: at least three digits (``1000/…`` past 999)."""
    return f"{number:03d}/{code}/{ROMAN_MONTHS[month - 1]}/{year}"


def local_moment(unit: Unit, at: datetime) -> datetime:
    """``at`` in the unit's timezone (the register's month and year)."""
    return at.astimezone(ZoneInfo(unit.timezone or "Asia/Jakarta"))


def next_registration_number(session: Session, unit: Unit, at: datetime) -> str:
    """Take the unit's next number for the year of ``at`` (one statement) and format it.

    The statement goes straight through the driver on the session's connection, in the case's transaction
    (the session is not flushed: it holds nothing the counter depends on)."""
    local = local_moment(unit, at)
    statement = _counter_statement(session.connection().dialect)
    [(number,)] = driver.run_in(session, statement, {"unit_id": unit.id, "year": local.year}, first=True)
    return format_number(int(number), unit.registration_code or "DUMAS", local.month, local.year)


@built_once(maxsize=8)
def _counter_statement(dialect: Dialect) -> DriverStatement:
    """The counter's increment as the driver runs it, compiled once per dialect (unit and year are its
    parameters)."""
    table = cast(Table, RegistrationCounter.__table__)
    one = literal_column("1", Integer())  # written into the SQL: the driver binds only the named parameters
    insert = (postgresql if dialect.name == "postgresql" else sqlite).insert
    statement = insert(table).values(unit_id=bindparam("unit_id"), year=bindparam("year"), last_number=one)
    returning = statement.on_conflict_do_update(
        index_elements=[table.c.unit_id, table.c.year],
        set_={"last_number": table.c.last_number + one},
    ).returning(table.c.last_number)
    return DriverStatement.compile(returning, dialect, [table.c.last_number.type])
