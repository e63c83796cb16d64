"""Deploy-time checks on a diagram's XML, run before SpiffWorkflow parses it.

SpiffWorkflow parses lazily and evaluates expressions only at run time, so a diagram that would
fail in the middle of a case must be refused here, with every problem listed at once, each naming
its ``element_id`` and ``line``. A check is a function in :data:`ELEMENT_CHECKS` keyed by tag.
"""

from __future__ import annotations

from collections.abc import Callable, Container
from dataclasses import dataclass

from lxml import etree

from service.engine import expressions
from service.errors import ErrorDetail, ExpressionError

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS}


def bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def camunda(name: str) -> str:
    return f"{{{CAMUNDA_NS}}}{name}"


@dataclass(frozen=True)
class CheckContext:
    """What element checks may consult: the forms and processes the diagram may refer to."""

    form_exists: Callable[[str], bool]
    known_processes: Container[str]


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


def _expression_issue(element: etree._Element, text: str | None, what: str) -> list[ErrorDetail]:
    try:
        expressions.check(text)
    except ExpressionError as exc:
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
        problems += _expression_issue(element, due, "camunda:dueDate")
    return problems


def _check_condition(element: etree._Element, _context: CheckContext) -> list[ErrorDetail]:
    return _expression_issue(element, element.text, "Condition")


def _check_timer(element: etree._Element, _context: CheckContext) -> list[ErrorDetail]:
    return _expression_issue(element, element.text, "Timer")


def _check_call_activity(element: etree._Element, context: CheckContext) -> list[ErrorDetail]:
    called = element.get("calledElement")
    if not called:
        return [issue(element, "A call activity needs calledElement (the key of the SOP it calls)")]
    if called in context.known_processes:
        return []
    return [issue(element, f"calledElement '{called}' is neither in this file nor a deployed SOP of the unit")]


def _check_message_payload(element: etree._Element, _context: CheckContext) -> list[ErrorDetail]:
    payload = element.get(camunda("expression"))
    return [] if payload is None else _expression_issue(element, payload, "Message payload")


_SCRIPT_REFUSAL = "Script tasks are not allowed: Alur does not run scripts from diagrams"
_LISTENER_REFUSAL = "Camunda listeners, scripts and Java delegates are not supported"

ELEMENT_CHECKS: dict[str, Callable[[etree._Element, CheckContext], list[ErrorDetail]]] = {
    bpmn("scriptTask"): _refused(_SCRIPT_REFUSAL),
    bpmn("script"): _refused(_SCRIPT_REFUSAL),
    camunda("script"): _refused(_LISTENER_REFUSAL),
    camunda("executionListener"): _refused(_LISTENER_REFUSAL),
    camunda("taskListener"): _refused(_LISTENER_REFUSAL),
    bpmn("serviceTask"): _refused("Service tasks are not supported: use a user task or a message"),
    bpmn("userTask"): _check_user_task,
    bpmn("startEvent"): _check_form_key,
    bpmn("conditionExpression"): _check_condition,
    bpmn("completionCondition"): _check_condition,
    bpmn("loopCondition"): _check_condition,
    bpmn("timeDuration"): _check_timer,
    bpmn("timeDate"): _check_timer,
    bpmn("timeCycle"): _check_timer,
    bpmn("callActivity"): _check_call_activity,
    bpmn("messageEventDefinition"): _check_message_payload,
}


def check_elements(root: etree._Element, context: CheckContext) -> list[ErrorDetail]:
    problems: list[ErrorDetail] = []
    for element in root.iter(*ELEMENT_CHECKS):
        problems += ELEMENT_CHECKS[element.tag](element, context)
    return problems
