"""How JSON columns are written and read: orjson, with the stdlib where orjson would differ from it.

Both dialects write through :func:`dumps` (SQLAlchemy's ``json_serializer``) and read through :func:`loads`
(``json_deserializer``: SQLAlchemy's own for SQLite, psycopg's jsonb and json loaders for PostgreSQL, so the
driver reads of :mod:`service.store.driver` too). Under the complaint benchmark the stdlib's loading and
dumping of jsonb was 2.8 % of a worker's Python time.

orjson writes non-ASCII as UTF-8 where the stdlib wrote ``\\u`` escapes: the same JSON value. Anything
orjson would write other than the stdlib does is left to the stdlib, which writes it or raises as before:
datetimes and dataclasses (orjson writes them, the stdlib refuses them), integers past 64 bits, lone
surrogates and keys that are not strings (orjson refuses them). orjson writes otherwise only what the
stdlib could not store: a float that is not finite (``null``; the stdlib wrote ``NaN``, which jsonb
refuses), a UUID or an enumeration member that is no ``str`` or ``int`` (the stdlib raised). orjson reads
an integer past 64 bits as a float: text holding a run of 19 digits (every such integer has one) is
therefore read by the stdlib.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
#: each ASCII digit → ``1``, any other byte → ``0``: 19 digits in a row become 19 ``1`` (every integer outside
#: orjson's 64 bits, −2**63 … 2**64 − 1, has them). ``bytes.translate`` and ``in`` look at a 1 KB row in
#: about 1 µs; the regular expression ``\d{19}`` took 16.
_DIGITS = bytes(0x31 if 0x30 <= byte <= 0x39 else 0x30 for byte in range(256))
_LONG_DIGITS = b"1" * 19


def dumps(value: Any) -> str:
    """``value`` as compact JSON text (no spaces after ``,`` and ``:``, so smaller rows)."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"))


def _has_long_digits(text: str | bytes) -> bool:
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    return _LONG_DIGITS in data.translate(_DIGITS)


def loads(text: str | bytes) -> Any:
    """The value of a JSON column's ``text`` (``str`` from SQLite, ``bytes`` from psycopg)."""
    if not _has_long_digits(text):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass  # e.g. NaN, which the stdlib reads
    return json.loads(text)
