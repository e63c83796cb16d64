"""Calendar schedules of periodic SOPs: quarters and semesters in the unit's office hours and timezone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from service.engine.calendar import WorkCalendar
from service.engine.schedule import first_run, next_run, period_of, reported_period, schedule_text
from service.errors import InvalidDiagram

WIB = WorkCalendar("Asia/Jakarta")
WITA = WorkCalendar("Asia/Makassar")


def test_a_periode_property_makes_a_calendar_schedule_of_the_timer_cycle() -> None:
    assert schedule_text("R/P6M", {"periode": "semester"}) == "R/semester"
    assert schedule_text("R4/P3M", {"periode": "triwulan"}) == "R4/triwulan"
    assert schedule_text("R/P1Y", {"periode": "tahunan"}) == "R/tahunan"
    assert schedule_text("R/P6M", {}) == "R/P6M"  # no periode: the ISO cycle, as before


@pytest.mark.parametrize(("timer", "periode"), [
    ("R/P3M", "semester"), ("R/P6M", "triwulan"), ("P6M", "semester"), (None, "semester"),
    ("R/2026-01-01T08:00:00/P6M", "semester"), ("R/P6M", "musiman"),
])
def test_a_periode_the_timer_does_not_repeat_is_refused(timer: str | None, periode: str) -> None:
    with pytest.raises(InvalidDiagram):
        schedule_text(timer, {"periode": periode})


def test_semesters_start_on_the_first_working_day_at_the_opening_of_the_office() -> None:
    # Deployed on Monday 5 January 2026: 1 January (a holiday) moved the first semester's run to
    # Friday 2 January, which has passed, so the first run is Wednesday 1 July 08:00 WIB.
    deployed = datetime(2026, 1, 5, 16, 12, tzinfo=UTC)  # 23:12 WIB
    first = first_run("R/semester", deployed, WIB)
    assert first == datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
    # 1 January 2027 is a Friday and a holiday: the next working day is Monday 4 January.
    assert next_run("R/semester", first, 1, WIB) == datetime(2027, 1, 4, 1, 0, tzinfo=UTC)
    assert next_run("R/semester", datetime(2027, 1, 4, 1, 0, tzinfo=UTC), 2, WIB) == datetime(2027, 7, 1, 1, 0,
                                                                                              tzinfo=UTC)


def test_a_run_still_ahead_in_the_current_period_is_the_first() -> None:
    before_opening = datetime(2026, 1, 1, 23, 0, tzinfo=UTC)  # Friday 2 January 07:00 WITA
    assert first_run("R/triwulan", before_opening, WITA) == datetime(2026, 1, 2, 0, 0, tzinfo=UTC)


def test_quarters_run_on_1_january_april_july_and_october_in_the_units_timezone() -> None:
    runs = [first_run("R/triwulan", datetime(2026, 1, 5, tzinfo=UTC), WITA)]
    for done in range(1, 4):
        runs.append(next_run("R/triwulan", runs[-1], done, WITA))
    assert runs == [datetime(2026, 4, 1, 0, 0, tzinfo=UTC), datetime(2026, 7, 1, 0, 0, tzinfo=UTC),
                    datetime(2026, 10, 1, 0, 0, tzinfo=UTC), datetime(2027, 1, 4, 0, 0, tzinfo=UTC)]


def test_the_units_closed_days_and_office_hours_move_the_run() -> None:
    office = WorkCalendar("Asia/Jakarta", {day: (time(7, 30), time(15, 30)) for day in range(5)},
                          frozenset({date(2026, 7, 1), date(2026, 7, 2)}))
    assert first_run("R/semester", datetime(2026, 3, 1, tzinfo=UTC), office) == datetime(2026, 7, 3, 0, 30,
                                                                                        tzinfo=UTC)


def test_a_bounded_calendar_cycle_ends() -> None:
    assert next_run("R2/semester", datetime(2026, 7, 1, 1, 0, tzinfo=UTC), 2, WIB) is None
    assert first_run("R0/semester", datetime(2026, 7, 1, tzinfo=UTC), WIB) is None


def test_a_run_reports_on_the_period_just_ended() -> None:
    semester = reported_period("R/semester", datetime(2027, 1, 4, 1, 0, tzinfo=UTC), WIB)
    assert semester is not None
    assert (semester.start, semester.last_day, semester.code, semester.label) == (
        date(2026, 7, 1), date(2026, 12, 31), "2026-S2", "Semester II 2026")
    assert semester.instants(WIB) == (datetime(2026, 6, 30, 17, 0, tzinfo=UTC),
                                      datetime(2026, 12, 31, 17, 0, tzinfo=UTC))
    quarter = reported_period("R/triwulan", datetime(2026, 4, 1, 0, 0, tzinfo=UTC), WITA)
    assert quarter is not None and (quarter.code, quarter.label, quarter.last_day) == (
        "2026-T1", "Triwulan I 2026", date(2026, 3, 31))
    assert reported_period("R/P6M", datetime(2026, 7, 1, tzinfo=UTC), WIB) is None
    assert period_of("bulanan", date(2026, 12, 15)).end == date(2027, 1, 1)


def test_iso_schedules_stored_before_keep_their_meaning() -> None:
    deployed = datetime(2026, 1, 5, 16, 12, tzinfo=UTC)
    assert next_run("R/P6M", deployed, 1) == datetime(2026, 7, 5, 16, 12, tzinfo=UTC)
    assert next_run("R/P6M", deployed, 1, WIB) == datetime(2026, 7, 5, 16, 12, tzinfo=UTC)
    assert next_run("2026-02-01T00:00:00+07:00", deployed, 1) is None
