"""``alur bench seed``: many open cases at once, for measuring the task list at scale (issue 13).

The rows are written to the real tables — ``cases``, ``tasks``, ``task_candidates`` and
``case_access`` — the way a started case leaves them (one ready task in a lane of the SOP, its lane
as the candidate role, the lane's access to the case), so the task list's candidate filter and the
case-access rule apply to them as to real cases. No workflow runs: ``state`` is an empty document,
which the task list never reads. On PostgreSQL the rows go in with ``COPY``; on SQLite with
multi-row inserts in batches. Both are followed by ``ANALYZE`` so the planner knows the new sizes.

Cases are spread round-robin over the active SOPs, over ``units`` units (the SOPs' own, then
``bench-unit-NN`` created as needed) and over the lanes of each SOP's user tasks; about one task in
ten has no due date, and due dates repeat (ties) so keyset paging is exercised on equal keys.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, select, text
from sqlalchemy.orm import Session

from service.commands.context import Services
from service.engine import TaskStatus, utc_now
from service.engine.compiler import StepInfo, steps
from service.errors import InvalidInput
from service.store.models import Case, CaseAccess, Definition, Task, TaskCandidate, Unit
from service.store.states import RevisionStatus

BATCH = 5_000
#: one task in this many has no due date
UNDATED_EVERY = 10
#: due dates repeat every this many cases (hours around now), so many tasks share a due date
DUE_SPREAD = 2_000


@dataclass(frozen=True)
class SeedReport:
    cases: int
    units: list[str]
    lanes: list[str]
    seconds: float


@dataclass(frozen=True)
class _Plan:
    definition_id: int
    definition_key: str
    step: StepInfo


def seed(services: Services, cases: int, units: int = 10, now: datetime | None = None,
         batch: int = BATCH) -> SeedReport:
    """Insert ``cases`` open cases, each with one ready task, spread over ``units`` units and the lanes."""
    if cases < 1 or units < 1:
        raise InvalidInput("cases and units must be at least 1", [{"field": "cases", "message": "at least 1"}])
    began = time.perf_counter()
    moment = now or utc_now()
    with services.db.transaction() as session:
        plans = _plans(session)
        unit_ids = _units(session, units, {p.definition_id for p in plans})
    names = _unit_codes(services, unit_ids)
    rows = _Generator(plans, unit_ids, moment, secrets.randbits(63))
    engine = services.db.engine
    if engine.dialect.name == "postgresql":
        _copy(services, rows, cases)
    else:
        _insert(services, rows, cases, batch)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    lanes = sorted({p.step.lane or "" for p in plans})
    return SeedReport(cases, names, lanes, time.perf_counter() - began)


def _plans(session: Session) -> list[_Plan]:
    definitions = session.scalars(select(Definition).where(Definition.status == RevisionStatus.ACTIVE.value)
                                  .order_by(Definition.key, Definition.version)).all()
    newest = {definition.key: definition for definition in definitions}
    plans = [_Plan(d.id, d.key, step) for d in newest.values() for step in steps(d.bpmn_xml.encode()) if step.lane]
    if not plans:
        raise InvalidInput("No active SOP with lanes: deploy one first (alur demo, or alur deploy FILE)",
                           [{"field": "definitions", "message": "none active"}])
    return plans


def _units(session: Session, wanted: int, definition_ids: set[int]) -> list[int]:
    """The SOPs' own units first, then ``bench-unit-NN`` units (created if missing), ``wanted`` in all."""
    found = list(dict.fromkeys(session.scalars(select(Definition.unit_id).where(Definition.id.in_(definition_ids))
                                               .order_by(Definition.unit_id))))
    number = 0
    while len(found) < wanted:
        number += 1
        code = f"bench-unit-{number:02d}"
        unit = session.scalar(select(Unit).where(Unit.code == code))
        if unit is None:
            unit = Unit(code=code, name=f"Unit uji beban {number}", timezone="Asia/Jakarta")
            session.add(unit)
            session.flush()
        if unit.id not in found:
            found.append(unit.id)
    return found[:wanted]


def _unit_codes(services: Services, unit_ids: list[int]) -> list[str]:
    with services.db.reading() as session:
        found = session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(unit_ids)))
        codes = {unit_id: code for unit_id, code in found}
    return [codes[unit_id] for unit_id in unit_ids]


_Row = dict[str, Any]


@dataclass(frozen=True)
class _Generator:
    """The rows of case ``n``, the same on every call: each table is written in its own pass."""

    plans: list[_Plan]
    unit_ids: list[int]
    now: datetime
    run: int  # random per run: ids of two runs on one database do not collide

    def ids(self, n: int) -> tuple[str, str]:
        return str(uuid.UUID(int=(self.run << 64) | (n << 1))), str(uuid.UUID(int=(self.run << 64) | (n << 1) | 1))

    def row(self, n: int, table: int) -> _Row:
        """Case ``n``'s row of ``_TABLES[table]``: its case, task, candidate or access row."""
        plan = self.plans[n % len(self.plans)]
        unit_id = self.unit_ids[(n // len(self.plans)) % len(self.unit_ids)]
        case_id, task_id = self.ids(n)
        created = self.now - timedelta(seconds=n)
        lane = plan.step.lane or ""
        if table == 0:
            return {"id": case_id, "definition_id": plan.definition_id, "unit_id": unit_id,
                    "business_key": f"BENCH/{n:07d}", "status": "running", "state": {}, "data": {},
                    "lock_version": 1, "created_at": created, "updated_at": created, "timer_failures": 0}
        if table in (1, 2):
            due = (None if n % UNDATED_EVERY == UNDATED_EVERY - 1
                   else self.now + timedelta(hours=n % DUE_SPREAD - DUE_SPREAD // 2))
            task = {"id": task_id, "case_id": case_id, "definition_key": plan.definition_key,
                    "element_id": plan.step.element_id, "name": plan.step.name, "lane": lane, "unit_id": unit_id,
                    "form_key": None, "status": TaskStatus.READY.value, "due_at": due, "created_at": created}
            return task if table == 1 else TaskCandidate.values_for(task, lane)  # with its copy of the task's keys
        return {"case_id": case_id, "unit_id": unit_id, "role": lane, "fields": None, "source": "task",
                "granted_at": created, "case_created_at": created}


_TABLES: tuple[Table, ...] = (Case.__table__, Task.__table__, TaskCandidate.__table__,  # type: ignore[assignment]
                              CaseAccess.__table__)


def _insert(services: Services, rows: _Generator, count: int, batch: int) -> None:
    """Multi-row inserts, ``batch`` cases per transaction (SQLite)."""
    for start in range(0, count, batch):
        numbers = range(start, min(start + batch, count))
        with services.db.engine.begin() as connection:
            for position, table in enumerate(_TABLES):
                connection.execute(insert(table), [rows.row(n, position) for n in numbers])


def _copy(services: Services, rows: _Generator, count: int) -> None:
    """``COPY … FROM STDIN`` per table (PostgreSQL, psycopg 3), in one transaction."""
    raw = services.db.engine.raw_connection()
    try:
        connection: Any = raw.driver_connection
        with connection.cursor() as cursor:
            for position, table in enumerate(_TABLES):
                names = list(rows.row(0, position))
                columns = ", ".join(f'"{name}"' for name in names)
                with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                    for n in range(count):
                        copy.write_row([_copy_value(value) for value in rows.row(n, position).values()])
        connection.commit()
    finally:
        raw.close()


def _copy_value(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict) else value
