"""SpiffWorkflow's Camunda parser, extended to keep what Alur needs from the Camunda 7 dialect.

SpiffWorkflow's ``CamundaParser`` drops ``camunda:candidateGroups``, ``assignee`` and ``dueDate``
and reads ``camunda:properties`` only on tasks. The subclasses here keep all of them in each task
spec's ``extensions`` dict: properties under their own names, Camunda attributes under
``camunda:<attribute>`` keys (see :data:`CAMUNDA_ATTRIBUTES`).
"""

from __future__ import annotations

from collections.abc import Sized
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    CallActivity,
    EndEvent,
    IntermediateThrowEvent,
    ManualTask,
    NoneTask,
    StartEvent,
    TransactionSubprocess,
)
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.parser.event_parsers import (
    CamundaBoundaryEventParser,
    CamundaEndEventParser,
    CamundaIntermediateThrowEventParser,
    CamundaStartEventParser,
)
from SpiffWorkflow.camunda.parser.task_spec import (
    CAMUNDA_MODEL_NS,
    CallActivityParser,
    CamundaTaskParser,
    SubWorkflowParser,
    UserTaskParser,
)
from SpiffWorkflow.camunda.specs.multiinstance_task import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.camunda.specs.user_task import UserTask

from service.engine import limits
from service.errors import LimitExceeded

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


def _check_collection(task_spec: Any, my_task: Any, count: int) -> None:
    try:
        limits.check_instances(count, f"Multi-instance activity {task_spec.bpmn_id}")
    except LimitExceeded as exc:
        raise WorkflowTaskException(exc.message, task=my_task, exception=exc) from exc


class BoundedParallelMultiInstanceTask(ParallelMultiInstanceTask):
    """Refuses a collection larger than ``multi_instance_max`` before making an instance of it.

    (A loop cardinality is bounded where it is evaluated: ``script_engine.SafeScriptEngine``.)
    """

    def create_children(self, my_task: Any) -> None:
        if self.data_input is not None and isinstance(collection := self.data_input.get(my_task), Sized):
            _check_collection(self, my_task, len(collection))
        super().create_children(my_task)


class BoundedSequentialMultiInstanceTask(SequentialMultiInstanceTask):
    def init_remaining_items(self, my_task: Any) -> Any:
        remaining = super().init_remaining_items(my_task)
        _check_collection(self, my_task, len(remaining))
        return remaining


_BOUNDED_MULTI_INSTANCE = {
    ParallelMultiInstanceTask: BoundedParallelMultiInstanceTask,
    SequentialMultiInstanceTask: BoundedSequentialMultiInstanceTask,
}


class _BoundsMultiInstance:
    """Mixin for the parsers of activities: a multi-instance activity gets the bounded spec class.

    SpiffWorkflow's Camunda parser names its multi-instance classes inside
    ``_add_multiinstance_task``; the bounded subclasses add no state, only the checks, so the spec
    it just built is given the subclass instead of being built a second time.
    """

    task: Any

    def _add_multiinstance_task(self, loop_characteristics: Any) -> None:
        super()._add_multiinstance_task(loop_characteristics)  # type: ignore[misc]
        bounded = _BOUNDED_MULTI_INSTANCE.get(type(self.task))
        if bounded is not None:
            self.task.__class__ = bounded


class AlurUserTaskParser(_KeepsCamundaExtensions, _BoundsMultiInstance, UserTaskParser):
    pass


class AlurTaskParser(_BoundsMultiInstance, CamundaTaskParser):
    pass


class AlurSubWorkflowParser(_BoundsMultiInstance, SubWorkflowParser):
    pass


class AlurCallActivityParser(_BoundsMultiInstance, CallActivityParser):
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
        full_tag("task"): (AlurTaskParser, NoneTask),
        full_tag("manualTask"): (AlurTaskParser, ManualTask),
        full_tag("subProcess"): (AlurSubWorkflowParser, CallActivity),
        full_tag("callActivity"): (AlurCallActivityParser, CallActivity),
        full_tag("transaction"): (AlurSubWorkflowParser, TransactionSubprocess),
        full_tag("startEvent"): (AlurStartEventParser, StartEvent),
        full_tag("boundaryEvent"): (AlurBoundaryEventParser, BoundaryEvent),
        full_tag("endEvent"): (AlurEndEventParser, EndEvent),
        full_tag("intermediateThrowEvent"): (AlurIntermediateThrowEventParser, IntermediateThrowEvent),
    }
