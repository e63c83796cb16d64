"""Request bodies and URLs that no handler should see: refused with a 4xx naming what was wrong.

Python's ``json`` recurses once per nesting level (a body of 100,000 ``[`` is a RecursionError),
turns integers of more than 4,300 digits into a ValueError, reads ``NaN`` and ``1e999`` and keeps
lone surrogates (``"\\ud800"``) that PostgreSQL then refuses. SQLite stores integers of 64 bits,
PostgreSQL's ``integer`` 32. PostgreSQL's ``text`` and ``jsonb`` refuse the NUL character (psycopg raises
before the statement is sent), wherever it comes from: a URL id, a query parameter, a form field or a JSON
string. Every JSON body is therefore read here first (its nesting and numbers checked, every string
encoded and free of NUL), URL integers are bounded, and URLs, query strings and form fields holding a NUL
are refused, before webargs and the commands see them: on both databases alike. webargs then takes the
body as parsed here (:class:`GuardedParser`) instead of parsing it a second time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

import flask_smorest
import orjson
from flask import Flask, Request, current_app, g, request
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter

from service.errors import InvalidInput, NotFound

#: Integers in JSON bodies: what SQLite (and a JSON number in most clients) can hold.
MAX_JSON_INTEGER = 2**63 - 1
#: orjson reads integers outside −2**63 … 2**64 − 1 as floats, all of them at least this large
_ORJSON_FLOAT_FROM_INTEGER = 2.0**63
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
#: where :func:`_guard_json_body` leaves the body it parsed, in ``flask.g``, for :class:`GuardedParser`
_PARSED_BODY = "alur_json_body"
_UNPARSED = object()
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


def _too_deep(max_depth: int) -> str:
    return f"arrays and objects nest deeper than {max_depth} levels"


def _problem(item: Any, depth: int, max_depth: int) -> str | None:
    """Why Alur does not keep ``item``, found ``depth`` levels deep in a parsed body; None if it does."""
    if depth > max_depth:
        return _too_deep(max_depth)
    if isinstance(item, _Huge):
        return f"the number {item.text[:30]} is out of range (integers up to ±{MAX_JSON_INTEGER}, finite decimals)"
    if isinstance(item, str):
        try:
            item.encode("utf-8")
        except UnicodeEncodeError:
            return "contains a lone surrogate (\\ud800–\\udfff), not text"
        if NUL in item:
            return _NUL_MESSAGE
    return None


def _load_checked(raw: bytes, max_depth: int, root: str) -> Any:
    """:func:`load_json` with the stdlib, whose hooks see every number as written."""
    try:
        parsed = json.loads(raw, parse_int=_integer, parse_float=_float, parse_constant=_Huge)
    except RecursionError as exc:
        raise _refuse(root or "body", _too_deep(max_depth)) from exc
    for where, depth, item in _walk(parsed):
        message = _problem(item, depth, max_depth)
        if message:
            raise _refuse(".".join(filter(None, (root, where))) or "body", message)
    return parsed


def _read_otherwise(item: Any) -> bool:
    """Whether orjson may have read ``item`` otherwise than :func:`_load_checked` would: an integer past
    :data:`MAX_JSON_INTEGER` (refused there), or a float of 2**63 or more (orjson reads an integer past 64
    bits as a float)."""
    if isinstance(item, bool):
        return False
    if isinstance(item, int):
        return abs(item) > MAX_JSON_INTEGER
    return isinstance(item, float) and abs(item) >= _ORJSON_FLOAT_FROM_INTEGER


def load_json(raw: bytes, max_depth: int, root: str = "") -> Any:
    """Parse JSON that Alur may keep; :class:`InvalidInput` names the field (under ``root``) that is
    nested too deep, out of range or not text; :class:`ValueError` when ``raw`` is not JSON at all.

    orjson reads the body first (the stdlib calls a hook for every number); a body it refuses, or whose
    reading holds anything to refuse or doubt, is read again by :func:`_load_checked`, which decides and
    names the field: both ways accept the same bodies with the same values
    (``tests/security/test_json_body_parsing.py``).
    """
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _load_checked(raw, max_depth, root)
    for _, depth, item in _walk(parsed):
        if _problem(item, depth, max_depth) or _read_otherwise(item):
            return _load_checked(raw, max_depth, root)
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
            parsed = load_json(raw, max_json_depth())
        except ValueError:
            return  # not JSON (or not UTF-8): the handler's parser answers that with its own 400
        if json.detect_encoding(raw) == "utf-8":  # as webargs decodes it; UTF-16 or a BOM is its 400
            setattr(g, _PARSED_BODY, parsed)


class GuardedParser(FlaskParser):
    """webargs' parser for Flask, taking the JSON body :func:`_guard_json_body` parsed and checked (the
    same value webargs' own ``json.loads`` would return): one parse per request instead of two."""

    def _raw_load_json(self, req: Request) -> Any:
        parsed = g.get(_PARSED_BODY, _UNPARSED)
        return super()._raw_load_json(req) if parsed is _UNPARSED else parsed


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's blueprint reading its views' arguments with :class:`GuardedParser`: every resource
    module of the API builds its blueprint from this class."""

    ARGUMENTS_PARSER = GuardedParser()


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
