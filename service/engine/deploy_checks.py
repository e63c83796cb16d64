"""Deploy-time checks on a diagram's XML, run before SpiffWorkflow parses it.

SpiffWorkflow parses lazily and evaluates expressions only at run time, so a diagram that would
fail in the middle of a case must be refused here, with every problem listed at once, each naming
its ``element_id`` and ``line``. A check is a function in :data:`ELEMENT_CHECKS` keyed by tag.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass

from lxml import etree

from service.engine import expressions, properties
from service.engine.limits import Limits, check_duration, check_instances
from service.engine.script_engine import check_timer_text
from service.errors import ErrorDetail, ExpressionError, LimitExceeded

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}


def bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def camunda(name: str) -> str:
    return f"{{{CAMUNDA_NS}}}{name}"


@dataclass(frozen=True)
class TextBounds:
    """The longest text the store keeps for each kind of string a diagram supplies (its columns)."""

    key: int          # a process id: the definition key
    element_id: int   # any element id (tasks, history)
    name: int         # the name of a task or event, a process name (the SOP title)
    role: int         # a lane, a candidate group, a role named in a property
    form_key: int
    message: int      # a message name
    timer: int        # the timer text of a periodic SOP's start event (its schedule)


@dataclass(frozen=True)
class CheckContext:
    """What element checks may consult: the forms and processes the diagram may refer to, and at
    deploy the limits and the lengths the store can hold (both ``None`` for a stored revision, which
    was accepted under the limits of its day: its run-time checks still apply)."""

    form_exists: Callable[[str], bool]
    known_processes: Container[str]
    limits: Limits | None = None
    text_bounds: TextBounds | None = None
    #: the DMN decisions deployed with the diagram (``None``: business rule tasks are not resolved here)
    known_decisions: Container[str] | None = None


def _names_a_shape(element: etree._Element) -> bool:
    """Event definitions carry ids too, but a modeler selects the event that holds them."""
    return element.get("id") is not None and not str(element.tag).endswith("EventDefinition")


def issue(element: etree._Element, message: str) -> ErrorDetail:
    owner = element
    while owner is not None and not _names_a_shape(owner):
        owner = owner.getparent()
    return {
        "element_id": owner.get("id") if owner is not None else None,
        "line": element.sourceline,
        "message": message,
    }


def _expression_issue(element: etree._Element, text: str | None, what: str,
                      context: CheckContext | None = None) -> list[ErrorDetail]:
    """Syntax and whitelist; at deploy an expression of constants only is also evaluated (bounded),
    so ``'%0999999999d' % 1`` is refused here rather than in the first case."""
    try:
        source = expressions.check(text)
        if context is not None and context.limits is not None and expressions.is_constant(source):
            expressions.evaluate(source, {})
    except (ExpressionError, LimitExceeded) as exc:
        return [issue(element, f"{what}: {exc.message}")]
    return []


def expression_issue(element: etree._Element, text: str | None, what: str,
                     context: CheckContext | None = None) -> list[ErrorDetail]:
    """The one checker of an expression a deploy carries (BPMN conditions, timers… and DMN tables)."""
    return _expression_issue(element, text, what, context)


def _literal_issue(element: etree._Element, what: str, check: Callable[[], object]) -> list[ErrorDetail]:
    """Run a limit check on a value the diagram writes literally."""
    try:
        check()
    except (ExpressionError, LimitExceeded) as exc:
        return [issue(element, f"{what}: {exc.message}")]
    return []


def _refused(reason: str) -> Callable[[etree._Element, CheckContext], list[ErrorDetail]]:
    return lambda element, _context: [issue(element, reason)]


def _check_form_key(element: etree._Element, context: CheckContext) -> list[ErrorDetail]:
    key = element.get(camunda("formKey"))
    if key is None or context.form_exists(key):
        return []
    return [issue(element, f"formKey '{key}' resolves to no form (forms/{key}.schema.json or the upload)")]


def _check_user_task(element: etree._Element, context: CheckContext) -> list[ErrorDetail]:
    problems = _check_form_key(element, context)
    due = element.get(camunda("dueDate"))
    if due is not None:
        problems += (_expression_issue(element, due, "camunda:dueDate", context)
                     or _check_due_literal(element, due, context))
    return problems


def _check_due_literal(element: etree._Element, due: str, context: CheckContext) -> list[ErrorDetail]:
    text = due.strip()
    if context.limits is None or not expressions.ISO_LITERAL.match(text):
        return []  # an expression: bounded when it is evaluated
    if text.upper().startswith("P"):
        return _literal_issue(element, "camunda:dueDate", lambda: check_duration(text, "The dueDate"))
    return _literal_issue(element, "camunda:dueDate", lambda: check_timer_text(text, "date"))


def _check_condition(element: etree._Element, context: CheckContext) -> list[ErrorDetail]:
    return _expression_issue(element, element.text, "Condition", context)


_TIMER_KINDS = {"timeDuration": "duration", "timeCycle": "cycle", "timeDate": "date"}


def _check_timer(element: etree._Element, context: CheckContext) -> list[ErrorDetail]:
    problems = _expression_issue(element, element.text, "Timer", context)
    text = (element.text or "").strip()
    if problems or context.limits is None or not expressions.ISO_LITERAL.match(text):
        return problems
    kind = _TIMER_KINDS[etree.QName(element).localname]
    return _literal_issue(element, "Timer", lambda: check_timer_text(text, kind))


def _check_cardinality(element: etree._Element, context: CheckContext) -> list[ErrorDetail]:
    problems = _expression_issue(element, element.text, "loopCardinality", context)
    text = (element.text or "").strip()
    if problems or context.limits is None or not text.isdigit():
        return problems
    return _literal_issue(element, "loopCardinality", lambda: check_instances(int(text)))


def _check_call_activity(element: etree._Element, context: CheckContext) -> list[ErrorDetail]:
    called = element.get("calledElement")
    if not called:
        return [issue(element, "A call activity needs calledElement (the key of the SOP it calls)")]
    if called in context.known_processes:
        return []
    return [issue(element, f"calledElement '{called}' is neither in this file nor a deployed SOP of the unit")]


def _check_business_rule(element: etree._Element, context: CheckContext) -> list[ErrorDetail]:
    """A business rule task runs the DMN decision its ``camunda:decisionRef`` names (service.engine.dmn)."""
    ref = element.get(camunda("decisionRef"))
    if not ref:
        return [issue(element, "A business rule task needs camunda:decisionRef (the id of a DMN decision)")]
    if element.get(camunda("resultVariable")) or element.get(camunda("mapDecisionResult")):
        return [issue(element, "camunda:resultVariable and mapDecisionResult are not supported: the decision's "
                               "output names are the case variables it sets")]
    if context.known_decisions is None or ref in context.known_decisions:
        return []
    return [issue(element, f"camunda:decisionRef '{ref}' names no decision: deploy its DMN file (field dmn) "
                           f"or put {ref}.dmn in the decisions directory")]


def _check_message_payload(element: etree._Element, context: CheckContext) -> list[ErrorDetail]:
    payload = element.get(camunda("expression"))
    return [] if payload is None else _expression_issue(element, payload, "Message payload", context)


def _place(element: etree._Element) -> properties.Place | None:
    """Where an Alur property held by ``element`` stands (None: an element that may hold none)."""
    local = etree.QName(element).localname
    if local in ("intermediateThrowEvent", "endEvent"):
        return properties.Place.THROW_EVENT
    if local == "boundaryEvent":
        timer = element.find(bpmn("timerEventDefinition")) is not None
        return properties.Place.BOUNDARY_TIMER if timer else None
    return {"process": properties.Place.PROCESS, "userTask": properties.Place.USER_TASK,
            "startEvent": properties.Place.START_EVENT}.get(local)


def _own_roles(boundary: etree._Element) -> set[str]:
    """The lane and candidate groups of the activity a boundary event is attached to."""
    target = boundary.get("attachedToRef")
    roles = {str(lane.get("name")) for lane in boundary.getroottree().iter(bpmn("lane"))
             if lane.get("name") and any((ref.text or "").strip() == target for ref in lane.iter(bpmn("flowNodeRef")))}
    for activity in boundary.getroottree().iter():
        if activity.get("id") == target:
            roles.update(role.strip() for role in (activity.get(camunda("candidateGroups")) or "").split(","))
    return roles - {""}


def _check_property(element: etree._Element, context: CheckContext) -> list[ErrorDetail]:
    """An Alur property (``camunda:properties`` of an element, not of a Camunda form field) against
    :data:`properties.VOCABULARY`. Deploy only: a stored revision was accepted under the dialect of its day."""
    holder = element.getparent()
    extensions = holder.getparent() if holder is not None else None
    if context.limits is None or extensions is None or extensions.tag != bpmn("extensionElements"):
        return []
    owner = extensions.getparent()
    name, value = element.get("name"), element.get("value") or ""
    problems = [issue(element, text) for text in properties.problems(name, value, _place(owner))]
    if not problems and name == properties.ESCALATE_TO and value.strip() in _own_roles(owner):
        problems.append(issue(element, f"Escalation of '{owner.get('attachedToRef')}' to '{value.strip()}', "
                                       "the step's own role: escalate to the level above (or the SOP's pengawas)"))
    return problems


def _check_collection(element: etree._Element, context: CheckContext) -> list[ErrorDetail]:
    """A multi-instance over ``camunda:collection``: the expression is checked now, not mid-case."""
    collection = element.get(camunda("collection"))
    return [] if collection is None else _expression_issue(element, collection, "camunda:collection", context)


_SCRIPT_REFUSAL = "Script tasks are not allowed: Alur does not run scripts from diagrams"
#: SpiffWorkflow's Camunda parser reads send and receive tasks as plain tasks that just pass: refused,
#: so a diagram never silently skips a step it means to wait for.
_SEND_RECEIVE_REFUSAL = ("Send and receive tasks are not supported: use a message throw event "
                         "(intermediateThrowEvent) or a message catch event (intermediateCatchEvent)")
_LISTENER_REFUSAL = "Camunda listeners, scripts and Java delegates are not supported"

ELEMENT_CHECKS: dict[str, Callable[[etree._Element, CheckContext], list[ErrorDetail]]] = {
    bpmn("scriptTask"): _refused(_SCRIPT_REFUSAL),
    bpmn("script"): _refused(_SCRIPT_REFUSAL),
    camunda("script"): _refused(_LISTENER_REFUSAL),
    camunda("executionListener"): _refused(_LISTENER_REFUSAL),
    camunda("taskListener"): _refused(_LISTENER_REFUSAL),
    bpmn("serviceTask"): _refused("Service tasks are not supported: use a user task or a message"),
    bpmn("sendTask"): _refused(_SEND_RECEIVE_REFUSAL),
    bpmn("receiveTask"): _refused(_SEND_RECEIVE_REFUSAL),
    bpmn("multiInstanceLoopCharacteristics"): _check_collection,
    bpmn("userTask"): _check_user_task,
    bpmn("startEvent"): _check_form_key,
    bpmn("conditionExpression"): _check_condition,
    bpmn("completionCondition"): _check_condition,
    bpmn("loopCondition"): _check_condition,
    bpmn("condition"): _check_condition,  # of a conditional event
    bpmn("loopCardinality"): _check_cardinality,
    bpmn("timeDuration"): _check_timer,
    bpmn("timeDate"): _check_timer,
    bpmn("timeCycle"): _check_timer,
    bpmn("callActivity"): _check_call_activity,
    bpmn("businessRuleTask"): _check_business_rule,
    bpmn("messageEventDefinition"): _check_message_payload,
    camunda("property"): _check_property,
}


def check_elements(root: etree._Element, context: CheckContext) -> list[ErrorDetail]:
    problems: list[ErrorDetail] = []
    for element in root.iter(*ELEMENT_CHECKS):
        problems += ELEMENT_CHECKS[element.tag](element, context)
    if context.text_bounds is not None:
        problems += check_text_lengths(root, context.text_bounds)
    return problems


# --- lengths the store can hold ------------------------------------------------------------------------

#: Properties whose entries are role names (stored next to tasks, access rules and mail).
_ROLE_PROPERTIES = (properties.ESCALATE_TO, properties.RECIPIENT, properties.SUPERVISORS,
                    properties.IDENTITY_REVEALERS)


def _stored_texts(root: etree._Element, bounds: TextBounds) -> Iterator[tuple[etree._Element, str, str, int]]:
    """(element, what, text, longest) for each string of the diagram that the store keeps."""
    for element in root.iter(f"{{{BPMN_NS}}}*"):
        local = etree.QName(element).localname
        if element.get("id"):
            yield element, "id", element.get("id", ""), bounds.element_id
        if local == "process" and element.get("id"):
            yield element, "process id", element.get("id", ""), bounds.key
        name = element.get("name")
        if name:
            longest = {"lane": bounds.role, "message": bounds.message}.get(local, bounds.name)
            yield element, f"{local} name", name, longest
        for group in (element.get(camunda("candidateGroups")) or "").split(","):
            yield element, "camunda:candidateGroups entry", group.strip(), bounds.role
        if element.get(camunda("formKey")):
            yield element, "camunda:formKey", element.get(camunda("formKey"), ""), bounds.form_key
        if local == "startEvent":
            for text in element.xpath("./bpmn:timerEventDefinition/*/text()", namespaces=NS):
                yield element, "timer of a periodic start", str(text).strip(), bounds.timer
    for prop in root.iter(camunda("property")):
        if prop.get("name") in _ROLE_PROPERTIES:
            for role in properties.listed({"p": prop.get("value") or ""}, "p"):
                yield prop, f"role in property {prop.get('name')}", role, bounds.role


def check_text_lengths(root: etree._Element, bounds: TextBounds) -> list[ErrorDetail]:
    """Strings longer than their column: refused at deploy, not failing at every start (PostgreSQL)."""
    return [
        issue(element, f"The {what} is {len(text)} characters long; at most {longest} are kept: "
                       f"{text[:40]!r}…")
        for element, what, text, longest in _stored_texts(root, bounds) if len(text) > longest
    ]
