"""SLA due dates on the unit's working-day calendar, breaches, escalations and the due filters."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import select
from support.helpers import ENGINE_DATA, deploy_file, signed_in_now

from service.store.models import OutboxItem, Task
from service.worker.loop import run_once

WIB, WITA = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar")


def _start(client: Any, persona: Any) -> dict[str, Any]:
    response = client.post("/api/cases", headers=persona.headers, json={"definition_key": "office_hours"})
    assert response.status_code == 201, response.json
    return dict(response.json)


def _complete_first(client: Any, persona: Any, case: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/tasks/{case['tasks'][0]['id']}/complete", headers=persona.headers, json={"data": {}})
    assert response.status_code == 200, response.json
    return dict(response.json)


@pytest.mark.parametrize(("unit", "zone"), [("unit-a", WIB), ("unit-b", WITA)], ids=["WIB", "WITA"])
def test_jam_kerja_due_time_skips_the_weekend_in_the_unit_timezone(app: Any, admin: Any, unit: str,
                                                                   zone: ZoneInfo) -> None:
    client = app.test_client()
    assert deploy_file(client, admin, ENGINE_DATA / "office_hours.bpmn", unit=unit).status_code == 201
    with time_machine.travel(datetime(2026, 5, 8, 15, 55, tzinfo=zone), tick=False):
        case = _start(client, signed_in_now(client, admin))
    due = datetime.fromisoformat(case["tasks"][0]["due_at"])
    assert due == datetime(2026, 5, 11, 8, 5, tzinfo=zone)


def test_hari_kerja_due_date_on_friday_before_idul_fitri(app: Any, admin: Any) -> None:
    client = app.test_client()
    assert deploy_file(client, admin, ENGINE_DATA / "office_hours.bpmn").status_code == 201
    with time_machine.travel(datetime(2026, 3, 20, 10, 0, tzinfo=WIB), tick=False):
        then = signed_in_now(client, admin)
        case = _complete_first(client, then, _start(client, then))
    assert case["tasks"][0]["element_id"] == "panjang"
    assert datetime.fromisoformat(case["tasks"][0]["due_at"]) == datetime(2026, 4, 14, 16, 0, tzinfo=WIB)


def test_closed_day_added_through_the_api_moves_new_due_dates(app: Any, admin: Any) -> None:
    client = app.test_client()
    assert deploy_file(client, admin, ENGINE_DATA / "office_hours.bpmn").status_code == 201
    added = client.post("/api/units/unit-a/closed-days", headers=admin.headers,
                        json={"day": "2026-05-11", "kind": "libur_daerah", "note": "Hari jadi kabupaten"})
    assert added.status_code == 201, added.json
    assert client.get("/api/units/unit-a/closed-days", headers=admin.headers).json[0]["day"] == "2026-05-11"
    with time_machine.travel(datetime(2026, 5, 8, 15, 55, tzinfo=WIB), tick=False):
        case = _start(client, signed_in_now(client, admin))
    assert datetime.fromisoformat(case["tasks"][0]["due_at"]) == datetime(2026, 5, 12, 8, 5, tzinfo=WIB)
    assert client.delete("/api/units/unit-a/closed-days/2026-05-11", headers=admin.headers).status_code == 204


def test_staff_cannot_change_the_calendar(app: Any, admin: Any, make_persona: Any) -> None:
    kasi = make_persona("kasi", "Kasi@unit-a")
    response = app.test_client().post("/api/units/unit-a/closed-days", headers=kasi.headers,
                                      json={"day": "2026-05-11"})
    assert response.status_code == 403
    bad = app.test_client().post("/api/units/unit-a/closed-days", headers=admin.headers, json={"day": "kemarin"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "day"


def test_breach_marks_the_task_escalates_and_shows_as_overdue(app: Any, admin: Any, make_persona: Any) -> None:
    client = app.test_client()
    kasi = make_persona("kasi", "Kasi@unit-a")
    services = app.extensions["alur.services"]
    assert deploy_file(client, admin, ENGINE_DATA / "office_hours.bpmn").status_code == 201
    start = datetime(2026, 5, 4, 9, 0, tzinfo=WIB)
    with time_machine.travel(start, tick=False):
        case = _start(client, signed_in_now(client, admin))
        assert run_once(services) is False
        kasi_then = signed_in_now(client, kasi)
        assert client.get("/api/tasks?overdue=true", headers=kasi_then.headers).json["total"] == 0
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        assert run_once(services) is True
        assert run_once(services) is False  # fired once, not again
        overdue = client.get("/api/tasks?overdue=true", headers=kasi_then.headers).json
        assert [t["element_id"] for t in overdue["items"]] == ["singkat"]
        due_before = (start + timedelta(minutes=20)).isoformat().replace("+", "%2B")
        assert client.get(f"/api/tasks?due_before={due_before}", headers=kasi_then.headers).json["total"] == 1
    detail = client.get(f"/api/cases/{case['id']}", headers=admin.headers).json
    fired = [h for h in detail["history"] if h["action"] == "timer_fired"]
    assert len(fired) == 1 and fired[0]["element_id"] == "sla_singkat"
    assert fired[0]["data"]["escalate_to"] == "Kabid"
    with services.db.reading() as session:
        outbox = session.scalars(select(OutboxItem).where(OutboxItem.case_id == case["id"],
                                                          OutboxItem.kind == "escalation")).all()
        task = session.get(Task, case["tasks"][0]["id"])
    assert [(o.kind, o.recipient_role) for o in outbox] == [("escalation", "Kabid")]
    assert task is not None and task.breached_at == start + timedelta(minutes=11)
    assert task.status == "ready"
