"""After load, races or faults: what the database says agrees with the engine (issue 12, the suite).

Each case is restored from its stored state (it *loads*), its READY user tasks are compared with the
open rows of the ``tasks`` projection, and its history chain is verified. Import from here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import select

from service.commands.cases import restore
from service.commands.context import Services
from service.commands.history import verify_chain
from service.engine import CaseStatus, TaskStatus
from service.store.models import Case, HistoryEntry, Task


@dataclass
class Checked:
    """What a consistency pass looked at, and what disagreed (empty lists when all is well)."""

    cases: int = 0
    open_tasks: int = 0
    history_entries: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    timers_fired_by_case: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def check_cases(services: Services, case_ids: Iterable[str] | None = None) -> Checked:
    """Restore every case (or those named), compare ready tasks with the projection, verify history."""
    found = Checked()
    with services.db.transaction() as session:
        query = select(Case).order_by(Case.id)
        if case_ids is not None:
            query = query.where(Case.id.in_(list(case_ids)))
        for case in session.scalars(query):
            found.cases += 1
            open_rows = set(session.scalars(select(Task.id).where(Task.case_id == case.id,
                                                                  Task.status == TaskStatus.READY.value)))
            found.open_tasks += len(open_rows)
            try:
                run = restore(services, session, case)
            except Exception as exc:  # a case that does not load is the finding itself
                found.problems.append(f"case {case.id} does not load: {exc!r}")
                continue
            ready = {task.id for task in run.ready_tasks()}
            if case.status == CaseStatus.RUNNING.value and ready != open_rows:
                found.problems.append(f"case {case.id}: engine ready {sorted(ready)} != "
                                      f"tasks table {sorted(open_rows)}")
            if case.status != CaseStatus.RUNNING.value and open_rows:
                found.problems.append(f"case {case.id} is {case.status} with open tasks {sorted(open_rows)}")
            entries = list(session.scalars(select(HistoryEntry).where(HistoryEntry.case_id == case.id)
                                           .order_by(HistoryEntry.id)))
            found.history_entries += len(entries)
            found.actions.update(entry.action for entry in entries)
            found.timers_fired_by_case[case.id] = sum(entry.action == "timer_fired" for entry in entries)
            if not verify_chain(entries):
                found.problems.append(f"case {case.id}: history chain broken")
    return found
