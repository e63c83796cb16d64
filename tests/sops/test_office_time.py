"""Mutu Baku Waktu in office time: every bundled SOP started on a Friday at 15:55 and on a Monday at
23:10 (unit time) has each ready task due inside the unit's office hours on a working day, at the
seed's Waktu counted in office time.

The expectations are written by hand (08:00–16:00 Monday to Friday, no public holiday in October
2025, 9 and 12 December 2025): a task created on Friday 10 October 2025 at 15:55 with "10 Menit" has
5 minutes left that Friday and 5 more on Monday morning, so it is due Monday 08:05. Each path is
walked with the clock frozen, so every task is created at the start instant. The SLA report judges
"within target" in the same office time it measures.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support.sop_driver import OFFICES, Sop, form, instant, ready, sqlite_only

from service.engine.calendar import DEFAULT_HOURS, WorkCalendar
from service.errors import InvalidInput, LimitExceeded

WITA, WIB = ZoneInfo("Asia/Makassar"), ZoneInfo("Asia/Jakarta")
FRIDAY, MONDAY = "friday-15:55", "monday-23:10"
#: the two start instants, in the unit's own time
STARTS = {FRIDAY: (2025, 10, 10, 15, 55), MONDAY: (2025, 10, 13, 23, 10)}
#: the form data each path sends (every other required field is a sample); the start date is sent as
#: the Sekretariat's tanggal_diterima
PATHS: dict[str, tuple[str, dict[str, dict[str, Any]]]] = {
    "wbs-dpmptsp-kukar": ("wbs-kukar-pengaduan", {
        "wbs-kukar-pemilahan": {"jenis_aduan": "informasi"},
        "wbs-kukar-disposisi": {"disposisi_kabid": "dijawab Kabid"},
    }),
    "wbs-dpmptsp-lamandau": ("wbs-lamandau-pengaduan", {}),
    "wbs-disperindagkop-kebumen": ("wbs-kebumen-pengaduan", {
        "wbs-kebumen-cek-administrasi": {"kelengkapan_administrasi": "tidak lengkap"},
    }),
    "pengaduan-langsung-dinsos-kukar": ("dinsos-langsung-pengaduan", {}),
    "pengaduan-online-dinsos-kukar": ("dinsos-online-pengaduan", {}),
    "dumas-inspektorat-katingan": ("dumas-pengaduan", {}),
    "dumas-eselon-ii": ("dumas-pengaduan", {
        "dumas-penelaahan": {"kategori_telaah": "tidak berkadar pengawasan atau tidak logis"},
    }),
}


def _at(zone: ZoneInfo, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=zone)


#: path → start → element id → due (None: the step has no Waktu). Hand-computed, see the module docstring.
EXPECTED: dict[str, dict[str, dict[str, datetime | None]]] = {
    "wbs-dpmptsp-kukar": {  # WITA; 5, 10, 3 Menit, 3 Jam, 10, 5 Menit, —, 40, 3 Menit
        FRIDAY: {"Task_pemeriksaan": _at(WITA, 10, 10, 16, 0), "Task_pemilahan": _at(WITA, 10, 13, 8, 5),
                 "Task_disposisi": _at(WITA, 10, 10, 15, 58), "Task_jawaban_kabid": _at(WITA, 10, 13, 10, 55),
                 "Task_surat_balasan": _at(WITA, 10, 13, 8, 5), "Task_tanda_tangan": _at(WITA, 10, 10, 16, 0),
                 "Task_registrasi": None, "Task_distribusi": _at(WITA, 10, 13, 8, 35),
                 "Task_arsip": _at(WITA, 10, 10, 15, 58)},
        MONDAY: {"Task_pemeriksaan": _at(WITA, 10, 14, 8, 5), "Task_pemilahan": _at(WITA, 10, 14, 8, 10),
                 "Task_disposisi": _at(WITA, 10, 14, 8, 3), "Task_jawaban_kabid": _at(WITA, 10, 14, 11, 0),
                 "Task_surat_balasan": _at(WITA, 10, 14, 8, 10), "Task_tanda_tangan": _at(WITA, 10, 14, 8, 5),
                 "Task_registrasi": None, "Task_distribusi": _at(WITA, 10, 14, 8, 40),
                 "Task_arsip": _at(WITA, 10, 14, 8, 3)},
    },
    "wbs-dpmptsp-lamandau": {  # WIB; 30, 30 Menit, 1, 1, 1 Jam, 15 Menit
        FRIDAY: {"Task_pencatatan": _at(WIB, 10, 13, 8, 25), "Task_pengkajian": _at(WIB, 10, 13, 8, 25),
                 "Task_rapat": _at(WIB, 10, 13, 8, 55), "Task_berita_acara": _at(WIB, 10, 13, 8, 55),
                 "Task_tanggapan": _at(WIB, 10, 13, 8, 55), "Task_arsip": _at(WIB, 10, 13, 8, 10)},
        MONDAY: {"Task_pencatatan": _at(WIB, 10, 14, 8, 30), "Task_pengkajian": _at(WIB, 10, 14, 8, 30),
                 "Task_rapat": _at(WIB, 10, 14, 9, 0), "Task_berita_acara": _at(WIB, 10, 14, 9, 0),
                 "Task_tanggapan": _at(WIB, 10, 14, 9, 0), "Task_arsip": _at(WIB, 10, 14, 8, 15)},
    },
    "wbs-disperindagkop-kebumen": {  # WIB; no Waktu; the reporter's 14 hari kerja to complete the report
        FRIDAY: {"Task_cek_administrasi": None, "Task_melengkapi": _at(WIB, 10, 30, 16, 0)},
        MONDAY: {"Task_cek_administrasi": None, "Task_melengkapi": _at(WIB, 10, 31, 16, 0)},
    },
    "pengaduan-langsung-dinsos-kukar": {  # WITA; 10, 10, 10 Menit, 2 hari kerja, 10 hari kerja
        FRIDAY: {"Task_pencatatan": _at(WITA, 10, 13, 8, 5), "Task_penerusan": _at(WITA, 10, 13, 8, 5),
                 "Task_disposisi": _at(WITA, 10, 13, 8, 5), "Task_tindak_lanjut": _at(WITA, 10, 14, 16, 0),
                 "Task_pelaporan": _at(WITA, 10, 24, 16, 0)},
        MONDAY: {"Task_pencatatan": _at(WITA, 10, 14, 8, 10), "Task_penerusan": _at(WITA, 10, 14, 8, 10),
                 "Task_disposisi": _at(WITA, 10, 14, 8, 10), "Task_tindak_lanjut": _at(WITA, 10, 15, 16, 0),
                 "Task_pelaporan": _at(WITA, 10, 27, 16, 0)},
    },
    "pengaduan-online-dinsos-kukar": {  # WITA; 5, 10, 5, 10, 10, 30, 10, 30 Menit
        FRIDAY: {"Task_penerimaan": _at(WITA, 10, 10, 16, 0), "Task_verifikasi": _at(WITA, 10, 13, 8, 5),
                 "Task_respon": _at(WITA, 10, 10, 16, 0), "Task_penerusan": _at(WITA, 10, 13, 8, 5),
                 "Task_disposisi": _at(WITA, 10, 13, 8, 5), "Task_tindak_lanjut": _at(WITA, 10, 13, 8, 25),
                 "Task_balasan": _at(WITA, 10, 13, 8, 5), "Task_publikasi": _at(WITA, 10, 13, 8, 25)},
        MONDAY: {"Task_penerimaan": _at(WITA, 10, 14, 8, 5), "Task_verifikasi": _at(WITA, 10, 14, 8, 10),
                 "Task_respon": _at(WITA, 10, 14, 8, 5), "Task_penerusan": _at(WITA, 10, 14, 8, 10),
                 "Task_disposisi": _at(WITA, 10, 14, 8, 10), "Task_tindak_lanjut": _at(WITA, 10, 14, 8, 30),
                 "Task_balasan": _at(WITA, 10, 14, 8, 10), "Task_publikasi": _at(WITA, 10, 14, 8, 30)},
    },
    "dumas-inspektorat-katingan": {  # WIB; —, —, —, 60 Hari from the Sekretariat's receipt
        FRIDAY: {"Task_verifikasi": None, "Task_penelaahan": None, "Task_penyaluran": None,
                 "Task_tindak_lanjut_inspektur": _at(WIB, 12, 9, 16, 0)},
        MONDAY: {"Task_verifikasi": None, "Task_penelaahan": None, "Task_penyaluran": None,
                 "Task_tindak_lanjut_inspektur": _at(WIB, 12, 12, 16, 0)},
    },
    "dumas-eselon-ii": {  # WIB; —, —, 14 hari kerja
        FRIDAY: {"Task_verifikasi": None, "Task_penelaahan": None,
                 "Task_tindak_lanjut_eselon2": _at(WIB, 10, 30, 16, 0)},
        MONDAY: {"Task_verifikasi": None, "Task_penelaahan": None,
                 "Task_tindak_lanjut_eselon2": _at(WIB, 10, 31, 16, 0)},
    },
}


def _walk(sop: Sop, key: str, start_form: str, values: Mapping[str, Mapping[str, Any]],
          today: str) -> dict[str, datetime | None]:
    """Start a case and complete every ready task at the frozen instant; each task's due, by element id.

    Stops at the reporter's task (a Pelapor task waits for the reporter) and when the case ends.
    """
    dues: dict[str, datetime | None] = {}
    case = sop.start(key, form(start_form))
    while ready(case):
        task = case["tasks"][0]
        dues[task["element_id"]] = instant(task["due_at"]) if task["due_at"] else None
        if task["lane"] == "Pelapor":
            break
        data = form(task["form_key"], **values.get(task["form_key"], {}))
        data.update({name: today for name in ("tanggal_diterima",) if name in data})
        case = sop.work(case, task["element_id"], task["lane"], data)
    return dues


def _in_office_hours(due: datetime, timezone: str) -> bool:
    local = due.astimezone(ZoneInfo(timezone))
    window = DEFAULT_HOURS.get(local.weekday())
    return window is not None and window[0] <= local.time() <= window[1]


@pytest.mark.parametrize("path", list(PATHS))
def test_every_due_time_is_the_seeds_waktu_in_office_time(sop: Sop, path: str) -> None:
    """One case started on Friday 10 October 2025 at 15:55 and one on Monday 13 October at 23:10."""
    key = "dumas-inspektorat-katingan" if path == "dumas-eselon-ii" else path
    timezone = OFFICES[sop.deployed[key]["unit"]].timezone
    for started in (FRIDAY, MONDAY):
        local_start = datetime(*STARTS[started], tzinfo=ZoneInfo(timezone))
        sop.clock.move_to(local_start.astimezone(UTC))
        start_form, values = PATHS[path]
        dues = _walk(sop, key, start_form, values, local_start.date().isoformat())
        assert dues == EXPECTED[path][started], started
        for element_id, due in dues.items():
            assert due is None or _in_office_hours(due, timezone), (started, element_id, due)


@sqlite_only
def test_a_sixty_day_limit_ending_on_a_sunday_moves_to_monday(sop: Sop) -> None:
    """Received by the Sekretariat on Wednesday 15 October 2025: day 60 is Sunday 14 December."""
    sop.clock.move_to(datetime(2025, 10, 15, 10, 0, tzinfo=WIB))
    dues = _walk(sop, "dumas-inspektorat-katingan", "dumas-pengaduan", {}, "2025-10-15")
    assert dues["Task_tindak_lanjut_inspektur"] == datetime(2025, 12, 15, 16, 0, tzinfo=WIB)


@sqlite_only
def test_the_sixty_days_run_from_the_sekretariats_receipt_not_from_the_inspekturs_step(sop: Sop) -> None:
    """T1: "paling lama 60 hari sejak … diterima oleh bagian sekretariat": a Sekretariat that completes
    langkah 4 two days after it received the complaint does not give the Inspektur two more days."""
    sop.clock.move_to(datetime(2025, 10, 15, 10, 0, tzinfo=WIB))
    case = sop.start("dumas-inspektorat-katingan", form("dumas-pengaduan"))
    case = sop.work(case, "Task_verifikasi", "Inspektorat", form("dumas-verifikasi"))
    case = sop.work(case, "Task_penelaahan", "Inspektur", form("dumas-penelaahan"))
    sop.clock.move_to(datetime(2025, 10, 17, 10, 0, tzinfo=WIB))
    case = sop.work(case, "Task_penyaluran", "Sekretariat Inspektorat",
                    form("dumas-penyaluran-sekretariat", tanggal_diterima="2025-10-15"))
    [task] = case["tasks"]
    assert instant(task["due_at"]) == datetime(2025, 12, 15, 16, 0, tzinfo=WIB)
    # a receipt date after the day langkah 4 is done counts from that day: a limit never starts later
    case = sop.start("dumas-inspektorat-katingan", form("dumas-pengaduan"))
    case = sop.work(case, "Task_verifikasi", "Inspektorat", form("dumas-verifikasi"))
    case = sop.work(case, "Task_penelaahan", "Inspektur", form("dumas-penelaahan"))
    case = sop.work(case, "Task_penyaluran", "Sekretariat Inspektorat",
                    form("dumas-penyaluran-sekretariat", tanggal_diterima="2025-11-30"))
    [task] = case["tasks"]
    assert instant(task["due_at"]) == datetime(2025, 12, 16, 16, 0, tzinfo=WIB)  # 17 October + 60 days


@sqlite_only
def test_the_sla_report_judges_within_target_in_the_office_time_it_measures(sop: Sop) -> None:
    """Filed Friday 15:55 WITA; the Kasi takes it in at 16:30, after closing: 5 office minutes of its 5,
    within target, though the wall clock passed its due time of 16:00. The pemilahan, created then and
    done Monday 08:25, took 25 office minutes of its 10: not within target."""
    sop.clock.move_to(datetime(2025, 10, 10, 15, 55, tzinfo=WITA))
    case = sop.start("wbs-dpmptsp-kukar", form("wbs-kukar-pengaduan"))
    assert instant(case["tasks"][0]["due_at"]) == datetime(2025, 10, 10, 16, 0, tzinfo=WITA)
    sop.clock.move_to(datetime(2025, 10, 10, 16, 30, tzinfo=WITA))
    case = sop.work(case, "Task_pemeriksaan", "Kasi", {})
    sop.clock.move_to(datetime(2025, 10, 13, 8, 25, tzinfo=WITA))
    sop.work(case, "Task_pemilahan", "Kasi", form("wbs-kukar-pemilahan", jenis_aduan="informasi"))
    report = sop.client.get("/api/reports/sla?definition_key=wbs-dpmptsp-kukar", headers=sop.admin.headers)
    assert report.status_code == 200, report.json
    rows = {row["element_id"]: row for row in report.json["items"]}
    pemeriksaan, pemilahan = rows["Task_pemeriksaan"], rows["Task_pemilahan"]
    assert (pemeriksaan["count"], pemeriksaan["median_seconds"], pemeriksaan["within_target"]) == (1, 5 * 60, 1.0)
    assert (pemilahan["count"], pemilahan["median_seconds"], pemilahan["within_target"]) == (1, 25 * 60, 0.0)
    assert pemeriksaan["sla_timer"] == "menit_kerja(5)" and pemeriksaan["target"] == "5 Menit"


def test_the_expectations_assume_the_default_office_hours() -> None:
    assert {day: DEFAULT_HOURS.get(day) for day in range(7)} == {
        **{day: (time(8, 0), time(16, 0)) for day in range(5)}, 5: None, 6: None}
    assert OFFICES["dpmptsp-kukar"].timezone == "Asia/Makassar"
    assert OFFICES["inspektorat-katingan"].timezone == OFFICES["dpmptsp-lamandau"].timezone == "Asia/Jakarta"


# --- the calendar functions the timers use ---------------------------------------------------------------

def test_menit_kerja_and_hari_kalender_count_in_the_units_office_time() -> None:
    calendar = WorkCalendar(timezone="Asia/Makassar")
    friday = datetime(2025, 10, 10, 15, 55, tzinfo=WITA)
    functions = calendar.timer_functions(lambda: friday)
    assert functions["menit_kerja"](10) == f"PT{(2 * 24 * 60 + 16 * 60 + 10) * 60:.3f}S"  # Monday 08:05
    assert functions["menit_kerja"](5) == functions["jam_kerja"](5 / 60) == "PT300.000S"  # Friday 16:00
    # counted on Friday 17 October from Wednesday 15 October: day 60 is Sunday 14 December, so the limit is
    # Monday 15 December, 16:00
    later = datetime(2025, 10, 17, 10, 0, tzinfo=WITA)
    assert calendar.add_calendar_days(later, 60, date(2025, 10, 15)) == datetime(2025, 12, 15, 16, 0, tzinfo=WITA)
    # no date: from today; a date after today: from today as well
    assert calendar.add_calendar_days(friday, 60) == datetime(2025, 12, 9, 16, 0, tzinfo=WITA)
    assert calendar.add_calendar_days(friday, 60, date(2025, 11, 1)) == datetime(2025, 12, 9, 16, 0, tzinfo=WITA)
    assert functions["hari_kalender"](60, "2025-10-10") == functions["hari_kalender"](60)
    with pytest.raises(InvalidInput):
        functions["hari_kalender"](60, "10/10/2025")
    with pytest.raises(LimitExceeded):
        functions["hari_kalender"](-1)
