"""The safe expression language of gateway conditions, timers and message payloads.

Expressions are Python syntax over case data, but only a whitelisted subset of the grammar:
literals, names, comparisons, boolean logic, arithmetic without ``**``, subscripts and calls of
the few functions Alur provides (``hari_kerja``, ``jam_kerja``, ``menit_kerja``, ``len`` …). No attribute access,
no imports, no builtins, no comprehensions, bounded size. The whitelist is checked at deploy time
(so an unsafe diagram is refused with the element id) and again before every evaluation, and the
evaluation itself runs in simpleeval with its own limits as a second fence.

Timer texts may also be bare ISO 8601 (``PT10M``, ``P14D``, ``R/P6M``, ``2026-01-01T08:00:00+07:00``),
returned unchanged, and a JUEL-style ``${…}`` wrapper is accepted for simple comparisons.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from simpleeval import DEFAULT_OPERATORS, EvalWithCompoundTypes, InvalidExpression

from service.engine import limits
from service.errors import ExpressionError, LimitExceeded

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
CALENDAR_FUNCTIONS = ("hari_kerja", "jam_kerja", "menit_kerja", "hari_kalender")


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
    return _checked(text, tuple(allowed_functions), limits.current())[0]


@functools.lru_cache(maxsize=4096)
def _checked(text: str | None, allowed_functions: tuple[str, ...], bound: limits.Limits) -> tuple[str, ast.expr | None]:
    """The normalized source of a valid expression and its syntax tree (``None`` for an ISO 8601 literal).

    Cached by the text, the allowed functions and the limits in force (a failure is not cached and
    raises again): a timer's expression is evaluated on every pass of the engine over its task.
    The trees are shared between threads; nothing changes them.
    """
    source = normalize(text)
    if ISO_LITERAL.match(source):
        return source, None
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
        if isinstance(node, ast.Constant) and isinstance(node.value, int) and \
                node.value.bit_length() > bound.expression_max_int_bits:
            raise LimitExceeded(f"An integer in expression {source[:80]!r} has more than "
                                f"{bound.expression_max_int_digits} digits")
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in callable_names and not node.keywords
        ):
            raise ExpressionError(
                f"Only these functions may be called: {', '.join(sorted(callable_names))}"
            )
    return source, tree.body


def is_constant(source: str) -> bool:
    """An expression of literals and base functions only (no case data, no calendar): evaluable at deploy."""
    if ISO_LITERAL.match(source):
        return False
    tree = ast.parse(source, mode="eval")
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return all(
        not isinstance(node, ast.Name) or (id(node) in called and node.id in BASE_FUNCTIONS)
        for node in ast.walk(tree)
    )


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
    """Evaluate an expression over ``names`` (the case data) with the allowed functions.

    What the expression builds is bounded by :mod:`service.engine.limits` (string and rendered size,
    items, integer digits): a bomb stops with :class:`LimitExceeded` before it takes the memory.
    """
    source, tree = _checked(text, tuple(functions or ()), limits.current())
    if tree is None:
        return source
    bounded = {name: _bounded_function(name, fn) for name, fn in {**BASE_FUNCTIONS, **(functions or {})}.items()}
    with _evaluator(dict(names), bounded) as evaluator:
        try:
            return evaluator.eval(source, previously_parsed=tree)
        except LimitExceeded as exc:
            raise LimitExceeded(f"Expression {source!r} stopped: {exc.message}") from exc
        except InvalidExpression as exc:
            raise ExpressionError(f"Expression {source!r} failed: {exc}") from exc
        except (ArithmeticError, TypeError, ValueError, KeyError, IndexError, RecursionError) as exc:
            raise ExpressionError(f"Expression {source!r} failed: {type(exc).__name__}: {exc}") from exc


# --- bounds on what an expression builds -----------------------------------------------------------------

#: Functions whose result is as big as the text of their argument: the argument is measured first.
_RENDERING = frozenset({"str", "lower"})
#: A %-conversion: mapping key, flags, width, precision, length modifier, type.
_CONVERSION = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)", re.DOTALL)
#: Characters a %-conversion may add besides its width and precision (a float's integer part).
_CONVERSION_SLACK = 330


def _check_int(value: int) -> None:
    bound = limits.current()
    if value.bit_length() > bound.expression_max_int_bits:
        raise LimitExceeded(f"an integer has more than {bound.expression_max_int_digits} digits")


def size_of(value: Any, ceiling: int) -> int:
    """The rendered size of ``value``: characters of its strings, digits of its integers, one per item.

    Shared references count each time (``str`` renders them each time); the walk stops past ``ceiling``.
    """
    total = 0
    pending: list[Iterator[Any]] = [iter((value,))]
    while pending and total <= ceiling:
        item = next(pending[-1], _DONE)
        if item is _DONE:
            pending.pop()
        elif isinstance(item, str | bytes):
            total += len(item) + 2
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1
        elif isinstance(item, Mapping):
            total += 2 + 2 * len(item)
            pending.append(iter(item.keys()))
            pending.append(iter(item.values()))
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + len(item)
            pending.append(iter(item))
        else:
            total += 1
    return total


_DONE = object()


def _check_size(value: Any, what: str = "a value") -> Any:
    bound = limits.current()
    if isinstance(value, int) and not isinstance(value, bool):
        _check_int(value)
    elif isinstance(value, list | tuple | set | frozenset | dict) and len(value) > bound.expression_max_items:
        raise LimitExceeded(f"{what} has more than {bound.expression_max_items} items")
    elif size_of(value, bound.expression_max_chars) > bound.expression_max_chars:
        raise LimitExceeded(f"{what} is longer than {bound.expression_max_chars} characters")
    return value


def _bounded_mult(left: Any, right: Any) -> Any:
    bound = limits.current()
    for sequence, times in ((left, right), (right, left)):
        if isinstance(times, int) and isinstance(sequence, str | list | tuple):
            count = max(times, 0)
            if isinstance(sequence, str) and len(sequence) * count > bound.expression_max_chars:
                raise LimitExceeded(f"a repeated string would be longer than {bound.expression_max_chars} "
                                    "characters")
            if not isinstance(sequence, str) and len(sequence) * count > bound.expression_max_items:
                raise LimitExceeded(f"a repeated sequence would have more than {bound.expression_max_items} items")
            if size_of(sequence, bound.expression_max_chars) * count > bound.expression_max_chars:
                raise LimitExceeded(f"a repeated sequence would be longer than {bound.expression_max_chars} "
                                    "characters")
    if isinstance(left, int) and isinstance(right, int) and \
            left.bit_length() + right.bit_length() > bound.expression_max_int_bits + 1:
        raise LimitExceeded(f"a product would have more than {bound.expression_max_int_digits} digits")
    return _check_size(left * right, "a product")


def _bounded_add(left: Any, right: Any) -> Any:
    bound = limits.current()
    if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple) and \
            len(left) + len(right) > bound.expression_max_chars:
        raise LimitExceeded(f"a sum would be longer than {bound.expression_max_chars} characters")
    return _check_size(left + right, "a sum")


def _bounded_mod(left: Any, right: Any) -> Any:
    """``%``: on text, the conversions' widths and precisions and the arguments are measured first."""
    if not isinstance(left, str):
        return _check_size(left % right, "a remainder")
    bound = limits.current()
    conversions = list(_CONVERSION.finditer(left))
    if any("*" in (match.group(1) or "") + (match.group(2) or "") for match in conversions):
        raise LimitExceeded("a %-format may not take its width or precision from an argument (*)")
    widths = sum(int(match.group(1) or 0) + int(match.group(2) or 0) for match in conversions)
    arguments = size_of(right, bound.expression_max_chars)
    estimate = len(left) + widths + len(conversions) * (arguments + _CONVERSION_SLACK)
    if estimate > bound.expression_max_chars:
        raise LimitExceeded(f"a %-format could be longer than {bound.expression_max_chars} characters")
    return _check_size(left % right, "a %-format")


def _bounded_function(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        if name in _RENDERING:
            for argument in args:
                _check_size(argument, f"the argument of {name}()")
        return _check_size(function(*args), f"the result of {name}()")

    return call


class _BoundedEval(EvalWithCompoundTypes):
    """simpleeval with every growing operation bounded: ``*``, ``+``, ``%``, calls and literals.

    Its names and functions are set for each evaluation by :func:`_evaluator` (the functions are
    Alur's own, wrapped by :func:`_bounded_function`, never the diagram's).
    """

    _BUILDERS = (ast.List, ast.Tuple, ast.Dict, ast.Set)

    def __init__(self) -> None:
        operators = {**DEFAULT_OPERATORS, ast.Mult: _bounded_mult, ast.Add: _bounded_add, ast.Mod: _bounded_mod}
        super().__init__(operators=operators, names={}, functions={})

    def _eval(self, node: ast.AST) -> Any:
        result = super()._eval(node)
        if isinstance(node, self._BUILDERS):
            _check_size(result, "a literal")
        return result


#: Each thread's idle evaluators. Building one costs more than evaluating a short expression
#: (simpleeval sets up its dispatch table and resets the warnings filters in ``__init__``).
_idle = threading.local()


@contextlib.contextmanager
def _evaluator(names: dict[str, Any], functions: dict[str, Callable[..., Any]]) -> Iterator[_BoundedEval]:
    """An evaluator of this thread with these names and functions, taken back (emptied) afterwards;
    an evaluation inside an evaluation gets one of its own."""
    spare: list[_BoundedEval] = _idle.__dict__.setdefault("evaluators", [])
    evaluator = spare.pop() if spare else _BoundedEval()
    evaluator.names, evaluator.functions = names, functions
    try:
        yield evaluator
    finally:
        evaluator.names, evaluator.functions = {}, {}
        spare.append(evaluator)
