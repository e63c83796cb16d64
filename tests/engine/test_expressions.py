"""The safe expression language of conditions and timers."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from service.engine import expressions
from service.engine.calendar import WorkCalendar
from service.errors import ExpressionError, LimitExceeded


@pytest.mark.parametrize(("text", "names", "expected"), [
    ('jenis == "informasi"', {"jenis": "informasi"}, True),
    ('jenis == "informasi"', {"jenis": "pengaduan"}, False),
    ("nilai > 3 and not ditolak", {"nilai": 5, "ditolak": False}, True),
    ('hasil in ["lengkap", "kurang"]', {"hasil": "kurang"}, True),
    ("len(lampiran) >= 2", {"lampiran": ["a", "b"]}, True),
    ('pelapor["umur"] < 17', {"pelapor": {"umur": 16}}, True),
    ('lower(kanal) == "wbs"', {"kanal": "WBS"}, True),
    ("(a + b) * 2 - c // 3 % 2", {"a": 1, "b": 2, "c": 9}, 5),
    ('"ya" if skor > 50 else "tidak"', {"skor": 70}, "ya"),
    ("x is None", {"x": None}, True),
])
def test_expressions_evaluate_over_case_data(text: str, names: dict[str, object], expected: object) -> None:
    assert expressions.evaluate(text, names) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ('${jenis == "informasi"}', True),
    ("${jenis eq 'informasi' && !ditolak}", True),
    ("${jenis ne 'informasi' || ditolak}", False),
])
def test_simple_juel_is_accepted(text: str, expected: bool) -> None:
    assert expressions.evaluate(text, {"jenis": "informasi", "ditolak": False}) is expected


def test_nested_juel_is_refused_with_advice() -> None:
    with pytest.raises(ExpressionError, match="Python"):
        expressions.check("${a == ${b}}")


@pytest.mark.parametrize("text", ["PT10M", "P14D", "R/P6M", "P1Y2M3DT4H5M6S", "2026-01-01T08:00:00+07:00",
                                  "R3/2026-01-01T00:00:00Z/P1D", " PT1H "])
def test_iso_8601_literals_pass_through_unchanged(text: str) -> None:
    assert expressions.evaluate(text, {}) == text.strip()


@pytest.mark.parametrize(("text", "fragment"), [
    ("().__class__.__base__.__subclasses__()", "functions"),
    ("x.__class__", "Attribute"),
    ("9**9**9**9", "power"),
    ("__import__('os')", "_"),
    ("open('/etc/passwd')", "functions"),
    ("eval('1')", "functions"),
    ("[x for x in data]", "comprehensions"),
    ("(lambda: 1)()", "functions"),
    ("x == (lambda: 1)", "Lambdas"),
    ("len(x, key=1)", "functions"),
    ("_secret", "'_'"),
    ("a.b", "Attribute"),
    ("a = 1", "Syntax"),
    ("", "empty"),
    ("   ", "empty"),
    ("x" * 2001, "longer"),
    (" + ".join(["1"] * 150), "complex"),
    ("f'{x}'", "JoinedStr"),
])
def test_unsafe_or_malformed_expressions_are_refused(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as raised:
        expressions.check(text)
    assert fragment.lower() in raised.value.message.lower()


@pytest.mark.parametrize("text", ["'x' * 100000000", "[1] * 100000000", "'ab' * 10000000 + 'c'"])
def test_huge_results_are_stopped_quickly(text: str) -> None:
    began = time.monotonic()
    with pytest.raises(LimitExceeded):
        expressions.evaluate(text, {})
    assert time.monotonic() - began < 2


@pytest.mark.parametrize(("text", "names"), [
    ("skor > 3", {}),
    ("a / b", {"a": 1, "b": 0}),
    ("a < b", {"a": 1, "b": "x"}),
    ('d["x"]', {"d": {}}),
    ("l[3]", {"l": []}),
    ("int(s)", {"s": "abc"}),
])
def test_run_time_failures_become_expression_errors(text: str, names: dict[str, object]) -> None:
    with pytest.raises(ExpressionError, match="failed"):
        expressions.evaluate(text, names)


def test_calendar_functions_are_callable_but_only_when_supplied() -> None:
    assert expressions.check("hari_kerja(2)") == "hari_kerja(2)"  # allowed at deploy time
    with pytest.raises(ExpressionError):
        expressions.evaluate("hari_kerja(2)", {})  # but nothing is bound without a calendar
    monday = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)  # 09:00 WIB
    functions = WorkCalendar("Asia/Jakarta").timer_functions(lambda: monday)
    # closing time (16:00 WIB) of the second working day after Monday: Wednesday 09:00 UTC
    assert expressions.evaluate("hari_kerja(2)", {}, functions) == f"PT{2 * 86400 + 7 * 3600:.3f}S"
    assert expressions.evaluate("jam_kerja(3)", {}, functions) == f"PT{3 * 3600:.3f}S"


def test_a_case_variable_cannot_shadow_into_builtins() -> None:
    with pytest.raises(ExpressionError):
        expressions.evaluate("getattr(x, 'y')", {"getattr": getattr, "x": 1})
