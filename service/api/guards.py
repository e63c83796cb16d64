"""Request bodies and URLs that no handler should see: refused with a 4xx naming what was wrong.

Python's ``json`` recurses once per nesting level (a body of 100,000 ``[`` is a RecursionError),
turns integers of more than 4,300 digits into a ValueError, reads ``NaN`` and ``1e999`` and keeps
lone surrogates (``"\\ud800"``) that PostgreSQL then refuses. SQLite stores integers of 64 bits,
PostgreSQL's ``integer`` 32. Every JSON body is therefore read here first (its nesting and numbers
checked, every string encoded), and URL integers are bounded, before webargs and the commands see them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from flask import Flask, current_app, request
from werkzeug.routing import IntegerConverter

from service.errors import InvalidInput

#: Integers in JSON bodies: what SQLite (and a JSON number in most clients) can hold.
MAX_JSON_INTEGER = 2**63 - 1
#: Integers in URLs (``/versions/<int:number>``) and version fields: PostgreSQL's ``integer`` columns.
MAX_INTEGER_COLUMN = 2**31 - 1


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` that does not match past :data:`MAX_INTEGER_COLUMN` (a 404, not a database error)."""

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_INTEGER_COLUMN)
        super().__init__(url_map, *args, **kwargs)


class _Huge:
    """A number the parser met that Alur does not accept; reported with its place in the body."""

    def __init__(self, text: str) -> None:
        self.text = text


def _refuse(field: str, message: str) -> InvalidInput:
    # the path may itself hold the lone surrogate it names: shown escaped, and not too long
    name = field.encode("utf-8", "backslashreplace").decode("utf-8")[:200]
    return InvalidInput(f"The request body is not accepted: {name}: {message}",
                        [{"field": name, "message": message}])


def _integer(text: str) -> int | _Huge:
    if len(text.lstrip("-")) > 19:
        return _Huge(text)
    value = int(text)
    return value if abs(value) <= MAX_JSON_INTEGER else _Huge(text)


def _float(text: str) -> float | _Huge:
    value = float(text)
    return value if math.isfinite(value) else _Huge(text)


def _walk(value: Any) -> Iterator[tuple[str, int, Any]]:
    """Every key and value with its dotted path and nesting depth, depth-first, without recursion."""
    pending: list[tuple[str, int, Any]] = [("", 0, value)]
    while pending:
        where, depth, item = pending.pop()
        yield where, depth, item
        if isinstance(item, dict):
            for key, child in item.items():
                path = f"{where}.{key}" if where else str(key)
                yield path, depth + 1, key
                pending.append((path, depth + 1, child))
        elif isinstance(item, list):
            pending.extend((f"{where}[{index}]", depth + 1, child) for index, child in enumerate(item))


def load_json(raw: bytes, max_depth: int, root: str = "") -> Any:
    """Parse JSON that Alur may keep; :class:`InvalidInput` names the field (under ``root``) that is
    nested too deep, out of range or not text; :class:`ValueError` when ``raw`` is not JSON at all."""
    try:
        parsed = json.loads(raw, parse_int=_integer, parse_float=_float, parse_constant=_Huge)
    except RecursionError as exc:
        raise _refuse(root or "body", f"arrays and objects nest deeper than {max_depth} levels") from exc
    for where, depth, item in _walk(parsed):
        field = ".".join(filter(None, (root, where))) or "body"
        if depth > max_depth:
            raise _refuse(field, f"arrays and objects nest deeper than {max_depth} levels")
        if isinstance(item, _Huge):
            raise _refuse(field, f"the number {item.text[:30]} is out of range (integers up to "
                                 f"±{MAX_JSON_INTEGER}, finite decimals)")
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise _refuse(field, "contains a lone surrogate (\\ud800–\\udfff), not text") from exc
    return parsed


def max_json_depth() -> int:
    depth: int = current_app.config["ALUR_MAX_JSON_DEPTH"]
    return depth


def _guard_json_body() -> None:
    if request.is_json and request.content_length != 0:
        raw = request.get_data(cache=True)
        if not raw:
            return  # no body (a GET sent with a JSON content type): nothing to parse
        try:
            load_json(raw, max_json_depth())
        except ValueError:
            return  # not JSON (or not UTF-8): the handler's parser answers that with its own 400


def init_app(app: Flask, max_depth: int) -> None:
    """Before any route is added: bounded URL integers; and a look at every JSON body."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.config["ALUR_MAX_JSON_DEPTH"] = max_depth
    app.before_request(_guard_json_body)
