"""Flask's JSON answers and ``tojson`` written by orjson, parsing to what Flask's own provider writes.

Flask's :class:`~flask.json.provider.DefaultJSONProvider` encodes with the stdlib ``json``: 3 % of a
worker's Python time under the complaint benchmark. orjson writes the same values with sorted keys, as
Flask does; dates, datetimes and dataclasses go through Flask's ``default`` (datetimes as HTTP dates, not
ISO). The text differs only where both are valid JSON of the same value: UTF-8 instead of ``\\u``
escapes, float spelling (``1e16`` for ``1e+16``). What orjson refuses (integers past 64 bits, lone
surrogates, keys that are not strings) and calls with keywords orjson has no equal for are written by the
stdlib, as before. orjson writes otherwise only what was no JSON or no answer before: a float that is not
finite (``null``; the stdlib wrote ``NaN``, which JSON has not) and an enumeration member that is no
``str`` or ``int`` (its value; the stdlib raised).
"""

from __future__ import annotations

from typing import Any, cast

import orjson
from flask import Response
from flask.json.provider import DefaultJSONProvider
from werkzeug.sansio.response import Response as SansIOResponse

#: ``dumps`` keywords orjson can honour; any other (``default``, ``ensure_ascii``, ``cls``…) → stdlib.
_ORJSON_KEYWORDS = frozenset({"sort_keys", "indent", "separators"})
_ALWAYS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class OrjsonProvider(DefaultJSONProvider):
    """Flask's default provider (same ``default``, key order, mimetype, newline) with orjson encoding."""

    def _options(self, kwargs: dict[str, Any]) -> int | None:
        """orjson's options for a ``json.dumps`` call with ``kwargs``, or None when orjson has no equal."""
        indent = kwargs.get("indent")
        if not kwargs.keys() <= _ORJSON_KEYWORDS or indent not in (None, 2):
            return None
        option = _ALWAYS
        if kwargs.get("sort_keys", self.sort_keys):
            option |= orjson.OPT_SORT_KEYS
        if indent:
            option |= orjson.OPT_INDENT_2
        return option

    def _encoded(self, obj: Any, kwargs: dict[str, Any]) -> bytes | None:
        """``obj`` as UTF-8 JSON, or None when the stdlib must write it."""
        option = self._options(kwargs)
        if option is None:
            return None
        try:
            return orjson.dumps(obj, default=self.default, option=option)
        except orjson.JSONEncodeError:
            return None  # the stdlib writes it, or raises its own TypeError

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        encoded = self._encoded(obj, kwargs)
        return super().dumps(obj, **kwargs) if encoded is None else encoded.decode()

    def response(self, *args: Any, **kwargs: Any) -> SansIOResponse:
        """As Flask's: indented in debug mode (or with ``compact = False``), one trailing newline."""
        indented = (self.compact is None and self._app.debug) or self.compact is False
        encoded = self._encoded(self._prepare_response_obj(args, kwargs), {"indent": 2 if indented else None})
        if encoded is None:
            return super().response(*args, **kwargs)
        response_class = cast(type[Response], self._app.response_class)  # typed as sans-IO's
        return response_class(encoded + b"\n", mimetype=self.mimetype)
