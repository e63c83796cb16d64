"""Small diagrams written in the tests: a process body wrapped into a deployable BPMN file.

Every flow node of the body goes into one lane (``Kasi`` unless told), so its user tasks land in
that lane's task list.
"""

from __future__ import annotations

import re

_FLOW_NODES = ("startEvent", "endEvent", "userTask", "task", "manualTask", "exclusiveGateway", "parallelGateway",
               "intermediateThrowEvent", "intermediateCatchEvent", "boundaryEvent", "callActivity", "subProcess")
_NODE = re.compile(rf'<bpmn:(?:{"|".join(_FLOW_NODES)}) id="([^"]+)"')

START_TO = '<bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>' \
           '<bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="{first}" />'
TO_END = '<bpmn:endEvent id="end"><bpmn:incoming>f_end</bpmn:incoming></bpmn:endEvent>' \
         '<bpmn:sequenceFlow id="f_end" sourceRef="{last}" targetRef="end" />'

#: A user task ``kerja`` looping back through gateway ``lagi?`` while ``lagi`` is true.
USER_TASK_LOOP = START_TO.format(first="kerja") + """
    <bpmn:userTask id="kerja" name="Kerja"><bpmn:incoming>f0</bpmn:incoming><bpmn:incoming>f_lagi</bpmn:incoming>
      <bpmn:outgoing>f1</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="gw" name="lagi?" default="f_end"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f_lagi</bpmn:outgoing><bpmn:outgoing>f_end</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="kerja" targetRef="gw" />
    <bpmn:sequenceFlow id="f_lagi" sourceRef="gw" targetRef="kerja">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">lagi</bpmn:conditionExpression></bpmn:sequenceFlow>
""" + TO_END.format(last="gw")

#: A loop without a user task: throw event ``putar`` and gateway ``gw`` forever while ``lagi``.
AUTOMATIC_LOOP = START_TO.format(first="putar") + """
    <bpmn:intermediateThrowEvent id="putar"><bpmn:incoming>f0</bpmn:incoming><bpmn:incoming>f_lagi</bpmn:incoming>
      <bpmn:outgoing>f1</bpmn:outgoing></bpmn:intermediateThrowEvent>
    <bpmn:exclusiveGateway id="gw" default="f_end"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f_lagi</bpmn:outgoing><bpmn:outgoing>f_end</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="f1" sourceRef="putar" targetRef="gw" />
    <bpmn:sequenceFlow id="f_lagi" sourceRef="gw" targetRef="putar">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">lagi</bpmn:conditionExpression></bpmn:sequenceFlow>
""" + TO_END.format(last="gw")


def user_task(extra_attributes: str = "", inner: str = "", task_id: str = "kerja") -> str:
    """start → user task ``kerja`` (with attributes and children) → end."""
    return START_TO.format(first=task_id) + f"""
    <bpmn:userTask id="{task_id}" name="Kerja" {extra_attributes}><bpmn:incoming>f0</bpmn:incoming>
      <bpmn:outgoing>f_end</bpmn:outgoing>{inner}</bpmn:userTask>""" + TO_END.format(last=task_id)


def with_timer(kind: str, text: str, task_attributes: str = "") -> str:
    """A user task with a non-interrupting timer boundary event ``sla`` (``timeDuration``/``timeCycle``/…)."""
    return user_task(task_attributes) + f"""
    <bpmn:boundaryEvent id="sla" name="SLA" attachedToRef="kerja" cancelActivity="false">
      <bpmn:timerEventDefinition id="td"><bpmn:{kind}>{text}</bpmn:{kind}></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>"""


def diagram(key: str, body: str, lane: str = "Kasi", process_name: str = "Uji batas",
            process_extras: str = "") -> bytes:
    nodes = "".join(f"<bpmn:flowNodeRef>{node}</bpmn:flowNodeRef>" for node in _NODE.findall(body))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    id="Definitions_{key}" targetNamespace="http://alur.test/{key}">
  <bpmn:message id="Msg_kabar" name="kabar" />
  <bpmn:process id="{key}" name="{process_name}" isExecutable="true">{process_extras}
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_1" name="{lane}">{nodes}</bpmn:lane></bpmn:laneSet>
    {body}
  </bpmn:process>
</bpmn:definitions>""".encode()
