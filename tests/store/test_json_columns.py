"""JSON columns are written and read by orjson (``service.store.json_columns``) with the values the stdlib
wrote and read: on both databases, with the values orjson refuses or reads otherwise left to the stdlib."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import pytest
from sqlalchemy import select

from service.store import json_columns
from service.store.db import Database
from service.store.models import Unit

#: values a JSON column may hold, some of them beyond orjson (integers past 64 bits, lone surrogates)
VALUES: dict[str, Any] = {
    "plain": {"b": [1, 2.5, None, True], "a": {"c": "teks"}},
    "non-ascii": {"judul": "Pengaduan — “kutip” é 😀 \u2028"},
    "64-bit edges": {"n": [2**63 - 1, -(2**63), 2**64 - 1, 10**18, -(10**18)]},
    "past 64 bits": {"n": [2**64, -(2**63) - 1, 10**30, -(10**40)]},
    "long digits in text": {"nik": "6206011201900001234567", "n": 1},
    "floats": {"f": [0.1, 1e16, -0.0, 1.7976931348623157e308, 5e-324, 1e19]},
    "lone surrogate": {"s": "a\ud800b"},
}


def _typed(value: Any) -> Any:
    """``value`` with its types kept (``1 == 1.0`` in Python; ``-0.0 == 0.0``)."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, repr(value))


@pytest.mark.parametrize("name", list(VALUES))
def test_values_come_back_as_the_stdlib_reads_them(name: str) -> None:
    value = VALUES[name]
    written = json_columns.dumps(value)
    assert _typed(json.loads(written)) == _typed(value)
    for text in (written, written.encode("utf-8", "surrogatepass"), json.dumps(value)):
        assert _typed(json_columns.loads(text)) == _typed(json.loads(text)) == _typed(value)


def test_columns_are_written_compact() -> None:
    assert json_columns.dumps(VALUES["plain"]) == '{"b":[1,2.5,null,true],"a":{"c":"teks"}}'
    assert json_columns.dumps(VALUES["past 64 bits"]) == json.dumps(VALUES["past 64 bits"], separators=(",", ":"))


def test_what_the_stdlib_refused_it_still_refuses() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        json_columns.dumps({"at": dt.datetime(2026, 1, 2, tzinfo=dt.UTC)})
    with pytest.raises(TypeError):
        json_columns.dumps({1: "a"} | {"b": {2, 3}})  # type: ignore[operator]


def test_nan_text_is_read_by_the_stdlib() -> None:
    assert math.isnan(json_columns.loads(b'{"n": NaN}')["n"])


@pytest.mark.parametrize("name", list(VALUES))
def test_a_json_column_keeps_the_value_on_both_databases(db_url: str, name: str) -> None:
    value = VALUES[name]
    if name == "lone surrogate" and db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's jsonb refuses a lone surrogate (the guards refuse it in requests)")
    db = Database(db_url)
    with db.transaction() as session:
        session.add(Unit(code="unit-json", name="Unit JSON", working_hours=value))
    with db.reading() as session:
        stored = session.scalar(select(Unit.working_hours).where(Unit.code == "unit-json"))
    assert _typed(stored) == _typed(value)
    db.dispose()
