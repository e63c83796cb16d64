"""The safe expression language of gateway conditions, timers and message payloads.

Expressions are Python syntax over case data, but only a whitelisted subset of the grammar:
literals, names, comparisons, boolean logic, arithmetic without ``**``, subscripts and calls of
the few functions Alur provides (``hari_kerja``, ``jam_kerja``, ``len`` …). No attribute access,
no imports, no builtins, no comprehensions, bounded size. The whitelist is checked at deploy time
(so an unsafe diagram is refused with the element id) and again before every evaluation, and the
evaluation itself runs in simpleeval with its own limits as a second fence.

Timer texts may also be bare ISO 8601 (``PT10M``, ``P14D``, ``R/P6M``, ``2026-01-01T08:00:00+07:00``),
returned unchanged, and a JUEL-style ``${…}`` wrapper is accepted for simple comparisons.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from typing import Any

from simpleeval import EvalWithCompoundTypes, InvalidExpression

from service.errors import ExpressionError

MAX_EXPRESSION_LENGTH = 2000
MAX_NODES = 200

_ISO_DURATION = r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?"
_ISO_DATETIME = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
ISO_LITERAL = re.compile(
    rf"^\s*(?:{_ISO_DURATION}|{_ISO_DATETIME}|R\d*/(?:{_ISO_DATETIME}/)?{_ISO_DURATION}(?:/{_ISO_DATETIME})?)\s*$"
)
_JUEL = re.compile(r"^\s*\$\{(?P<body>.*)\}\s*$", re.DOTALL)

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.BoolOp, ast.And, ast.Or, ast.UnaryOp, ast.Not, ast.USub, ast.UAdd,
    ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Mod, ast.FloorDiv,
    ast.Compare, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
    ast.Constant, ast.Name, ast.Load, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.Subscript, ast.Slice,
    ast.IfExp, ast.Call,
)

#: Functions every expression may call, besides the calendar functions of the case's unit.
BASE_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "abs": abs,
    "min": min,
    "max": max,
    "lower": lambda s: str(s).lower(),
}
#: Names of functions supplied per case (see ``calendar``); allowed at deploy time.
CALENDAR_FUNCTIONS = ("hari_kerja", "jam_kerja")


def _translate_juel(text: str) -> str:
    match = _JUEL.match(text)
    if match is None:
        return text
    body = match.group("body")
    if "${" in body or "#{" in body:
        raise ExpressionError(
            "Nested JUEL is not supported: write the condition in Python, e.g. jenis == \"informasi\""
        )
    body = body.replace("&&", " and ").replace("||", " or ")
    body = re.sub(r"!(?!=)", " not ", body)
    return re.sub(r"\b(eq|ne)\b", lambda m: "==" if m.group(1) == "eq" else "!=", body)


def normalize(text: str | None) -> str:
    """The Python source an expression text stands for (JUEL unwrapped, whitespace trimmed)."""
    if text is None or not text.strip():
        raise ExpressionError("The expression is empty")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"The expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    return _translate_juel(text).strip()


def check(text: str | None, allowed_functions: tuple[str, ...] = ()) -> str:
    """Validate an expression and return its normalized source; raise :class:`ExpressionError`."""
    source = normalize(text)
    if ISO_LITERAL.match(source):
        return source
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"Syntax error in expression {source!r}: {exc.msg}") from exc
    callable_names = set(BASE_FUNCTIONS) | set(CALENDAR_FUNCTIONS) | set(allowed_functions)
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise ExpressionError(f"The expression is too complex (more than {MAX_NODES} parts)")
    for node in nodes:
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(f"{_describe(node)} is not allowed in expression {source!r}")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExpressionError(f"Names starting with '_' are not allowed: {node.id}")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in callable_names and not node.keywords
        ):
            raise ExpressionError(
                f"Only these functions may be called: {', '.join(sorted(callable_names))}"
            )
    return source


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Pow):
        return "The power operator **"
    if isinstance(node, ast.Attribute):
        return "Attribute access (a.b)"
    if isinstance(node, ast.Lambda | ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        return "Lambdas and comprehensions"
    return f"The construct {type(node).__name__}"


def evaluate(
    text: str | None,
    names: Mapping[str, Any],
    functions: Mapping[str, Callable[..., Any]] | None = None,
) -> Any:
    """Evaluate an expression over ``names`` (the case data) with the allowed functions."""
    source = check(text, tuple(functions or ()))
    if ISO_LITERAL.match(source):
        return source
    evaluator = EvalWithCompoundTypes(
        names=dict(names), functions={**BASE_FUNCTIONS, **(functions or {})}
    )
    try:
        return evaluator.eval(source)
    except InvalidExpression as exc:
        raise ExpressionError(f"Expression {source!r} failed: {exc}") from exc
    except (ArithmeticError, TypeError, ValueError, KeyError, IndexError) as exc:
        raise ExpressionError(f"Expression {source!r} failed: {type(exc).__name__}: {exc}") from exc
