"""Mutu Baku Waktu printed from the step's timer expression."""

from __future__ import annotations

import pytest

from service.documents.waktu import waktu


@pytest.mark.parametrize(("timer", "printed"), [
    ("hari_kerja(14)", "14 hari kerja"),
    ("hari_kerja(10)", "10 hari kerja"),
    ("jam_kerja(3)", "3 jam kerja"),
    ("menit_kerja(5)", "5 menit kerja"),
    (" menit_kerja( 40 ) ", "40 menit kerja"),
    ("hari_kalender(60, tanggal_diterima)", "60 hari"),
    ("P60D", "60 hari"),
    ("PT10M", "10 menit"),
    ('"PT3H"', "3 jam"),
    ("PT1H30M", "1 jam 30 menit"),
    ("P2W", "2 minggu"),
])
def test_the_timer_says_the_waktu(timer: str, printed: str) -> None:
    assert waktu(timer) == printed


@pytest.mark.parametrize("timer", [None, "", "P", "PT", "R/P3M", "tanggal_batas", "hari_kerja(x)", "2026-01-01T00:00"])
def test_other_timers_leave_the_seed_words(timer: str | None) -> None:
    assert waktu(timer) is None
