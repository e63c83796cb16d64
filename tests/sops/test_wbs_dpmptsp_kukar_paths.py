"""WBS, DPMPTSP Kab. Kutai Kartanegara (seed 000): every path of ``wbs-dpmptsp-kukar.bpmn``.

D1 (langkah 2, ``ada_keluhan``): no complaint → end. D2 (after langkah 4, ``jenis_aduan``):
informasi / rekomendasi teknik / evaluasi layanan → the Kabid answers (5); anything else → Bidang
Terkait (6). Langkah 8 continues in the call activity ``surat-keluar`` (lane Subbag Umum), then the
Kasi distributes the reply (the reporter is notified) and archives. Every step has an SLA timer.
"""

from __future__ import annotations

from datetime import timedelta

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
)

KEY = "wbs-dpmptsp-kukar"
UNIT = "dpmptsp-kukar"
MIN = timedelta(minutes=1)
PENGADUAN = form("wbs-kukar-pengaduan", saluran="kotak Whistle Blower System", nama="Rahmat", telepon="081350001234",
                 uraian="Petugas loket meminta imbalan untuk mempercepat izin")
INTAKE = [
    Step("Task_pemeriksaan", "Kasi", form("wbs-kukar-pemeriksaan", ada_keluhan=True), 5 * MIN, "Kabid"),
]


def _triage(jenis: str) -> list[Step]:
    return [
        Step("Task_pemilahan", "Kasi", form("wbs-kukar-pemilahan", jenis_aduan=jenis, bidang_tujuan="Bidang Perizinan"),
             10 * MIN, "Kabid"),
        Step("Task_disposisi", "Kabid", form("wbs-kukar-disposisi", catatan_disposisi="Segera"), 3 * MIN,
             "Kepala Dinas"),
    ]


KABID_ANSWERS = [Step("Task_jawaban_kabid", "Kabid", form("wbs-kukar-jawaban-kabid"), 3 * 60 * MIN, "Kepala Dinas")]
BIDANG_FOLLOWS_UP = [Step("Task_tindak_lanjut_bidang", "Bidang Terkait", form("wbs-kukar-tindak-lanjut-bidang"),
                          3 * 60 * MIN, "Kabid")]
REPLY = [
    Step("Task_surat_balasan", "Kasi", form("wbs-kukar-surat-balasan", perihal_surat_balasan="Jawaban pengaduan"),
         10 * MIN, "Kabid"),
    Step("Task_tanda_tangan", "Kabid", form("wbs-kukar-tanda-tangan"), 5 * MIN, "Kepala Dinas"),
]
SURAT_KELUAR = [
    Step("Task_registrasi", "Subbag Umum", form("surat-keluar-registrasi", nomor_surat="500/123/DPMPTSP")),
    Step("Task_pengiriman", "Subbag Umum", form("surat-keluar-pengiriman", cara_pengiriman="email")),
]
DISTRIBUTION = [Step("Task_distribusi", "Kasi", form("wbs-kukar-distribusi", cara_distribusi="email"), 40 * MIN,
                     "Kabid")]
ARCHIVE = [Step("Task_arsip", "Kasi", form("wbs-kukar-arsip", nomor_arsip="ARS-2025-10"), 3 * MIN, "Kabid")]


def _ids(*parts: list[Step]) -> list[str]:
    return [step.element_id for part in parts for step in part]


def _data(*parts: list[Step]) -> list[dict]:
    return [dict(step.data) for part in parts for step in part]


def test_kabid_answers_then_surat_keluar_runs_as_a_call_activity(sop: Sop) -> None:
    case = sop.start(KEY, PENGADUAN)
    case = walk(sop, case, INTAKE + _triage("informasi") + KABID_ANSWERS + REPLY)
    # langkah 8: the outgoing-letter SOP runs inside the case, in the Subbag Umum lane
    assert ready(case) == ["Task_registrasi"]
    task = case["tasks"][0]
    assert task["lane"] == "Subbag Umum" and task["roles"] == ["Subbag Umum"] and task["form_key"]
    assert [t["id"] for t in sop.tasks("Subbag Umum", UNIT)] == [task["id"]]
    assert sop.tasks("Kasi", UNIT) == [] and sop.tasks("Kabid", UNIT) == []
    case = walk(sop, case, SURAT_KELUAR[:1])
    assert ready(case) == ["Task_pengiriman"] and case["tasks"][0]["lane"] == "Subbag Umum"
    case = walk(sop, case, SURAT_KELUAR[1:])
    # back in the parent after the call activity
    assert ready(case) == ["Task_distribusi"] and case["tasks"][0]["lane"] == "Kasi"
    assert sop.notifications(case["id"]) == []
    case = walk(sop, case, DISTRIBUTION)
    assert ready(case) == ["Task_arsip"]
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")]
    case = walk(sop, case, ARCHIVE)

    assert case["status"] == "completed" and ready(case) == []
    assert completed(case) == _ids(INTAKE, _triage("informasi"), KABID_ANSWERS, REPLY, SURAT_KELUAR,
                                   DISTRIBUTION, ARCHIVE)
    assert [h["data"]["message"] for h in actions(case, "notification")] == ["notifikasi_pelapor"]
    assert_data(case, PENGADUAN, *_data(INTAKE, _triage("informasi"), KABID_ANSWERS, REPLY, SURAT_KELUAR,
                                        DISTRIBUTION, ARCHIVE))


@sqlite_only  # the Kabid path above runs on both backends
def test_bidang_terkait_follows_up_other_complaints(sop: Sop) -> None:
    case = sop.start(KEY, PENGADUAN)
    case = walk(sop, case, INTAKE + _triage("perizinan"))
    assert ready(case) == ["Task_tindak_lanjut_bidang"] and case["tasks"][0]["lane"] == "Bidang Terkait"
    case = walk(sop, case, BIDANG_FOLLOWS_UP + REPLY + SURAT_KELUAR + DISTRIBUTION + ARCHIVE)

    assert case["status"] == "completed"
    assert completed(case) == _ids(INTAKE, _triage("perizinan"), BIDANG_FOLLOWS_UP, REPLY, SURAT_KELUAR,
                                   DISTRIBUTION, ARCHIVE)
    assert "jawaban_kabid" not in case["data"]
    assert_data(case, PENGADUAN, *_data(INTAKE, _triage("perizinan"), BIDANG_FOLLOWS_UP, REPLY, SURAT_KELUAR,
                                        DISTRIBUTION, ARCHIVE))
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")]


@sqlite_only
def test_d2_routes_every_jenis_aduan(sop: Sop) -> None:
    kabid = {"informasi", "rekomendasi teknik", "evaluasi layanan"}
    others = {"perizinan", "penanaman modal", "kesekretariatan", "lainnya"}
    assert kabid | others == set(enum("wbs-kukar-pemilahan", "jenis_aduan"))
    for jenis in sorted(kabid | others):
        case = walk(sop, sop.start(KEY, PENGADUAN), INTAKE + _triage(jenis))
        expected = ("Task_jawaban_kabid", "Kabid") if jenis in kabid else (
            "Task_tindak_lanjut_bidang", "Bidang Terkait")
        assert [(t["element_id"], t["lane"]) for t in case["tasks"]] == [expected], jenis
        assert case["data"]["jenis_aduan"] == jenis


@sqlite_only
def test_no_complaint_in_the_box_ends_the_check(sop: Sop) -> None:
    case = sop.start(KEY, PENGADUAN)
    pemeriksaan = form("wbs-kukar-pemeriksaan", ada_keluhan=False, catatan_pemeriksaan="Kotak kosong")
    case = sop.work(case, "Task_pemeriksaan", "Kasi", pemeriksaan)

    assert case["status"] == "completed" and ready(case) == []
    assert completed(case) == ["Task_pemeriksaan"]
    assert sop.notifications(case["id"]) == []
    assert_data(case, PENGADUAN, pemeriksaan)


def test_every_sla_of_the_kabid_path_escalates(sop: Sop) -> None:
    case = sop.start(KEY, PENGADUAN)
    case = walk(sop, case, INTAKE + _triage("evaluasi layanan") + KABID_ANSWERS + REPLY + SURAT_KELUAR
                + DISTRIBUTION + ARCHIVE, breach=True)
    assert case["status"] == "completed"
    fired = [h["element_id"] for h in actions(case, "timer_fired")]
    timed = _ids(INTAKE, _triage("evaluasi layanan"), KABID_ANSWERS, REPLY, DISTRIBUTION, ARCHIVE)
    assert fired == [f"Timer_{i}" for i in timed]
    assert [row.recipient_role for row in sop.outbox(case["id"], "escalation")] == [
        "Kabid", "Kabid", "Kepala Dinas", "Kepala Dinas", "Kabid", "Kepala Dinas", "Kabid", "Kabid"]


@sqlite_only
def test_sla_of_bidang_terkait_escalates_to_the_kabid(sop: Sop) -> None:
    case = walk(sop, sop.start(KEY, PENGADUAN), INTAKE + _triage("lainnya"))
    case = walk(sop, case, BIDANG_FOLLOWS_UP, breach=True)
    assert ready(case) == ["Task_surat_balasan"]
    assert [h["element_id"] for h in actions(case, "timer_fired")] == ["Timer_Task_tindak_lanjut_bidang"]
