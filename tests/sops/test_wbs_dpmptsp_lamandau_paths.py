"""WBS, DPMPTSP Kab. Lamandau (seed 001): ``wbs-dpmptsp-lamandau.bpmn``.

One sequence, no decisions: Sekretariat records (2) → Tim Telaah reviews (3) → Kepala Dinas holds the
meeting (4) → Tim Audit writes the berita acara (5) → Sekretariat sends the written response (6) →
the reporter receives it (7, a notification) → Sekretariat archives (8). Every step's Waktu is an SLA
that escalates to the Kepala Dinas, but his own meeting (4), which escalates to the Sekretariat.
"""

from __future__ import annotations

from datetime import timedelta

from support.sop_driver import Sop, Step, actions, assert_data, completed, form, pdf, ready, sqlite_only, walk

KEY = "wbs-dpmptsp-lamandau"
UNIT = "dpmptsp-lamandau"
MIN = timedelta(minutes=1)
TANGGAPAN = "Biaya tambahan tidak sah; petugas telah diberi sanksi dan biaya dikembalikan."
PENGADUAN = form("wbs-lamandau-pengaduan", saluran="sms", telepon="085212340000",
                 uraian="Pemohon izin diminta biaya tambahan di luar ketentuan")
BEFORE_REPLY = [
    Step("Task_pencatatan", "Sekretariat", form("wbs-lamandau-pencatatan", nomor_agenda="WBS/01/2025"),
         30 * MIN, "Kepala Dinas"),
    Step("Task_pengkajian", "Tim Telaah", form("wbs-lamandau-pengkajian"), 30 * MIN, "Kepala Dinas"),
    Step("Task_rapat", "Kepala Dinas", form("wbs-lamandau-rapat", peserta_rapat="Kepala Dinas, Tim Telaah, Tim Audit"),
         60 * MIN, "Sekretariat"),
    Step("Task_berita_acara", "Tim Audit", form("wbs-lamandau-berita-acara", nomor_berita_acara="BA-07"),
         60 * MIN, "Kepala Dinas"),
    Step("Task_tanggapan", "Sekretariat", form("wbs-lamandau-tanggapan", nomor_surat_tanggapan="503/77/DPMPTSP",
                                                tanggapan=TANGGAPAN), 60 * MIN, "Kepala Dinas"),
]
ARCHIVE = [Step("Task_arsip", "Sekretariat", form("wbs-lamandau-arsip", lokasi_arsip="Lemari 2"), 15 * MIN,
                "Kepala Dinas")]
ORDER = [step.element_id for step in BEFORE_REPLY + ARCHIVE]


def test_the_whole_sequence_with_the_reply_notified_to_the_reporter(sop: Sop) -> None:
    case = sop.start(KEY, PENGADUAN)
    assert ready(case) == ["Task_pencatatan"] and case["unit"] == UNIT
    case = walk(sop, case, BEFORE_REPLY)
    # langkah 7: the reporter receives the tanggapan as a notification, not as a task
    assert ready(case) == ["Task_arsip"]
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")]
    assert sop.published(case["id"]) == [("Menerima tanggapan pengaduan (notifikasi ke Pelapor)",
                                          {"tanggapan": TANGGAPAN})]
    assert sop.tasks("Pelapor", UNIT) == []
    case = walk(sop, case, ARCHIVE)

    assert case["status"] == "completed" and ready(case) == []
    assert completed(case) == ORDER
    assert [h["data"]["message"] for h in actions(case, "notification")] == ["notifikasi_pelapor"]
    assert_data(case, PENGADUAN, *(step.data for step in BEFORE_REPLY + ARCHIVE))


@sqlite_only
def test_the_written_tanggapan_is_published_with_its_letter(sop: Sop) -> None:
    case = walk(sop, sop.start(KEY, PENGADUAN), BEFORE_REPLY[:-1])
    tanggapan = {**BEFORE_REPLY[-1].data, "berkas_tanggapan": [pdf("tanggapan.pdf")]}
    case = sop.work(case, "Task_tanggapan", "Sekretariat", tanggapan)
    [(_, published)] = sop.published(case["id"])
    assert published["tanggapan"] == TANGGAPAN
    assert [f["filename"] for f in published["berkas_tanggapan"]] == ["tanggapan.pdf"]


def test_every_sla_escalates_to_the_kepala_dinas_but_his_own_to_the_sekretariat(sop: Sop) -> None:
    case = walk(sop, sop.start(KEY, PENGADUAN), BEFORE_REPLY + ARCHIVE, breach=True)
    assert case["status"] == "completed" and completed(case) == ORDER
    assert [h["element_id"] for h in actions(case, "timer_fired")] == [f"Timer_{i}" for i in ORDER]
    escalations = sop.outbox(case["id"], "escalation")
    assert [(row.recipient_role, row.payload["element_id"]) for row in escalations] == [
        (step.escalate_to, step.element_id) for step in BEFORE_REPLY + ARCHIVE]
