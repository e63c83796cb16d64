"""Turn a deployed revision's BPMN into a compiled, cached SpiffWorkflow spec.

``outline`` reads what a diagram refers to (its key, the SOPs it calls, the forms it uses) so the
caller can gather those before ``compile_definition`` checks and parses everything. Parsing costs
milliseconds, so compiled revisions are cached by the caller's revision key (:class:`SpecCache`).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.exceptions import SpiffWorkflowException

from service.engine import dmn, properties
from service.engine.deploy_checks import NS, CheckContext, TextBounds, bpmn, camunda, check_elements, issue
from service.engine.limits import Limits
from service.engine.parser import AlurParser
from service.engine.safe_xml import parse_xml
from service.errors import ErrorDetail, InvalidDiagram

_EXECUTABLE = "//bpmn:process[@isExecutable='true']"


@dataclass(frozen=True)
class DiagramOutline:
    key: str
    title: str
    process_ids: frozenset[str]
    called_elements: frozenset[str]
    form_keys: frozenset[str]
    metadata: Mapping[str, str]
    lanes: tuple[str, ...]
    #: text of the main process's timer start event (a periodic SOP), if it has one
    start_timer: str | None = None
    #: the Alur properties of the main process's start events (a periodic SOP's ``periode``, ``rekap_sop``, …)
    start_properties: Mapping[str, str] = field(default_factory=dict)
    #: the DMN decisions the diagram's business rule tasks name (``camunda:decisionRef``)
    decision_refs: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CompiledDefinition:
    key: str
    spec: BpmnProcessSpec
    subprocess_specs: Mapping[str, BpmnProcessSpec]
    outline: DiagramOutline

    @property
    def start_event(self) -> Any | None:
        """The start event a case begins at; with several, SpiffWorkflow puts a split before them: the first."""
        spec = self.spec.start.outputs[0] if self.spec.start.outputs else None
        while spec is not None and not hasattr(spec, "extensions") and spec.outputs:
            spec = spec.outputs[0]
        return spec

    @property
    def start_lane(self) -> str | None:
        return getattr(self.start_event, "lane", None)

    @property
    def start_form_key(self) -> str | None:
        extensions = getattr(self.start_event, "extensions", None) or {}
        key = extensions.get("camunda:formKey")
        return key if isinstance(key, str) else None


def _root(data: bytes) -> etree._Element:
    root = parse_xml(data).getroot()
    if root.tag != bpmn("definitions"):
        raise InvalidDiagram(
            "Not a BPMN 2.0 file", [issue(root, "The root element must be bpmn:definitions")]
        )
    return root


def outline(data: bytes) -> DiagramOutline:
    """What the diagram is and refers to; raises :class:`InvalidDiagram` without an executable process."""
    root = _root(data)
    executable = root.xpath(_EXECUTABLE, namespaces=NS)
    if not executable:
        processes = root.xpath("//bpmn:process", namespaces=NS)
        details = [issue(p, "Process is not executable (isExecutable is not 'true')") for p in processes]
        raise InvalidDiagram(
            "The file has no executable process",
            details or [{"line": root.sourceline, "message": "The file has no bpmn:process"}],
        )
    main = executable[0]
    if not (main.get("id") or "").strip():
        raise InvalidDiagram("The executable process has no id (the SOP's key)",
                             [issue(main, "bpmn:process needs an id, e.g. id=\"pengaduan_langsung\"")])
    properties = main.xpath("./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS)
    return DiagramOutline(
        key=main.get("id"),
        title=main.get("name") or main.get("id"),
        process_ids=frozenset(p.get("id") for p in root.xpath("//bpmn:process", namespaces=NS)),
        called_elements=frozenset(c.get("calledElement") for c in root.iter(bpmn("callActivity"))) - {None},
        form_keys=frozenset(e.get(camunda("formKey")) for e in root.iter() if e.get(camunda("formKey"))),
        metadata={p.get("name"): p.get("value") or "" for p in properties if p.get("name")},
        lanes=tuple(dict.fromkeys(lane.get("name") for lane in main.xpath(".//bpmn:lane[@name]", namespaces=NS))),
        start_timer=next(iter(main.xpath(
            "./bpmn:startEvent/bpmn:timerEventDefinition/*/text()", namespaces=NS)), None),
        start_properties={p.get("name"): p.get("value") or "" for p in main.xpath(
            "./bpmn:startEvent/bpmn:extensionElements/camunda:properties/"
            "camunda:property", namespaces=NS) if p.get("name")},
        decision_refs=frozenset(dmn.decision_refs(root)),
    )


@dataclass(frozen=True)
class StepInfo:
    """A user task of the diagram with its SOP facts (Mutu Baku) and its SLA timer text."""

    element_id: str
    name: str
    lane: str | None
    properties: Mapping[str, str]
    sla_timer: str | None


def lanes_of(process: etree._Element) -> dict[str, str | None]:
    """The lane name of each flow node of ``process`` (by element id)."""
    return {ref.text: lane.get("name") for lane in process.xpath(".//bpmn:lane", namespaces=NS)
            for ref in lane.xpath("./bpmn:flowNodeRef", namespaces=NS)}


def sla_timers(process: etree._Element) -> dict[str, str]:
    """The SLA timer of each activity of ``process``: the boundary timer that escalates
    (``eskalasi_ke``), else its first boundary timer (a reporter's deadline). The SLA report and the
    SOP document both read the step's Waktu from here."""
    timers: dict[str, str] = {}
    for event in process.xpath(".//bpmn:boundaryEvent[bpmn:timerEventDefinition]", namespaces=NS):
        text = "".join(event.xpath("./bpmn:timerEventDefinition/*/text()", namespaces=NS)[:1]).strip()
        escalates = any(prop.get("name") == properties.ESCALATE_TO for prop in event.xpath(
            "./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS))
        if text and (escalates or event.get("attachedToRef") not in timers):
            timers[event.get("attachedToRef")] = text
    return timers


def steps(data: bytes) -> list[StepInfo]:
    """The user tasks of the main process in document order, with lanes, properties and SLA timers."""
    root = _root(data)
    main = root.xpath(_EXECUTABLE, namespaces=NS)[0]
    lane_of = lanes_of(main)
    timers = sla_timers(main)
    return [
        StepInfo(
            element_id=task.get("id"), name=task.get("name") or task.get("id"), lane=lane_of.get(task.get("id")),
            properties={p.get("name"): p.get("value") or "" for p in task.xpath(
                "./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS)},
            sla_timer=timers.get(task.get("id")),
        )
        for task in main.xpath(".//bpmn:userTask", namespaces=NS)
    ]


def _form_fields(forms: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The JSON Schema of each field the forms ``keys`` provide (the first form naming it wins)."""
    fields: dict[str, Any] = {}
    for key in keys:
        schema = (forms.get(key) or {}).get("schema") or {}
        for name, spec in (schema.get("properties") or {}).items():
            fields.setdefault(name, spec)
    return fields


def routing_issues(data: bytes, forms: Mapping[str, Any]) -> list[ErrorDetail]:
    """A multi-instance user task over a collection (``camunda:collection``, a disposition to several
    sub-units) must route each instance by its element variable (``tujuan_unit`` naming
    ``camunda:elementVariable``), and its collection must be a list field a form of the diagram
    provides. Each problem names the multi-instance element; ``forms`` are the revision's forms."""
    root = _root(data)
    provided = _form_fields(forms, sorted(e.get(camunda("formKey")) for e in root.iter() if e.get(camunda("formKey"))))
    problems: list[ErrorDetail] = []
    for loop in root.iter(bpmn("multiInstanceLoopCharacteristics")):
        collection, variable = loop.get(camunda("collection")), loop.get(camunda("elementVariable"))
        activity = loop.getparent()
        if collection is None or activity is None:
            continue
        tasks = [activity] if activity.tag == bpmn("userTask") else list(activity.iter(bpmn("userTask")))
        for task in tasks:
            route = {p.get("name"): p.get("value") for p in task.xpath(
                "./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS)}.get(
                properties.ROUTE_FIELD)
            if not variable or (route or "").strip() != variable:
                problems.append(issue(activity, f"Multi-instance '{activity.get('id')}' over {collection!r} routes "
                                                f"no instance: give '{task.get('id')}' the property "
                                                f"{properties.ROUTE_FIELD}={variable or '<camunda:elementVariable>'} "
                                                "(each instance to the sub-unit it stands for)"))
        field = provided.get(collection.strip())
        if field is None or field.get("type") != "array":
            problems.append(issue(activity, f"Multi-instance '{activity.get('id')}' runs over {collection!r}, "
                                            "but no form of this diagram provides that field as a list "
                                            "(an array of sub-unit codes)"))
    return problems


@cache
def _schema_validator() -> BpmnValidator:
    return BpmnValidator()


#: lxml's XMLSchema (inside SpiffWorkflow's validator) is not thread-safe: one parse at a time.
_PARSE_LOCK = threading.Lock()


def _translate(exc: Exception, root: etree._Element) -> InvalidDiagram:
    element_id = getattr(exc, "id", None) or None
    line = getattr(exc, "line_number", None) or None
    if element_id and not line:
        found = root.xpath("//*[@id=$id]", id=element_id)
        line = found[0].sourceline if found else None
    message = str(exc).strip() or type(exc).__name__
    return InvalidDiagram(
        f"The diagram cannot be executed: {message}",
        [{"element_id": element_id, "line": line, "message": message}],
    )


def _check_size(root: etree._Element, limits: Limits) -> None:
    """Refuse a diagram too big to parse quickly, before it waits for (and then holds) the parse lock."""
    count = sum(1 for _ in root.iter())
    if count > limits.diagram_max_elements:
        raise InvalidDiagram(
            f"The diagram has {count} XML elements; at most {limits.diagram_max_elements} are accepted",
            [{"element_id": None, "line": None,
              "message": f"{count} elements (BPMNDI included), more than {limits.diagram_max_elements}"}],
        )


def compile_definition(
    data: bytes,
    form_exists: Callable[[str], bool],
    dependencies: Iterable[bytes] = (),
    *,
    decisions: Mapping[str, bytes] | None = None,
    limits: Limits | None = None,
    text_bounds: TextBounds | None = None,
) -> CompiledDefinition:
    """Check and parse a diagram; ``dependencies`` are the deployed SOPs its call activities name,
    ``decisions`` the DMN files (by file name) its business rule tasks and theirs name.

    At deploy the caller passes the ``limits`` (diagram size, literal timers and cardinalities) and
    the ``text_bounds`` of the store; a stored revision is compiled without them.
    """
    root = _root(data)
    tables = dmn.read_all(decisions or {})
    if limits is not None:
        _check_size(root, limits)
        for table in tables.values():
            _check_size(table.root, limits)
    diagram = outline(data)
    with _PARSE_LOCK:
        parser = AlurParser(validator=_schema_validator())
    try:
        dependency_roots = [_root(dep) for dep in dependencies]
        with _PARSE_LOCK:
            for position, dep_root in enumerate(dependency_roots):
                parser.add_bpmn_xml(dep_root, filename=f"dependency-{position}.bpmn")
    except (SpiffWorkflowException, InvalidDiagram) as exc:
        raise InvalidDiagram(f"A called SOP cannot be loaded: {exc}") from exc
    known = set(diagram.process_ids)
    for dep_root in dependency_roots:
        known.update(p.get("id") for p in dep_root.xpath("//bpmn:process", namespaces=NS))
    context = CheckContext(form_exists=form_exists, known_processes=known, limits=limits,
                           text_bounds=text_bounds, known_decisions=frozenset(tables))
    problems = check_elements(root, context)
    for table in tables.values():
        problems += dmn.problems(table, context)
    if problems:
        raise InvalidDiagram(f"The diagram has {len(problems)} problem(s)", problems)
    try:
        with _PARSE_LOCK:
            for table in tables.values():
                parser.add_dmn_xml(table.root, filename=f"{table.decision_id}.dmn")
            parser.add_bpmn_xml(root, filename=f"{diagram.key}.bpmn")
            spec = parser.get_spec(diagram.key)
            subprocess_specs = parser.get_subprocess_specs(diagram.key)
    except ValidationException as exc:
        raise _translate(exc, root) from exc
    except Exception as exc:  # SpiffWorkflow's parser raises anything on odd input: never a 500
        raise _translate(exc, root) from exc
    for process in (spec, *subprocess_specs.values()):
        _prepare_loops(process)
    return CompiledDefinition(diagram.key, spec, subprocess_specs, diagram)


def _prepare_loops(process: BpmnProcessSpec) -> None:
    """Make each loop and multi-instance activity whole at compile time, not when it first runs.

    SpiffWorkflow connects an activity to its instances' completion when it makes them, and its
    Camunda multi-instance takes its collection (``camunda:collection``) as its input only when it
    starts: both happen in the process that ran the step. A case restored from its state elsewhere
    (another web worker, the timer worker, after a restart) would then never leave the step, or
    append its instances to the list instead of updating it in place. Done here as SpiffWorkflow's
    spec serializer and the activity's own start do it.
    """
    for task_spec in list(process.task_specs.values()):
        if not isinstance(task_spec, LoopTask):
            continue
        child = process.task_specs.get(task_spec.task_spec)
        if child is not None and not child.completed_event.is_connected(task_spec.merge_child):
            child.completed_event.connect(task_spec.merge_child)
        collection, item = getattr(task_spec, "data_output", None), getattr(task_spec, "output_item", None)
        if getattr(task_spec, "cardinality", True) is None and collection is not None and item is not None:
            task_spec.data_input = TaskDataReference(collection.bpmn_id)
            task_spec.input_item = TaskDataReference(item.bpmn_id)


class SpecCache:
    """A thread-safe LRU of compiled revisions, keyed by the caller's revision key."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, CompiledDefinition] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], CompiledDefinition]) -> CompiledDefinition:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        compiled = build()
        with self._lock:
            self._items[key] = compiled
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return compiled

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
