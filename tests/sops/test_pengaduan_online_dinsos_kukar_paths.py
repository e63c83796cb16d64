"""Pengaduan secara online, Dinas Sosial Kab. Kutai Kartanegara (seed 003, Lampiran 2).

``pengaduan-online-dinsos-kukar.bpmn``: the Admin Media Sosial receives (1) and verifies (2) the
message; D1 (``hasil_verifikasi_pesan``) ends the case when it is not a complaint (with a written
reason the reporter is told), else the Admin acknowledges it (3; the reporter is notified) and
forwards it (4); the Sekretaris disposes to one or more bidang (5, ``bidang_tujuan``, a list), whose
Kabid each follow up (6) and draft the reply (7) — parallel multi-instance tasks, one per bidang, their
answers collected in ``jawaban_bidang`` (several bidang: ``test_parallel_dispositions.py``) — the
Admin publishes it (8; the reporter is notified with the reply).
Every step has an SLA: the Admin's escalate to the Sekretaris, the others to the Kepala Dinas.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.sop_driver import (
    Sop,
    Step,
    actions,
    assert_data,
    completed,
    enum,
    form,
    ready,
    sqlite_only,
    walk,
    without,
)

from service.worker.loop import run_once

KEY = "pengaduan-online-dinsos-kukar"
UNIT = "dinsos-kukar"
MIN = timedelta(minutes=1)
ADMIN = "Admin Media Sosial"
REHSOS = "dinsos-kukar-rehsos"
RESPON = "Terima kasih, aduan kami terima dan akan segera diproses."
BALASAN = "PKH Ibu akan cair pada tahap berikutnya setelah verifikasi data."
PENGADUAN = form("dinsos-online-pengaduan", media="Facebook", akun_pengirim="@warga.tenggarong",
                 isi_pesan="PKH belum cair, mohon ditindaklanjuti", tautan="https://facebook.com/posts/1")
INTAKE = [
    Step("Task_penerimaan", ADMIN, form("dinsos-online-penerimaan"), 5 * MIN, "Sekretaris"),
]
VERIFIED = [Step("Task_verifikasi", ADMIN, form("dinsos-online-verifikasi", hasil_verifikasi_pesan="terkait pengaduan"),
                 10 * MIN, "Sekretaris")]
ACKNOWLEDGE = [Step("Task_respon", ADMIN, form("dinsos-online-respon", respon_admin=RESPON), 5 * MIN, "Sekretaris")]
HANDLING = [
    Step("Task_penerusan", ADMIN, form("dinsos-online-penerusan", catatan_penerusan="Mohon disposisi"), 10 * MIN,
         "Sekretaris"),
    Step("Task_disposisi", "Sekretaris", form("dinsos-online-disposisi", bidang_tujuan=[REHSOS]),
         10 * MIN, "Kepala Dinas"),
    Step("Task_tindak_lanjut", "Kabid", form("dinsos-online-tindak-lanjut"), 30 * MIN, "Kepala Dinas"),
    Step("Task_balasan", "Kabid", form("dinsos-online-balasan"), 10 * MIN, "Kepala Dinas"),
]
PUBLISH = [Step("Task_publikasi", ADMIN, form("dinsos-online-publikasi", balasan_publik=BALASAN,
                                             tautan_balasan="https://facebook.com/r/1"), 30 * MIN, "Sekretaris")]
PATH = INTAKE + VERIFIED + ACKNOWLEDGE + HANDLING + PUBLISH
ORDER = [step.element_id for step in PATH]


def test_complaint_is_acknowledged_handled_and_answered_online(sop: Sop) -> None:
    case = sop.start(KEY, PENGADUAN)
    assert ready(case) == ["Task_penerimaan"] and case["tasks"][0]["lane"] == ADMIN
    case = walk(sop, case, INTAKE + VERIFIED)
    assert ready(case) == ["Task_respon"] and sop.notifications(case["id"]) == []
    case = walk(sop, case, ACKNOWLEDGE)
    # langkah 3: the acknowledgement reaches the reporter
    assert sop.published(case["id"]) == [("Notifikasi ke Pelapor: pengaduan diterima", {"respon_admin": RESPON})]
    case = walk(sop, case, HANDLING[:2])
    # langkah 6 and 7 belong to the Kabid of the bidang the Sekretaris chose
    assert [(t["element_id"], t["lane"], t["unit"]) for t in case["tasks"]] == [("Task_tindak_lanjut", "Kabid", REHSOS)]
    assert sop.tasks("Kabid", "dinsos-kukar-linjamsos") == [] and sop.tasks("Kabid", UNIT) == []
    case = walk(sop, case, HANDLING[2:3])
    assert [(t["element_id"], t["unit"]) for t in case["tasks"]] == [("Task_balasan", REHSOS)]
    case = walk(sop, case, HANDLING[3:])
    assert ready(case) == ["Task_publikasi"] and len(sop.notifications(case["id"])) == 1
    case = walk(sop, case, PUBLISH)

    assert case["status"] == "completed" and ready(case) == []
    assert completed(case) == ORDER
    # langkah 8: the published reply reaches the reporter too
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")] * 2
    assert sop.published(case["id"])[1] == ("Notifikasi ke Pelapor: balasan di media online",
                                            {"balasan_publik": BALASAN, "tautan_balasan": "https://facebook.com/r/1"})
    assert [h["data"]["message"] for h in actions(case, "notification")] == ["notifikasi_pelapor"] * 2
    kabid = [step for step in HANDLING if step.lane == "Kabid"]
    assert_data(case, PENGADUAN, *(step.data for step in PATH if step not in kabid),
                {"jawaban_bidang": {REHSOS: {**kabid[0].data, **kabid[1].data}}})
    # the Kepala Dinas has no step in this SOP
    assert sop.tasks("Kepala Dinas", UNIT) == []


def test_a_message_that_is_not_a_complaint_ends_after_verification_with_its_reason(sop: Sop) -> None:
    assert enum("dinsos-online-verifikasi", "hasil_verifikasi_pesan") == ["terkait pengaduan",
                                                                         "tidak terkait pengaduan"]
    case = walk(sop, sop.start(KEY, PENGADUAN), INTAKE)
    alasan = "Pesan berisi promosi produk, bukan pengaduan layanan Dinas Sosial."
    verifikasi = form("dinsos-online-verifikasi", hasil_verifikasi_pesan="tidak terkait pengaduan",
                      alasan_bukan_pengaduan=alasan, catatan_verifikasi="Promosi produk")
    assert sop.refused(case, "Task_verifikasi", ADMIN, without(verifikasi, "alasan_bukan_pengaduan")) == [
        "alasan_bukan_pengaduan"]
    assert sop.refused(case, "Task_verifikasi", ADMIN, {**verifikasi, "alasan_bukan_pengaduan": "promosi"}) == [
        "alasan_bukan_pengaduan"]
    assert sop.refused(case, "Task_verifikasi", ADMIN, {}) == ["hasil_verifikasi_pesan"]
    case = sop.work(case, "Task_verifikasi", ADMIN, verifikasi)

    assert case["status"] == "completed" and ready(case) == []
    assert completed(case) == ["Task_penerimaan", "Task_verifikasi"]
    assert sop.published(case["id"]) == [("Notifikasi ke Pelapor: pesan tidak diproses sebagai pengaduan",
                                          {"alasan_bukan_pengaduan": alasan})]
    assert_data(case, PENGADUAN, INTAKE[0].data, verifikasi)


@sqlite_only  # eight clock moves; the same diagram runs end to end on PostgreSQL above
def test_every_sla_escalates(sop: Sop) -> None:
    case = walk(sop, sop.start(KEY, PENGADUAN), PATH, breach=True)
    assert case["status"] == "completed" and completed(case) == ORDER
    assert [h["element_id"] for h in actions(case, "timer_fired")] == [f"Timer_{i}" for i in ORDER]
    assert [(row.recipient_role, row.payload["element_id"]) for row in sop.outbox(case["id"], "escalation")] == [
        (step.escalate_to, step.element_id) for step in PATH]
    assert len(sop.notifications(case["id"])) == 2


@sqlite_only
def test_the_periodic_report_starts_every_quarter(sop: Sop) -> None:
    """Langkah 9 (3 bulan/6 bulan) is ``pengaduan-online-dinsos-kukar-laporan-berkala``, started by the worker at
    the opening of the first working day of each quarter (its figures: tests/worker/test_periodic_reports.py)."""
    key = "pengaduan-online-dinsos-kukar-laporan-berkala"
    sop.clock.move_to(datetime(2026, 1, 2, 0, 0, tzinfo=UTC) - timedelta(seconds=1))
    assert run_once(sop.services) is False
    sop.clock.move_to(datetime(2026, 1, 2, 0, 0, tzinfo=UTC))  # Friday 2 January 08:00 WITA: 1 January is a holiday
    assert run_once(sop.services) is True
    [task] = sop.tasks("Sekretaris", UNIT)
    assert (task["definition_key"], task["element_id"], task["lane"]) == (key, "Task_laporan_berkala", "Sekretaris")
    case = sop.case(task["case_id"])
    assert case["business_key"] == f"{key}@2025-T4"
    assert (case["data"]["periode_awal"], case["data"]["periode_akhir"]) == ("2025-10-01", "2025-12-31")
    laporan = form("dinsos-online-laporan-berkala", laporan_berkala="Rekap triwulan IV diarsipkan.")
    case = sop.work(case, "Task_laporan_berkala", "Sekretaris", laporan)
    assert case["status"] == "completed" and completed(case) == ["Task_laporan_berkala"]
    assert_data(case, laporan)
