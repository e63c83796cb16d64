"""Compact definitions of the SOP task forms; writes ``forms/<formKey>.schema.json`` + ``.ui.json``.

Each form is JSON Schema draft 2020-12 (rendered with react-jsonschema-form using the uiSchema).
Decision fields that gateways read are enums with distinct names per decision (see bpmn/*.bpmn) and
no default value: the person deciding makes an explicit choice. Every choice that ends, rejects,
returns or forwards a report requires a written reason (``reason`` + a ``when`` rule, i.e. JSON
Schema ``if``/``then``), which the diagram publishes to the reporter (``tampilkan``). A field that
routes the next task to a sub-unit (``tujuan_unit``) is an enum of the codes of the office's bundled
sub-units (``service/catalogue.py``), shown with their names.
A one-time scaffold outside the build (docs/DIAGRAMS.md): it writes to ``build/scaffold/forms``; the
committed ``forms/*.json`` files are the source of truth.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from service.catalogue import SUB_UNITS  # after the path of the repository

DRAFT = "https://json-schema.org/draft/2020-12/schema"
REASON_MIN = 10  # characters of a written reason
NIK = "^[0-9]{16}$"
NIP = "^[0-9]{18}$"
PHONE = "^(\\+62|0)[0-9]{8,13}$"


@dataclass
class F:
    """One form field: its JSON Schema, its uiSchema entry, whether it is required."""

    schema: dict[str, Any]
    required: bool = True
    ui: dict[str, Any] = field(default_factory=dict)


def text(title: str, max_len: int = 200, req: bool = True, help: str | None = None, **kw: Any) -> F:
    ui: dict[str, Any] = {}
    if max_len >= 1000:
        ui["ui:widget"] = "textarea"
    if help:
        ui["ui:help"] = help
    return F(
        {"type": "string", "title": title, "minLength": 1 if req else 0, "maxLength": max_len, **kw}, req, ui
    )


def long(title: str, req: bool = True, help: str | None = None, max_len: int = 5000) -> F:
    return text(title, max_len, req, help)


def enum(title: str, values: list[str], req: bool = True, help: str | None = None) -> F:
    ui: dict[str, Any] = {"ui:widget": "radio"} if len(values) <= 4 else {}
    if help:
        ui["ui:help"] = help
    return F({"type": "string", "title": title, "enum": values}, req, ui)


def boolean(title: str, must_be_true: bool = False, help: str | None = None) -> F:
    s: dict[str, Any] = {"type": "boolean", "title": title}
    if must_be_true:
        s["const"] = True
    return F(s, True, {"ui:help": help} if help else {})


def date(title: str, req: bool = True, help: str | None = None) -> F:
    return F(
        {"type": "string", "title": title, "format": "date", "maxLength": 10},
        req,
        {"ui:help": help} if help else {},
    )


def integer(title: str, help: str | None = None) -> F:
    return F({"type": "integer", "title": title, "minimum": 0}, True, {"ui:help": help} if help else {})


def lampiran(
    title: str = "Lampiran", help: str = "Foto atau dokumen pendukung, paling banyak 5 berkas."
) -> F:
    return F(
        {"type": "array", "title": title, "items": {"type": "string", "format": "data-url"}, "maxItems": 5},
        False,
        {"ui:help": help},
    )


def nama(req: bool = True) -> F:
    return text("Nama lengkap", 200, req)


def nik(req: bool = True) -> F:
    return text("No. KTP (NIK)", 16, req, "16 digit angka sesuai KTP.", pattern=NIK)


def telepon(req: bool = True) -> F:
    return text("No. HP", 16, req, "Contoh: 081234567890 atau +6281234567890.", pattern=PHONE)


def email(req: bool = True) -> F:
    return text("Email", 254, req, format="email")


def alamat(req: bool = True) -> F:
    return text("Alamat", 500, req)


def catatan(title: str = "Catatan") -> F:
    return long(title, req=False, max_len=2000)


def reason(title: str, help: str | None = None, req: bool = False) -> F:
    """A written reason (at least :data:`REASON_MIN` characters); a :func:`when` rule requires it on the
    branch that needs it."""
    f = long(title, req, help, max_len=2000)
    f.schema["minLength"] = REASON_MIN
    return f


def required_when(f: F) -> F:
    """An optional text that a :func:`when` rule requires on some branch: then it must not be empty."""
    f.schema["minLength"] = 1
    return f


def sub_unit(title: str, office: str, req: bool = False, help: str | None = None) -> F:
    """The code of one of ``office``'s bundled sub-units (a ``tujuan_unit`` field), shown by name."""
    units = SUB_UNITS[office]
    ui: dict[str, Any] = {"ui:enumNames": [unit.name for unit in units]}
    if help:
        ui["ui:help"] = help
    return F({"type": "string", "title": title, "enum": [unit.code for unit in units]}, req, ui)


def when(name: str, values: Sequence[str], *required: str) -> dict[str, Any]:
    """JSON Schema ``if``/``then``: when field ``name`` holds one of ``values``, ``required`` must be filled."""
    return {
        "if": {"properties": {name: {"enum": list(values)}}, "required": [name]},
        "then": {"required": list(required)},
    }


def form(
    title: str, description: str, fields: dict[str, F], rules: Sequence[dict[str, Any]] = ()
) -> tuple[dict[str, Any], dict[str, Any]]:
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "title": title,
        "description": description,
        "type": "object",
        "properties": {k: f.schema for k, f in fields.items()},
        "required": [k for k, f in fields.items() if f.required],
        "additionalProperties": False,
    }
    if rules:
        schema["allOf"] = list(rules)
    ui: dict[str, Any] = {"ui:order": list(fields)}
    for k, f in fields.items():
        if f.ui:
            ui[k] = f.ui
    return schema, ui


#: D2 of SOP 000, decided by the Kabid (langkah 4–5)
KUKAR_DISPOSISI = ["dijawab Kabid", "diserahkan ke bidang terkait"]
KUKAR_KABID_MENJAWAB = ["informasi", "rekomendasi teknik", "evaluasi layanan"]
KUKAR_KE_BIDANG = ["perizinan", "penanaman modal", "kesekretariatan", "lainnya"]
DUMAS_BERKADAR = "berkadar pengawasan"
DUMAS_TIDAK_BERKADAR = "tidak berkadar pengawasan atau tidak logis"
DUMAS_BUKAN_KEWENANGAN = "bukan kewenangan"


def read_only(f: F) -> F:
    """A figure the periodic case starts with (service/commands/period_report.py): shown, never typed."""
    f.schema["readOnly"] = True
    f.required = False
    return f


def rekap(title: str, columns: dict[str, F]) -> F:
    """A read-only table of the period's figures: one object per row."""
    row = {"type": "object", "properties": {k: c.schema for k, c in columns.items()}, "required": list(columns)}
    table = F({"type": "array", "title": title, "items": row, "maxItems": 500},
              ui={"ui:options": {"addable": False, "removable": False, "orderable": False}})
    return read_only(table)


def figures(channel: str | None) -> dict[str, F]:
    """The figures of a Laporan Berkala, computed from the cases of the period when the case starts."""
    fields = {
        "periode": read_only(text("Periode", 100)),
        "periode_awal": read_only(date("Periode awal")),
        "periode_akhir": read_only(date("Periode akhir")),
        "jumlah_pengaduan": read_only(integer("Pengaduan diterima")),
        "jumlah_selesai": read_only(integer("Selesai ditindaklanjuti sampai akhir periode")),
        "jumlah_belum_selesai": read_only(integer("Belum selesai pada akhir periode")),
        "jumlah_terlambat": read_only(integer("Terlambat (ada langkah melewati waktu Mutu Baku)")),
        "rekap_langkah": rekap("Per langkah", {"langkah": text("Langkah", 300), "jumlah": integer("Jumlah"),
                                               "terlambat": integer("Terlambat")}),
        "rekap_saluran": rekap(f"Per {channel}", {"saluran": text((channel or "saluran").capitalize(), 200),
                                                  "jumlah": integer("Jumlah")}),
        "rekap_keputusan": rekap("Per keputusan", {"keputusan": text("Keputusan", 300), "hasil": text("Hasil", 300),
                                                   "jumlah": integer("Jumlah")}),
    }
    if channel is None:
        fields.pop("rekap_saluran")
    return fields


def kekurangan() -> F:
    return reason(
        "Kekurangan yang harus dilengkapi pelapor", help="Wajib bila tidak lengkap. Ditampilkan kepada pelapor."
    )


FORMS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # ------------------------------------------------------------------ 000 wbs-dpmptsp-kukar
    "wbs-kukar-pengaduan": form(
        "Form Pengaduan Whistle Blower System",
        "Langkah 1: tuliskan isi aduan/keluhan.",
        {
            "saluran": enum("Disampaikan melalui", ["website", "kotak Whistle Blower System"]),
            "nama": nama(req=False),
            "telepon": telepon(req=False),
            "email": email(req=False),
            "uraian": long("Isi aduan/keluhan"),
            "lampiran": lampiran(),
        },
    ),
    "wbs-kukar-pemeriksaan": form(
        "Pemeriksaan Aduan",
        "Langkah 2 (Kasi): aduan dari kotak pengaduan/website yang diperiksa setiap hari diterima untuk "
        "diproses (langkah 3).",
        {
            "catatan_pemeriksaan": catatan(),
        },
    ),
    "wbs-kukar-pemilahan": form(
        "Pemilahan Jenis Aduan",
        "Langkah 3 (Kasi): pilah jenis aduan berdasarkan bidang/sub bagian yang dituju, serahkan ke Kabid.",
        {
            "jenis_aduan": enum(
                "Jenis aduan",
                [*KUKAR_KABID_MENJAWAB, *KUKAR_KE_BIDANG],
                help="Aduan untuk bidang informasi, rekomendasi teknik dan evaluasi layanan dijawab Kabid; Kabid "
                "memutuskan pada langkah 4.",
            ),
            "bidang_tujuan": sub_unit(
                "Bidang/sub bagian yang dituju", "dpmptsp-kukar", help="Wajib bila aduan tidak dijawab Kabid."
            ),
            "catatan_pemilahan": catatan(),
        },
        [when("jenis_aduan", KUKAR_KE_BIDANG, "bidang_tujuan")],
    ),
    "wbs-kukar-disposisi": form(
        "Disposisi Kabid",
        "Langkah 4 (Kabid): terima hasil pemilahan Kasi dan putuskan: aduan untuk bidang informasi, "
        "rekomendasi teknik dan evaluasi layanan dijawab Kabid (langkah 5), selain itu diserahkan ke bidang "
        "terkait (langkah 6).",
        {
            "disposisi_kabid": enum("Keputusan Kabid", KUKAR_DISPOSISI),
            "bidang_tujuan": sub_unit(
                "Bidang terkait penerima disposisi",
                "dpmptsp-kukar",
                help="Wajib bila diserahkan ke bidang terkait. Terisi dari pemilahan Kasi; ubah bila perlu.",
            ),
            "catatan_disposisi": catatan("Catatan disposisi"),
        },
        [when("disposisi_kabid", [KUKAR_DISPOSISI[1]], "bidang_tujuan")],
    ),
    "wbs-kukar-jawaban-kabid": form(
        "Jawaban Kabid",
        "Langkah 5 (Kabid): jawab aduan pada form WBS.",
        {
            "jawaban_kabid": long("Jawaban atas aduan"),
            "lampiran": lampiran(),
        },
    ),
    "wbs-kukar-tindak-lanjut-bidang": form(
        "Tindak Lanjut Bidang Terkait",
        "Langkah 6 (Bidang Terkait).",
        {
            "hasil_tindak_lanjut": long("Hasil tindak lanjut keluhan/aduan"),
            "lampiran": lampiran(),
        },
    ),
    "wbs-kukar-surat-balasan": form(
        "Surat Balasan",
        "Langkah 7 (Kasi): buat surat balasan hasil tindak lanjut.",
        {
            "perihal_surat_balasan": text("Perihal surat balasan"),
            "surat_balasan": long("Isi surat balasan", help="Disampaikan kepada pelapor."),
            "draf_surat_balasan": lampiran("Draf surat balasan"),
        },
    ),
    "wbs-kukar-tanda-tangan": form(
        "Tanda Tangan Surat Balasan",
        "Langkah 8 (Kabid), lalu SOP surat keluar.",
        {
            "surat_ditandatangani": boolean("Surat balasan telah ditandatangani", must_be_true=True),
            "catatan_tanda_tangan": catatan(),
        },
    ),
    "wbs-kukar-distribusi": form(
        "Distribusi Surat Balasan",
        "Langkah 9 (Kasi): kirim surat balasan ke pemohon.",
        {
            "cara_distribusi": enum("Cara distribusi", ["website", "email", "pos", "diambil langsung"]),
            "tanggal_distribusi": date("Tanggal distribusi"),
            "berkas_surat_balasan": lampiran(
                "Surat balasan yang ditandatangani", "Pindaian surat balasan; dapat diunduh pelapor."
            ),
            "catatan_distribusi": catatan(),
        },
    ),
    "wbs-kukar-arsip": form(
        "Arsip Berkas Pengaduan",
        "Langkah 10 (Kasi): arsipkan berkas penanganan aduan.",
        {
            "nomor_arsip": text("Nomor arsip", 100),
            "lokasi_arsip": text("Lokasi arsip", req=False),
        },
    ),
    # ------------------------------------------------------------------ surat-keluar (inferred)
    "surat-keluar-registrasi": form(
        "Registrasi Surat Keluar",
        "Catat nomor surat keluar di buku agenda.",
        {
            "nomor_surat": text("Nomor surat", 100),
            "tanggal_surat": date("Tanggal surat"),
        },
    ),
    # ------------------------------------------------------------------ 001 wbs-dpmptsp-lamandau
    "wbs-lamandau-pengaduan": form(
        "Pengaduan Whistle Blowing System",
        "Langkah 1: sampaikan permasalahan.",
        {
            "saluran": enum("Disampaikan melalui", ["sms", "telepon", "email", "kotak saran", "lainnya"]),
            "nama": nama(req=False),
            "telepon": telepon(req=False),
            "email": email(req=False),
            "uraian": long("Uraian permasalahan"),
            "lampiran": lampiran(),
        },
    ),
    "wbs-lamandau-pencatatan": form(
        "Pencatatan Pengaduan",
        "Langkah 2 (Sekretariat): Catatan Pengaduan WBS.",
        {
            "nomor_agenda": text("Nomor Buku Agenda Permohonan", 100),
            "catatan_pengaduan": long("Catatan Pengaduan WBS"),
        },
    ),
    "wbs-lamandau-pengkajian": form(
        "Pengkajian Pengaduan",
        "Langkah 3 (Tim Telaah): kaji, sampaikan ke Kepala Dinas.",
        {
            "hasil_pengkajian": long("Hasil pengkajian"),
            "surat_pengaduan": long("Surat Pengaduan WBS"),
            "lampiran": lampiran(),
        },
    ),
    "wbs-lamandau-rapat": form(
        "Rapat Pembahasan Pengaduan",
        "Langkah 4 (Kepala Dinas): rapat pembahasan.",
        {
            "tanggal_rapat": date("Tanggal rapat"),
            "peserta_rapat": long("Peserta rapat", max_len=2000),
            "teknis_penyelesaian": long("Teknis penyelesaian pengaduan"),
        },
    ),
    "wbs-lamandau-berita-acara": form(
        "Berita Acara Penyelesaian Pengaduan",
        "Langkah 5 (Tim Audit).",
        {
            "nomor_berita_acara": text("Nomor berita acara", 100),
            "berita_acara": long("Berita Acara Penyelesaian Pengaduan WBS"),
            "lampiran": lampiran(),
        },
    ),
    "wbs-lamandau-tanggapan": form(
        "Tanggapan Pengaduan",
        "Langkah 6 (Sekretariat): tanggapan tertulis.",
        {
            "nomor_surat_tanggapan": text("Nomor surat tanggapan", 100, req=False),
            "tanggapan": long("Tanggapan Pengaduan WBS", help="Dikirim kepada pelapor."),
            "berkas_tanggapan": lampiran("Surat tanggapan", "Surat tanggapan tertulis; dapat diunduh pelapor."),
        },
    ),
    "wbs-lamandau-arsip": form(
        "Arsip Berkas Pengaduan",
        "Langkah 8 (Sekretariat).",
        {
            "nomor_arsip": text("Nomor arsip", 100),
            "lokasi_arsip": text("Lokasi arsip", req=False),
        },
    ),
    # ------------------------------------------------------------------ 002 wbs-disperindagkop-kebumen
    "wbs-kebumen-pengaduan": form(
        "Pengaduan Whistle Blowing System",
        "Langkah 1–5: isi formulir pengaduan baru.",
        {
            "nama": nama(),
            "nip": text("NIP", 18, False, "18 digit angka (bagi ASN).", pattern=NIP),
            "unit_kerja": text("Unit kerja"),
            "telepon": telepon(),
            "email": email(),
            "jenis_pelanggaran": enum(
                "Jenis pelanggaran", ["pelanggaran", "penyelewengan", "tindak pidana korupsi"]
            ),
            "judul": text("Judul pengaduan"),
            "pihak_terlapor": text("Pihak terlapor", 500, False),
            "lokasi_kejadian": text("Lokasi kejadian", 500, False),
            "tanggal_kejadian": date("Tanggal kejadian", req=False),
            "uraian": long("Uraian pengaduan"),
            "lampiran": lampiran("Lampiran bukti pengaduan"),
        },
    ),
    "wbs-kebumen-cek-administrasi": form(
        "Pemeriksaan Data Administrasi",
        "Tim penerima pengaduan (D1). Data lengkap: pelapor dihubungi untuk konfirmasi awal.",
        {
            "kelengkapan_administrasi": enum("Data administrasi", ["lengkap", "tidak lengkap"]),
            "konfirmasi_awal": required_when(
                long("Pesan konfirmasi awal kepada pelapor", False, "Wajib bila data lengkap.", 2000)
            ),
            "kekurangan_laporan": kekurangan(),
        },
        [
            when("kelengkapan_administrasi", ["lengkap"], "konfirmasi_awal"),
            when("kelengkapan_administrasi", ["tidak lengkap"], "kekurangan_laporan"),
        ],
    ),
    "wbs-kebumen-melengkapi": form(
        "Melengkapi Laporan",
        "Lengkapi data atau dokumen yang diminta, paling lama 14 hari kerja.",
        {
            "uraian_tambahan": long("Keterangan tambahan"),
            "lampiran_tambahan": lampiran("Lampiran tambahan"),
        },
    ),
    "wbs-kebumen-cek-dokumen": form(
        "Konfirmasi Awal dan Kelengkapan Dokumen",
        "Tim penerima pengaduan (D2).",
        {
            "hasil_konfirmasi_awal": long("Hasil konfirmasi awal dengan pelapor", max_len=2000),
            "kelengkapan_dokumen": enum(
                "Dokumen",
                ["lengkap", "tidak lengkap"],
                help="Jika lengkap, laporan diteruskan ke sekretariat penanganan pengaduan.",
            ),
            "kekurangan_laporan": kekurangan(),
        },
        [when("kelengkapan_dokumen", ["tidak lengkap"], "kekurangan_laporan")],
    ),
    "wbs-kebumen-penanganan": form(
        "Penanganan Pengaduan",
        "Sekretariat penanganan pengaduan.",
        {
            "nomor_registrasi": text("Nomor registrasi", 100),
            "catatan_penanganan": long("Catatan penanganan"),
            "tanggapan_pelapor": long("Tanggapan kepada pelapor", help="Disampaikan kepada pelapor."),
        },
    ),
    # ------------------------------------------------------------------ 003a pengaduan-langsung-dinsos-kukar
    "dinsos-langsung-pengaduan": form(
        "Pengaduan secara Langsung",
        "Langkah 1: materi aduan.",
        {
            "nama": nama(),
            "nik": nik(req=False),
            "alamat": alamat(req=False),
            "telepon": telepon(req=False),
            "materi_aduan": long("Materi aduan"),
            "lampiran": lampiran(),
        },
    ),
    "dinsos-langsung-pencatatan": form(
        "Registrasi Pengaduan",
        "Langkah 2 (Petugas loket).",
        {
            "nomor_registrasi": text("Nomor buku registrasi pengaduan", 100),
            "tanggal_registrasi": date("Tanggal registrasi"),
            "ringkasan_pengaduan": long("Ringkasan pengaduan (formulir pengaduan)", max_len=2000),
        },
    ),
    "dinsos-langsung-penerusan": form(
        "Penerusan ke Ketua Tim Pengaduan",
        "Langkah 3 (Petugas).",
        {
            "formulir_pengaduan_lengkap": boolean("Formulir pengaduan telah diisi", must_be_true=True),
            "catatan_penerusan": catatan(),
        },
    ),
    "dinsos-langsung-disposisi": form(
        "Disposisi Ketua Tim Pengaduan",
        "Langkah 4: formulir penyaluran pengaduan.",
        {
            "bidang_tujuan": sub_unit("Bidang terkait sesuai materi pengaduan", "dinsos-kukar", req=True),
            "isi_disposisi": long("Isi disposisi", max_len=2000),
        },
    ),
    "dinsos-langsung-tindak-lanjut": form(
        "Penyelesaian Pengaduan",
        "Langkah 5 (Kepala Bidang): paling lama 2 hari kerja.",
        {
            "hasil_tindak_lanjut": long(
                "Formulir penyelesaian pengaduan", help="Disampaikan kepada pelapor."
            ),
            "lampiran": lampiran("Dokumen terkait"),
        },
    ),
    "dinsos-langsung-pelaporan": form(
        "Pelaporan dan Pengarsipan",
        "Langkah 6: paling lama 10 hari kerja.",
        {
            "laporan": long("Laporan"),
            "nomor_arsip": text("Nomor arsip", 100),
        },
    ),
    # ------------------------------------------------------------------ 003b pengaduan-online-dinsos-kukar
    "dinsos-online-pengaduan": form(
        "Pengaduan secara Online",
        "Pesan atau komentar di media online Dinas Sosial.",
        {
            "media": enum(
                "Media online",
                ["Facebook", "Instagram", "X/Twitter", "WhatsApp", "website", "email", "lainnya"],
            ),
            "akun_pengirim": text("Nama akun/nomor pengirim", req=False),
            "nama": nama(req=False),
            "isi_pesan": long("Isi pesan/komentar"),
            "tautan": text("Tautan pesan/komentar", 500, False, format="uri"),
            "lampiran": lampiran(),
        },
    ),
    "dinsos-online-penerimaan": form(
        "Penerimaan Pengaduan Online",
        "Langkah 1 (Admin).",
        {
            "ringkasan_pengaduan": long("Dokumen materi pengaduan (ringkasan)", max_len=2000),
        },
    ),
    "dinsos-online-verifikasi": form(
        "Verifikasi Pesan/Komentar",
        "Langkah 2 (Admin) (D1).",
        {
            "hasil_verifikasi_pesan": enum(
                "Hasil verifikasi",
                ["terkait pengaduan", "tidak terkait pengaduan"],
                help="Pesan yang tidak terkait pengaduan tidak diproses lebih lanjut.",
            ),
            "alasan_bukan_pengaduan": reason(
                "Alasan pesan tidak diproses sebagai pengaduan",
                help="Wajib bila tidak terkait pengaduan. Disampaikan kepada pelapor.",
            ),
            "catatan_verifikasi": catatan(),
        },
        [when("hasil_verifikasi_pesan", ["tidak terkait pengaduan"], "alasan_bukan_pengaduan")],
    ),
    "dinsos-online-respon": form(
        "Respon kepada Masyarakat",
        "Langkah 3 (Admin): pengaduan diterima dan diproses.",
        {
            "respon_admin": long("Respon admin", help="Dikirim kepada pelapor.", max_len=2000),
            "lampiran": lampiran("Bukti elektronik balasan admin"),
        },
    ),
    "dinsos-online-penerusan": form(
        "Penerusan ke Ketua Tim Pengaduan/Sekdis",
        "Langkah 4 (Admin).",
        {
            "catatan_penerusan": catatan(),
            "lampiran": lampiran("Bukti elektronik penyaluran pengaduan"),
        },
    ),
    "dinsos-online-disposisi": form(
        "Disposisi Ketua Tim Pengaduan",
        "Langkah 5 (Sekretaris).",
        {
            "bidang_tujuan": sub_unit("Kepala Bidang/bidang terkait", "dinsos-kukar", req=True),
            "isi_disposisi": long("Isi disposisi", max_len=2000),
        },
    ),
    "dinsos-online-tindak-lanjut": form(
        "Tindak Lanjut Pengaduan",
        "Langkah 6 (Kepala Bidang).",
        {
            "hasil_tindak_lanjut": long("Hasil tindak lanjut"),
            "lampiran": lampiran(),
        },
    ),
    "dinsos-online-balasan": form(
        "Balasan Tindak Lanjut kepada Admin",
        "Langkah 7 (Kepala Bidang).",
        {
            "balasan_tindak_lanjut": long("Balasan tindak lanjut pengaduan"),
        },
    ),
    "dinsos-online-publikasi": form(
        "Balasan di Media Online",
        "Langkah 8 (Admin).",
        {
            "balasan_publik": long("Balasan yang diteruskan di media online", help="Dikirim kepada pelapor."),
            "tautan_balasan": text("Tautan balasan", 500, False, format="uri"),
            "lampiran": lampiran("Bukti elektronik balasan"),
        },
    ),
    "dinsos-online-laporan-berkala": form(
        "Laporan Berkala Pengaduan Online",
        "Langkah 9: pelaporan dan pengarsipan. Angka triwulan dihitung Alur dari pengaduan online periode ini.",
        {
            **figures("media online"),
            "laporan_berkala": long("Laporan Berkala (uraian)", req=False),
            "lampiran": lampiran(),
        },
    ),
    # ------------------------------------------------------------------ 004 dumas-inspektorat-katingan
    "dumas-pengaduan": form(
        "Pengaduan Masyarakat (DUMAS)",
        "Langkah 1: identitas pelapor wajib diisi.",
        {
            "nama": nama(),
            "nik": nik(),
            "alamat": alamat(),
            "email": email(req=False),
            "telepon": telepon(),
            "pekerjaan": text("Jenis pekerjaan"),
            "kategori_terlapor": enum("Terlapor", ["Pegawai Negeri Sipil", "Kepala Desa", "Aparat Desa"]),
            "jenis_laporan": enum(
                "Jenis laporan",
                ["penyimpangan", "penyalahgunaan wewenang", "sumbang saran", "kritik yang konstruktif"],
            ),
            "saluran": enum("Disampaikan secara", ["langsung", "tertulis", "surat elektronik"]),
            "uraian": long("Uraian pengaduan"),
            "lokasi_kasus": text("Lokasi kasus", 500),
            "lampiran": lampiran("Bukti pendukung laporan"),
        },
    ),
    "dumas-verifikasi": form(
        "Pencatatan dan Verifikasi Laporan",
        "Langkah 2 (Inspektorat) (D1).",
        {
            "nomor_registrasi": text("Nomor registrasi", 100),
            "laporan_hasil_verifikasi": long("Laporan Hasil verifikasi"),
            "hasil_verifikasi": enum(
                "Hasil verifikasi",
                ["lengkap", "tidak lengkap", "tidak dapat diproses"],
                help="Tidak lengkap: pelapor diminta melengkapi. Tidak dapat diproses: laporan ditutup.",
            ),
            "kekurangan_laporan": kekurangan(),
            "alasan_tidak_dapat_diproses": reason(
                "Alasan laporan tidak dapat diproses",
                help="Wajib bila tidak dapat diproses. Disampaikan kepada pelapor.",
            ),
        },
        [
            when("hasil_verifikasi", ["tidak lengkap"], "kekurangan_laporan"),
            when("hasil_verifikasi", ["tidak dapat diproses"], "alasan_tidak_dapat_diproses"),
        ],
    ),
    "dumas-melengkapi": form(
        "Melengkapi Laporan",
        "Lengkapi laporan sesuai permintaan Inspektorat, paling lama 14 hari kerja.",
        {
            "uraian_tambahan": long("Keterangan tambahan"),
            "lampiran_tambahan": lampiran("Bukti tambahan"),
        },
    ),
    "dumas-penelaahan": form(
        "Penelaahan Pengaduan",
        "Langkah 3 (Inspektur): kategori hasil penelaahan (D2).",
        {
            "inti_masalah": long("Inti masalah", max_len=2000),
            "kategori_telaah": enum(
                "Kategori",
                [DUMAS_BERKADAR, DUMAS_TIDAK_BERKADAR, DUMAS_BUKAN_KEWENANGAN],
            ),
            "memo_kepala_inspektorat": long("Memo Kepala Inspektorat/laporan hasil penelaahan"),
            "alasan_kategori": reason(
                "Alasan kategori",
                help="Wajib bila tidak berkadar pengawasan/tidak logis atau bukan kewenangan. Disampaikan kepada "
                "pelapor.",
            ),
            "unit_kerja_terlapor": sub_unit(
                "Unit kerja Eselon II yang terlapor",
                "inspektorat-katingan",
                help="Wajib bila tidak berkadar pengawasan/tidak logis: laporan hanya disalurkan ke unit ini.",
            ),
            "instansi_tujuan": required_when(
                text("Instansi lain yang berwenang", req=False, help="Wajib bila bukan kewenangan Inspektorat.")
            ),
        },
        [
            when("kategori_telaah", [DUMAS_TIDAK_BERKADAR, DUMAS_BUKAN_KEWENANGAN], "alasan_kategori"),
            when("kategori_telaah", [DUMAS_TIDAK_BERKADAR], "unit_kerja_terlapor"),
            when("kategori_telaah", [DUMAS_BUKAN_KEWENANGAN], "instansi_tujuan"),
        ],
    ),
    "dumas-penyaluran-sekretariat": form(
        "Penyaluran Pengaduan Berkadar Pengawasan",
        "Langkah 4 (Sekretariat).",
        {
            "nomor_agenda": text("Nomor agenda", 100),
            "tanggal_diterima": date(
                "Tanggal diterima sekretariat",
                help="Awal batas waktu 60 hari tindak lanjut oleh Inspektur (langkah 5); tidak boleh sesudah hari "
                "ini.",
            ),
            "catatan_penyaluran": catatan(),
        },
    ),
    "dumas-tindak-lanjut-inspektur": form(
        "Tindak Lanjut Berkadar Pengawasan",
        "Langkah 5 (Inspektur): 60 hari.",
        {
            "bentuk_tindak_lanjut": enum(
                "Bentuk tindak lanjut",
                ["tanggapan tertulis", "audit dengan tujuan tertentu", "audit investigasi"],
            ),
            "laporan_tindak_lanjut": long(
                "Laporan penanganan tindak lanjut", help="Disampaikan kepada pelapor."
            ),
            "kesimpulan": long("Kesimpulan", max_len=2000, help="Disampaikan kepada pelapor."),
            "saran_tindak_lanjut": catatan("Saran tindak lanjut"),
            "berkas_laporan_tindak_lanjut": lampiran(
                "Laporan audit/laporan tindak lanjut", "Dapat diunduh pelapor."
            ),
        },
    ),
    "dumas-tindak-lanjut-eselon2": form(
        "Tindak Lanjut oleh Unit Kerja Eselon II",
        "Langkah 6: 14 hari kerja.",
        {
            "laporan_tindak_lanjut": long(
                "Laporan penanganan tindak lanjut",
                help="Disampaikan kepada pelapor, tembusan kepada Inspektur.",
            ),
            "kesimpulan": long("Kesimpulan", max_len=2000, help="Disampaikan kepada pelapor."),
            "saran_tindak_lanjut": catatan("Saran tindak lanjut"),
            "berkas_laporan_tindak_lanjut": lampiran(
                "Laporan penanganan tindak lanjut", "Dapat diunduh pelapor; tembusan kepada Inspektur."
            ),
        },
    ),
    "dumas-pengiriman-instansi-lain": form(
        "Pengiriman Berkas ke Instansi Lain",
        "Langkah 8 (Inspektur): bukan kewenangan Inspektorat. Kirim seluruh data/dokumen pengaduan beserta "
        "memo Kepala Inspektorat dan/atau laporan hasil penelaahan kepada instansi yang berwenang.",
        {
            "instansi_tujuan": text("Instansi lain yang berwenang", help="Terisi dari penelaahan; disampaikan kepada "
                                    "pelapor."),
            "nomor_surat_pengantar": text("Nomor surat pengantar", 100),
            "tanggal_kirim": date("Tanggal kirim"),
            "cara_pengiriman": enum("Cara pengiriman", ["pos", "kurir", "email", "diantar langsung"]),
            "berkas_lengkap_dikirim": boolean(
                "Seluruh data/dokumen pengaduan, memo Kepala Inspektorat dan/atau laporan hasil penelaahan "
                "telah dikirim",
                must_be_true=True,
            ),
            "bukti_pengiriman": lampiran("Surat pengantar dan bukti pengiriman/tanda terima"),
            "catatan_pengiriman": catatan(),
        },
    ),
    "dumas-laporan-berkala": form(
        "Laporan Berkala Tindak Lanjut DUMAS",
        "Langkah 9 (Sekretariat Inspektorat): laporan semesteran untuk Inspektur. Angka dihitung Alur dari "
        "pengaduan semester ini.",
        {
            **figures("saluran"),
            "laporan_berkala": long("Laporan hasil tindak lanjut (uraian)", req=False),
            "lampiran": lampiran(),
        },
    ),
    "dumas-laporan-berkala-diterima": form(
        "Penerimaan Laporan Berkala Tindak Lanjut DUMAS",
        "Langkah 9 (Inspektur): menerima laporan semesteran dari bagian sekretariat.",
        {
            **figures("saluran"),
            "laporan_berkala": read_only(long("Laporan hasil tindak lanjut (uraian)", req=False)),
            "catatan_inspektur": catatan("Catatan/arahan Inspektur"),
        },
    ),
}


def main() -> None:
    out = Path(__file__).resolve().parents[2] / "build" / "scaffold" / "forms"
    out.mkdir(parents=True, exist_ok=True)
    for key, (schema, ui) in FORMS.items():
        for suffix, doc in ((".schema.json", schema), (".ui.json", ui)):
            (out / f"{key}{suffix}").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", "utf-8")
    print(f"{len(FORMS)} forms written to {out}")


if __name__ == "__main__":
    main()
