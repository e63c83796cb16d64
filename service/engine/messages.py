"""The BPMN messages a compiled diagram can catch (intermediate catch, boundary and receive events).

A message is delivered by name (:meth:`service.engine.runtime.CaseRun.deliver_message`); one that no
catch event of the diagram listens to could never be delivered, only buffered forever.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent

from service.engine.compiler import CompiledDefinition


def caught_messages(compiled: CompiledDefinition) -> frozenset[str]:
    """Names of the messages some catch event of the diagram (or a process it calls) waits for."""
    names = set()
    for spec in (compiled.spec, *compiled.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            if isinstance(task_spec, CatchingEvent) and isinstance(definition, MessageEventDefinition):
                names.add(definition.name)
    return frozenset(names)
