"""SpiffWorkflow's Camunda parser, extended to keep what Alur needs from the Camunda 7 dialect.

SpiffWorkflow's ``CamundaParser`` drops ``camunda:candidateGroups``, ``assignee`` and ``dueDate``
and reads ``camunda:properties`` only on tasks. The subclasses here keep all of them in each task
spec's ``extensions`` dict: properties under their own names, Camunda attributes under
``camunda:<attribute>`` keys (see :data:`CAMUNDA_ATTRIBUTES`).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.specs.defaults import BoundaryEvent, EndEvent, IntermediateThrowEvent, StartEvent
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaEndEventParser,
    CamundaIntermediateThrowEventParser,
    CamundaStartEventParser,
)
from SpiffWorkflow.camunda.parser.task_spec import CAMUNDA_MODEL_NS, UserTaskParser
from SpiffWorkflow.camunda.specs.user_task import UserTask

CAMUNDA_ATTRIBUTES = ("formKey", "candidateGroups", "candidateUsers", "assignee", "dueDate")
_PROPERTY_XPATH = "./bpmn:extensionElements/camunda:properties/camunda:property"


class _KeepsCamundaExtensions:
    """Mixin for node parsers: camunda:properties plus the Camunda attributes Alur uses."""

    node: Any  # provided by SpiffWorkflow's NodeParser, like xpath()
    xpath: Any

    def parse_extensions(self, node: Any = None) -> dict[str, str]:
        extensions = {prop.get("name"): prop.get("value") or "" for prop in self.xpath(_PROPERTY_XPATH)}
        for attribute in CAMUNDA_ATTRIBUTES:
            value = self.node.get(f"{{{CAMUNDA_MODEL_NS}}}{attribute}")
            if value:
                extensions[f"camunda:{attribute}"] = value
        return extensions


class AlurUserTaskParser(_KeepsCamundaExtensions, UserTaskParser):
    pass


class AlurStartEventParser(_KeepsCamundaExtensions, CamundaStartEventParser):
    pass


class AlurBoundaryEventParser(_KeepsCamundaExtensions, CamundaBoundaryEventParser):
    pass


class AlurEndEventParser(_KeepsCamundaExtensions, CamundaEndEventParser):
    pass


class AlurIntermediateThrowEventParser(_KeepsCamundaExtensions, CamundaIntermediateThrowEventParser):
    pass


class AlurParser(CamundaParser):
    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("userTask"): (AlurUserTaskParser, UserTask),
        full_tag("startEvent"): (AlurStartEventParser, StartEvent),
        full_tag("boundaryEvent"): (AlurBoundaryEventParser, BoundaryEvent),
        full_tag("endEvent"): (AlurEndEventParser, EndEvent),
        full_tag("intermediateThrowEvent"): (AlurIntermediateThrowEventParser, IntermediateThrowEvent),
    }
