"""Issue 10, acceptance 1: what the office typed at the deciding step reaches the person who reported.

For each bundled SOP that takes public reports, a report is filed through ``POST /api/public/reports``
(mode ``rahasia``, an identity with an e-mail address) and driven to each end of its diagram that closes
the case: the answer and every rejection. The deciding step's staff user types a distinctive text into
every string field the end's notification to the Pelapor publishes (``tampilkan``); the text must come
back in the follow-up API (``messages`` and ``outcome``), in the mail a real SMTP server on loopback
receives for the reporter's address and, for one end per SOP, on the ``/lapor/tindak-lanjut`` page.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import Message
from typing import Any

import pytest
from sqlalchemy import select
from support.smtp import smtp_server
from support.sop_driver import BPMN_DIR, Sop, Step, form, ready, sqlite_only
from support.web import browser, live_server, new_page, open_follow_up  # noqa: F401 - fixtures by name

from service.commands.public import COMPLETED_WITH_OUTCOME
from service.mail import SMTPMailer
from service.store.models import Case
from service.worker.loop import run_once

#: what the deciding step's user types into a published field
Typed = Callable[[str], str]
#: drives a case from its first task to one end, typing ``Typed(field)`` into the published fields
Drive = Callable[[Sop, dict[str, Any], Typed], dict[str, Any]]

PUBLIC_URL = "https://lapor.contoh.go.id"
EMAIL = "pelapor.uji@contoh.id"
IDENTITY = {"nama": "Rina Marlina", "nik": "6206011203850001", "alamat": "Jl. Pahlawan 7",
            "telepon": "081234567890", "email": EMAIL, "pekerjaan": "Wiraswasta"}
#: identity fields beyond the standard ones that an SOP declares (``data_identitas``)
EXTRA_IDENTITY = {"wbs-disperindagkop-kebumen": {"nip": "198503122010011002", "unit_kerja": "Bidang Koperasi"}}
#: the reporter's part of the start form (identity fields travel in ``identity``)
INTAKE = {
    "wbs-dpmptsp-kukar": form("wbs-kukar-pengaduan", saluran="kotak Whistle Blower System",
                              uraian="Petugas loket meminta imbalan untuk mempercepat izin"),
    "wbs-dpmptsp-lamandau": form("wbs-lamandau-pengaduan", saluran="sms",
                                 uraian="Pemohon izin diminta biaya tambahan di luar ketentuan"),
    "wbs-disperindagkop-kebumen": {"jenis_pelanggaran": "penyelewengan", "judul": "Penyelewengan dana hibah koperasi",
                                   "uraian": "Dana hibah tidak disalurkan seluruhnya"},
    "pengaduan-langsung-dinsos-kukar": {"materi_aduan": "Bantuan sosial tidak diterima tiga bulan"},
    "pengaduan-online-dinsos-kukar": form("dinsos-online-pengaduan", media="Facebook",
                                          isi_pesan="PKH belum cair, mohon ditindaklanjuti"),
    "dumas-inspektorat-katingan": {"kategori_terlapor": "Kepala Desa", "jenis_laporan": "penyalahgunaan wewenang",
                                   "saluran": "langsung", "lokasi_kasus": "Desa Tumbang Samba",
                                   "uraian": "Pungutan liar pada pelayanan surat keterangan desa"},
}
TIDAK_BERKADAR = "tidak berkadar pengawasan atau tidak logis"
_END_EVENT = re.compile(r'<bpmn:endEvent id="([^"]+)"')


def _public(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key not in {"nama", "telepon", "email"}}


# --- the paths: from the first task to one end --------------------------------------------------------

def _through(sop: Sop, case: dict[str, Any], steps: list[Step]) -> dict[str, Any]:
    """Complete ``steps`` in order, each by the user of its lane (the SLAs are the path tests' business)."""
    for step in steps:
        assert step.element_id in ready(case), (step.element_id, ready(case))
        case = sop.work(case, step.element_id, step.lane, step.data)
    return case


def _kukar_answered(sop: Sop, case: dict[str, Any], typed: Typed) -> dict[str, Any]:
    return _through(sop, case, [
        Step("Task_pemeriksaan", "Kasi", form("wbs-kukar-pemeriksaan")),
        Step("Task_pemilahan", "Kasi", form("wbs-kukar-pemilahan", jenis_aduan="informasi")),
        Step("Task_disposisi", "Kabid", form("wbs-kukar-disposisi", disposisi_kabid="dijawab Kabid",
                                             catatan_disposisi="Segera")),
        Step("Task_jawaban_kabid", "Kabid", form("wbs-kukar-jawaban-kabid")),
        Step("Task_surat_balasan", "Kasi", form("wbs-kukar-surat-balasan", perihal_surat_balasan=typed(
            "perihal_surat_balasan"), surat_balasan=typed("surat_balasan"))),
        Step("Task_tanda_tangan", "Kabid", form("wbs-kukar-tanda-tangan")),
        Step("Task_registrasi", "Subbag Umum", form("surat-keluar-registrasi", nomor_surat="500/123/DPMPTSP")),
        Step("Task_distribusi", "Kasi", form("wbs-kukar-distribusi", cara_distribusi="email")),
        Step("Task_arsip", "Kasi", form("wbs-kukar-arsip", nomor_arsip="ARS-2025-10")),
    ])


def _lamandau_answered(sop: Sop, case: dict[str, Any], typed: Typed) -> dict[str, Any]:
    return _through(sop, case, [
        Step("Task_pencatatan", "Sekretariat", form("wbs-lamandau-pencatatan", nomor_agenda="WBS/01/2025")),
        Step("Task_pengkajian", "Tim Telaah", form("wbs-lamandau-pengkajian")),
        Step("Task_rapat", "Kepala Dinas", form("wbs-lamandau-rapat", peserta_rapat="Kepala Dinas, Tim Telaah")),
        Step("Task_berita_acara", "Tim Audit", form("wbs-lamandau-berita-acara", nomor_berita_acara="BA-07")),
        Step("Task_tanggapan", "Sekretariat", form("wbs-lamandau-tanggapan", nomor_surat_tanggapan="503/77/DPMPTSP",
                                                    tanggapan=typed("tanggapan"))),
        Step("Task_arsip", "Sekretariat", form("wbs-lamandau-arsip", lokasi_arsip="Lemari 2")),
    ])


TIM = "Tim Penerima Pengaduan"
KEBUMEN_ADMIN_OK = form("wbs-kebumen-cek-administrasi", kelengkapan_administrasi="lengkap",
                        konfirmasi_awal="Laporan Anda kami terima untuk konfirmasi awal.")


def _kebumen_answered(sop: Sop, case: dict[str, Any], typed: Typed) -> dict[str, Any]:
    return _through(sop, case, [
        Step("Task_cek_administrasi", TIM, KEBUMEN_ADMIN_OK),
        Step("Task_cek_dokumen", TIM, form("wbs-kebumen-cek-dokumen", kelengkapan_dokumen="lengkap",
                                           hasil_konfirmasi_awal="Terkonfirmasi")),
        Step("Task_penanganan", "Sekretariat Penanganan", form("wbs-kebumen-penanganan", nomor_registrasi="WBS-KBM-09",
                                                               tanggapan_pelapor=typed("tanggapan_pelapor"))),
    ])


def _kebumen_closed_incomplete(sop: Sop, case: dict[str, Any], typed: Typed) -> dict[str, Any]:
    case = _through(sop, case, [
        Step("Task_cek_administrasi", TIM, KEBUMEN_ADMIN_OK),
        Step("Task_cek_dokumen", TIM, form("wbs-kebumen-cek-dokumen", kelengkapan_dokumen="tidak lengkap",
                                           kekurangan_laporan=typed("kekurangan_laporan"))),
    ])
    return sop.expire(case, "Task_melengkapi")  # the reporter lets 14 hari kerja pass


def _langsung_answered(sop: Sop, case: dict[str, Any], typed: Typed) -> dict[str, Any]:
    return _through(sop, case, [
        Step("Task_pencatatan", "Petugas", form("dinsos-langsung-pencatatan", nomor_registrasi="ADU/LGS/001")),
        Step("Task_penerusan", "Petugas", form("dinsos-langsung-penerusan")),
        Step("Task_disposisi", "Sekretaris", form("dinsos-langsung-disposisi",
                                                  bidang_tujuan=["dinsos-kukar-linjamsos"])),
        Step("Task_tindak_lanjut", "Kabid", form("dinsos-langsung-tindak-lanjut",
                                                 hasil_tindak_lanjut=typed("hasil_tindak_lanjut"))),
        Step("Task_pelaporan", "Sekretaris", form("dinsos-langsung-pelaporan", nomor_arsip="ARS/LGS/10")),
    ])


ADMIN = "Admin Media Sosial"


def _online_answered(sop: Sop, case: dict[str, Any], typed: Typed) -> dict[str, Any]:
    return _through(sop, case, [
        Step("Task_penerimaan", ADMIN, form("dinsos-online-penerimaan")),
        Step("Task_verifikasi", ADMIN, form("dinsos-online-verifikasi", hasil_verifikasi_pesan="terkait pengaduan")),
        Step("Task_respon", ADMIN, form("dinsos-online-respon", respon_admin="Aduan kami terima.")),
        Step("Task_penerusan", ADMIN, form("dinsos-online-penerusan", catatan_penerusan="Mohon disposisi")),
        Step("Task_disposisi", "Sekretaris", form("dinsos-online-disposisi", bidang_tujuan=["dinsos-kukar-rehsos"])),
        Step("Task_tindak_lanjut", "Kabid", form("dinsos-online-tindak-lanjut")),
        Step("Task_balasan", "Kabid", form("dinsos-online-balasan")),
        Step("Task_publikasi", ADMIN, form("dinsos-online-publikasi", balasan_publik=typed("balasan_publik"),
                                           tautan_balasan="https://facebook.com/r/1")),
    ])


def _online_not_a_complaint(sop: Sop, case: dict[str, Any], typed: Typed) -> dict[str, Any]:
    return _through(sop, case, [
        Step("Task_penerimaan", ADMIN, form("dinsos-online-penerimaan")),
        Step("Task_verifikasi", ADMIN, form("dinsos-online-verifikasi",
                                            hasil_verifikasi_pesan="tidak terkait pengaduan",
                                            alasan_bukan_pengaduan=typed("alasan_bukan_pengaduan"))),
    ])


def _dumas_verified(hasil: str = "lengkap", **extra: str) -> Step:
    return Step("Task_verifikasi", "Inspektorat", form("dumas-verifikasi", hasil_verifikasi=hasil,
                                                       nomor_registrasi="DUMAS/001/X/2025", **extra))


def _dumas_berkadar(sop: Sop, case: dict[str, Any], typed: Typed) -> dict[str, Any]:
    return _through(sop, case, [
        _dumas_verified(),
        Step("Task_penelaahan", "Inspektur", form("dumas-penelaahan", kategori_telaah="berkadar pengawasan")),
        Step("Task_penyaluran", "Sekretariat Inspektorat", form("dumas-penyaluran-sekretariat", nomor_agenda="AG-17")),
        Step("Task_tindak_lanjut_inspektur", "Inspektur", form(
            "dumas-tindak-lanjut-inspektur", bentuk_tindak_lanjut="audit dengan tujuan tertentu",
            laporan_tindak_lanjut=typed("laporan_tindak_lanjut"), kesimpulan=typed("kesimpulan"),
            saran_tindak_lanjut=typed("saran_tindak_lanjut"))),
    ])


def _dumas_eselon2(sop: Sop, case: dict[str, Any], typed: Typed) -> dict[str, Any]:
    return _through(sop, case, [
        _dumas_verified(),
        Step("Task_penelaahan", "Inspektur", form("dumas-penelaahan", kategori_telaah=TIDAK_BERKADAR,
                                                  unit_kerja_terlapor="katingan-dpmd",
                                                  alasan_kategori=typed("alasan_kategori"))),
        Step("Task_tindak_lanjut_eselon2", "Eselon II", form(
            "dumas-tindak-lanjut-eselon2", laporan_tindak_lanjut=typed("laporan_tindak_lanjut"),
            kesimpulan=typed("kesimpulan"), saran_tindak_lanjut=typed("saran_tindak_lanjut"))),
    ])


def _dumas_other_agency(sop: Sop, case: dict[str, Any], typed: Typed) -> dict[str, Any]:
    return _through(sop, case, [
        _dumas_verified(),
        Step("Task_penelaahan", "Inspektur", form("dumas-penelaahan", kategori_telaah="bukan kewenangan",
                                                  alasan_kategori=typed("alasan_kategori"),
                                                  instansi_tujuan=typed("instansi_tujuan"))),
        Step("Task_instansi_lain", "Inspektur", form("dumas-pengiriman-instansi-lain",
                                                     instansi_tujuan=typed("instansi_tujuan"))),
    ])


def _dumas_not_processable(sop: Sop, case: dict[str, Any], typed: Typed) -> dict[str, Any]:
    return _through(sop, case, [_dumas_verified("tidak dapat diproses",
                                            alasan_tidak_dapat_diproses=typed("alasan_tidak_dapat_diproses"))],)


# --- the ends ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class End:
    """One end of an SOP that closes the case, the path to it and what its notification publishes."""

    sop: str
    end: str  # the end event's id (with the branch, where two branches meet at one end)
    element: str  # the end event reached
    notified: str  # the throw event that tells the reporter, last on the path to ``element``
    typed: tuple[str, ...]  # the string fields the staff type and the end's notification publishes
    drive: Drive
    rejection: bool = False

    @property
    def id(self) -> str:
        return f"{self.sop}:{self.end}"

    def text(self, name: str) -> str:
        return f"Kesimpulan uji {self.sop} {self.end} ({name})"


ENDS = [
    End("wbs-dpmptsp-kukar", "End_selesai", "End_selesai", "Event_notifikasi_balasan",
        ("perihal_surat_balasan", "surat_balasan"), _kukar_answered),
    End("wbs-dpmptsp-lamandau", "End_selesai", "End_selesai", "Event_tanggapan_pelapor", ("tanggapan",),
        _lamandau_answered),
    End("wbs-disperindagkop-kebumen", "End_selesai", "End_selesai", "Event_tanggapan", ("tanggapan_pelapor",),
        _kebumen_answered),
    End("wbs-disperindagkop-kebumen", "End_ditutup_tidak_lengkap", "End_ditutup_tidak_lengkap",
        "Event_ditutup_tidak_lengkap", ("kekurangan_laporan",), _kebumen_closed_incomplete, rejection=True),
    End("pengaduan-langsung-dinsos-kukar", "End_laporan", "End_laporan", "Event_notifikasi_tindak_lanjut",
        ("hasil_tindak_lanjut",), _langsung_answered),
    End("pengaduan-online-dinsos-kukar", "End_selesai", "End_selesai", "Event_balasan", ("balasan_publik",),
        _online_answered),
    End("pengaduan-online-dinsos-kukar", "End_bukan_pengaduan", "End_bukan_pengaduan", "Event_bukan_pengaduan",
        ("alasan_bukan_pengaduan",), _online_not_a_complaint, rejection=True),
    End("dumas-inspektorat-katingan", "End_selesai-berkadar", "End_selesai", "Event_laporan_tindak_lanjut",
        ("laporan_tindak_lanjut", "kesimpulan", "saran_tindak_lanjut"), _dumas_berkadar),
    End("dumas-inspektorat-katingan", "End_selesai-eselon2", "End_selesai", "Event_laporan_tindak_lanjut",
        ("alasan_kategori", "laporan_tindak_lanjut", "kesimpulan", "saran_tindak_lanjut"), _dumas_eselon2),
    End("dumas-inspektorat-katingan", "End_instansi_lain", "End_instansi_lain", "Event_disalurkan_instansi_lain",
        ("alasan_kategori", "instansi_tujuan"), _dumas_other_agency, rejection=True),
    End("dumas-inspektorat-katingan", "End_ditutup", "End_ditutup", "Event_ditutup", ("alasan_tidak_dapat_diproses",),
        _dumas_not_processable, rejection=True),
]
#: one end per SOP for the browser: the rejection where the SOP has one (it must show its reason); 000
#: has none (every aduan found on the daily check is processed)
IN_THE_BROWSER = ["wbs-dpmptsp-kukar:End_selesai", "wbs-dpmptsp-lamandau:End_selesai",
                  "wbs-disperindagkop-kebumen:End_selesai", "pengaduan-langsung-dinsos-kukar:End_laporan",
                  "pengaduan-online-dinsos-kukar:End_bukan_pengaduan", "dumas-inspektorat-katingan:End_ditutup"]


def test_the_table_holds_every_end_that_closes_a_public_report() -> None:
    """Every end event of the six SOPs but the SLA escalation ends (which close no case) is driven here."""
    assert {end.sop for end in ENDS} == set(INTAKE)
    for key in INTAKE:
        diagram = (BPMN_DIR / f"{key}.bpmn").read_text(encoding="utf-8")
        closing = {found for found in _END_EVENT.findall(diagram) if not found.startswith("End_SLA_")}
        assert closing == {end.element for end in ENDS if end.sop == key}, key
        for end in (end for end in ENDS if end.sop == key):
            event = re.search(rf'<bpmn:(\w+) id="{end.notified}"(.*?)</bpmn:\1>', diagram, re.S)
            assert event, (key, end.notified)
            shown = re.search(r'name="tampilkan" value="([^"]*)"', event.group(2))
            assert shown and set(end.typed) <= set(shown.group(1).split(",")), (end.id, shown)
    assert sorted(IN_THE_BROWSER) == sorted({end.id for end in ENDS if end.id in IN_THE_BROWSER})
    assert {name.split(":")[0] for name in IN_THE_BROWSER} == set(INTAKE)


# --- filing, following up, mail ------------------------------------------------------------------------

def file_report(sop: Sop, key: str) -> tuple[str, str, str]:
    """A ``rahasia`` public report to ``key``; its tracking code, secret and case id."""
    filed = sop.client.post("/api/public/reports", json={
        "unit": sop.deployed[key]["unit"], "definition_key": key, "mode": "rahasia", "data": INTAKE[key],
        "identity": {**IDENTITY, **EXTRA_IDENTITY.get(key, {})}})
    assert filed.status_code == 201, filed.json
    code, secret = filed.json["tracking_code"], filed.json["secret"]
    with sop.services.db.reading() as session:
        case_id = session.scalars(select(Case.id).where(Case.tracking_code == code)).one()
    return code, secret, str(case_id)


def follow_up(sop: Sop, code: str, secret: str) -> dict[str, Any]:
    found = sop.client.get(f"/api/public/reports/{code}", headers={"X-Report-Secret": secret})
    assert found.status_code == 200, found.json
    return dict(found.json)


def drive(sop: Sop, end: End) -> tuple[str, str, dict[str, Any]]:
    """File a report and drive it to ``end``; its code, secret and the finished case."""
    code, secret, case_id = file_report(sop, end.sop)
    end.drive(sop, sop.case(case_id), end.text)
    case = sop.case(case_id)
    assert case["status"] == "completed" and case["tasks"] == [], (case["status"], case["tasks"])
    return code, secret, case


def _published(message: dict[str, Any]) -> dict[str, Any]:
    return {field["name"]: field["value"] for field in message["fields"]}


def _body(mail: Message) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes), "the reporter's mail is one plain-text part"
    return payload.decode().replace("\r\n", "\n")


@pytest.fixture
def reporter_mail(sop: Sop) -> Iterator[Callable[[], list[str]]]:
    """Points the worker's mail at an aiosmtpd on loopback; the call runs the worker once and returns the
    bodies of the mails the reporter's address received so far."""
    with smtp_server() as (handler, port):
        sop.services.settings = sop.services.settings.with_overrides(
            {"smtp_host": "127.0.0.1", "smtp_port": port, "public_url": PUBLIC_URL})
        mailer = SMTPMailer(sop.services.settings)

        def sweep() -> list[str]:
            run_once(sop.services, mailer=mailer)
            return [_body(mail) for mail in handler.messages if mail["To"] == EMAIL]

        yield sweep


@pytest.mark.parametrize("end", ENDS, ids=[end.id for end in ENDS])
def test_what_the_office_typed_reaches_the_reporter_by_api_and_mail(
        sop: Sop, end: End, reporter_mail: Callable[[], list[str]]) -> None:
    code, secret, case = drive(sop, end)
    typed = {name: end.text(name) for name in end.typed}
    told = [h["element_id"] for h in case["history"]
            if h["action"] == "notification" and h["data"].get("recipient") == "Pelapor"]
    assert told and told[-1] == end.notified, told

    shown = follow_up(sop, code, secret)
    assert shown["status"] == "completed"
    assert any(typed.items() <= _published(message).items() for message in shown["messages"]), shown["messages"]
    outcome = shown["outcome"]
    assert outcome is not None and typed.items() <= _published(outcome).items(), outcome
    assert all(field["label"] != field["name"] for field in outcome["fields"] if field["name"] in typed)

    mails = reporter_mail()
    assert mails, "no mail reached the reporter"
    answer = mails[-1]  # the outcome is the last thing the office tells the reporter
    for name, text in typed.items():
        label = next(field["label"] for field in outcome["fields"] if field["name"] == name)
        assert f"{label}:\n    {text}\n" in answer, answer
    assert f"{PUBLIC_URL}/lapor/tindak-lanjut" in answer and secret not in answer


BROWSER_ENDS = [end for end in ENDS if end.id in IN_THE_BROWSER]


@pytest.fixture
def page(request: pytest.FixtureRequest) -> Any:
    """A fresh page of the session's Chromium on a live server (``new_page`` of ``tests/support/web.py``)."""
    return request.getfixturevalue("new_page")()


@sqlite_only
@pytest.mark.parametrize("end", BROWSER_ENDS, ids=[end.id for end in BROWSER_ENDS])
def test_the_follow_up_page_shows_what_the_office_typed(sop: Sop, end: End, page: Any) -> None:
    code, secret, _ = drive(sop, end)
    labels = {field["name"]: field["label"] for field in follow_up(sop, code, secret)["outcome"]["fields"]}

    open_follow_up(page, code, secret)
    assert page.locator("#status-text").inner_text() == COMPLETED_WITH_OUTCOME
    outcome = page.locator("#outcome")
    terms, details = outcome.locator("dt").all_inner_texts(), outcome.locator("dd").all_inner_texts()
    for name in end.typed:  # a rejection: its reason, under the reason's label
        assert (labels[name], end.text(name)) in zip(terms, details, strict=True), (terms, details)
    assert page.console_errors == []
