"""An expression is parsed and checked once and evaluated by a reused evaluator: nothing of one
evaluation (names, functions, limits) may reach the next."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from service.engine import expressions, limits
from service.errors import ExpressionError, LimitExceeded


def test_the_same_text_is_parsed_and_checked_once() -> None:
    text = "hari_kerja(3) if prioritas_reuse_1 else hari_kerja(5)"
    functions = {"hari_kerja": lambda days: f"P{days}D"}
    before = expressions._checked.cache_info()
    assert expressions.evaluate(text, {"prioritas_reuse_1": True}, functions) == "P3D"
    assert expressions.evaluate(text, {"prioritas_reuse_1": False}, functions) == "P5D"
    after = expressions._checked.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)


def test_names_of_one_evaluation_do_not_reach_the_next() -> None:
    assert expressions.evaluate("rahasia_reuse", {"rahasia_reuse": 41}) == 41
    with pytest.raises(ExpressionError, match="rahasia_reuse"):
        expressions.evaluate("rahasia_reuse", {})


def test_an_idle_evaluator_holds_no_case_data_or_functions() -> None:
    expressions.evaluate("len(lampiran_reuse)", {"lampiran_reuse": ["ktp.pdf"]})
    spare = expressions._idle.evaluators
    assert spare and all(evaluator.names == {} and evaluator.functions == {} for evaluator in spare)


def test_a_function_of_the_case_is_not_kept_for_the_next_case() -> None:
    assert expressions.evaluate("tenggat_reuse()", {}, {"tenggat_reuse": lambda: "P1D"}) == "P1D"
    with pytest.raises(ExpressionError, match="Only these functions"):
        expressions.evaluate("tenggat_reuse()", {})


def test_an_evaluation_inside_an_evaluation_gets_its_own_evaluator() -> None:
    def inner(value: Any) -> Any:
        return expressions.evaluate("nilai_dalam * 2", {"nilai_dalam": value})

    assert expressions.evaluate("lipat(nilai_luar) + nilai_luar", {"nilai_luar": 5}, {"lipat": inner}) == 15


def test_a_cached_expression_meets_the_limits_in_force_now() -> None:
    text = "angka_reuse + " + "9" * 30
    assert expressions.evaluate(text, {"angka_reuse": 1}) == int("9" * 30) + 1
    with limits.configured(expression_max_int_digits=20), pytest.raises(LimitExceeded, match="20 digits"):
        expressions.evaluate(text, {"angka_reuse": 1})


def test_a_refused_expression_is_refused_every_time() -> None:
    for _ in range(2):
        with pytest.raises(ExpressionError, match="Attribute access"):
            expressions.evaluate("kasus_reuse.__class__", {"kasus_reuse": 1})


def test_threads_evaluate_side_by_side_with_their_own_names() -> None:
    results: dict[int, list[Any]] = {}

    def run(number: int) -> None:
        results[number] = [expressions.evaluate("nomor_reuse * 10", {"nomor_reuse": number}) for _ in range(200)]

    threads = [threading.Thread(target=run, args=(number,)) for number in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {number: [number * 10] * 200 for number in range(4)}
