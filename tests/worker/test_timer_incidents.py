"""A timer whose path keeps failing is retried with backoff, then becomes an incident an admin retries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from support.helpers import ENGINE_DATA, deploy_file, signed_in_now

from service.commands.timers import MAX_TIMER_FAILURES, backoff
from service.worker.loop import run_once

START = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def test_failing_timer_backs_off_then_becomes_an_incident(app: Any, admin: Any, make_persona: Any) -> None:
    client = app.test_client()
    services = app.extensions["alur.services"]
    assert deploy_file(client, admin, ENGINE_DATA / "failing_timer.bpmn").status_code == 201
    with time_machine.travel(START, tick=False):
        case = client.post("/api/cases", headers=signed_in_now(client, admin).headers,
                           json={"definition_key": "failing_timer"}).json
    moment = START + timedelta(minutes=2)
    for failure in range(1, MAX_TIMER_FAILURES + 1):
        with time_machine.travel(moment, tick=False):
            assert run_once(services) is False
            state = client.get(f"/api/cases/{case['id']}", headers=signed_in_now(client, admin).headers).json
        if failure < MAX_TIMER_FAILURES:
            assert state["status"] == "running"
            assert datetime.fromisoformat(state["next_timer_at"]) == moment + backoff(failure)
            moment += backoff(failure)
    assert state["status"] == "error" and state["next_timer_at"] is None
    actions = [h["action"] for h in state["history"]]
    assert actions.count("timer_failed") == MAX_TIMER_FAILURES - 1 and actions[-1] == "incident"
    assert "belum_diisi" in state["history"][-1]["data"]["error"]
    assert [t["element_id"] for t in state["tasks"]] == ["tugas"]  # the failed steps left nothing behind

    kasi = make_persona("kasi", "Kasi@unit-a")
    assert client.post(f"/api/cases/{case['id']}/retry", headers=kasi.headers).status_code == 403
    retried = client.post(f"/api/cases/{case['id']}/retry", headers=admin.headers)
    assert retried.status_code == 200, retried.json
    assert retried.json["status"] == "running" and retried.json["history"][-1]["action"] == "incident_retried"
    assert client.post(f"/api/cases/{case['id']}/retry", headers=admin.headers).status_code == 409


def test_backoff_doubles_up_to_a_day() -> None:
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert backoff(30) == timedelta(days=1)
