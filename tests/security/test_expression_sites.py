"""Every expression site of a diagram against the payload list (issue #12, resource bombs).

Each payload, in each site (gateway condition, timer duration and cycle, dueDate, message payload,
loop condition, completion condition, multi-instance cardinality), is refused at deploy with the
element's id or stopped when the engine evaluates it, with a 4xx error that names the element:
never a 500, never a hang, never a grown server. The state passes through JSON between commands.
"""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from support.bombs import BOMBS, CASE_DATA, ESCAPES, PAYLOADS, hang_guard

from service.engine import CaseRun, WorkCalendar, compile_definition, expressions, limits
from service.errors import InvalidDiagram, InvalidInput, LimitExceeded

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="d" targetNamespace="http://alur.test/bombs">
  <bpmn:message id="m" name="kabar" />
  <bpmn:process id="bom" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    {body}
    <bpmn:endEvent id="end"><bpmn:incoming>f9</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""

#: site → (the diagram's body with ``{x}`` for the payload, the element(s) an error may name: a
#: condition is refused at deploy on its flow and fails at run time in its gateway)
SITES: dict[str, tuple[str, str]] = {
    "condition": ("""
    <bpmn:exclusiveGateway id="gw" default="f3"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw" />
    <bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="kerja">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{x}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="kerja" />
    <bpmn:userTask id="kerja"><bpmn:incoming>f2</bpmn:incoming><bpmn:incoming>f3</bpmn:incoming>
      <bpmn:outgoing>f9</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f9" sourceRef="kerja" targetRef="end" />""", "f2 gw"),
    "timeDuration": ("""
    <bpmn:userTask id="kerja"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="sla" attachedToRef="kerja" cancelActivity="false">
      <bpmn:timerEventDefinition id="td"><bpmn:timeDuration>{x}</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="kerja" />
    <bpmn:sequenceFlow id="f9" sourceRef="kerja" targetRef="end" />""", "sla"),
    "timeCycle": ("""
    <bpmn:userTask id="kerja"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="sla" attachedToRef="kerja" cancelActivity="false">
      <bpmn:timerEventDefinition id="td"><bpmn:timeCycle>{x}</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="kerja" />
    <bpmn:sequenceFlow id="f9" sourceRef="kerja" targetRef="end" />""", "sla"),
    "dueDate": ("""
    <bpmn:userTask id="kerja" camunda:dueDate="{x}"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f9</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="kerja" />
    <bpmn:sequenceFlow id="f9" sourceRef="kerja" targetRef="end" />""", "kerja"),
    "message payload": ("""
    <bpmn:intermediateThrowEvent id="kirim"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:messageEventDefinition id="md" messageRef="m" camunda:expression="{x}" /></bpmn:intermediateThrowEvent>
    <bpmn:userTask id="kerja"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing></bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="kirim" />
    <bpmn:sequenceFlow id="f2" sourceRef="kirim" targetRef="kerja" />
    <bpmn:sequenceFlow id="f9" sourceRef="kerja" targetRef="end" />""", "kirim"),
    "loopCondition": ("""
    <bpmn:userTask id="kerja"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing>
      <bpmn:standardLoopCharacteristics><bpmn:loopCondition xsi:type="bpmn:tFormalExpression">{x}</bpmn:loopCondition>
      </bpmn:standardLoopCharacteristics></bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="kerja" />
    <bpmn:sequenceFlow id="f9" sourceRef="kerja" targetRef="end" />""", "kerja"),
    "completionCondition": ("""
    <bpmn:userTask id="kerja"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality>
      <bpmn:completionCondition xsi:type="bpmn:tFormalExpression">{x}</bpmn:completionCondition>
      </bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="kerja" />
    <bpmn:sequenceFlow id="f9" sourceRef="kerja" targetRef="end" />""", "kerja"),
    "loopCardinality": ("""
    <bpmn:userTask id="kerja"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing>
      <bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>{x}</bpmn:loopCardinality>
      </bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="kerja" />
    <bpmn:sequenceFlow id="f9" sourceRef="kerja" targetRef="end" />""", "kerja"),
}

#: Payloads that only a given site refuses (what a timer or cardinality may evaluate to).
SITE_PAYLOADS: dict[str, list[str]] = {
    "timeDuration": ["P999999999Y", "'P' + str(n * 1000) + 'Y'", "PT0.001S + 'x'", "'besok'", "'P1W2D'"],
    "timeCycle": ["R/PT0.001S", "'R/PT' + str(1) + 'S'", "R/P999999999Y", "'R/' + s"],
    "dueDate": ["P999999999Y", "'P' + str(n * 1000) + 'Y'", "'lusa'", "'9999-12-31T23:00:00-05:00'"],
    "loopCardinality": ["2000", "n", "[1] * 2000", "big"],
}

FORMS: Callable[[str], bool] = {"x"}.__contains__
MONDAY = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)


def _xml_attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;").replace("'", "&apos;")


def _diagram(site: str, payload: str) -> bytes:
    body, _ = SITES[site]
    return HEAD.replace("{body}", body.replace("{x}", _xml_attribute(payload))).encode()


def _through_json(run: CaseRun) -> CaseRun:
    return CaseRun.restore(run.compiled, json.loads(json.dumps(run.dump())), run.calendar)


def _run(site: str, payload: str) -> None:
    """Deploy (with the limits) and drive a case to where ``site`` is evaluated."""
    compiled = compile_definition(_diagram(site, payload), FORMS, limits=limits.current())
    run = _through_json(CaseRun.start(compiled, CASE_DATA, WorkCalendar("Asia/Jakarta")))
    if site == "dueDate":
        run.ready_tasks()
    if site in ("loopCondition", "completionCondition"):
        run.complete(run.ready_tasks()[0].id, {})
    raise AssertionError(f"{payload!r} in {site} ran: {[t.element_id for t in run.ready_tasks()]}")


CASES = [(site, payload) for site in SITES for payload in PAYLOADS + SITE_PAYLOADS.get(site, [])]


@pytest.mark.parametrize(("site", "payload"), CASES, ids=[f"{s}-{i}" for i, (s, _) in enumerate(CASES)])
def test_payload_is_refused_at_deploy_or_stopped_in_the_engine(site: str, payload: str) -> None:
    elements = set(SITES[site][1].split())
    with hang_guard(30), pytest.raises(InvalidInput) as raised:
        _run(site, payload)
    error = raised.value
    assert error.status == 422 and error.message
    assert elements & {detail.get("element_id") for detail in error.details}, (error.message, error.details)
    if payload in ESCAPES:  # the whitelist refuses these before anything runs
        assert isinstance(error, InvalidDiagram), error.message


def test_the_payload_list_is_long_enough() -> None:
    assert len(PAYLOADS) >= 40 and len(CASES) >= 8 * 40


@pytest.mark.parametrize("payload", BOMBS)
def test_a_bomb_allocates_little_before_it_is_stopped(payload: str) -> None:
    """Memory, counted: evaluating a bomb allocates at most a few times the largest limit."""
    functions = WorkCalendar("Asia/Jakarta").timer_functions(lambda: MONDAY)
    tracemalloc.start()
    try:
        with hang_guard(30), pytest.raises((LimitExceeded, InvalidInput)):
            expressions.evaluate(payload, CASE_DATA, functions)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4_000_000, peak
