"""DUMAS, Inspektorat Kab. Katingan (seed 004): every path of ``dumas-inspektorat-katingan.bpmn``.

D1 (langkah 2, ``hasil_verifikasi``): lengkap / tidak lengkap (→ Melengkapi laporan, back to
langkah 2) / tidak dapat diproses (reporter notified, closed). D2 (langkah 3, ``kategori_telaah``):
berkadar pengawasan → Sekretariat Inspektorat → Inspektur (60 hari) / tidak berkadar pengawasan atau
tidak logis → Eselon II (14 hari kerja, tembusan to the Inspektur) / bukan kewenangan → Instansi Lain.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support.sop_driver import (
    OFFICES,
    START,
    Sop,
    actions,
    assert_data,
    completed,
    form,
    instant,
    ready,
    sqlite_only,
    working_days_due,
)

from service.worker.loop import run_once

KEY = "dumas-inspektorat-katingan"
UNIT = "inspektorat-katingan"
PENGADUAN = form("dumas-pengaduan", nama="Siti Rahmah", pekerjaan="Guru", jenis_laporan="penyalahgunaan wewenang",
                 uraian="Pungutan liar pada pelayanan surat keterangan desa", lokasi_kasus="Desa Tumbang Samba",
                 email="siti@contoh.id")


def _verified(sop: Sop, hasil: str = "lengkap", **extra: str) -> dict:
    case = sop.start(KEY, PENGADUAN)
    assert case["unit"] == UNIT and ready(case) == ["Task_verifikasi"]
    assert case["tasks"][0]["lane"] == "Inspektorat"
    return sop.work(case, "Task_verifikasi", "Inspektorat",
                    form("dumas-verifikasi", hasil_verifikasi=hasil, nomor_registrasi="DUMAS/001/X/2025", **extra))


def _telaah(sop: Sop, kategori: str) -> tuple[dict, dict]:
    case = _verified(sop)
    assert ready(case) == ["Task_penelaahan"]
    telaah = form("dumas-penelaahan", kategori_telaah=kategori)
    return sop.work(case, "Task_penelaahan", "Inspektur", telaah), telaah


def test_berkadar_pengawasan_goes_through_the_sekretariat_to_the_inspektur(sop: Sop) -> None:
    case, telaah = _telaah(sop, "berkadar pengawasan")
    assert ready(case) == ["Task_penyaluran"] and case["tasks"][0]["lane"] == "Sekretariat Inspektorat"
    penyaluran = form("dumas-penyaluran-sekretariat", nomor_agenda="AG-17")
    case = sop.work(case, "Task_penyaluran", "Sekretariat Inspektorat", penyaluran)
    assert ready(case) == ["Task_tindak_lanjut_inspektur"]
    assert instant(case["tasks"][0]["due_at"]) == START + timedelta(days=60)
    assert sop.notifications(case["id"]) == []
    hasil = form("dumas-tindak-lanjut-inspektur", bentuk_tindak_lanjut="audit dengan tujuan tertentu",
                 kesimpulan="Terbukti sebagian")
    case = sop.work(case, "Task_tindak_lanjut_inspektur", "Inspektur", hasil)

    assert case["status"] == "completed" and ready(case) == []
    assert completed(case) == ["Task_verifikasi", "Task_penelaahan", "Task_penyaluran", "Task_tindak_lanjut_inspektur"]
    assert [h["data"]["message"] for h in actions(case, "notification")] == ["notifikasi_pelapor"]
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")]
    assert_data(case, PENGADUAN, telaah, penyaluran, hasil)
    assert case["data"]["hasil_verifikasi"] == "lengkap"


@sqlite_only  # the other paths; the berkadar path above also runs on PostgreSQL
def test_tidak_berkadar_goes_to_eselon_ii_with_a_tembusan_to_the_inspektur(sop: Sop) -> None:
    case, telaah = _telaah(sop, "tidak berkadar pengawasan atau tidak logis")
    assert ready(case) == ["Task_tindak_lanjut_eselon2"] and case["tasks"][0]["lane"] == "Eselon II"
    assert sop.tasks("Inspektur", UNIT) == []
    laporan = form("dumas-tindak-lanjut-eselon2", kesimpulan="Tidak terbukti", saran_tindak_lanjut="Pembinaan")
    case = sop.work(case, "Task_tindak_lanjut_eselon2", "Eselon II", laporan)

    assert case["status"] == "completed"
    assert completed(case) == ["Task_verifikasi", "Task_penelaahan", "Task_tindak_lanjut_eselon2"]
    assert [h["data"]["message"] for h in actions(case, "notification")] == ["tembusan_inspektur",
                                                                              "notifikasi_pelapor"]
    assert ("Pelapor", "notifikasi_pelapor") in sop.notifications(case["id"])
    assert_data(case, PENGADUAN, telaah, laporan)


@sqlite_only
def test_bukan_kewenangan_goes_to_instansi_lain_without_notifying_the_reporter(sop: Sop) -> None:
    case, telaah = _telaah(sop, "bukan kewenangan")
    assert ready(case) == ["Task_instansi_lain"] and case["tasks"][0]["lane"] == "Instansi Lain"
    diterima = form("dumas-penerusan-instansi-lain", nama_instansi="Kantor Pertanahan Kab. Katingan")
    case = sop.work(case, "Task_instansi_lain", "Instansi Lain", diterima)

    assert case["status"] == "completed"
    assert completed(case) == ["Task_verifikasi", "Task_penelaahan", "Task_instansi_lain"]
    assert actions(case, "notification") == [] and sop.notifications(case["id"]) == []
    assert_data(case, PENGADUAN, telaah, diterima)


@sqlite_only
def test_tidak_lengkap_loops_through_the_reporter_back_to_verification(sop: Sop) -> None:
    case = _verified(sop, "tidak lengkap", kekurangan_laporan="Bukti pendukung belum ada")
    assert ready(case) == ["Task_melengkapi"] and case["tasks"][0]["lane"] == "Pelapor"
    assert sop.tasks("Inspektorat", UNIT) == []
    first = form("dumas-melengkapi", uraian_tambahan="Foto kuitansi pungutan")
    case = sop.work(case, "Task_melengkapi", "Pelapor", first)
    assert ready(case) == ["Task_verifikasi"]
    case = sop.work(case, "Task_verifikasi", "Inspektorat",
                    form("dumas-verifikasi", hasil_verifikasi="tidak lengkap"))
    second = form("dumas-melengkapi", uraian_tambahan="Nama petugas dan tanggal kejadian")
    case = sop.work(case, "Task_melengkapi", "Pelapor", second)
    verifikasi = form("dumas-verifikasi", hasil_verifikasi="lengkap", laporan_hasil_verifikasi="Lengkap")
    case = sop.work(case, "Task_verifikasi", "Inspektorat", verifikasi)
    assert ready(case) == ["Task_penelaahan"]
    case = sop.work(case, "Task_penelaahan", "Inspektur", form("dumas-penelaahan", kategori_telaah="bukan kewenangan"))
    case = sop.work(case, "Task_instansi_lain", "Instansi Lain", form("dumas-penerusan-instansi-lain"))

    assert case["status"] == "completed"
    assert completed(case) == ["Task_verifikasi", "Task_melengkapi", "Task_verifikasi", "Task_melengkapi",
                               "Task_verifikasi", "Task_penelaahan", "Task_instansi_lain"]
    assert_data(case, PENGADUAN, second, verifikasi)


@sqlite_only
def test_tidak_dapat_diproses_notifies_the_reporter_and_closes(sop: Sop) -> None:
    case = _verified(sop, "tidak dapat diproses", laporan_hasil_verifikasi="Bukan perbuatan PNS/aparat desa")

    assert case["status"] == "completed" and ready(case) == []
    assert completed(case) == ["Task_verifikasi"]
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")]
    assert case["data"]["hasil_verifikasi"] == "tidak dapat diproses"
    assert case["data"]["laporan_hasil_verifikasi"] == "Bukan perbuatan PNS/aparat desa"


@sqlite_only
def test_sla_60_hari_of_the_inspektur_escalates_to_the_inspektur(sop: Sop) -> None:
    case, _ = _telaah(sop, "berkadar pengawasan")
    case = sop.work(case, "Task_penyaluran", "Sekretariat Inspektorat", form("dumas-penyaluran-sekretariat"))
    case = sop.breach(case, "Task_tindak_lanjut_inspektur", "Inspektur", START + timedelta(days=60))
    case = sop.work(case, "Task_tindak_lanjut_inspektur", "Inspektur", form("dumas-tindak-lanjut-inspektur"))
    assert case["status"] == "completed"
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")]


def test_sla_14_hari_kerja_of_eselon_ii_escalates_to_the_inspektur(sop: Sop) -> None:
    case, _ = _telaah(sop, "tidak berkadar pengawasan atau tidak logis")
    due = working_days_due(START, 14, OFFICES[UNIT].timezone)
    assert due.isoformat() == "2025-10-24T09:00:00+00:00"  # Friday 24 October, 16:00 WIB
    case = sop.breach(case, "Task_tindak_lanjut_eselon2", "Inspektur", due)
    case = sop.work(case, "Task_tindak_lanjut_eselon2", "Eselon II", form("dumas-tindak-lanjut-eselon2"))
    assert case["status"] == "completed"
    assert completed(case) == ["Task_verifikasi", "Task_penelaahan", "Task_tindak_lanjut_eselon2"]


@sqlite_only
def test_the_tembusan_to_the_inspektur_is_not_sent_to_the_reporter(sop: Sop) -> None:
    case, _ = _telaah(sop, "tidak berkadar pengawasan atau tidak logis")
    case = sop.work(case, "Task_tindak_lanjut_eselon2", "Eselon II", form("dumas-tindak-lanjut-eselon2"))
    assert sop.notifications(case["id"]) == [("Inspektur", "tembusan_inspektur"), ("Pelapor", "notifikasi_pelapor")]


@sqlite_only
def test_the_semester_report_reaches_the_inspektur_every_six_months(sop: Sop) -> None:
    """Langkah 9 (semesteran) is ``dumas-inspektorat-katingan-laporan-berkala``, started by the worker."""
    key = "dumas-inspektorat-katingan-laporan-berkala"
    sop.clock.move_to(datetime(2026, 4, 6, 1, 0, tzinfo=UTC))  # six months after the deployment at START
    assert run_once(sop.services) is True
    [task] = sop.tasks("Inspektur", UNIT)
    assert (task["definition_key"], task["element_id"], task["lane"]) == (key, "Task_laporan_berkala", "Inspektur")
    laporan = form("dumas-laporan-berkala", periode_awal="2025-10-06", periode_akhir="2026-04-05",
                   jumlah_pengaduan=9, jumlah_selesai=7)
    case = sop.work(sop.case(task["case_id"]), "Task_laporan_berkala", "Inspektur", laporan)
    assert case["status"] == "completed" and completed(case) == ["Task_laporan_berkala"]
    assert case["business_key"] == f"{key}@2026-04-06"
    assert_data(case, laporan)
