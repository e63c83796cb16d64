"""Compiled specs of stored revisions, through the process-wide cache."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.commands.context import Services
from service.commands.definitions import stored_decisions
from service.engine import CompiledDefinition, compile_definition
from service.store.models import Definition


def compiled_for(services: Services, session: Session, definition: Definition) -> CompiledDefinition:
    """The compiled spec of a revision, from the cache or compiled from its stored XML."""

    def build() -> CompiledDefinition:
        deps = [session.get(Definition, dep_id) for dep_id in definition.dependencies]
        forms = definition.forms or {}
        return compile_definition(
            definition.bpmn_xml.encode(), forms.__contains__, [d.bpmn_xml.encode() for d in deps if d],
            decisions=stored_decisions(definition.decisions or {}),
        )

    # keyed by the checksum too: a draft's diagram may be saved again in place (service.commands.drafts)
    return services.specs.get((definition.id, definition.checksum), build)
