"""Request bodies and URLs that no handler should see: refused with a 4xx naming what was wrong.

Python's ``json`` recurses once per nesting level (a body of 100,000 ``[`` is a RecursionError),
turns integers of more than 4,300 digits into a ValueError, reads ``NaN`` and ``1e999`` and keeps
lone surrogates (``"\\ud800"``) that PostgreSQL then refuses. SQLite stores integers of 64 bits,
PostgreSQL's ``integer`` 32. PostgreSQL's ``text`` and ``jsonb`` refuse the NUL character (psycopg raises
before the statement is sent), wherever it comes from: a URL id, a query parameter, a form field or a JSON
string. Every JSON body is therefore read here first (its nesting and numbers checked, every string
encoded and free of NUL), URL integers are bounded, and URLs, query strings and form fields holding a NUL
are refused, before webargs and the commands see them: on both databases alike.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Flask, current_app, request
from werkzeug.routing import IntegerConverter

from service.errors import InvalidInput, NotFound

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


#: What PostgreSQL cannot store in text or jsonb, and no person types.
NUL = "\x00"
_NUL_MESSAGE = "contains a NUL character (\\u0000), not text"
_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


def _shown(field: str) -> str:
    """``field`` as it can be shown and logged: a lone surrogate or a NUL escaped, and not too long."""
    return field.encode("utf-8", "backslashreplace").decode("utf-8").replace(NUL, "\\0")[:200]


def _refuse(field: str, message: str, what: str = "The request body") -> InvalidInput:
    name = _shown(field)
    return InvalidInput(f"{what} is not accepted: {name}: {message}", [{"field": name, "message": message}])


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
            if NUL in item:
                raise _refuse(field, _NUL_MESSAGE)
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


def _guard_nul() -> None:
    """A URL holding a NUL names nothing (404); a query parameter or form field holding one is refused
    with its name (422). Uploaded files' contents may hold NUL (they are bytes); their names may not."""
    if NUL in request.path:
        raise NotFound("No such resource: the URL contains a NUL character")
    query = request.query_string
    if b"%00" in query or NUL.encode() in query:
        _refuse_nul_in("query parameter", request.args.items(multi=True))
    if request.mimetype in _FORM_TYPES:
        _refuse_nul_in("form field", request.form.items(multi=True))
        files = request.files.items(multi=True)
        _refuse_nul_in("file name", ((name, upload.filename or "") for name, upload in files))


def _refuse_nul_in(what: str, pairs: Iterable[tuple[str, str]]) -> None:
    for name, value in pairs:
        if NUL in name or NUL in value:
            raise _refuse(name, _NUL_MESSAGE, f"The {what}")


def init_app(app: Flask, max_depth: int) -> None:
    """Before any route is added: bounded URL integers; and a look at every URL, query, form and JSON
    body."""
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.config["ALUR_MAX_JSON_DEPTH"] = max_depth
    app.before_request(_guard_nul)
    app.before_request(_guard_json_body)
