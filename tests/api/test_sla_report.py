"""The SLA report of a seeded data set, checked against numbers computed by hand."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from support.helpers import ENGINE_DATA, deploy_file

from service.store.models import Task, Unit

WIB = ZoneInfo("Asia/Jakarta")
MONDAY = datetime(2026, 5, 4, 8, 0, tzinfo=WIB)


def _seed(app: Any, admin: Any) -> None:
    """Five completed 'singkat' steps (target 10 working minutes) and two of 'panjang'."""
    client = app.test_client()
    assert deploy_file(client, admin, ENGINE_DATA / "office_hours.bpmn").status_code == 201
    case = client.post("/api/cases", headers=admin.headers, json={"definition_key": "office_hours"}).json
    services = app.extensions["alur.services"]
    # (created, completed) in office time; "singkat" is due 10 minutes after creation
    singkat = [(0, 5), (60, 68), (120, 135), (180, 189), (240, 270)]  # minutes after Monday 08:00
    with services.db.transaction() as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == "unit-a"))
        for created, completed in singkat:
            begin = MONDAY + timedelta(minutes=created)
            session.add(Task(id=str(uuid.uuid4()), case_id=case["id"], definition_key="office_hours",
                             element_id="singkat", name="Tugas 10 menit kerja", lane="Kasi",
                             unit_id=unit_id, status="completed", created_at=begin,
                             due_at=begin + timedelta(minutes=10),
                             completed_at=MONDAY + timedelta(minutes=completed)))
        # Friday 15:00 → Monday 09:00 is 2 office hours; Tuesday 08:00 → 12:00 is 4
        spans = [(datetime(2026, 5, 8, 15, 0, tzinfo=WIB), datetime(2026, 5, 11, 9, 0, tzinfo=WIB)),
                 (datetime(2026, 5, 12, 8, 0, tzinfo=WIB), datetime(2026, 5, 12, 12, 0, tzinfo=WIB))]
        for begin, end in spans:
            session.add(Task(id=str(uuid.uuid4()), case_id=case["id"], definition_key="office_hours",
                             element_id="panjang", name="Tugas 14 hari kerja", lane="Kasi", unit_id=unit_id,
                             status="completed", created_at=begin, due_at=begin + timedelta(days=20),
                             completed_at=end))


def test_sla_report_matches_hand_computed_numbers(app: Any, admin: Any) -> None:
    _seed(app, admin)
    report = app.test_client().get("/api/reports/sla?definition_key=office_hours", headers=admin.headers)
    assert report.status_code == 200, report.json
    rows = {row["element_id"]: row for row in report.json["items"]}
    singkat = rows["singkat"]
    # durations 5, 8, 15, 9, 30 minutes → median 9, nearest-rank p90 = 30; within 10 minutes: 5, 8, 9
    assert singkat["count"] == 5
    assert singkat["median_seconds"] == 9 * 60
    assert singkat["p90_seconds"] == 30 * 60
    assert singkat["within_target"] == 3 / 5
    assert singkat["target"] == "10 Menit" and singkat["sla_timer"] == "jam_kerja(10 / 60)"
    panjang = rows["panjang"]
    assert panjang["count"] == 2 and panjang["median_seconds"] == 3 * 3600 and panjang["within_target"] == 1.0


def test_sla_report_filters_by_period_and_exports_csv(app: Any, admin: Any) -> None:
    _seed(app, admin)
    client = app.test_client()
    week = client.get("/api/reports/sla?definition_key=office_hours&from=2026-05-11T00:00:00%2B07:00"
                      "&to=2026-05-18T00:00:00%2B07:00", headers=admin.headers).json
    counts = {row["element_id"]: row["count"] for row in week["items"]}
    assert counts == {"singkat": 0, "panjang": 2}
    exported = client.get("/api/reports/sla?definition_key=office_hours&format=csv", headers=admin.headers)
    assert exported.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert {row["element_id"]: row["count"] for row in table} == {"singkat": "5", "panjang": "2"}


def test_sla_report_of_an_unknown_or_foreign_sop_is_404(app: Any, admin: Any, make_persona: Any) -> None:
    _seed(app, admin)
    outsider = make_persona("kasi-b", "Kasi@unit-b")
    client = app.test_client()
    assert client.get("/api/reports/sla?definition_key=tidak-ada", headers=admin.headers).status_code == 404
    assert client.get("/api/reports/sla?definition_key=office_hours", headers=outsider.headers).status_code == 404
    assert client.get("/api/reports/sla", headers=admin.headers).status_code == 422
