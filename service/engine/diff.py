"""What changed between two revisions of a diagram, element by element.

Elements are matched by BPMN id, the way bpmn-js keeps ids when a modeler edits a diagram. For each
flow element (tasks, events, gateways, sequence flows, lanes) the facts a reviewer of an SOP cares
about are compared: name, lane, form, candidate groups, due date, timer text, condition, SOP
properties (Mutu Baku), flow ends and called SOP. (The migration of running cases aligns task specs
with SpiffWorkflow's ``SpecDiff`` instead: see :mod:`service.engine.migrate`.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from service.engine.deploy_checks import NS, bpmn, camunda
from service.engine.safe_xml import parse_xml

_SKIP = {"laneSet", "extensionElements", "documentation", "incoming", "outgoing", "flowNodeRef",
         "conditionExpression", "timerEventDefinition", "messageEventDefinition", "property", "properties"}
_CAMUNDA = ("formKey", "candidateGroups", "candidateUsers", "assignee", "dueDate")


@dataclass(frozen=True)
class ElementChange:
    """One element added, removed or changed; ``changes`` maps a fact to ``{"from", "to"}``."""

    element_id: str
    type: str
    name: str | None
    changes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.element_id, "type": self.type, "name": self.name, "changes": dict(self.changes)}


@dataclass(frozen=True)
class DiagramDiff:
    added: list[ElementChange]
    removed: list[ElementChange]
    changed: list[ElementChange]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def as_dict(self) -> dict[str, Any]:
        return {kind: [item.as_dict() for item in getattr(self, kind)] for kind in ("added", "removed", "changed")}


def _text(nodes: list[Any]) -> str | None:
    return next((str(node).strip() for node in nodes), None)


def _facts(element: etree._Element, lane: str | None) -> dict[str, Any]:
    facts: dict[str, Any] = {"name": element.get("name"), "lane": lane}
    for attribute in _CAMUNDA:
        facts[attribute] = element.get(camunda(attribute))
    facts["timer"] = _text(element.xpath("./bpmn:timerEventDefinition/*/text()", namespaces=NS))
    facts["condition"] = _text(element.xpath("./bpmn:conditionExpression/text()", namespaces=NS))
    facts["message"] = _text(element.xpath("./bpmn:messageEventDefinition/@messageRef", namespaces=NS))
    facts["properties"] = {
        p.get("name"): p.get("value") or ""
        for p in element.xpath("./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS)
    } or None
    for attribute in ("sourceRef", "targetRef", "attachedToRef", "calledElement", "default", "cancelActivity"):
        facts[attribute] = element.get(attribute)
    return {key: value for key, value in facts.items() if value is not None}


def elements(data: bytes) -> dict[str, tuple[str, dict[str, Any]]]:
    """element id → (BPMN type, facts) for the flow elements of every process of a diagram."""
    root = parse_xml(data).getroot()
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for process in root.iter(bpmn("process")):
        lane_of = {ref.text: lane.get("name") for lane in process.iter(bpmn("lane"))
                   for ref in lane.xpath("./bpmn:flowNodeRef", namespaces=NS)}
        for element in process.iter():
            if not isinstance(element.tag, str) or element is process:
                continue
            qname = etree.QName(element)
            if qname.namespace != NS["bpmn"] or qname.localname in _SKIP or not element.get("id"):
                continue
            found[element.get("id")] = (qname.localname, _facts(element, lane_of.get(element.get("id"))))
    return found


def diff_diagrams(old: bytes, new: bytes) -> DiagramDiff:
    """Added, removed and changed elements from ``old`` to ``new`` (each list in document order)."""
    before, after = elements(old), elements(new)
    added = [ElementChange(key, kind, facts.get("name")) for key, (kind, facts) in after.items() if key not in before]
    removed = [ElementChange(key, kind, facts.get("name")) for key, (kind, facts) in before.items()
               if key not in after]
    changed = []
    for key, (kind, facts) in after.items():
        if key not in before:
            continue
        old_kind, old_facts = before[key]
        changes = {fact: {"from": old_facts.get(fact), "to": facts.get(fact)}
                   for fact in sorted(set(facts) | set(old_facts)) if old_facts.get(fact) != facts.get(fact)}
        if old_kind != kind:
            changes["type"] = {"from": old_kind, "to": kind}
        if changes:
            changed.append(ElementChange(key, kind, facts.get("name"), changes))
    return DiagramDiff(added, removed, changed)
