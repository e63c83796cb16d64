"""DMN decision tables deployed with a diagram (Camunda 7 ``businessRuleTask`` + ``camunda:decisionRef``).

A DMN file is read with the same hardened XML parser as a diagram (:mod:`service.engine.safe_xml`)
and holds exactly one decision with one decision table (what SpiffWorkflow's DMN engine runs). Every
expression of the table (input expressions, input entries, output entries) goes through the one
expression checker of gateway conditions (:func:`service.engine.deploy_checks.expression_issue`), in
the form SpiffWorkflow's ``DMNEngine`` will evaluate it: an input entry ``"informasi"`` becomes
``(jenis) == ("informasi")``, ``< 5`` becomes ``jenis < 5``, and ``?`` stands for the input's value.
At run time the decision is evaluated by the case's restricted script engine.

The output columns' ``name`` are the case variables the decision sets (a gateway after the business
rule task routes on them).
"""

from __future__ import annotations

import ast
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from lxml import etree

from service.engine.deploy_checks import NS, CheckContext, camunda, expression_issue, issue
from service.engine.safe_xml import parse_xml
from service.errors import ErrorDetail, InvalidDiagram

#: the DMN versions SpiffWorkflow validates (1.1, 1.2, 1.3: dmn-js writes 1.3)
DMN_NAMESPACES = frozenset({
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
})
#: a decision id is also a file name in the decisions directory: never a path
DECISION_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,199}$")
#: SpiffWorkflow runs UNIQUE (the first matching rule), COLLECT (lists of every match) and, by taking
#: the first match, FIRST; the other policies would silently act as FIRST, so they are refused
HIT_POLICIES = ("UNIQUE", "FIRST", "COLLECT")
#: an output column's name is a case variable
_VARIABLE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,99}$")
#: SpiffWorkflow's DMNEngine: a ``?`` outside quotes stands for the input's value
_INPUT_MARK = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")
_INPUT_NAME = "dmninputexpr"


@dataclass(frozen=True)
class Decision:
    """One DMN file: its decision's id and name, and the parsed tree."""

    decision_id: str
    name: str
    root: etree._Element

    @property
    def namespace(self) -> str:
        return etree.QName(self.root).namespace or ""

    def tag(self, local: str) -> str:
        return f"{{{self.namespace}}}{local}"


def _refuse(source: str, message: str, element: etree._Element | None = None) -> InvalidDiagram:
    return InvalidDiagram(f"DMN file {source}: {message}", [{
        "field": "dmn", "element_id": element.get("id") if element is not None else None,
        "line": element.sourceline if element is not None else None, "message": message}])


def read(data: bytes, source: str) -> Decision:
    """Parse one DMN file (``source`` names it in errors); :class:`InvalidDiagram` if it is not one
    decision with one decision table."""
    try:
        root = parse_xml(data).getroot()
    except InvalidDiagram as exc:
        raise InvalidDiagram(f"DMN file {source}: {exc.message}",
                             [{**detail, "field": "dmn"} for detail in exc.details]) from exc
    name = etree.QName(root)
    if name.localname != "definitions" or name.namespace not in DMN_NAMESPACES:
        raise _refuse(source, "the root element must be dmn:definitions (DMN 1.1, 1.2 or 1.3)", root)
    decisions = root.findall(f"{{{name.namespace}}}decision")
    if len(decisions) != 1:
        raise _refuse(source, f"a DMN file must hold exactly one decision (it has {len(decisions)})", root)
    decision = decisions[0]
    decision_id = decision.get("id") or ""
    if not DECISION_ID.match(decision_id):
        raise _refuse(source, f"the decision id {decision_id[:60]!r} must be letters, digits, '_' or '-' "
                              "(at most 200), starting with a letter or '_'", decision)
    tables = decision.findall(f"{{{name.namespace}}}decisionTable")
    if len(tables) != 1:
        raise _refuse(source, f"decision '{decision_id}' needs exactly one decisionTable "
                              "(literal expressions and required decisions are not supported)", decision)
    return Decision(decision_id, decision.get("name") or decision_id, root)


def read_all(files: Mapping[str, bytes]) -> dict[str, Decision]:
    """Decision id → decision of each file; two files of one decision id are refused."""
    found: dict[str, Decision] = {}
    for source, data in files.items():
        decision = read(data, source)
        if decision.decision_id in found:
            raise _refuse(source, f"decision '{decision.decision_id}' is in two DMN files", decision.root)
        found[decision.decision_id] = decision
    return found


def _text(element: etree._Element | None, decision: Decision) -> str | None:
    node = element.find(decision.tag("text")) if element is not None else None
    return node.text if node is not None else None


def entry_expression(input_expression: str, entry: str) -> str:
    """The expression SpiffWorkflow's DMNEngine evaluates for an input entry of a rule."""
    marked = _INPUT_MARK.sub(_INPUT_NAME, entry)
    if _INPUT_NAME in marked:
        return marked
    try:
        ast.parse(entry)
    except SyntaxError:
        return input_expression + entry
    return f"({input_expression}) == ({entry})"


def problems(decision: Decision, context: CheckContext) -> list[ErrorDetail]:
    """Every problem of a decision table, each naming the decision (and the rule, by id and number)."""
    table = decision.root.find(f"{decision.tag('decision')}/{decision.tag('decisionTable')}")
    assert table is not None  # read() checked it
    label = f"Decision '{decision.decision_id}'"
    found: list[ErrorDetail] = []
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in HIT_POLICIES or table.get("aggregation"):
        aggregated = " with aggregation" if table.get("aggregation") else ""
        found.append(issue(table, f"{label}: hit policy {policy}{aggregated} is not supported "
                                  f"(use {', '.join(HIT_POLICIES)})"))
    inputs: list[str] = []
    for position, column in enumerate(table.findall(decision.tag("input")), start=1):
        text = _text(column.find(decision.tag("inputExpression")), decision)
        what = f"{label}, input {position} ('{column.get('label') or column.get('id')}')"
        if text is None or not text.strip():
            found.append(issue(column, f"{what}: the input expression is empty (name the case variable it reads)"))
        else:
            found += expression_issue(column, text, what, context)
        inputs.append((text or "").strip())
    for column in table.findall(decision.tag("output")):
        if not _VARIABLE.match(column.get("name") or ""):
            found.append(issue(column, f"{label}, output '{column.get('label') or column.get('id')}': its name "
                                       f"{(column.get('name') or '')[:60]!r} must be a case variable (letters, digits, "
                                       "'_', starting with a letter)"))
    for number, rule in enumerate(table.findall(decision.tag("rule")), start=1):
        what = f"{label}, rule {number} ('{rule.get('id')}')"
        entries = rule.findall(decision.tag("inputEntry"))
        if len(entries) != len(inputs):
            found.append(issue(rule, f"{what}: {len(entries)} input entries for {len(inputs)} inputs"))
            continue
        for column, (entry, source) in enumerate(zip(entries, inputs, strict=True), start=1):
            text = (_text(entry, decision) or "").strip()
            if text in ("", "-") or not source:
                continue
            expression = entry_expression(source, text)
            if expression == source + text and (text[0].isalnum() or text[0] == "_"):
                # SpiffWorkflow glues such an entry to the input ("kategoriin [...]"): a different expression
                found.append(issue(rule, f"{what}, input entry {column}: write {text[:40]!r} with the input mark, "
                                         f"e.g. '? {text[:30]}'"))
                continue
            found += expression_issue(rule, expression, f"{what}, input entry {column}", context)
        outputs = rule.findall(decision.tag("outputEntry"))
        if len(outputs) != len(table.findall(decision.tag("output"))):
            found.append(issue(rule, f"{what}: the number of output entries is not the number of outputs"))
            continue
        for column, entry in enumerate(outputs, start=1):
            text = (_text(entry, decision) or "").strip()
            if text:
                found += expression_issue(rule, text, f"{what}, output entry {column}", context)
    return found


def checksum(decisions: Mapping[str, str]) -> bytes:
    """What the revision checksum adds for its decisions (nothing without any: older checksums stay)."""
    if not decisions:
        return b""
    digest = hashlib.sha256()
    for decision_id in sorted(decisions):
        digest.update(decision_id.encode() + b"\0" + decisions[decision_id].encode("utf-8") + b"\0")
    return digest.hexdigest().encode()


def decision_refs(root: etree._Element) -> Iterable[str]:
    """The decisions a diagram's business rule tasks name."""
    for task in root.xpath("//bpmn:businessRuleTask", namespaces=NS):
        ref = task.get(camunda("decisionRef"))
        if ref:
            yield ref
