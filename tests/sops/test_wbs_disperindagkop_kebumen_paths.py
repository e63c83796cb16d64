"""WBS, Disperindag KUKM Kab. Kebumen (seed 002): every path of ``wbs-disperindagkop-kebumen.bpmn``.

The reporter's online report is the start event. The Tim Penerima Pengaduan checks the data
administrasi (D1, ``kelengkapan_administrasi``) and, after the konfirmasi awal to the reporter (a
notification publishing the team's message), the documents (D2, ``kelengkapan_dokumen``). Either
"tidak lengkap" needs a written ``kekurangan_laporan`` and sends the report back to the reporter
("Melengkapi laporan", lane Pelapor, showing what is missing), then to D1 again. The reporter has 14
hari kerja: then the report is closed as incomplete and the reporter is told what was missing. The
Sekretariat Penanganan ends the case with a written tanggapan to the reporter. The seed gives no Waktu.
"""

from __future__ import annotations

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

KEY = "wbs-disperindagkop-kebumen"
UNIT = "disperindagkop-kebumen"
PENGADUAN = form("wbs-kebumen-pengaduan", nama="Dwi Lestari", nip="198503122010011002", unit_kerja="Bidang Koperasi",
                 jenis_pelanggaran="penyelewengan", judul="Penyelewengan dana hibah koperasi",
                 uraian="Dana hibah tidak disalurkan seluruhnya")
#: nip and unit_kerja identify the ASN reporter (``data_identitas``): sealed with the identity, not kept in the case
FILED = without(PENGADUAN, "nip", "unit_kerja")
KONFIRMASI = "Laporan Anda kami terima; tim akan menghubungi Anda untuk konfirmasi awal."
KURANG_NIP = "NIP belum diisi, mohon dilengkapi."
KURANG_BUKTI = "Bukti transfer belum dilampirkan."
TANGGAPAN = "Laporan diteruskan kepada Inspektorat Daerah untuk pemeriksaan khusus."
ADMIN_OK = Step("Task_cek_administrasi", "Tim Penerima Pengaduan",
                form("wbs-kebumen-cek-administrasi", kelengkapan_administrasi="lengkap", konfirmasi_awal=KONFIRMASI))
ADMIN_KURANG = Step("Task_cek_administrasi", "Tim Penerima Pengaduan",
                    form("wbs-kebumen-cek-administrasi", kelengkapan_administrasi="tidak lengkap",
                         kekurangan_laporan=KURANG_NIP))
DOKUMEN_OK = Step("Task_cek_dokumen", "Tim Penerima Pengaduan",
                  form("wbs-kebumen-cek-dokumen", kelengkapan_dokumen="lengkap", hasil_konfirmasi_awal="Terkonfirmasi"))
DOKUMEN_KURANG = Step("Task_cek_dokumen", "Tim Penerima Pengaduan",
                      form("wbs-kebumen-cek-dokumen", kelengkapan_dokumen="tidak lengkap",
                           kekurangan_laporan=KURANG_BUKTI))
MELENGKAPI = Step("Task_melengkapi", "Pelapor", form("wbs-kebumen-melengkapi", uraian_tambahan="Data tambahan"), 14)
PENANGANAN = Step("Task_penanganan", "Sekretariat Penanganan",
                  form("wbs-kebumen-penanganan", nomor_registrasi="WBS-KBM-09", tanggapan_pelapor=TANGGAPAN))
KONFIRMASI_AWAL = ("Konfirmasi awal ke Pelapor", {"konfirmasi_awal": KONFIRMASI})
DITANGGAPI = ("Notifikasi ke Pelapor: tanggapan atas pengaduan", {"tanggapan_pelapor": TANGGAPAN})


def _finish(sop: Sop, case: dict, steps: list[Step]) -> dict:
    case = walk(sop, case, steps)
    assert case["status"] == "completed" and ready(case) == []
    return case


def test_complete_report_goes_to_the_sekretariat_penanganan(sop: Sop) -> None:
    case = sop.start(KEY, PENGADUAN)
    assert ready(case) == ["Task_cek_administrasi"] and case["tasks"][0]["lane"] == "Tim Penerima Pengaduan"
    case = walk(sop, case, [ADMIN_OK])
    # konfirmasi awal: a notification to the reporter between the two checks, with the team's message
    assert ready(case) == ["Task_cek_dokumen"]
    assert sop.published(case["id"]) == [KONFIRMASI_AWAL]
    case = walk(sop, case, [DOKUMEN_OK])
    assert ready(case) == ["Task_penanganan"] and case["tasks"][0]["lane"] == "Sekretariat Penanganan"
    case = _finish(sop, case, [PENANGANAN])
    assert completed(case) == ["Task_cek_administrasi", "Task_cek_dokumen", "Task_penanganan"]
    assert_data(case, FILED, ADMIN_OK.data, DOKUMEN_OK.data, PENANGANAN.data)
    assert not {"nip", "unit_kerja"} & set(case["data"])
    assert [h["data"]["message"] for h in actions(case, "notification")] == ["notifikasi_pelapor"] * 2
    assert sop.published(case["id"]) == [KONFIRMASI_AWAL, DITANGGAPI]


def test_incomplete_administration_loops_through_the_reporter(sop: Sop) -> None:
    assert set(enum("wbs-kebumen-cek-administrasi", "kelengkapan_administrasi")) == {"lengkap", "tidak lengkap"}
    case = sop.start(KEY, PENGADUAN)
    case = walk(sop, case, [ADMIN_KURANG])
    assert [(t["element_id"], t["lane"]) for t in case["tasks"]] == [("Task_melengkapi", "Pelapor")]
    assert sop.notifications(case["id"]) == []  # no konfirmasi awal before the data is complete
    assert sop.tasks("Tim Penerima Pengaduan", UNIT) == []
    case = _finish(sop, case, [MELENGKAPI, ADMIN_OK, DOKUMEN_OK, PENANGANAN])
    assert completed(case) == ["Task_cek_administrasi", "Task_melengkapi", "Task_cek_administrasi",
                               "Task_cek_dokumen", "Task_penanganan"]
    assert_data(case, FILED, ADMIN_KURANG.data, MELENGKAPI.data, ADMIN_OK.data, DOKUMEN_OK.data, PENANGANAN.data)
    assert case["data"]["kekurangan_laporan"] == KURANG_NIP
    assert sop.published(case["id"]) == [KONFIRMASI_AWAL, DITANGGAPI]


@sqlite_only  # the two paths above run on both backends
def test_incomplete_documents_loop_back_to_the_administration_check(sop: Sop) -> None:
    case = sop.start(KEY, PENGADUAN)
    case = walk(sop, case, [ADMIN_OK, DOKUMEN_KURANG])
    assert [(t["element_id"], t["lane"]) for t in case["tasks"]] == [("Task_melengkapi", "Pelapor")]
    steps = [MELENGKAPI, ADMIN_OK, DOKUMEN_OK, PENANGANAN]
    case = _finish(sop, case, steps)
    assert completed(case) == ["Task_cek_administrasi", "Task_cek_dokumen", "Task_melengkapi",
                               "Task_cek_administrasi", "Task_cek_dokumen", "Task_penanganan"]
    # the konfirmasi awal is sent again after the second administration check
    assert sop.published(case["id"]) == [KONFIRMASI_AWAL, KONFIRMASI_AWAL, DITANGGAPI]
    assert_data(case, FILED, DOKUMEN_KURANG.data, *(step.data for step in steps))


@sqlite_only
def test_tidak_lengkap_needs_what_is_missing_in_writing(sop: Sop) -> None:
    case = sop.start(KEY, PENGADUAN)
    kurang = {"kelengkapan_administrasi": "tidak lengkap"}
    assert sop.refused(case, "Task_cek_administrasi", "Tim Penerima Pengaduan", kurang) == ["kekurangan_laporan"]
    assert sop.refused(case, "Task_cek_administrasi", "Tim Penerima Pengaduan",
                       {**kurang, "kekurangan_laporan": "NIP"}) == ["kekurangan_laporan"]
    assert sop.refused(case, "Task_cek_administrasi", "Tim Penerima Pengaduan",
                       without(ADMIN_OK.data, "konfirmasi_awal")) == ["konfirmasi_awal"]
    case = walk(sop, case, [ADMIN_OK])
    assert sop.refused(case, "Task_cek_dokumen", "Tim Penerima Pengaduan",
                       without(DOKUMEN_KURANG.data, "kekurangan_laporan")) == ["kekurangan_laporan"]


def test_the_reporter_who_does_not_complete_the_report_in_14_hari_kerja_is_told_it_is_closed(sop: Sop) -> None:
    case = walk(sop, sop.start(KEY, PENGADUAN), [ADMIN_OK, DOKUMEN_KURANG])
    [task] = case["tasks"]
    assert task["element_id"] == "Task_melengkapi" and task["due_at"]
    case = sop.expire(case, "Task_melengkapi")

    assert case["status"] == "completed" and ready(case) == []
    assert completed(case) == ["Task_cek_administrasi", "Task_cek_dokumen"]
    assert sop.published(case["id"])[-1] == (
        "Notifikasi ke Pelapor: laporan ditutup karena tidak dilengkapi dalam batas waktu",
        {"kekurangan_laporan": KURANG_BUKTI})
    assert sop.tasks("Tim Penerima Pengaduan", UNIT) == []
