"""DUMAS, Inspektorat Kab. Katingan (seed 004): every path of ``dumas-inspektorat-katingan.bpmn``.

D1 (langkah 2, ``hasil_verifikasi``): lengkap / tidak lengkap (what is missing in writing → Melengkapi
laporan, 14 hari kerja, back to langkah 2; when the time passes the report is verified with what there
is) / tidak dapat diproses (a written reason, reporter notified with it, closed). D2 (langkah 3,
``kategori_telaah``): berkadar pengawasan → Sekretariat Inspektorat → Inspektur (60 hari from the day the
Sekretariat received it, T1) / tidak berkadar pengawasan atau tidak logis (a reason and the unit kerja
terlapor) → the Eselon II of that unit kerja only (14 hari kerja, tembusan to the Inspektur) / bukan
kewenangan (a reason and the agency) → the Inspektur sends the whole file to that agency (langkah 8; the
agency needs no account), then the reporter is told. Langkah 7 publishes the laporan tindak lanjut
(kesimpulan, saran) to the reporter.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from lxml import etree
from support.sop_driver import (
    BPMN_DIR,
    OFFICES,
    START,
    Sop,
    actions,
    assert_data,
    completed,
    form,
    instant,
    pdf,
    ready,
    sqlite_only,
    without,
    working_days_due,
)

from service.catalogue import SUB_UNITS
from service.worker.loop import run_once

KEY = "dumas-inspektorat-katingan"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
UNIT = "inspektorat-katingan"
UNIT_KERJA = [unit.code for unit in SUB_UNITS[UNIT]]
DPMD = "katingan-dpmd"
TIDAK_BERKADAR = "tidak berkadar pengawasan atau tidak logis"
ALASAN_KATEGORI = "Pungutan di tingkat desa ditangani secara intern oleh Dinas PMD."
KESIMPULAN = "Terbukti sebagian: pungutan dihentikan dan dikembalikan."
SARAN = "Pembinaan kepada kepala desa dan pengumuman tarif resmi."
WIB = ZoneInfo("Asia/Jakarta")
#: T1: 60 calendar days after the Sekretariat received it on Monday 6 October 2025 (START): Friday 5 December,
#: at closing time
SIXTY_DAYS = datetime(2025, 12, 5, 16, 0, tzinfo=WIB)
KIRIM = {"instansi_tujuan": "Kantor Pertanahan Kab. Katingan", "nomor_surat_pengantar": "700/045/INSP/X/2025",
         "cara_pengiriman": "diantar langsung"}
PENGADUAN = form("dumas-pengaduan", nama="Siti Rahmah", pekerjaan="Guru", jenis_laporan="penyalahgunaan wewenang",
                 uraian="Pungutan liar pada pelayanan surat keterangan desa", lokasi_kasus="Desa Tumbang Samba",
                 email="siti@contoh.id")


def _verified(sop: Sop, hasil: str = "lengkap", **extra: str) -> dict:
    case = sop.start(KEY, PENGADUAN)
    assert case["unit"] == UNIT and ready(case) == ["Task_verifikasi"]
    assert case["tasks"][0]["lane"] == "Inspektorat"
    return sop.work(case, "Task_verifikasi", "Inspektorat",
                    form("dumas-verifikasi", hasil_verifikasi=hasil, nomor_registrasi="DUMAS/001/X/2025", **extra))


def _telaah(sop: Sop, kategori: str, **extra: str) -> tuple[dict, dict]:
    case = _verified(sop)
    assert ready(case) == ["Task_penelaahan"]
    if kategori == TIDAK_BERKADAR:
        extra = {"unit_kerja_terlapor": DPMD, "alasan_kategori": ALASAN_KATEGORI, **extra}
    telaah = form("dumas-penelaahan", kategori_telaah=kategori, **extra)
    return sop.work(case, "Task_penelaahan", "Inspektur", telaah), telaah


def test_berkadar_pengawasan_goes_through_the_sekretariat_to_the_inspektur(sop: Sop) -> None:
    case, telaah = _telaah(sop, "berkadar pengawasan")
    assert ready(case) == ["Task_penyaluran"] and case["tasks"][0]["lane"] == "Sekretariat Inspektorat"
    penyaluran = form("dumas-penyaluran-sekretariat", nomor_agenda="AG-17", tanggal_diterima="2025-10-06")
    case = sop.work(case, "Task_penyaluran", "Sekretariat Inspektorat", penyaluran)
    assert ready(case) == ["Task_tindak_lanjut_inspektur"]
    assert instant(case["tasks"][0]["due_at"]) == SIXTY_DAYS
    assert sop.notifications(case["id"]) == []
    hasil = form("dumas-tindak-lanjut-inspektur", bentuk_tindak_lanjut="audit dengan tujuan tertentu",
                 laporan_tindak_lanjut="Audit dengan tujuan tertentu telah dilaksanakan.", kesimpulan=KESIMPULAN,
                 saran_tindak_lanjut=SARAN, berkas_laporan_tindak_lanjut=[pdf("laporan-audit.pdf")])
    case = sop.work(case, "Task_tindak_lanjut_inspektur", "Inspektur", hasil)

    assert case["status"] == "completed" and ready(case) == []
    assert completed(case) == ["Task_verifikasi", "Task_penelaahan", "Task_penyaluran", "Task_tindak_lanjut_inspektur"]
    assert [h["data"]["message"] for h in actions(case, "notification")] == ["notifikasi_pelapor"]
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")]
    # langkah 7: the laporan tindak lanjut "memuat kesimpulan dan/atau saran", with the report itself
    [(name, published)] = sop.published(case["id"])
    assert name == "Menerima laporan tindak lanjut (notifikasi ke Pelapor)"
    assert (published["kesimpulan"], published["saran_tindak_lanjut"]) == (KESIMPULAN, SARAN)
    assert [f["filename"] for f in published["berkas_laporan_tindak_lanjut"]] == ["laporan-audit.pdf"]
    assert_data(case, PENGADUAN, telaah, penyaluran, without(hasil, "berkas_laporan_tindak_lanjut"))
    assert case["data"]["hasil_verifikasi"] == "lengkap"


@sqlite_only  # the other paths; the berkadar path above also runs on PostgreSQL
def test_tidak_berkadar_goes_to_the_eselon_ii_of_the_reported_unit_with_a_tembusan_to_the_inspektur(sop: Sop) -> None:
    case, telaah = _telaah(sop, TIDAK_BERKADAR)
    [task] = case["tasks"]
    assert (task["element_id"], task["lane"], task["unit"]) == ("Task_tindak_lanjut_eselon2", "Eselon II", DPMD)
    # only the Eselon II of the reported unit kerja gets it
    assert [t["id"] for t in sop.tasks("Eselon II", DPMD)] == [task["id"]]
    assert all(sop.tasks("Eselon II", other) == [] for other in UNIT_KERJA if other != DPMD)
    assert sop.tasks("Eselon II", UNIT) == [] and sop.tasks("Inspektur", UNIT) == []
    laporan = form("dumas-tindak-lanjut-eselon2", laporan_tindak_lanjut="Kepala desa telah dibina.",
                   kesimpulan=KESIMPULAN, saran_tindak_lanjut=SARAN)
    done = sop.work(case, "Task_tindak_lanjut_eselon2", "Eselon II", laporan)
    # the Eselon II reads its own laporan, not what others wrote in the case's history
    assert done["data"]["kesimpulan"] == KESIMPULAN and "nama" not in done["data"]
    case = sop.case(case["id"])

    assert case["status"] == "completed"
    assert completed(case) == ["Task_verifikasi", "Task_penelaahan", "Task_tindak_lanjut_eselon2"]
    assert [h["data"]["message"] for h in actions(case, "notification")] == ["tembusan_inspektur",
                                                                              "notifikasi_pelapor"]
    # the reporter reads the laporan and why the Inspektorat forwarded the report
    assert sop.published(case["id"]) == [("Menerima laporan tindak lanjut (notifikasi ke Pelapor)", {
        "laporan_tindak_lanjut": "Kepala desa telah dibina.", "kesimpulan": KESIMPULAN, "saran_tindak_lanjut": SARAN,
        "alasan_kategori": ALASAN_KATEGORI})]
    assert_data(case, PENGADUAN, telaah, laporan)


@sqlite_only
def test_the_eselon_ii_of_the_reported_unit_reads_the_complaint_but_not_who_reported_it(sop: Sop) -> None:
    case = _verified(sop)
    # before the Inspektur routes it, no unit kerja sees the report against it
    eselon, other = sop.staff("Eselon II", DPMD), sop.staff("Eselon II", "katingan-disdik")
    assert sop.client.get(f"/api/cases/{case['id']}", headers=eselon.headers).status_code == 404
    telaah = form("dumas-penelaahan", kategori_telaah=TIDAK_BERKADAR, unit_kerja_terlapor=DPMD,
                  alasan_kategori=ALASAN_KATEGORI)
    case = sop.work(case, "Task_penelaahan", "Inspektur", telaah)
    assert sop.holder(case, "Task_tindak_lanjut_eselon2", "Eselon II") == eselon
    assert sop.client.get(f"/api/cases/{case['id']}", headers=eselon.headers).status_code == 200
    assert sop.client.get(f"/api/cases/{case['id']}", headers=other.headers).status_code == 404
    [task] = case["tasks"]
    seen = sop.client.get(f"/api/tasks/{task['id']}", headers=eselon.headers)
    assert seen.status_code == 200, seen.json
    shown = seen.json["case_data"]
    assert shown["uraian"] == PENGADUAN["uraian"] and "memo_kepala_inspektorat" in shown
    assert not {"nama", "nik", "alamat", "telepon", "email", "pekerjaan", "laporan_hasil_verifikasi",
                "nomor_registrasi"} & set(shown), shown


@sqlite_only
def test_forwarding_needs_a_reason_and_where_it_goes(sop: Sop) -> None:
    case = _verified(sop)
    telaah = form("dumas-penelaahan", kategori_telaah=TIDAK_BERKADAR, unit_kerja_terlapor=DPMD,
                  alasan_kategori=ALASAN_KATEGORI)
    assert sop.refused(case, "Task_penelaahan", "Inspektur", without(telaah, "alasan_kategori")) == ["alasan_kategori"]
    assert sop.refused(case, "Task_penelaahan", "Inspektur", without(telaah, "unit_kerja_terlapor")) == [
        "unit_kerja_terlapor"]
    assert sop.refused(case, "Task_penelaahan", "Inspektur", {**telaah, "unit_kerja_terlapor": "Dinas PMD"}) == [
        "unit_kerja_terlapor"]
    bukan = form("dumas-penelaahan", kategori_telaah="bukan kewenangan", alasan_kategori=ALASAN_KATEGORI,
                 instansi_tujuan="Kantor Pertanahan Kab. Katingan")
    assert sop.refused(case, "Task_penelaahan", "Inspektur", without(bukan, "alasan_kategori")) == ["alasan_kategori"]
    assert sop.refused(case, "Task_penelaahan", "Inspektur", without(bukan, "instansi_tujuan")) == ["instansi_tujuan"]
    assert sop.refused(case, "Task_penelaahan", "Inspektur", without(telaah, "kategori_telaah")) == ["kategori_telaah"]


@sqlite_only
def test_bukan_kewenangan_the_inspektur_sends_the_file_and_the_reporter_is_told_why(sop: Sop) -> None:
    """Langkah 8: "Kepala Inspektorat mengirimkan seluruh data/dokumen pengaduan …": the Inspektur's task; the
    other agency receives the file outside Alur and holds no role in it."""
    alasan = "Sengketa tanah desa adalah kewenangan Kantor Pertanahan, bukan Inspektorat."
    case, telaah = _telaah(sop, "bukan kewenangan", alasan_kategori=alasan,
                           instansi_tujuan="Kantor Pertanahan Kab. Katingan")
    assert ready(case) == ["Task_instansi_lain"] and case["tasks"][0]["lane"] == "Inspektur"
    assert case["tasks"][0]["form_key"] == "dumas-pengiriman-instansi-lain" and case["tasks"][0]["due_at"] is None
    assert sop.notifications(case["id"]) == []
    lanes = etree.parse(str(BPMN_DIR / f"{KEY}.bpmn")).xpath("//bpmn:lane/@name", namespaces={"bpmn": BPMN})
    assert lanes == ["Pelapor", "Inspektorat", "Inspektur", "Sekretariat Inspektorat", "Eselon II"]
    dikirim = form("dumas-pengiriman-instansi-lain", bukti_pengiriman=[pdf("tanda-terima.pdf")], **KIRIM)
    assert sop.refused(case, "Task_instansi_lain", "Inspektur", {**dikirim, "berkas_lengkap_dikirim": False}) == [
        "berkas_lengkap_dikirim"]
    case = sop.work(case, "Task_instansi_lain", "Inspektur", dikirim)

    assert case["status"] == "completed"
    assert completed(case) == ["Task_verifikasi", "Task_penelaahan", "Task_instansi_lain"]
    assert sop.published(case["id"]) == [(
        "Notifikasi ke Pelapor: laporan disalurkan ke instansi lain yang berwenang",
        {"alasan_kategori": alasan, "instansi_tujuan": "Kantor Pertanahan Kab. Katingan"})]
    assert_data(case, PENGADUAN, telaah, without(dikirim, "bukti_pengiriman"))


@sqlite_only
def test_tidak_lengkap_loops_through_the_reporter_back_to_verification(sop: Sop) -> None:
    case = _verified(sop, "tidak lengkap", kekurangan_laporan="Bukti pendukung belum ada")
    assert instant(case["tasks"][0]["due_at"]) == working_days_due(START, 14, OFFICES[UNIT].timezone)
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
    assert sop.tasks("Pelapor", UNIT) == []
    case = sop.work(case, "Task_instansi_lain", "Inspektur", form("dumas-pengiriman-instansi-lain", **KIRIM))

    assert case["status"] == "completed"
    assert completed(case) == ["Task_verifikasi", "Task_melengkapi", "Task_verifikasi", "Task_melengkapi",
                               "Task_verifikasi", "Task_penelaahan", "Task_instansi_lain"]
    assert_data(case, PENGADUAN, second, verifikasi)


@sqlite_only
def test_tidak_dapat_diproses_notifies_the_reporter_with_the_reason_and_closes(sop: Sop) -> None:
    alasan = "Terlapor adalah karyawan swasta, bukan PNS/Kepala Desa/Aparat Desa."
    case = _verified(sop, "tidak dapat diproses", laporan_hasil_verifikasi="Bukan perbuatan PNS/aparat desa",
                     alasan_tidak_dapat_diproses=alasan)

    assert case["status"] == "completed" and ready(case) == []
    assert completed(case) == ["Task_verifikasi"]
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")]
    assert sop.published(case["id"]) == [("Notifikasi ke Pelapor: laporan tidak dapat diproses",
                                          {"alasan_tidak_dapat_diproses": alasan})]
    assert case["data"]["hasil_verifikasi"] == "tidak dapat diproses"
    assert case["data"]["laporan_hasil_verifikasi"] == "Bukan perbuatan PNS/aparat desa"


@sqlite_only
def test_ending_or_returning_a_report_at_verification_needs_a_written_reason(sop: Sop) -> None:
    case = sop.start(KEY, PENGADUAN)
    base = form("dumas-verifikasi", hasil_verifikasi="lengkap", nomor_registrasi="DUMAS/001/X/2025")
    assert sop.refused(case, "Task_verifikasi", "Inspektorat", without(base, "hasil_verifikasi")) == [
        "hasil_verifikasi"]
    for hasil, reason in (("tidak lengkap", "kekurangan_laporan"),
                          ("tidak dapat diproses", "alasan_tidak_dapat_diproses")):
        choice = {**base, "hasil_verifikasi": hasil}
        assert sop.refused(case, "Task_verifikasi", "Inspektorat", choice) == [reason]
        assert sop.refused(case, "Task_verifikasi", "Inspektorat", {**choice, reason: "kurang"}) == [reason]
    assert sop.notifications(case["id"]) == []


def test_the_reporters_14_hari_kerja_pass_and_the_inspektorat_verifies_what_there_is(sop: Sop) -> None:
    case = _verified(sop, "tidak lengkap", kekurangan_laporan="Bukti pendukung belum ada")
    assert ready(case) == ["Task_melengkapi"]
    case = sop.expire(case, "Task_melengkapi")
    # the case moved on: back to langkah 2, and the reporter was told
    assert case["status"] == "running" and ready(case) == ["Task_verifikasi"]
    assert sop.published(case["id"]) == [(
        "Notifikasi ke Pelapor: batas waktu melengkapi lewat, laporan diverifikasi dengan data yang ada",
        {"kekurangan_laporan": "Bukti pendukung belum ada"})]
    alasan = "Tanpa bukti dan kronologi laporan tidak dapat ditelaah lebih lanjut."
    case = sop.work(case, "Task_verifikasi", "Inspektorat",
                    form("dumas-verifikasi", hasil_verifikasi="tidak dapat diproses",
                         alasan_tidak_dapat_diproses=alasan))
    assert case["status"] == "completed"
    assert completed(case) == ["Task_verifikasi", "Task_verifikasi"]
    assert sop.published(case["id"])[-1][1] == {"alasan_tidak_dapat_diproses": alasan}


@sqlite_only
def test_sla_60_hari_of_the_inspektur_escalates_to_the_sekretariat(sop: Sop) -> None:
    case, _ = _telaah(sop, "berkadar pengawasan")
    case = sop.work(case, "Task_penyaluran", "Sekretariat Inspektorat",
                    form("dumas-penyaluran-sekretariat", tanggal_diterima="2025-10-06"))
    case = sop.breach(case, "Task_tindak_lanjut_inspektur", "Sekretariat Inspektorat", SIXTY_DAYS)
    case = sop.work(case, "Task_tindak_lanjut_inspektur", "Inspektur", form("dumas-tindak-lanjut-inspektur"))
    assert case["status"] == "completed"
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")]


def test_sla_14_hari_kerja_of_eselon_ii_escalates_to_the_inspektur(sop: Sop) -> None:
    case, _ = _telaah(sop, TIDAK_BERKADAR)
    due = working_days_due(START, 14, OFFICES[UNIT].timezone)
    assert due.isoformat() == "2025-10-24T09:00:00+00:00"  # Friday 24 October, 16:00 WIB
    case = sop.breach(case, "Task_tindak_lanjut_eselon2", "Inspektur", due)
    case = sop.work(case, "Task_tindak_lanjut_eselon2", "Eselon II", form("dumas-tindak-lanjut-eselon2"))
    assert case["status"] == "completed"
    assert completed(case) == ["Task_verifikasi", "Task_penelaahan", "Task_tindak_lanjut_eselon2"]


@sqlite_only
def test_the_tembusan_to_the_inspektur_is_not_sent_to_the_reporter(sop: Sop) -> None:
    case, _ = _telaah(sop, TIDAK_BERKADAR)
    case = sop.work(case, "Task_tindak_lanjut_eselon2", "Eselon II", form("dumas-tindak-lanjut-eselon2"))
    assert sop.notifications(case["id"]) == [("Inspektur", "tembusan_inspektur"), ("Pelapor", "notifikasi_pelapor")]


@sqlite_only
def test_the_semester_report_goes_from_the_sekretariat_to_the_inspektur(sop: Sop) -> None:
    """Langkah 9 (semesteran) is ``dumas-inspektorat-katingan-laporan-berkala``, started by the worker at the
    opening of the first working day of each semester (its figures: tests/worker/test_periodic_reports.py)."""
    key = "dumas-inspektorat-katingan-laporan-berkala"
    sop.clock.move_to(datetime(2026, 1, 2, 1, 0, tzinfo=UTC) - timedelta(seconds=1))
    run_once(sop.services)  # the Dinas Sosial's quarterly report (WITA) starts an hour earlier
    assert sop.tasks("Sekretariat Inspektorat", UNIT) == []
    sop.clock.move_to(datetime(2026, 1, 2, 1, 0, tzinfo=UTC))  # Friday 2 January 08:00 WIB: 1 January is a holiday
    assert run_once(sop.services) is True
    [task] = sop.tasks("Sekretariat Inspektorat", UNIT)
    assert (task["definition_key"], task["element_id"]) == (key, "Task_laporan_berkala")
    case = sop.case(task["case_id"])
    assert case["business_key"] == f"{key}@2025-S2"
    assert (case["data"]["periode_awal"], case["data"]["periode_akhir"]) == ("2025-07-01", "2025-12-31")
    laporan = form("dumas-laporan-berkala", laporan_berkala="Semua pengaduan semester II telah ditindaklanjuti.")
    case = sop.work(case, "Task_laporan_berkala", "Sekretariat Inspektorat", laporan)
    assert ready(case) == ["Task_terima_laporan_berkala"] and case["tasks"][0]["lane"] == "Inspektur"
    case = sop.work(case, "Task_terima_laporan_berkala", "Inspektur", form("dumas-laporan-berkala-diterima"))
    assert case["status"] == "completed"
    assert completed(case) == ["Task_laporan_berkala", "Task_terima_laporan_berkala"]
    assert_data(case, laporan)
