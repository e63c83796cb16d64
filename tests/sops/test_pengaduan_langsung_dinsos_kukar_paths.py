"""Pengaduan secara langsung, Dinas Sosial Kab. Kutai Kartanegara (seed 003, Lampiran 1).

``pengaduan-langsung-dinsos-kukar.bpmn`` is one sequence: Petugas registers (2) and forwards (3),
the Sekretaris disposes to one or more bidang (4, ``bidang_tujuan``, a list), the Kabid of each bidang —
and only he — follows up within 2 hari kerja (5, a parallel multi-instance task: one task per bidang;
several bidang at once are driven in ``test_parallel_dispositions.py``; the reporter is notified with
the formulir penyelesaian of every bidang), the Sekretaris reports within 10 hari kerja (6).
The unit is in WITA (Asia/Makassar).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.sop_driver import (
    OFFICES,
    START,
    Sop,
    Step,
    actions,
    assert_data,
    completed,
    form,
    instant,
    ready,
    sqlite_only,
    walk,
    working_days_due,
)

from service.catalogue import SUB_UNITS

KEY = "pengaduan-langsung-dinsos-kukar"
UNIT = "dinsos-kukar"
TZ = OFFICES[UNIT].timezone
BIDANG = [unit.code for unit in SUB_UNITS[UNIT]]
LINJAMSOS = "dinsos-kukar-linjamsos"
HASIL = "Bantuan PKH Bapak telah diverifikasi dan akan dicairkan pada tahap berikutnya."
MIN = timedelta(minutes=1)
PENGADUAN = form("dinsos-langsung-pengaduan", nama="Abdul Gani", nik="6402011203850001", telepon="+6281234567890",
                 alamat="Tenggarong", materi_aduan="Bantuan sosial tidak diterima tiga bulan")
BEFORE_FOLLOW_UP = [
    Step("Task_pencatatan", "Petugas", form("dinsos-langsung-pencatatan", nomor_registrasi="ADU/LGS/001"),
         10 * MIN, "Sekretaris"),
    Step("Task_penerusan", "Petugas", form("dinsos-langsung-penerusan"), 10 * MIN, "Sekretaris"),
    Step("Task_disposisi", "Sekretaris", form("dinsos-langsung-disposisi", bidang_tujuan=[LINJAMSOS]),
         10 * MIN, "Kepala Dinas"),
]
FOLLOW_UP = [Step("Task_tindak_lanjut", "Kabid", form("dinsos-langsung-tindak-lanjut", hasil_tindak_lanjut=HASIL), 2,
                  "Kepala Dinas")]
REPORT = [Step("Task_pelaporan", "Sekretaris", form("dinsos-langsung-pelaporan", nomor_arsip="ARS/LGS/10"), 10,
               "Kepala Dinas")]
ORDER = [step.element_id for step in BEFORE_FOLLOW_UP + FOLLOW_UP + REPORT]


def test_walk_in_complaint_from_registration_to_report(sop: Sop) -> None:
    case = sop.start(KEY, PENGADUAN)
    assert ready(case) == ["Task_pencatatan"] and case["tasks"][0]["lane"] == "Petugas"
    assert instant(case["tasks"][0]["due_at"]) == START + 10 * MIN
    case = walk(sop, case, BEFORE_FOLLOW_UP)
    # langkah 5: 2 hari kerja from Monday 09:00 WITA = Wednesday 8 October, 16:00 WITA
    task = case["tasks"][0]
    assert (task["element_id"], task["lane"], task["unit"]) == ("Task_tindak_lanjut", "Kabid", LINJAMSOS)
    assert instant(task["due_at"]) == working_days_due(START, 2, TZ) == datetime(2025, 10, 8, 8, 0, tzinfo=UTC)
    # the disposition is in the task list of that bidang's Kabid only
    assert [t["id"] for t in sop.tasks("Kabid", LINJAMSOS)] == [task["id"]]
    assert all(sop.tasks("Kabid", other) == [] for other in BIDANG if other != LINJAMSOS)
    assert sop.tasks("Kabid", UNIT) == []
    assert sop.notifications(case["id"]) == []
    case = walk(sop, case, FOLLOW_UP)
    answers = {LINJAMSOS: {"hasil_tindak_lanjut": HASIL}}
    assert sop.published(case["id"]) == [("Notifikasi ke Pelapor: hasil tindak lanjut", {"hasil_tindak_lanjut": HASIL})]
    task = case["tasks"][0]
    assert (task["element_id"], task["lane"]) == ("Task_pelaporan", "Sekretaris")
    assert instant(task["due_at"]) == working_days_due(START, 10, TZ) == datetime(2025, 10, 20, 8, 0, tzinfo=UTC)
    case = walk(sop, case, REPORT)

    assert case["status"] == "completed" and ready(case) == []
    assert completed(case) == ORDER
    assert [h["data"]["message"] for h in actions(case, "notification")] == ["notifikasi_pelapor"]
    assert_data(case, PENGADUAN, *(step.data for step in BEFORE_FOLLOW_UP + REPORT), {"jawaban_bidang": answers})
    assert "hasil_tindak_lanjut" not in case["data"], "a bidang's answer is kept as its own, not as the case's"


def test_every_sla_escalates_including_the_working_day_limits(sop: Sop) -> None:
    case = walk(sop, sop.start(KEY, PENGADUAN), BEFORE_FOLLOW_UP, breach=True)
    # three 10-minute breaches later it is Monday 09:30:03 WITA: 2 hari kerja end on Wednesday 16:00 WITA
    created = START + 30 * MIN + timedelta(seconds=3)
    assert datetime.now(UTC) == created
    due = working_days_due(created, 2, TZ)
    assert due == datetime(2025, 10, 8, 8, 0, tzinfo=UTC)
    case = walk(sop, case, FOLLOW_UP, breach=True)
    # the report task starts Wednesday 16:00:01 WITA, after closing: 10 hari kerja end on 22 October
    assert datetime.now(UTC) == due + timedelta(seconds=1)
    assert instant(case["tasks"][0]["due_at"]) == working_days_due(due, 10, TZ) == datetime(2025, 10, 22, 8, 0,
                                                                                             tzinfo=UTC)
    case = walk(sop, case, REPORT, breach=True)

    assert case["status"] == "completed" and completed(case) == ORDER
    assert [h["element_id"] for h in actions(case, "timer_fired")] == [f"Timer_{i}" for i in ORDER]
    assert [(row.recipient_role, row.payload["element_id"]) for row in sop.outbox(case["id"], "escalation")] == [
        ("Sekretaris", "Task_pencatatan"), ("Sekretaris", "Task_penerusan"), ("Kepala Dinas", "Task_disposisi"),
        ("Kepala Dinas", "Task_tindak_lanjut"), ("Kepala Dinas", "Task_pelaporan")]


@sqlite_only
def test_the_disposition_must_name_a_bidang_of_the_dinas(sop: Sop) -> None:
    case = walk(sop, sop.start(KEY, PENGADUAN), BEFORE_FOLLOW_UP[:2])
    disposisi = dict(BEFORE_FOLLOW_UP[2].data)
    for wrong in (["Bidang Linjamsos"], ["dpmptsp-kukar-data"], [], [LINJAMSOS, LINJAMSOS], LINJAMSOS):
        fields = sop.refused(case, "Task_disposisi", "Sekretaris", {**disposisi, "bidang_tujuan": wrong})
        assert {name.split(".")[0] for name in fields} == {"bidang_tujuan"}, (wrong, fields)
    case = sop.work(case, "Task_disposisi", "Sekretaris", {**disposisi, "bidang_tujuan": [BIDANG[-1]]})
    assert [(t["element_id"], t["unit"]) for t in case["tasks"]] == [("Task_tindak_lanjut", BIDANG[-1])]
