"""The figures of a periodic report (Laporan Berkala): what the cases of one SOP did in one period.

A periodic SOP's timer start event names the SOP it reports on (``rekap_sop``, every revision of that
key in the same unit), the case field holding the intake channel (``rekap_saluran``) and the decision
fields (``rekap_keputusan``). The cases of the period are the ones received in [start, end) of the
period, in the unit's timezone; everything is read from the projection tables (``cases``, ``tasks``),
never by restoring a workflow, and only what had happened before the period's end counts, so the
figures do not change with the hour the report runs:

- ``jumlah_pengaduan`` received; ``jumlah_selesai`` of them finished before the end;
  ``jumlah_belum_selesai`` the rest; ``jumlah_terlambat`` those with at least one late task;
- a task is late when its SLA timer fired (``breached_at``) or its ``due_at`` passed before it was
  completed (or before the period's end, when it was still open then);
- ``rekap_langkah`` per step (task name): tasks and late tasks; ``rekap_saluran`` cases per channel;
  ``rekap_keputusan`` cases per decision field and value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands.outcomes import field_labels
from service.engine import CaseStatus
from service.engine.calendar import WorkCalendar
from service.engine.compiler import steps
from service.engine.properties import REPORT_CHANNEL, REPORT_OF, REPORT_OUTCOMES, listed
from service.engine.schedule import Period
from service.store.models import Case, Definition, Task

#: the value counted for a case that did not record its channel, or has not reached a decision
NOT_RECORDED = "tidak tercatat"
NOT_DECIDED = "belum diputuskan"


def _late(due_at: datetime | None, breached_at: datetime | None, completed_at: datetime | None,
          end: datetime) -> bool:
    if breached_at is not None and breached_at < end:
        return True
    if due_at is None:
        return False
    settled = completed_at if completed_at is not None and completed_at < end else end
    return due_at < settled


def _value(data: Mapping[str, Any], name: str, missing: str) -> str:
    value = data.get(name)
    return missing if value is None or value == "" else str(value)


def period_fields(period: Period) -> dict[str, Any]:
    """The period itself, as the report form shows it."""
    return {"periode": period.label, "periode_awal": period.start.isoformat(),
            "periode_akhir": period.last_day.isoformat()}


def period_figures(session: Session, unit_id: int, start_properties: Mapping[str, str], period: Period,
                   calendar: WorkCalendar) -> dict[str, Any]:
    """The report's initial case data: the period and, when ``rekap_sop`` names an SOP, its figures."""
    data = period_fields(period)
    source_key = (start_properties.get(REPORT_OF) or "").strip()
    if not source_key:
        return data
    start, end = period.instants(calendar)
    revisions = session.scalars(select(Definition).where(Definition.key == source_key, Definition.unit_id == unit_id)
                                .order_by(Definition.version)).all()
    received = (select(Case.id).where(Case.definition_id.in_([r.id for r in revisions]), Case.unit_id == unit_id,
                                      Case.created_at >= start, Case.created_at < end))
    cases = session.execute(select(Case.id, Case.status, Case.completed_at, Case.data)
                            .where(Case.id.in_(received)).order_by(Case.created_at)).all()
    tasks = session.execute(select(Task.case_id, Task.element_id, Task.name, Task.due_at, Task.breached_at,
                                   Task.completed_at)
                            .where(Task.case_id.in_(received), Task.created_at < end)).all()
    finished = sum(1 for case in cases if case.status == CaseStatus.COMPLETED.value
                   and case.completed_at is not None and case.completed_at < end)
    late_cases: set[str] = set()
    per_step: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for task in tasks:
        late = _late(task.due_at, task.breached_at, task.completed_at, end)
        counts = per_step.setdefault(task.element_id, [0, 0])
        counts[0] += 1
        counts[1] += late
        names.setdefault(task.element_id, task.name)
        if late:
            late_cases.add(task.case_id)
    order = [step.element_id for step in steps(revisions[-1].bpmn_xml.encode())] if revisions else []
    ranked = sorted(per_step, key=lambda element: (order.index(element) if element in order else len(order),
                                                   names[element]))
    data.update(
        jumlah_pengaduan=len(cases), jumlah_selesai=finished, jumlah_belum_selesai=len(cases) - finished,
        jumlah_terlambat=len(late_cases),
        rekap_langkah=[{"langkah": names[element], "jumlah": per_step[element][0],
                        "terlambat": per_step[element][1]} for element in ranked],
    )
    channel = (start_properties.get(REPORT_CHANNEL) or "").strip()
    if channel:
        by_channel = Counter(_value(case.data or {}, channel, NOT_RECORDED) for case in cases)
        data["rekap_saluran"] = [{"saluran": name, "jumlah": count}
                                 for name, count in sorted(by_channel.items(), key=lambda item: (-item[1], item[0]))]
    decisions = listed(start_properties, REPORT_OUTCOMES)
    if decisions:
        labels = field_labels(revisions[-1].forms or {}) if revisions else {}
        rows = []
        for name in decisions:
            by_value = Counter(_value(case.data or {}, name, NOT_DECIDED) for case in cases)
            rows += [{"keputusan": labels.get(name, name), "hasil": value, "jumlah": count}
                     for value, count in sorted(by_value.items(), key=lambda item: (-item[1], item[0]))]
        data["rekap_keputusan"] = rows
    return data
