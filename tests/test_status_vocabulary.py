"""Statuses are written only through their enums: no bare ``"ready"``, ``"sent"``, ``"draft"``… in service/.

The checker reads the source (``ast``) and flags a string that is one of the enums' values where it is
used as a status: compared with, assigned to or passed as ``status`` (``x.status == "ready"``,
``item.status = "failed"``, ``.values(status="sent")``, ``Case.status.in_(["running"])``, a column or
parameter ``status`` defaulting to ``"active"``), and ``status == 'running'`` in a Jinja template. The
vocabulary is read from the enums themselves, so a new member is guarded at once.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

from service.commands.migrations import MigrationOutcome
from service.engine.states import CaseStatus, TaskStatus
from service.store.states import OutboxStatus, RevisionStatus

SERVICE = Path(__file__).parent.parent / "service"
VOCABULARY = frozenset(member.value for enum in (TaskStatus, CaseStatus, RevisionStatus, OutboxStatus,
                                                 MigrationOutcome) for member in enum)
TEMPLATE_COMPARISON = re.compile(
    r"""\bstatus\s*(?:==|!=)\s*["']([a-z_]+)["']|["']([a-z_]+)["']\s*(?:==|!=)\s*\S*\bstatus\b""")


def _is_status(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "status") or (isinstance(node, ast.Name)
                                                                          and node.id == "status")


def _literals(node: ast.AST | None) -> Iterator[tuple[int, str]]:
    """(line, string) of the vocabulary in ``node``: a constant, or the constants of a tuple, list or set."""
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    for item in items:
        if isinstance(item, ast.Constant) and isinstance(item.value, str) and item.value in VOCABULARY:
            yield item.lineno, item.value


def _defaults(call: ast.AST | None) -> Iterator[tuple[int, str]]:
    if isinstance(call, ast.Call):
        for keyword in call.keywords:
            if keyword.arg in ("default", "server_default"):
                yield from _literals(keyword.value)


def bare_statuses(source: str) -> list[tuple[int, str]]:
    """(line, literal) of each status written as a bare string in a Python module."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        literals: list[tuple[int, str]] = []
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_status(side) for side in sides):
                literals = [literal for side in sides for literal in _literals(side)]
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if _is_status(target):
                    literals += [*_literals(node.value), *_defaults(node.value)]
                elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    literals += [literal for element, value in zip(target.elts, node.value.elts, strict=False)
                                 if _is_status(element) for literal in _literals(value)]
        elif isinstance(node, ast.Call):
            literals = [literal for keyword in node.keywords if keyword.arg == "status"
                        for literal in _literals(keyword.value)]
            if isinstance(node.func, ast.Attribute) and node.func.attr == "in_" and _is_status(node.func.value):
                literals += [literal for argument in node.args for literal in _literals(argument)]
        elif isinstance(node, ast.arguments):
            positional = [*node.posonlyargs, *node.args]
            pairs = [*zip(positional[len(positional) - len(node.defaults):], node.defaults, strict=True),
                     *zip(node.kwonlyargs, node.kw_defaults, strict=True)]
            literals = [literal for argument, default in pairs if argument.arg == "status"
                        for literal in _literals(default)]
        found += literals
    return found


def test_service_writes_no_bare_status_string() -> None:
    offences = [f"{path.relative_to(SERVICE.parent)}:{line}: {literal!r}"
                for path in sorted(SERVICE.rglob("*.py")) if "migrations" not in path.parts
                for line, literal in bare_statuses(path.read_text(encoding="utf-8"))]
    assert offences == [], "use TaskStatus, CaseStatus, RevisionStatus, OutboxStatus or MigrationOutcome"


def test_templates_compare_statuses_through_the_enums() -> None:
    offences = [f"{path.relative_to(SERVICE.parent)}:{number}: {line.strip()}"
                for path in sorted(SERVICE.rglob("*.html"))
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                for match in TEMPLATE_COMPARISON.finditer(line) if (match[1] or match[2]) in VOCABULARY]
    assert offences == [], "the enums are Jinja globals: task.status == TaskStatus.READY"


def test_the_checker_finds_each_kind_of_bare_status() -> None:
    """The checker itself can fail: one offence per form it knows, and none for the enum forms."""
    probe = """
if task.status == "ready": pass
if "running" != case.status: pass
if status in ("movable", "migrated", "elsewhere"): pass
item.status = "failed"
item.status, item.lease_until = "skipped", None
update(OutboxItem).values(status="sent")
select(Case).where(Case.status.in_(["cancelled"]))
status: Mapped[str] = mapped_column(String(20), default="active")
def render(version: int = 1, status: str = "draft") -> None: pass
ok = task.status == TaskStatus.READY.value and health == {"status": "ready"} and self.status == "mine"
"""
    assert sorted(literal for _, literal in bare_statuses(probe)) == sorted(
        ["ready", "running", "movable", "migrated", "failed", "skipped", "sent", "cancelled", "active", "draft"])
    assert TEMPLATE_COMPARISON.search("{% if case.status == 'running' %}")
    assert not TEMPLATE_COMPARISON.search("{% if case.status == CaseStatus.RUNNING %}")
