"""Working-day arithmetic on real 2026 Indonesian holidays and cuti bersama."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.engine.calendar import WorkCalendar

WIB, WITA = ZoneInfo("Asia/Jakarta"), ZoneInfo("Asia/Makassar")

# Written out by hand from the 2026 decree (SKB 3 Menteri): the days off around Nyepi and Idul Fitri.
NYEPI_2026 = date(2026, 3, 19)
CUTI_BERSAMA_NYEPI = date(2026, 3, 18)
IDUL_FITRI_2026 = (date(2026, 3, 21), date(2026, 3, 22))
CUTI_BERSAMA_IDUL_FITRI = (date(2026, 3, 20), date(2026, 3, 23), date(2026, 3, 24))
GOOD_FRIDAY_2026 = date(2026, 4, 3)


def test_holidays_and_cuti_bersama_are_not_working_days() -> None:
    calendar = WorkCalendar("Asia/Jakarta")
    for day in (NYEPI_2026, CUTI_BERSAMA_NYEPI, *IDUL_FITRI_2026, *CUTI_BERSAMA_IDUL_FITRI, GOOD_FRIDAY_2026):
        assert not calendar.is_working_day(day), day
    assert calendar.is_working_day(date(2026, 3, 25))
    assert not calendar.is_working_day(date(2026, 3, 28))  # a Saturday


def test_hari_kerja_14_from_friday_before_idul_fitri_skips_cuti_bersama() -> None:
    calendar = WorkCalendar("Asia/Jakarta")
    created = datetime(2026, 3, 20, 10, 0, tzinfo=WIB)  # Friday before Idul Fitri (itself cuti bersama)
    off = {*IDUL_FITRI_2026, *CUTI_BERSAMA_IDUL_FITRI, GOOD_FRIDAY_2026}
    expected_days = [d for d in (date(2026, 3, 20) + timedelta(days=n) for n in range(1, 40))
                     if d.weekday() < 5 and d not in off][:14]
    assert expected_days[0] == date(2026, 3, 25)
    assert calendar.add_working_days(created, 14) == datetime.combine(expected_days[-1], datetime.min.time(),
                                                                      WIB).replace(hour=16)
    assert expected_days[-1] == date(2026, 4, 14)


@pytest.mark.parametrize("zone", [WIB, WITA], ids=["WIB", "WITA"])
def test_ten_working_minutes_at_1555_friday_are_due_monday_0805(zone: ZoneInfo) -> None:
    calendar = WorkCalendar(str(zone))
    friday = datetime(2026, 5, 8, 15, 55, tzinfo=zone)
    assert calendar.add_working_hours(friday, 10 / 60) == datetime(2026, 5, 11, 8, 5, tzinfo=zone)


def test_an_extra_closed_day_moves_the_due_date() -> None:
    start = datetime(2026, 5, 4, 9, 0, tzinfo=WIB)  # Monday
    plain = WorkCalendar("Asia/Jakarta").add_working_days(start, 2)
    closed = WorkCalendar("Asia/Jakarta", closed_days=frozenset({date(2026, 5, 5)})).add_working_days(start, 2)
    assert plain == datetime(2026, 5, 6, 16, 0, tzinfo=WIB)
    assert closed == datetime(2026, 5, 7, 16, 0, tzinfo=WIB)


def test_office_hours_come_from_the_unit_settings() -> None:
    calendar = WorkCalendar.of("Asia/Jakarta", {"0": ["07:30", "16:00"], "4": ["07:30", "11:00"]}, [])
    friday = datetime(2026, 5, 8, 10, 30, tzinfo=WIB)
    assert calendar.add_working_hours(friday, 1) == datetime(2026, 5, 11, 8, 0, tzinfo=WIB)


def test_working_seconds_count_only_open_hours() -> None:
    calendar = WorkCalendar("Asia/Jakarta")
    friday_afternoon = datetime(2026, 5, 8, 15, 0, tzinfo=WIB)
    monday_morning = datetime(2026, 5, 11, 9, 0, tzinfo=WIB)
    assert calendar.working_seconds(friday_afternoon, monday_morning) == 2 * 3600
    assert calendar.working_seconds(monday_morning, friday_afternoon) == 0
