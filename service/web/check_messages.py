"""The modeler's check list in the user's language: the one table that turns Alur's deploy-check
messages (English, as the API keeps them) and bpmnlint's rules into display text, and the words
bpmn-js shows (palette, context pad, the properties panel's labels).

The API's ``message`` stays as it is; the modeler adds ``text`` (:func:`with_text`). A message no
pattern knows is shown with the English detail after a translated lead, never dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from service.errors import ErrorDetail
from service.web.i18n import gettext as _

#: The part of the diagram an expression belongs to (the prefix deploy_checks gives its messages).
_WHAT: dict[str, Callable[[], str]] = {
    "Condition": lambda: _("Condition"),
    "Timer": lambda: _("Timer"),
    "camunda:dueDate": lambda: _("Due date"),
    "loopCardinality": lambda: _("Number of instances"),
    "Message payload": lambda: _("Message content"),
    "camunda:collection": lambda: _("Multi-instance collection"),
}


def _what(name: str) -> str:
    found = _WHAT.get(name.strip())
    return found() if found else name


def _expression(match: re.Match[str]) -> str:
    """``<what>: <expression error>``: the error translated, the part named."""
    detail = match.group("detail")
    return _("%(what)s: %(problem)s", what=_what(match.group("what")), problem=display(detail))


_Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]
_RULES: tuple[_Rule, ...] = tuple((re.compile(pattern, re.S), text) for pattern, text in (
    (r"(?P<what>Condition|Timer|camunda:dueDate|loopCardinality|Message payload|camunda:collection): "
     r"(?P<detail>.*)", _expression),
    (r"formKey '(?P<key>.*)' resolves to no form .*",
     lambda m: _("The form %(key)s does not exist (not in the forms directory, not uploaded).", key=m["key"])),
    (r"Syntax error in expression (?P<source>.*): (?P<detail>.*)",
     lambda m: _("Syntax error in the expression %(source)s (%(detail)s).", source=m["source"], detail=m["detail"])),
    (r"(?P<part>.+) is not allowed in expression (?P<source>.*)",
     lambda m: _("Not allowed in the expression %(source)s: %(part)s.", source=m["source"], part=m["part"])),
    (r"Names starting with '_' are not allowed: (?P<name>.*)",
     lambda m: _("Names starting with _ are not allowed: %(name)s.", name=m["name"])),
    (r"The expression is empty", lambda m: _("The expression is empty.")),
    (r"The expression is longer than (?P<n>\d+) characters",
     lambda m: _("The expression is longer than %(n)s characters.", n=m["n"])),
    (r"The expression is too complex .*", lambda m: _("The expression is too complex.")),
    (r"Script tasks are not allowed.*",
     lambda m: _("Script tasks are not allowed: Alur runs no scripts from diagrams.")),
    (r"Camunda listeners, scripts and Java delegates are not supported",
     lambda m: _("Camunda listeners, scripts and Java delegates are not supported.")),
    (r"Service tasks are not supported.*",
     lambda m: _("Service tasks are not supported: use a user task or a message.")),
    (r"Send and receive tasks are not supported.*",
     lambda m: _("Send and receive tasks are not supported: use a message throw or catch event.")),
    (r"A call activity needs calledElement.*",
     lambda m: _("A call activity must name the key of the SOP it calls.")),
    (r"calledElement '(?P<key>.*)' is neither in this file nor a deployed SOP of the unit",
     lambda m: _("The called SOP %(key)s is neither in this diagram nor deployed in the unit.", key=m["key"])),
    (r"Unknown Alur property '(?P<name>.*)'; did you mean '(?P<close>.*)'\?",
     lambda m: _("Unknown Alur property %(name)s; did you mean %(close)s?", name=m["name"], close=m["close"])),
    (r"Unknown Alur property '(?P<name>.*)' \(known: .*\)",
     lambda m: _("Unknown Alur property %(name)s.", name=m["name"])),
    (r"Property '(?P<name>[^']*)' belongs on a (?P<where>.*), not on (?P<here>.*)",
     lambda m: _("The property %(name)s does not belong on this element (it belongs on a %(where)s).",
                 name=m["name"], where=m["where"])),
    (r"Property '(?P<name>[^']*)': (?P<detail>.*)",
     lambda m: _("The property %(name)s has a wrong value: %(detail)s.", name=m["name"], detail=m["detail"])),
    (r"Escalation of '(?P<step>.*)' to '(?P<role>.*)', the step's own role.*",
     lambda m: _("The step escalates to its own role %(role)s: escalate to the level above (or the SOP's "
                 "pengawas).", role=m["role"])),
    (r"The (?P<what>.*) is (?P<n>\d+) characters long; at most (?P<max>\d+) are kept.*",
     lambda m: _("The %(what)s is %(n)s characters long; at most %(max)s are kept.", what=m["what"], n=m["n"],
                 max=m["max"])),
    (r"process id '(?P<found>.*)' is not '(?P<key>.*)': keep the SOP's key",
     lambda m: _("The process id must stay %(key)s (the SOP's key), not %(found)s.", key=m["key"],
                 found=m["found"])),
    (r"Process is not executable.*", lambda m: _("The process is not marked executable.")),
))


def display(message: str) -> str:
    """The text people read for one of Alur's check messages."""
    text = (message or "").strip()
    for pattern, render in _RULES:
        if found := pattern.fullmatch(text):
            return render(found)
    return _("Alur's check: %(message)s", message=text)


def with_text(errors: Iterable[ErrorDetail]) -> list[dict[str, Any]]:
    """The problems as the API reports them, each with its ``text`` for the check list."""
    return [{**error, "text": display(str(error.get("message") or ""))} for error in errors]


def lint_rules() -> dict[str, str]:
    """bpmnlint's recommended rules (the modeler's ``.bpmnlintrc``), by rule name, as the check list says them."""
    return {
        "ad-hoc-sub-process": _("An ad-hoc sub-process may hold no start or end event."),
        "conditional-flows": _("A flow out of this gateway or task has no condition."),
        "end-event-required": _("The process has no end event."),
        "event-based-gateway": _("The event-based gateway is not modelled as BPMN requires."),
        "event-sub-process-typed-start-event": _("The start event of an event sub-process needs a type."),
        "fake-join": _("Several flows come in without a gateway joining them."),
        "global": _("A global element (message, signal, error) is unused or not unique."),
        "label-required": _("The element has no name."),
        "link-event": _("The link event has no matching link name."),
        "no-bpmndi": _("The element is not drawn in the diagram."),
        "no-complex-gateway": _("Complex gateways are not allowed."),
        "no-disconnected": _("The element is not connected."),
        "no-duplicate-sequence-flows": _("There are duplicate flows."),
        "no-gateway-join-fork": _("The gateway both joins and splits."),
        "no-implicit-split": _("The flow splits without a gateway."),
        "no-implicit-end": _("The flow ends without an end event."),
        "no-implicit-start": _("The flow starts without a start event."),
        "no-inclusive-gateway": _("Inclusive gateways are discouraged."),
        "no-overlapping-elements": _("The element overlaps another one."),
        "single-blank-start-event": _("The process has more than one blank start event."),
        "single-event-definition": _("The event has more than one event definition."),
        "start-event-required": _("The process has no start event."),
        "sub-process-blank-start-event": _("The start event of a sub-process must be blank."),
        "superfluous-gateway": _("The gateway is superfluous: it has one flow in and one out."),
        "superfluous-label": _("The flow has a label it does not need."),
        "superfluous-termination": _("The terminate end event is superfluous."),
    }


def element_kinds() -> dict[str, str]:
    """How the check list names an element without a name, by BPMN type."""
    return {
        "bpmn:UserTask": _("Task"), "bpmn:Task": _("Task"), "bpmn:StartEvent": _("Start event"),
        "bpmn:EndEvent": _("End event"), "bpmn:IntermediateThrowEvent": _("Message event"),
        "bpmn:IntermediateCatchEvent": _("Waiting event"), "bpmn:BoundaryEvent": _("Time limit"),
        "bpmn:ExclusiveGateway": _("Gateway"), "bpmn:ParallelGateway": _("Gateway"),
        "bpmn:InclusiveGateway": _("Gateway"), "bpmn:EventBasedGateway": _("Gateway"),
        "bpmn:SequenceFlow": _("Flow"), "bpmn:Lane": _("Lane"), "bpmn:Process": _("The process"),
        "bpmn:Participant": _("The process"), "bpmn:CallActivity": _("Called SOP"),
        "bpmn:SubProcess": _("Sub-process"),
    }


def bpmn_js_strings() -> dict[str, str]:
    """bpmn-js's own words that a process owner sees (its translate service looks them up here)."""
    return {
        # palette
        "Activate hand tool": _("Activate hand tool"), "Activate lasso tool": _("Activate lasso tool"),
        "Activate create/remove space tool": _("Activate create/remove space tool"),
        "Activate global connect tool": _("Activate global connect tool"),
        "Create start event": _("Create start event"), "Create intermediate/boundary event":
            _("Create intermediate/boundary event"), "Create end event": _("Create end event"),
        "Create gateway": _("Create gateway"), "Create task": _("Create task"),
        "Create data object reference": _("Create data object reference"),
        "Create data store reference": _("Create data store reference"),
        "Create expanded sub-process": _("Create expanded sub-process"),
        "Create pool/participant": _("Create pool/participant"), "Create group": _("Create group"),
        # context pad
        "Append end event": _("Append end event"), "Append gateway": _("Append gateway"),
        "Append task": _("Append task"), "Append intermediate/boundary event": _("Append intermediate/boundary event"),
        "Append text annotation": _("Append text annotation"), "Add text annotation": _("Add text annotation"),
        "Change element": _("Change element"), "Delete": _("Delete"),
        "Connect using sequence/message flow or association": _("Connect using sequence/message flow or association"),
        "Connect to other element": _("Connect to other element"),
        "Connect using association": _("Connect using association"),
        "Add lane above": _("Add lane above"), "Add lane below": _("Add lane below"),
        "Divide into two lanes": _("Divide into two lanes"), "Divide into three lanes": _("Divide into three lanes"),
        # properties panel
        "General": _("General"), "Name": _("Name"), "ID": _("ID"), "Documentation": _("Documentation"),
        "Element documentation": _("Element documentation"), "Process documentation": _("Process documentation"),
        "Timer": _("Timer"), "Type": _("Type"), "Value": _("Value"), "Condition": _("Condition"),
        "Condition type": _("Condition type"), "Condition Expression": _("Condition expression"),
        "Expression": _("Expression"), "Script": _("Script"), "<none>": _("<none>"), "Message": _("Message"),
        "Global message reference": _("Global message reference"), "Date": _("Date"), "Duration": _("Duration"),
        "Cycle": _("Cycle"), "Executable": _("Executable"), "Version tag": _("Version tag"),
        "Multi-instance": _("Multi-instance"), "Called element": _("Called element"),
        "Signal": _("Signal"), "Escalation": _("Escalation"), "Error": _("Error"), "Link": _("Link"),
        "Element must have an unique id.": _("Element must have an unique id."),
        "ID must not be empty.": _("ID must not be empty."),
        "Properties panel": _("Properties panel"),
        # the panel header's element types
        "User Task": _("User task"), "Start Event": _("Start event"), "End Event": _("End event"),
        "Timer Start Event": _("Timer start event"), "Message End Event": _("Message end event"),
        "Message Intermediate Throw Event": _("Message event"), "Intermediate Throw Event": _("Message event"),
        "Timer Boundary Event": _("Time limit"), "(Non Interrupting) Timer Boundary Event": _("Time limit"),
        "Exclusive Gateway": _("Gateway"), "Parallel Gateway": _("Gateway"), "Sequence Flow": _("Flow"),
        "Lane": _("Lane"), "Participant": _("The process"), "Process": _("The process"),
        "Call Activity": _("Called SOP"),
        # bpmnlint's summary button and overlays
        "{errors} Errors, {warnings} Warnings": _("{errors} Errors, {warnings} Warnings"),
        "No Issues": _("No Issues"), "Toggle linting overlays": _("Toggle linting overlays"),
        "Issues for child elements": _("Issues for child elements"),
    }
