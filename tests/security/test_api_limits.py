"""Resource bombs by a unit administrator, through the API and the worker, on SQLite and PostgreSQL
(issue #12): refused at deploy with the element id, or a 422 / an incident at run time, and nothing
written by a refused command. Counts, not times; a signal alarm only guards against a hang.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select
from support.bombs import hang_guard
from support.diagrams import AUTOMATIC_LOOP, USER_TASK_LOOP, diagram, user_task, with_timer
from support.helpers import deploy_bytes, signed_in_now

from service.commands import timers
from service.engine import limits
from service.store.models import Case, Definition, HistoryEntry, Task
from service.worker import loop
from service.worker.loop import run_once

START = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def count(app: Any, model: Any) -> int:
    with app.extensions["alur.services"].db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def refused(response: Any, element_id: str, status: int = 422) -> None:
    assert response.status_code == status, (response.status_code, response.json)
    assert set(response.json) == {"code", "message", "errors"} and response.json["message"]
    assert element_id in {error.get("element_id") for error in response.json["errors"]}, response.json


def start(client: Any, persona: Any, key: str, data: dict[str, Any] | None = None) -> Any:
    return client.post("/api/cases", headers=persona.headers, json={"definition_key": key, "data": data or {}})


# --- refused at deploy -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "element"), [
    (with_timer("timeDuration", "P999999999Y"), "sla"),
    (with_timer("timeCycle", "R/PT0.001S"), "sla"),
    (user_task('camunda:dueDate="P999999999Y"'), "kerja"),
    (user_task(inner="<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2000</bpmn:loopCardinality>"
                     "</bpmn:multiInstanceLoopCharacteristics>"), "kerja"),
    (user_task(inner="<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>'%0999999999d' % 1"
                     "</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics>"), "kerja"),
], ids=["duration", "cycle", "due-date", "cardinality", "cardinality-format"])
def test_resource_bomb_is_refused_at_deploy_naming_the_element(app: Any, client: Any, admin: Any, body: str,
                                                               element: str) -> None:
    with hang_guard():
        response = deploy_bytes(client, admin, diagram("bom", body))
    refused(response, element)
    assert count(app, Definition) == 0


def test_huge_diagram_is_refused_with_422(app: Any, client: Any, admin: Any) -> None:
    padding = "".join(f'<bpmn:textAnnotation id="n{i}"><bpmn:text>x</bpmn:text></bpmn:textAnnotation>'
                      for i in range(30_000))
    with hang_guard():
        response = deploy_bytes(client, admin, diagram("besar", user_task() + padding))
    assert response.status_code == 422 and "XML elements" in response.json["message"], response.json
    assert count(app, Definition) == 0


# --- stopped at run time ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "data", "element"), [
    (with_timer("timeDuration", "batas"), {"batas": "P999999999Y"}, "sla"),
    (with_timer("timeCycle", "batas"), {"batas": "R/PT0.001S"}, "sla"),
    (user_task('camunda:dueDate="batas"'), {"batas": "P999999999Y"}, "kerja"),
    (user_task('camunda:dueDate="batas"'), {"batas": "besok"}, "kerja"),
    (user_task(inner="<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>jumlah</bpmn:loopCardinality>"
                     "</bpmn:multiInstanceLoopCharacteristics>"), {"jumlah": 2000}, "kerja"),
    (AUTOMATIC_LOOP, {"lagi": True}, "putar"),
], ids=["duration", "cycle", "due-date", "due-date-text", "cardinality", "automatic-loop"])
def test_run_time_bomb_is_a_422_and_writes_nothing(app: Any, client: Any, admin: Any, body: str,
                                                   data: dict[str, Any], element: str) -> None:
    assert deploy_bytes(client, admin, diagram("bom", body)).status_code == 201
    with hang_guard():
        response = start(client, admin, "bom", data)
    assert response.status_code == 422, response.json
    assert {e.get("element_id") for e in response.json["errors"]} & {element, "gw"}, response.json
    assert (count(app, Case), count(app, Task), count(app, HistoryEntry)) == (0, 0, 0)


def test_user_task_loop_past_the_depth_is_a_422_and_the_task_stays(app: Any, client: Any, admin: Any) -> None:
    """Looping ~500 times through a user task made the case 'completed' with its open task gone."""
    assert deploy_bytes(client, admin, diagram("putar", USER_TASK_LOOP)).status_code == 201
    case = start(client, admin, "putar", {"lagi": True}).json
    with limits.configured(engine_max_depth=40), hang_guard():
        passes, response = 0, None
        while passes < 50:
            (task,) = case["tasks"]
            response = client.post(f"/api/tasks/{task['id']}/complete", headers=admin.headers,
                                   json={"data": {"lagi": True}})
            if response.status_code != 200:
                break
            case, passes = response.json, passes + 1
    assert response is not None and response.status_code == 422, response.json
    assert 10 < passes < 40
    after = client.get(f"/api/cases/{case['id']}", headers=admin.headers).json
    assert after["status"] == "running" and [t["element_id"] for t in after["tasks"]] == ["kerja"]


# --- the worker ------------------------------------------------------------------------------------------

ESCALATION_LOOP = user_task() + """
    <bpmn:boundaryEvent id="sla" attachedToRef="kerja" cancelActivity="false"><bpmn:outgoing>f_sla</bpmn:outgoing>
      <bpmn:timerEventDefinition id="td"><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f_sla" sourceRef="sla" targetRef="putar" />
    <bpmn:intermediateThrowEvent id="putar"><bpmn:incoming>f_sla</bpmn:incoming><bpmn:incoming>f_lagi</bpmn:incoming>
      <bpmn:outgoing>f1</bpmn:outgoing></bpmn:intermediateThrowEvent>
    <bpmn:exclusiveGateway id="gw" default="f_selesai"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f_lagi</bpmn:outgoing><bpmn:outgoing>f_selesai</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="putar" targetRef="gw" />
    <bpmn:sequenceFlow id="f_lagi" sourceRef="gw" targetRef="putar">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">lagi</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:endEvent id="eskalasi"><bpmn:incoming>f_selesai</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f_selesai" sourceRef="gw" targetRef="eskalasi" />"""


def test_timer_driven_runaway_loop_becomes_an_incident_at_once(app: Any, client: Any, admin: Any) -> None:
    response = deploy_bytes(client, admin, diagram("eskalasi_putar", ESCALATION_LOOP))
    assert response.status_code == 201, response.json
    services = app.extensions["alur.services"]
    with time_machine.travel(START, tick=False):
        case = start(client, signed_in_now(client, admin), "eskalasi_putar", {"lagi": True}).json
    with time_machine.travel(START + timedelta(minutes=2), tick=False), hang_guard():
        run_once(services)
        after = client.get(f"/api/cases/{case['id']}", headers=signed_in_now(client, admin).headers).json
    assert after["status"] == "error" and after["next_timer_at"] is None
    assert after["history"][-1]["action"] == "incident" and "LimitExceeded" in after["history"][-1]["data"]["error"]
    assert [t["element_id"] for t in after["tasks"]] == ["kerja"]


def test_worker_sweep_always_ends(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cycle that is always due kept ``alur worker --once`` firing forever: a sweep is bounded.

    Every batch finds as many due cases as it asks for (a timer due again at once), yet the sweep
    stops after ``batch`` × ``MAX_PASSES`` cases, in batches that grew to ``FIRE_BATCH``."""
    batches: list[int] = []
    calls = {"schedules": 0}

    def always_full(_services: Any, _moment: Any, wanted: int, _actor: str) -> tuple[int, int]:
        batches.append(wanted)
        return wanted, wanted

    def always_due(*_args: Any, **_kwargs: Any) -> bool:
        calls["schedules"] += 1
        return True

    monkeypatch.setattr(timers, "fire_batch", always_full)
    monkeypatch.setattr(loop, "start_due_schedule", always_due)
    with hang_guard():
        assert run_once(app.extensions["alur.services"], batch=7) is True
    assert sum(batches) == 7 * loop.MAX_PASSES and calls == {"schedules": 7}
    assert batches[:3] == [1, 2, 4] and max(batches) == timers.FIRE_BATCH
