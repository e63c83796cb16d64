"""The engine's resource limits (issue #12): timers, multi-instances, diagram size, engine steps,
office hours. Each test fails on the code before the limits (it hung, grew or lost work there).

No timing assertions: counts (tasks made, lock acquisitions, days walked) and a signal alarm that
only guards against a hang.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from typing import Any

import pytest
from support.bombs import hang_guard
from support.diagrams import AUTOMATIC_LOOP, USER_TASK_LOOP, diagram, user_task, with_timer

from service.engine import CaseRun, WorkCalendar, compile_definition, compiler, expressions, limits
from service.engine.calendar import validate_hours
from service.errors import InvalidDiagram, InvalidInput, LimitExceeded

CALENDAR = WorkCalendar("Asia/Jakarta")
MONDAY = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)  # 09:00 WIB


def deploy(body: str, key: str = "uji") -> Any:
    """Compile as a deploy does: with the limits."""
    return compile_definition(diagram(key, body), lambda _key: True, limits=limits.current())


def through_json(run: CaseRun) -> CaseRun:
    return CaseRun.restore(run.compiled, json.loads(json.dumps(run.dump())), run.calendar)


def refused_at(error: InvalidInput) -> set[str | None]:
    return {detail.get("element_id") for detail in error.details}


# --- timers ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "text"), [
    ("timeDuration", "P999999999Y"), ("timeDuration", "P11Y"), ("timeDuration", "P4000D"),
    ("timeDuration", "P1W2D"), ("timeCycle", "R/PT0.001S"), ("timeCycle", "R5/PT59S"),
    ("timeCycle", "R/P999999999Y"), ("timeDate", "PT10M"), ("timeDate", "9999-12-31T23:00:00-05:00"),
])
def test_timer_out_of_bounds_is_refused_at_deploy_naming_the_event(kind: str, text: str) -> None:
    with hang_guard(), pytest.raises(InvalidDiagram) as raised:
        deploy(with_timer(kind, text))
    assert refused_at(raised.value) == {"sla"}, raised.value.details


@pytest.mark.parametrize(("kind", "text"), [("timeDuration", "P10Y"), ("timeDuration", "PT10M"),
                                            ("timeCycle", "R/PT1M"), ("timeCycle", "R3/P1D"),
                                            ("timeDate", "2030-01-01T08:00:00+07:00")])
def test_timer_within_bounds_deploys(kind: str, text: str) -> None:
    deploy(with_timer(kind, text))


@pytest.mark.parametrize("value", ["P999999999Y", "R/PT0.001S"])
def test_timer_computed_out_of_bounds_stops_the_command_naming_the_event(value: str) -> None:
    kind = "timeCycle" if value.startswith("R") else "timeDuration"
    compiled = deploy(with_timer(kind, "batas"))
    with hang_guard(), pytest.raises(LimitExceeded) as raised:
        CaseRun.start(compiled, {"batas": value}, CALENDAR)
    assert refused_at(raised.value) == {"sla"}


def test_due_date_out_of_bounds_names_the_task() -> None:
    with pytest.raises(InvalidDiagram) as raised:
        deploy(user_task('camunda:dueDate="P999999999Y"'))
    assert refused_at(raised.value) == {"kerja"}
    run = CaseRun.start(deploy(user_task('camunda:dueDate="tenggat"')), {"tenggat": "P999999999Y"}, CALENDAR)
    with hang_guard(), pytest.raises(LimitExceeded) as limit:
        run.ready_tasks()
    assert refused_at(limit.value) == {"kerja"}


# --- multi-instance --------------------------------------------------------------------------------------

def _multi_instance(attributes: str = "", cardinality: str | None = None) -> str:
    inner = "" if cardinality is None else f"<bpmn:loopCardinality>{cardinality}</bpmn:loopCardinality>"
    return user_task(inner=f"<bpmn:multiInstanceLoopCharacteristics {attributes}>{inner}"
                           "</bpmn:multiInstanceLoopCharacteristics>")


def test_literal_cardinality_past_the_limit_is_refused_at_deploy() -> None:
    with pytest.raises(InvalidDiagram) as raised:
        deploy(_multi_instance(cardinality="2000"))
    assert refused_at(raised.value) == {"kerja"}
    run = CaseRun.start(deploy(_multi_instance(cardinality=str(limits.current().multi_instance_max))), {}, CALENDAR)
    assert len(run.ready_tasks()) == limits.current().multi_instance_max


@pytest.mark.parametrize(("attributes", "cardinality", "data"), [
    ("", "jumlah", {"jumlah": 2000}),
    ('isSequential="true"', "jumlah", {"jumlah": 10**9}),
    ('camunda:collection="pemeriksa" camunda:elementVariable="orang"', None, {"pemeriksa": list(range(2000))}),
    ('isSequential="true" camunda:collection="pemeriksa" camunda:elementVariable="orang"', None,
     {"pemeriksa": list(range(2000))}),
], ids=["parallel", "sequential", "collection", "sequential-collection"])
def test_cardinality_past_the_limit_makes_no_instance(attributes: str, cardinality: str | None,
                                                       data: dict[str, Any]) -> None:
    compiled = deploy(_multi_instance(attributes, cardinality))
    with hang_guard(), pytest.raises(LimitExceeded) as raised:
        CaseRun.start(compiled, data, CALENDAR)
    assert refused_at(raised.value) == {"kerja"}


def test_limits_can_be_set_lower() -> None:
    with limits.configured(multi_instance_max=3):
        with pytest.raises(LimitExceeded):
            CaseRun.start(deploy(_multi_instance(cardinality="jumlah")), {"jumlah": 4}, CALENDAR)
        assert len(CaseRun.start(deploy(_multi_instance(cardinality="jumlah")), {"jumlah": 3},
                                 CALENDAR).ready_tasks()) == 3


# --- diagram size and the parse lock ---------------------------------------------------------------------

class CountingLock:
    def __init__(self) -> None:
        self.acquired = 0
        self._lock = compiler._PARSE_LOCK

    def __enter__(self) -> None:
        self.acquired += 1
        self._lock.acquire()

    def __exit__(self, *_exc: object) -> None:
        self._lock.release()


def _huge(elements: int) -> bytes:
    padding = "".join(f'<bpmn:textAnnotation id="note{i}"><bpmn:text>x</bpmn:text></bpmn:textAnnotation>'
                      for i in range(elements // 2))
    return diagram("besar", user_task() + padding)


def test_huge_diagram_is_refused_before_it_takes_the_parse_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    lock = CountingLock()
    monkeypatch.setattr(compiler, "_PARSE_LOCK", lock)
    with hang_guard(), pytest.raises(InvalidDiagram, match="XML elements"):
        compile_definition(_huge(60_000), lambda _key: True, limits=limits.current())
    assert lock.acquired == 0
    compile_definition(diagram("kecil", user_task()), lambda _key: True, limits=limits.current())
    assert lock.acquired > 0


# --- engine steps ----------------------------------------------------------------------------------------

def test_loop_without_a_user_task_is_stopped_not_completed() -> None:
    compiled = deploy(AUTOMATIC_LOOP)
    with hang_guard(), pytest.raises(LimitExceeded) as raised:
        CaseRun.start(compiled, {"lagi": True}, CALENDAR)
    assert refused_at(raised.value) <= {"putar", "gw"}
    assert CaseRun.start(compiled, {"lagi": False}, CALENDAR).completed


def test_looping_through_a_user_task_is_stopped_before_its_work_is_lost() -> None:
    """SpiffWorkflow stops looking 1000 levels deep: a case looping ~500 times reported itself completed."""
    with limits.configured(engine_max_depth=60):
        run = through_json(CaseRun.start(deploy(USER_TASK_LOOP), {"lagi": True}, CALENDAR))
        passes = 0
        with hang_guard(), pytest.raises(LimitExceeded) as raised:
            while passes < 100:
                (task,) = run.ready_tasks()
                assert not run.completed
                run.complete(task.id, {"lagi": True})
                run = through_json(run)
                passes += 1
    assert 20 < passes < 60 and refused_at(raised.value) <= {"kerja", "gw"}


def test_steps_per_command_are_counted() -> None:
    with limits.configured(engine_max_steps=10), pytest.raises(LimitExceeded, match="10 steps"):
        CaseRun.start(deploy(AUTOMATIC_LOOP), {"lagi": True}, CALENDAR)


# --- office hours ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("hours", [
    {"0": ["08:00:30", "08:00:59"]}, {"0": ["16:00", "08:00"]}, {"0": ["08:00", "08:00"]},
    {"0": ["08:00", "08:59"]}, {"7": ["08:00", "16:00"]}, {"x": ["08:00", "16:00"]},
    {"0": ["08:00"]}, {"0": ["08:00", "25:00"]}, {"0": ["08:00+07:00", "16:00+07:00"]},
    {str(day): ["08:00", "16:00"] for day in range(8)}, {"0": ["08:00", "16:00"], "00": ["09:00", "17:00"]},
])
def test_bad_office_hours_are_refused_naming_the_field(hours: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_hours(hours)
    assert raised.value.details[0]["field"].startswith("hours")


def test_good_office_hours_are_normalized() -> None:
    assert validate_hours({"0": ["07:30", "16:00"], "4": ["07:30:00", "11:30"]}) == {
        "0": ["07:30", "16:00"], "4": ["07:30", "11:30"]}


def test_stored_office_hours_of_seconds_cannot_make_jam_kerja_spin(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hours stored before validation (08:00:30–08:00:59, or an empty window) walk a bounded number of days."""
    walked = 0
    original = WorkCalendar.is_working_day

    def counting(self: WorkCalendar, day: Any) -> bool:
        nonlocal walked
        walked += 1
        return original(self, day)

    monkeypatch.setattr(WorkCalendar, "is_working_day", counting)
    tiny = WorkCalendar.of("Asia/Jakarta", {str(d): ["08:00:30", "08:00:59"] for d in range(5)}, [])
    with hang_guard(), pytest.raises(LimitExceeded):
        tiny.add_working_hours(MONDAY, 20_000)
    empty = WorkCalendar.of("Asia/Jakarta", {"0": ["08:00", "08:00"]}, [])
    assert empty.hours == {}
    with hang_guard(), pytest.raises(LimitExceeded):
        empty.add_working_hours(MONDAY, 1)
    assert walked <= 2 * (limits.current().timer_max_days + 2)


@pytest.mark.parametrize("call", ["jam_kerja(1e308)", "jam_kerja(-1)", "hari_kerja(1000000)",
                                  "jam_kerja(float('nan'))", "jam_kerja(float('inf'))"])
def test_calendar_function_arguments_are_bounded(call: str) -> None:
    with pytest.raises(LimitExceeded):
        expressions.evaluate(call, {}, CALENDAR.timer_functions(lambda: MONDAY))


def test_calendar_functions_still_compute_working_time() -> None:
    assert CALENDAR.add_working_hours(MONDAY, 8) == datetime(2026, 2, 3, 2, 0, tzinfo=UTC)
    assert WorkCalendar.of("Asia/Jakarta", {"0": ["08:00", "16:00"]}, []).hours == {0: (time(8), time(16))}
