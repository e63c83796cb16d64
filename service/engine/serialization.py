"""State-only serialization of running cases.

SpiffWorkflow's serializer writes the whole compiled spec into every workflow dump. Alur keeps the
spec once per revision (compiled from the stored BPMN and cached), so a case stores only its task
tree and data: a converter that leaves ``spec`` and ``subprocess_specs`` out and takes them back
as arguments when restoring. Dumps carry :data:`FORMAT_VERSION`; a change of the format ships a
migration in :data:`MIGRATIONS` and a test that loads a frozen old dump.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from copy import deepcopy
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG

FORMAT_VERSION = 1
FORMAT_KEY = "alur_state_format"
SPIFF_VERSION_KEY = "spiff_serializer_version"

#: from-version → function upgrading a dump in place to the next version.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], None]] = {}


class StateOnlyWorkflowConverter(BpmnWorkflowConverter):
    """Like SpiffWorkflow's converter, minus the specs."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
        self,
        dct: dict[str, Any],
        spec: BpmnProcessSpec,
        subprocess_specs: Mapping[str, BpmnProcessSpec],
    ) -> BpmnWorkflow:
        workflow = self.target_class(spec, dict(subprocess_specs), deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry() -> Any:
    config = deepcopy(CAMUNDA_CONFIG)
    config[BpmnWorkflow] = StateOnlyWorkflowConverter
    return BpmnWorkflowSerializer.configure(config)


_SERIALIZER = BpmnWorkflowSerializer(_registry())


def dump_state(workflow: BpmnWorkflow) -> dict[str, Any]:
    """A JSON-ready dict of the workflow's state, without its spec."""
    state: dict[str, Any] = _SERIALIZER.to_dict(workflow)
    state[FORMAT_KEY] = FORMAT_VERSION
    state[SPIFF_VERSION_KEY] = _SERIALIZER.VERSION
    return state


def _parents_first(state: Mapping[str, Any]) -> dict[str, Any]:
    """A shallow copy whose ``tasks`` run from the root down.

    SpiffWorkflow stores a task's data as a delta from its parent's and rebuilds it in the order of
    the mapping: a dump whose keys were reordered (JSONB, ``jq -S``, ``sort_keys``) would load with
    the case data missing.
    """
    dct = dict(state)
    tasks: Mapping[str, Any] = dct.get("tasks") or {}
    ordered: dict[str, Any] = {}
    pending: deque[str] = deque([str(dct.get("root"))])
    while pending:
        task_id = pending.popleft()
        if task_id in tasks and task_id not in ordered:
            ordered[task_id] = tasks[task_id]
            pending.extend(tasks[task_id].get("children", []))
    ordered.update((task_id, task) for task_id, task in tasks.items() if task_id not in ordered)
    dct["tasks"] = ordered
    return dct


def load_state(
    state: Mapping[str, Any],
    spec: BpmnProcessSpec,
    subprocess_specs: Mapping[str, BpmnProcessSpec],
) -> BpmnWorkflow:
    """Restore a workflow from :func:`dump_state` output and the revision's compiled specs.

    The dump is read, not changed (the converter pops keys, so it gets shallow copies).
    """
    dct = _parents_first(state)
    dct["subprocesses"] = {key: _parents_first(sub) for key, sub in dct.get("subprocesses", {}).items()}
    version = int(dct.pop(FORMAT_KEY, 0))
    while version < FORMAT_VERSION:
        MIGRATIONS[version](dct)
        version += 1
    dct.pop(SPIFF_VERSION_KEY, None)
    workflow: BpmnWorkflow = _SERIALIZER.registry.restore(
        {**dct, "typename": "BpmnWorkflow"}, spec=spec, subprocess_specs=subprocess_specs
    )
    return workflow
