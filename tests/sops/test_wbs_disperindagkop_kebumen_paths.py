"""WBS, Disperindag KUKM Kab. Kebumen (seed 002): every path of ``wbs-disperindagkop-kebumen.bpmn``.

The reporter's online report is the start event. The Tim Penerima Pengaduan checks the data
administrasi (D1, ``kelengkapan_administrasi``) and, after the konfirmasi awal to the reporter (a
notification), the documents (D2, ``kelengkapan_dokumen``). Either "tidak lengkap" sends the report
back to the reporter ("Melengkapi laporan", lane Pelapor), then to D1 again. The seed gives no Waktu.
"""

from __future__ import annotations

from support.sop_driver import Sop, Step, actions, assert_data, completed, enum, form, ready, sqlite_only, walk

KEY = "wbs-disperindagkop-kebumen"
UNIT = "disperindagkop-kebumen"
PENGADUAN = form("wbs-kebumen-pengaduan", nama="Dwi Lestari", nip="198503122010011002", unit_kerja="Bidang Koperasi",
                 jenis_pelanggaran="penyelewengan", judul="Penyelewengan dana hibah koperasi",
                 uraian="Dana hibah tidak disalurkan seluruhnya")
ADMIN_OK = Step("Task_cek_administrasi", "Tim Penerima Pengaduan",
                form("wbs-kebumen-cek-administrasi", kelengkapan_administrasi="lengkap"))
ADMIN_KURANG = Step("Task_cek_administrasi", "Tim Penerima Pengaduan",
                    form("wbs-kebumen-cek-administrasi", kelengkapan_administrasi="tidak lengkap",
                         kekurangan_administrasi="NIP belum diisi"))
DOKUMEN_OK = Step("Task_cek_dokumen", "Tim Penerima Pengaduan",
                  form("wbs-kebumen-cek-dokumen", kelengkapan_dokumen="lengkap", hasil_konfirmasi_awal="Terkonfirmasi"))
DOKUMEN_KURANG = Step("Task_cek_dokumen", "Tim Penerima Pengaduan",
                      form("wbs-kebumen-cek-dokumen", kelengkapan_dokumen="tidak lengkap",
                           kekurangan_dokumen="Bukti transfer belum dilampirkan"))
MELENGKAPI = Step("Task_melengkapi", "Pelapor", form("wbs-kebumen-melengkapi", uraian_tambahan="Data tambahan"))
PENANGANAN = Step("Task_penanganan", "Sekretariat Penanganan",
                  form("wbs-kebumen-penanganan", nomor_registrasi="WBS-KBM-09"))


def _finish(sop: Sop, case: dict, steps: list[Step]) -> dict:
    case = walk(sop, case, steps)
    assert case["status"] == "completed" and ready(case) == []
    return case


def test_complete_report_goes_to_the_sekretariat_penanganan(sop: Sop) -> None:
    case = sop.start(KEY, PENGADUAN)
    assert ready(case) == ["Task_cek_administrasi"] and case["tasks"][0]["lane"] == "Tim Penerima Pengaduan"
    case = walk(sop, case, [ADMIN_OK])
    # konfirmasi awal: a notification to the reporter between the two checks
    assert ready(case) == ["Task_cek_dokumen"]
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")]
    case = walk(sop, case, [DOKUMEN_OK])
    assert ready(case) == ["Task_penanganan"] and case["tasks"][0]["lane"] == "Sekretariat Penanganan"
    case = _finish(sop, case, [PENANGANAN])
    assert completed(case) == ["Task_cek_administrasi", "Task_cek_dokumen", "Task_penanganan"]
    assert_data(case, PENGADUAN, ADMIN_OK.data, DOKUMEN_OK.data, PENANGANAN.data)
    assert [h["data"]["message"] for h in actions(case, "notification")] == ["notifikasi_pelapor"]


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
    assert_data(case, PENGADUAN, ADMIN_KURANG.data, MELENGKAPI.data, ADMIN_OK.data, DOKUMEN_OK.data, PENANGANAN.data)
    assert case["data"]["kekurangan_administrasi"] == "NIP belum diisi"
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")]


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
    assert sop.notifications(case["id"]) == [("Pelapor", "notifikasi_pelapor")] * 2
    assert_data(case, PENGADUAN, DOKUMEN_KURANG.data, *(step.data for step in steps))
    assert case["data"]["kekurangan_dokumen"] == "Bukti transfer belum dilampirkan"
