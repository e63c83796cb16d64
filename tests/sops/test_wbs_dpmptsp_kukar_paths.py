"""WBS, DPMPTSP Kab. Kutai Kartanegara (seed 000): every path of ``wbs-dpmptsp-kukar.bpmn``.

Langkah 2 is the Kasi taking in one aduan found on the daily check of the box and the website: every
aduan is processed (the seed's "tidak ada keluhan maka aktifitas selesai" is the daily check that finds
nothing, so no case starts; there is no per-case exit). D2 (langkah 4, ``disposisi_kabid``, the Kabid's
own decision on the Kasi's pemilahan): dijawab Kabid → the Kabid answers (5); diserahkan ke bidang
terkait → the Bidang Terkait of the bidang named in ``bidang_tujuan`` (6). Langkah 8 continues in the
call activity ``surat-keluar`` (lane Subbag Umum), which numbers the letter and hands it back; the
Kasi then sends it, once (langkah 9, the reporter is notified with the surat balasan) and archives.
Every step of the seed has an SLA timer in office time (``menit_kerja``/``jam_kerja``).
"""

from __future__ import annotations

import json
from datetime import timedelta

from support.sop_driver import (
    FORMS_DIR,
    Sop,
    Step,
    actions,
    assert_data,
    completed,
    enum,
    form,
    pdf,
    ready,
    sqlite_only,
    walk,
    without,
)

from service.catalogue import SUB_UNITS

KEY = "wbs-dpmptsp-kukar"
UNIT = "dpmptsp-kukar"
BIDANG = [unit.code for unit in SUB_UNITS[UNIT]]
PERIZINAN = "dpmptsp-kukar-perizinan"
MIN = timedelta(minutes=1)
PENGADUAN = form("wbs-kukar-pengaduan", saluran="kotak Whistle Blower System", nama="Rahmat", telepon="081350001234",
                 uraian="Petugas loket meminta imbalan untuk mempercepat izin")
INTAKE = [
    Step("Task_pemeriksaan", "Kasi", form("wbs-kukar-pemeriksaan", catatan_pemeriksaan="Dari kotak WBS"), 5 * MIN,
         "Kabid"),
]
KABID_SET = {"informasi", "rekomendasi teknik", "evaluasi layanan"}
DIJAWAB, DISERAHKAN = "dijawab Kabid", "diserahkan ke bidang terkait"


def _disposisi(keputusan: str, bidang: str = PERIZINAN) -> dict:
    return form("wbs-kukar-disposisi", disposisi_kabid=keputusan, catatan_disposisi="Segera",
                **({} if keputusan == DIJAWAB else {"bidang_tujuan": bidang}))


def _triage(jenis: str, bidang: str = PERIZINAN) -> list[Step]:
    """The Kasi's pemilahan (langkah 3) and the Kabid's disposisi (langkah 4) agreeing on ``jenis``."""
    pemilahan = form("wbs-kukar-pemilahan", jenis_aduan=jenis,
                     **({} if jenis in KABID_SET else {"bidang_tujuan": bidang}))
    return [
        Step("Task_pemilahan", "Kasi", pemilahan, 10 * MIN, "Kabid"),
        Step("Task_disposisi", "Kabid", _disposisi(DIJAWAB if jenis in KABID_SET else DISERAHKAN, bidang), 3 * MIN,
             "Kepala Dinas"),
    ]


KABID_ANSWERS = [Step("Task_jawaban_kabid", "Kabid", form("wbs-kukar-jawaban-kabid"), 3 * 60 * MIN, "Kepala Dinas")]
BIDANG_FOLLOWS_UP = [Step("Task_tindak_lanjut_bidang", "Bidang Terkait", form("wbs-kukar-tindak-lanjut-bidang"),
                          3 * 60 * MIN, "Kabid")]
SURAT = "Pungutan di loket telah dihentikan dan petugas yang bersangkutan dibina."
REPLY = [
    Step("Task_surat_balasan", "Kasi", form("wbs-kukar-surat-balasan", perihal_surat_balasan="Jawaban pengaduan",
                                            surat_balasan=SURAT), 10 * MIN, "Kabid"),
    Step("Task_tanda_tangan", "Kabid", form("wbs-kukar-tanda-tangan"), 5 * MIN, "Kepala Dinas"),
]
SURAT_KELUAR = [
    Step("Task_registrasi", "Subbag Umum", form("surat-keluar-registrasi", nomor_surat="500/123/DPMPTSP")),
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
    case = walk(sop, case, SURAT_KELUAR)
    # back in the parent after the call activity, which numbered the letter but did not send it: the
    # Kasi sends it once (langkah 9)
    assert ready(case) == ["Task_distribusi"] and case["tasks"][0]["lane"] == "Kasi"
    assert sop.notifications(case["id"]) == []
    letter = pdf("surat-balasan.pdf")
    distribution = form("wbs-kukar-distribusi", cara_distribusi="email", berkas_surat_balasan=[letter])
    case = sop.work(case, "Task_distribusi", "Kasi", distribution)
    assert ready(case) == ["Task_arsip"]
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")]
    # langkah 9 publishes the surat balasan: its subject, its text and the signed letter
    [(name, published)] = sop.published(case["id"])
    assert name == "Notifikasi ke Pelapor: surat balasan"
    assert published["perihal_surat_balasan"] == "Jawaban pengaduan" and published["surat_balasan"] == SURAT
    assert [f["filename"] for f in published["berkas_surat_balasan"]] == ["surat-balasan.pdf"]
    case = walk(sop, case, ARCHIVE)

    assert case["status"] == "completed" and ready(case) == []
    assert completed(case) == _ids(INTAKE, _triage("informasi"), KABID_ANSWERS, REPLY, SURAT_KELUAR,
                                   DISTRIBUTION, ARCHIVE)
    assert [h["data"]["message"] for h in actions(case, "notification")] == ["notifikasi_pelapor"]
    assert_data(case, PENGADUAN, *_data(INTAKE, _triage("informasi"), KABID_ANSWERS, REPLY, SURAT_KELUAR, ARCHIVE))


@sqlite_only  # the Kabid path above runs on both backends
def test_bidang_terkait_of_the_chosen_bidang_follows_up_other_complaints(sop: Sop) -> None:
    case = sop.start(KEY, PENGADUAN)
    case = walk(sop, case, INTAKE + _triage("perizinan"))
    [task] = case["tasks"]
    assert (task["element_id"], task["lane"], task["unit"]) == ("Task_tindak_lanjut_bidang", "Bidang Terkait",
                                                                PERIZINAN)
    # the disposition reaches that bidang only
    assert [t["id"] for t in sop.tasks("Bidang Terkait", PERIZINAN)] == [task["id"]]
    assert all(sop.tasks("Bidang Terkait", other) == [] for other in BIDANG if other != PERIZINAN)
    assert sop.tasks("Bidang Terkait", UNIT) == []
    case = walk(sop, case, BIDANG_FOLLOWS_UP + REPLY + SURAT_KELUAR + DISTRIBUTION + ARCHIVE)

    assert case["status"] == "completed"
    assert completed(case) == _ids(INTAKE, _triage("perizinan"), BIDANG_FOLLOWS_UP, REPLY, SURAT_KELUAR,
                                   DISTRIBUTION, ARCHIVE)
    assert "jawaban_kabid" not in case["data"]
    assert_data(case, PENGADUAN, *_data(INTAKE, _triage("perizinan"), BIDANG_FOLLOWS_UP, REPLY, SURAT_KELUAR,
                                        DISTRIBUTION, ARCHIVE))
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")]


@sqlite_only
def test_the_kabid_may_send_the_disposition_to_another_bidang(sop: Sop) -> None:
    case = walk(sop, sop.start(KEY, PENGADUAN), INTAKE + _triage("penanaman modal")[:1])
    other = "dpmptsp-kukar-promosi"
    case = sop.work(case, "Task_disposisi", "Kabid", _disposisi(DISERAHKAN, other))
    assert [(t["element_id"], t["unit"]) for t in case["tasks"]] == [("Task_tindak_lanjut_bidang", other)]
    assert sop.tasks("Bidang Terkait", PERIZINAN) == []


@sqlite_only
def test_d2_routes_every_jenis_aduan(sop: Sop) -> None:
    others = {"perizinan", "penanaman modal", "kesekretariatan", "lainnya"}
    assert KABID_SET | others == set(enum("wbs-kukar-pemilahan", "jenis_aduan"))
    for jenis in sorted(KABID_SET | others):
        case = walk(sop, sop.start(KEY, PENGADUAN), INTAKE + _triage(jenis, BIDANG[-1]))
        assert case["data"]["disposisi_kabid"] == (DIJAWAB if jenis in KABID_SET else DISERAHKAN)
        expected = ("Task_jawaban_kabid", "Kabid", UNIT) if jenis in KABID_SET else (
            "Task_tindak_lanjut_bidang", "Bidang Terkait", BIDANG[-1])
        assert [(t["element_id"], t["lane"], t["unit"]) for t in case["tasks"]] == [expected], jenis
        assert case["data"]["jenis_aduan"] == jenis


@sqlite_only
def test_a_complaint_for_a_bidang_must_name_the_bidang(sop: Sop) -> None:
    case = walk(sop, sop.start(KEY, PENGADUAN), INTAKE)
    pemilahan = form("wbs-kukar-pemilahan", jenis_aduan="perizinan")
    assert sop.refused(case, "Task_pemilahan", "Kasi", without(pemilahan, "bidang_tujuan")) == ["bidang_tujuan"]
    assert sop.refused(case, "Task_pemilahan", "Kasi", {**pemilahan, "bidang_tujuan": "Bidang Perizinan"}) == [
        "bidang_tujuan"]


# --- D2 is the Kabid's decision ------------------------------------------------------------------------

@sqlite_only
def test_the_kabid_decides_d2_whatever_the_kasi_proposed(sop: Sop) -> None:
    """"Jika keluhan/aduan untuk bidang informasi … maka kabid menjawab": the Kabid's own field routes."""
    informasi = [Step("Task_pemilahan", "Kasi", form("wbs-kukar-pemilahan", jenis_aduan="informasi"), 10 * MIN,
                      "Kabid")]
    case = walk(sop, sop.start(KEY, PENGADUAN), INTAKE + informasi)
    case = sop.work(case, "Task_disposisi", "Kabid", _disposisi(DISERAHKAN, PERIZINAN))
    assert [(t["element_id"], t["unit"]) for t in case["tasks"]] == [("Task_tindak_lanjut_bidang", PERIZINAN)]

    perizinan = [Step("Task_pemilahan", "Kasi", form("wbs-kukar-pemilahan", jenis_aduan="perizinan",
                                                      bidang_tujuan=PERIZINAN), 10 * MIN, "Kabid")]
    case = walk(sop, sop.start(KEY, PENGADUAN), INTAKE + perizinan)
    case = sop.work(case, "Task_disposisi", "Kabid", _disposisi(DIJAWAB))
    assert ready(case) == ["Task_jawaban_kabid"] and case["data"]["jenis_aduan"] == "perizinan"


@sqlite_only
def test_the_kabid_must_choose_and_name_the_bidang_he_hands_over_to(sop: Sop) -> None:
    assert enum("wbs-kukar-disposisi", "disposisi_kabid") == [DIJAWAB, DISERAHKAN]
    case = walk(sop, sop.start(KEY, PENGADUAN), INTAKE + _triage("perizinan")[:1])
    assert sop.refused(case, "Task_disposisi", "Kabid", {"catatan_disposisi": "Segera"}) == ["disposisi_kabid"]
    assert sop.refused(case, "Task_disposisi", "Kabid", {"disposisi_kabid": DISERAHKAN}) == ["bidang_tujuan"]


# --- langkah 2: every aduan is processed -------------------------------------------------------------

@sqlite_only
def test_every_aduan_found_on_the_daily_check_is_processed(sop: Sop) -> None:
    """No per-case "tidak ada keluhan" exit: the Kasi's check leads to the pemilahan, with nothing to decide."""
    schema = json.loads((FORMS_DIR / "wbs-kukar-pemeriksaan.schema.json").read_text(encoding="utf-8"))
    assert list(schema["properties"]) == ["catatan_pemeriksaan"] and schema["required"] == []
    case = sop.start(KEY, PENGADUAN)
    case = sop.work(case, "Task_pemeriksaan", "Kasi", {})
    assert ready(case) == ["Task_pemilahan"] and case["status"] == "running"
    assert sop.notifications(case["id"]) == []


# --- SLAs --------------------------------------------------------------------------------------------

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
