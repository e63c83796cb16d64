"""Compact descriptions of the seed SOPs (shared/seeds/STEPS.md) as BPMN processes.

A one-time scaffold, outside the build (docs/DIAGRAMS.md): it first wrote ``bpmn/*.bpmn`` from the
seeds. ``bpmn/`` is maintained by hand (or the modeler and ``alur export``) since; this script writes
to ``build/scaffold/bpmn`` so a run never overwrites those files.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bpmn_layout import Deadline, Flow, Node, Process, Timer, write
import sop_seed_metadata as seed

NOTIF = "notifikasi_pelapor"
TEMBUSAN = "tembusan_inspektur"


def task(
    id: str,
    name: str,
    lane: str,
    col: int,
    form: str,
    langkah: str,
    kelengkapan: str,
    waktu: str,
    output: str,
    timer: str | None = None,
    eskalasi: str | None = None,
    kind: str = "userTask",
    tampilkan: str = "",
    tujuan_unit: str = "",
    deadline: Deadline | None = None,
    doc: str = "",
) -> Node:
    """A user task; ``name`` is the short name on the shape and in task lists, ``doc`` the seed's full
    wording of the step when the name shortens it (``bpmn:documentation``).

    ``tampilkan``: on a Pelapor-lane task the case fields it shows the reporter; on a staff task the
    only case fields that lane may read (need-to-know). ``tujuan_unit``: the case field holding the
    code of the sub-unit the task goes to. ``deadline``: the reporter's time limit (Pelapor tasks).
    """
    props = {"langkah": langkah, "kelengkapan": kelengkapan, "waktu": waktu, "output": output}
    if not langkah:
        props.pop("langkah")
    if tampilkan:
        props["tampilkan"] = tampilkan
    if tujuan_unit:
        props["tujuan_unit"] = tujuan_unit
    t = Timer(timer, eskalasi) if timer and eskalasi else None
    return Node(id, kind, name, lane, col, form_key=form, props=props, timer=t, deadline=deadline,
                doc=doc or None)


def batas_pelapor(target: str, hari: int = 14) -> Deadline:
    """The reporter's time limit on a Pelapor task (14 hari kerja unless the seed says otherwise)."""
    return Deadline(f"hari_kerja({hari})", target, f"{hari} hari kerja")


def notif(
    id: str,
    name: str,
    col: int,
    langkah: str = "",
    lane: str = "Pelapor",
    message: str = NOTIF,
    waktu: str = "",
    penerima: str = "",
    tampilkan: str = "",
) -> Node:
    """A thrown message; ``penerima`` names the role it is for when that is not the reporter;
    ``tampilkan`` lists the case fields it publishes to the reporter (the outcome and its reason)."""
    props = {"langkah": langkah} if langkah else {}
    if waktu:
        props["waktu"] = waktu
    if penerima:
        props["penerima"] = penerima
    if tampilkan:
        props["tampilkan"] = tampilkan
    return Node(id, "intermediateThrowEvent", name, lane, col, props=props, message=message)


def start(id: str, name: str, lane: str, form: str | None, langkah: str = "", **props: str) -> Node:
    p = {"langkah": langkah, **props} if langkah else dict(props)
    return Node(id, "startEvent", name, lane, 0, form_key=form, props=p)


def end(id: str, name: str, lane: str, col: int) -> Node:
    return Node(id, "endEvent", name, lane, col)


def gw(id: str, name: str, lane: str, col: int) -> Node:
    return Node(id, "exclusiveGateway", name, lane, col)


def seq(*ids: str) -> list[Flow]:
    return [Flow(a, b) for a, b in itertools.pairwise(ids)]


def meta(
    nomor: str,
    buat: str,
    revisi: str,
    efektif: str,
    oleh: tuple[str, str, str],
    unit: str,
    judul: str,
    sections: dict[str, list[str]] | None = None,
    **policy: str,
) -> dict[str, str]:
    """SOP metadata (the SOP document's header, service/engine/sop_metadata.py): ``oleh`` is
    Disahkan oleh (jabatan, nama, NIP); ``sections`` the six boxes (tools/sop_seed_metadata.py),
    one entry per line; ``policy``: Alur's process properties (``pengawas``, ``mode_pelapor``,
    ``identitas_wajib``, ``data_identitas``; see service/engine/properties.py)."""
    jabatan, nama, nip = oleh
    props = {
        "nomor_sop": nomor,
        "tanggal_pembuatan": buat,
        "tanggal_revisi": revisi,
        "tanggal_efektif": efektif,
        "disahkan_oleh": nama,
        "unit": unit,
        "judul": judul,
        **policy,
    }
    if jabatan:
        props["disahkan_oleh_jabatan"] = jabatan
    if nip:
        props["disahkan_oleh_nip"] = nip
    props.update({name: "\n".join(items) for name, items in (sections or {}).items() if items})
    return props


ALL_MODES = "anonim,rahasia,biasa"


# --------------------------------------------------------------------------------------------- 000
FP = "Form Pengaduan"
FPSB = "Form Pengaduan, Surat Balasan"
WBS_KUKAR = Process(
    id="wbs-dpmptsp-kukar",
    name="Penanganan Whistle Blower System",
    participant="DPMPTSP Kab. Kutai Kartanegara — Penanganan Whistle Blower System",
    documentation=(
        "SOP Penanganan Whistle Blower System, Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu "
        "Kabupaten Kutai Kartanegara, Bidang Pengaduan dan Advokasi (seed 000).\n"
        "Pelaksana → lane: Masyarakat / Pemohon → Pelapor; Kasi → Kasi; Kepala Bidang → Kabid; "
        "Bidang Terkait → Bidang Terkait. Sub Bagian Umum dan Ketatalaksanaan (langkah 8, SOP surat keluar) "
        "→ call activity surat-keluar (lane Subbag Umum di proses itu).\n"
        'Langkah 1 = start event (form pengaduan). Langkah 2: "Kasi memeriksa kotak pengaduan dan website '
        'setiap hari, jika tidak ada keluhan maka aktifitas selesai, jika ada maka akan diproses". The daily '
        "check of the kotak pengaduan and the website is the Kasi's routine across cases, not a decision "
        "inside one: a case exists only because an aduan was written on the website/form (langkah 1), so "
        '"tidak ada keluhan maka aktifitas selesai" is a daily check that finds nothing, and then no case '
        "starts. Inside a case, langkah 2 is the Kasi taking that aduan in from the box or the website, and "
        'every aduan "akan diproses" (langkah 3): there is no per-case "tidak ada keluhan" exit (the seed '
        "has no rejection path either). The daily check itself is the Kasi's task list, which shows every "
        "new aduan with its due time.\n"
        'D2 (langkah 4–5): "Jika keluhan/aduan untuk bidang informasi, rekomendasi teknik dan evaluasi '
        'layanan maka kabid menjawab aduan masyarakat/pemohon pada form Whistle Blower System" — the Kabid '
        "decides, on his own form at langkah 4 (disposisi_kabid, no default): dijawab Kabid → langkah 5; "
        "diserahkan ke bidang terkait → langkah 6. Langkah 3 \"pemilahan jenis aduan berdasarkan "
        'bidang/sub bagian yang dituju dan menyerahkan kepada Kabid": the Kasi proposes the jenis_aduan and '
        "the bidang (bidang_tujuan, the code of a bidang of DPMPTSP Kukar); langkah 4 \"Kabid menerima hasil "
        'pemilahan jenis aduan dan menyerahkan kebidang terkait": the Kabid confirms or changes the bidang '
        "(required when he hands it over); langkah 6 goes to the Bidang Terkait of that bidang only "
        "(tujuan_unit=bidang_tujuan). Both branches go on to langkah 7 (inferred).\n"
        'Langkah 8 "menyerahkan kepada sub bagian umum dan ketatalaksanaan (Lanjut ke SOP penanganan surat '
        'keluar)": the call activity surat-keluar numbers and registers the signed letter and hands it back '
        '(inferred: control returns to langkah 9). It does not send the letter: langkah 9 "Kasi '
        'mendistribusikan surat balasan beserta hasil dan tindak lanjut kepada masyarakat/pemohon" sends it, '
        "once, and notifies the reporter (pesan notifikasi_pelapor) publishing the surat balasan (tampilkan "
        "perihal_surat_balasan, surat_balasan, berkas_surat_balasan).\n"
        "Mutu Baku Waktu (all minutes or hours) is office time on the unit's calendar: menit_kerja(n), "
        'jam_kerja(n). The Kasi checks the box and the website "setiap hari", on working days: an aduan '
        "written at night is due in the next office hours. Eskalasi SLA: Kasi → Kabid, Kabid → Kepala "
        "Dinas, Bidang Terkait → Kabid. Pengawas: Kepala Dinas (the Kepala DPMPTSP approves the SOP and "
        "receives the Kabid's escalations)."
    ),
    props=meta(
        "P. 20.2/DPMPSTP/BID.II.3/067/01/2020",
        "2020-01-07",
        "",
        "2020-01-07",
        seed.KUKAR_DPMPTSP_OLEH,
        "dpmptsp-kukar",
        "Penanganan Whistle Blower System",
        seed.KUKAR_DPMPTSP,
        pengawas="Kepala Dinas",
        mode_pelapor=ALL_MODES,
    ),
    lanes=["Pelapor", "Kasi", "Kabid", "Bidang Terkait"],
    nodes=[
        start(
            "Start_pengaduan",
            "Menuliskan aduan di website/form WBS",
            "Pelapor",
            "wbs-kukar-pengaduan",
            "1",
            kelengkapan=FP,
            waktu="10 Menit",
            output=FP,
        ),
        task(
            "Task_pemeriksaan",
            "Memeriksa aduan dari kotak pengaduan/website",
            "Kasi",
            1,
            "wbs-kukar-pemeriksaan",
            "2",
            FP,
            "5 Menit",
            "—",
            "menit_kerja(5)",
            "Kabid",
        ),
        task(
            "Task_pemilahan",
            "Pemilahan jenis aduan dan menyerahkan kepada Kabid",
            "Kasi",
            2,
            "wbs-kukar-pemilahan",
            "3",
            FP,
            "10 Menit",
            "—",
            "menit_kerja(10)",
            "Kabid",
        ),
        task(
            "Task_disposisi",
            "Menyerahkan aduan ke bidang terkait",
            "Kabid",
            3,
            "wbs-kukar-disposisi",
            "4",
            FP,
            "3 Menit",
            "—",
            "menit_kerja(3)",
            "Kepala Dinas",
            doc="Langkah 4: Kabid menerima hasil pemilahan jenis aduan dan menyerahkan kebidang terkait.",
        ),
        gw(
            "Gateway_jenis_aduan", "Aduan bidang informasi, rekomendasi teknik, evaluasi layanan?", "Kabid", 4
        ),
        task(
            "Task_jawaban_kabid",
            "Kabid menjawab aduan pada form Whistle Blower System",
            "Kabid",
            5,
            "wbs-kukar-jawaban-kabid",
            "5",
            FP,
            "3 Jam",
            "—",
            "jam_kerja(3)",
            "Kepala Dinas",
        ),
        task(
            "Task_tindak_lanjut_bidang",
            "Menindaklanjuti aduan",
            "Bidang Terkait",
            5,
            "wbs-kukar-tindak-lanjut-bidang",
            "6",
            FP,
            "3 Jam",
            "—",
            "jam_kerja(3)",
            "Kabid",
            tujuan_unit="bidang_tujuan",
            doc=(
                "Langkah 6: Bidang terkait menindak lanjuti keluhan/aduan dari masyarakat/pemohon pada form "
                "pengaduan dan menyerahkan kepada bidang pengaduan dan advokasi."
            ),
        ),
        gw("Gateway_gabung", "", "Kasi", 6),
        task(
            "Task_surat_balasan",
            "Membuat surat balasan hasil tindak lanjut",
            "Kasi",
            7,
            "wbs-kukar-surat-balasan",
            "7",
            FPSB,
            "10 Menit",
            "—",
            "menit_kerja(10)",
            "Kabid",
        ),
        task(
            "Task_tanda_tangan",
            "Membubuhi tanda tangan pada surat balasan",
            "Kabid",
            8,
            "wbs-kukar-tanda-tangan",
            "8",
            FPSB,
            "5 Menit",
            "—",
            "menit_kerja(5)",
            "Kepala Dinas",
        ),
        Node(
            "Call_surat_keluar",
            "callActivity",
            "SOP penanganan surat keluar",
            "Kabid",
            9,
            called="surat-keluar",
            doc="Langkah 8 (R1): diserahkan kepada Sub Bagian Umum dan Ketatalaksanaan, lanjut ke SOP "
            "penanganan surat keluar (proses surat-keluar): the letter is numbered and registered there and "
            "comes back to the Kasi, who sends it in langkah 9.",
        ),
        task(
            "Task_distribusi",
            "Mengirim surat balasan ke pemohon",
            "Kasi",
            10,
            "wbs-kukar-distribusi",
            "9",
            FPSB,
            "40 Menit",
            "—",
            "menit_kerja(40)",
            "Kabid",
            doc="Langkah 9: Kasi mendistribusikan surat balasan beserta hasil dan tindak lanjut kepada masyarakat/pemohon.",
        ),
        notif(
            "Event_notifikasi_balasan",
            "Notifikasi ke Pelapor: surat balasan",
            11,
            tampilkan="perihal_surat_balasan,surat_balasan,berkas_surat_balasan",
        ),
        task(
            "Task_arsip",
            "Mengarsip berkas/dokumen penanganan aduan",
            "Kasi",
            12,
            "wbs-kukar-arsip",
            "10",
            FPSB,
            "3 Menit",
            "Arsip",
            "menit_kerja(3)",
            "Kabid",
        ),
        end("End_selesai", "Selesai", "Kasi", 13),
    ],
    flows=[
        *seq("Start_pengaduan", "Task_pemeriksaan", "Task_pemilahan"),
        Flow("Task_pemilahan", "Task_disposisi"),
        Flow("Task_disposisi", "Gateway_jenis_aduan"),
        Flow(
            "Gateway_jenis_aduan",
            "Task_jawaban_kabid",
            "dijawab Kabid",
            'disposisi_kabid == "dijawab Kabid"',
        ),
        Flow("Gateway_jenis_aduan", "Task_tindak_lanjut_bidang", "diserahkan ke bidang terkait", default=True),
        Flow("Task_jawaban_kabid", "Gateway_gabung"),
        Flow("Task_tindak_lanjut_bidang", "Gateway_gabung"),
        *seq(
            "Gateway_gabung",
            "Task_surat_balasan",
            "Task_tanda_tangan",
            "Call_surat_keluar",
            "Task_distribusi",
            "Event_notifikasi_balasan",
            "Task_arsip",
            "End_selesai",
        ),
    ],
)

SURAT_KELUAR = Process(
    id="surat-keluar",
    name="Penanganan Surat Keluar",
    participant="DPMPTSP Kab. Kutai Kartanegara — Penanganan Surat Keluar",
    documentation=(
        "INFERRED, not a seed: SOP 000 langkah 8 hands the signed surat balasan to the Sub Bagian Umum dan "
        'Ketatalaksanaan ("Lanjut ke SOP penanganan surat keluar"); that SOP is not among the seeds. This '
        "minimal process stands in for it so that the call activity of wbs-dpmptsp-kukar can run: the Subbag "
        "Umum gives the letter its number in the buku agenda surat keluar and hands it back. It does not "
        'send the letter: SOP 000 langkah 9 "Kasi mendistribusikan surat balasan beserta hasil dan tindak '
        'lanjut kepada masyarakat/pemohon" sends it, once. Pelaksana → lane: Sub Bagian Umum dan '
        "Ketatalaksanaan → Subbag Umum. No Waktu is known, so there are no timers; langkah numbers are this "
        "process's own."
    ),
    props=meta("", "", "", "", ("", "", ""), "dpmptsp-kukar", "Penanganan Surat Keluar (inferred)"),
    lanes=["Subbag Umum"],
    nodes=[
        start("Start_surat_keluar", "Surat keluar diterima", "Subbag Umum", None),
        task(
            "Task_registrasi",
            "Mencatat nomor surat keluar di buku agenda",
            "Subbag Umum",
            1,
            "surat-keluar-registrasi",
            "1",
            "Surat yang telah ditandatangani",
            "—",
            "Nomor surat keluar",
        ),
        end("End_surat_bernomor", "Surat bernomor dikembalikan untuk didistribusikan", "Subbag Umum", 2),
    ],
    flows=seq("Start_surat_keluar", "Task_registrasi", "End_surat_bernomor"),
)

# --------------------------------------------------------------------------------------------- 001
LAMANDAU = Process(
    id="wbs-dpmptsp-lamandau",
    name="Whistle Blowing System (WBS)",
    participant="DPMPTSP Kab. Lamandau — Whistle Blowing System (WBS)",
    documentation=(
        "SOP Whistle Blowing System (WBS), Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten "
        "Lamandau (seed 001). All actors are inferred (STEPS.md). Pelaksana → lane: Pemohon → Pelapor; "
        "Sekretariat → Sekretariat; Tim Telaah → Tim Telaah; Tim Audit → Tim Audit; Kepala DPMPTSP → "
        "Kepala Dinas.\n"
        "Langkah 1 = start event; langkah 7 (Pemohon menerima tanggapan, 15 Menit) = pesan "
        "notifikasi_pelapor, not a user task. No decisions in the seed: one sequence 1 → 8. "
        "Tanggal Efektif is not printed; the Tanggal Pengesahan (2024-01-01) is used. Eskalasi SLA: all "
        "to the Kepala Dinas, except his own langkah 4: the head of office has nobody above him in the SOP "
        "and is its only pengawas, so that reminder goes to the Sekretariat, which keeps the register and "
        "prepares the meeting (an escalation never goes to the step's own role).\n"
        'Langkah 7 publishes the written tanggapan of langkah 6 ("Menyampaikan tanggapan atas pengaduan '
        'pemohon secara tertulis"): tampilkan tanggapan, berkas_tanggapan. Pengawas: Kepala Dinas (the '
        "Kepala DPMPTSP holds the meeting on every complaint, langkah 4). The seed has no branch that ends, "
        "rejects or returns a report."
    ),
    props=meta(
        "503.7101.411/DPMPTSP-2024",
        "2024-01-01",
        "",
        "2024-01-01",
        seed.LAMANDAU_OLEH,
        "dpmptsp-lamandau",
        "Whistle Blowing System (WBS)",
        seed.LAMANDAU,
        pengawas="Kepala Dinas",
        mode_pelapor=ALL_MODES,
    ),
    lanes=["Pelapor", "Sekretariat", "Tim Telaah", "Tim Audit", "Kepala Dinas"],
    nodes=[
        start(
            "Start_pengaduan",
            "Menyampaikan permasalahan (sms, telepon, email, kotak saran)",
            "Pelapor",
            "wbs-lamandau-pengaduan",
            "1",
            kelengkapan="n/r",
            waktu="n/r",
            output="n/r",
        ),
        task(
            "Task_pencatatan",
            "Mencatat permasalahan",
            "Sekretariat",
            1,
            "wbs-lamandau-pencatatan",
            "2",
            "n/r",
            "30 Menit",
            "Catatan Pengaduan WBS",
            "menit_kerja(30)",
            "Kepala Dinas",
            doc="Langkah 2: Mencatat permasalahan yang disampaikan masyarakat melalui sms, telepon, email, kotak saran dll.",
        ),
        task(
            "Task_pengkajian",
            "Pengkajian pengaduan dan menyampaikan kepada Kepala Dinas",
            "Tim Telaah",
            2,
            "wbs-lamandau-pengkajian",
            "3",
            "n/r",
            "30 Menit",
            "Surat Pengaduan WBS",
            "menit_kerja(30)",
            "Kepala Dinas",
        ),
        task(
            "Task_rapat",
            "Rapat membahas pengaduan dan teknis penyelesaian",
            "Kepala Dinas",
            3,
            "wbs-lamandau-rapat",
            "4",
            "n/r",
            "1 Jam",
            "Menyusun Berita Acara Penyelesaian Pengaduan WBS",
            "jam_kerja(1)",
            "Sekretariat",
        ),
        task(
            "Task_berita_acara",
            "Membuat berita acara hasil rapat",
            "Tim Audit",
            4,
            "wbs-lamandau-berita-acara",
            "5",
            "n/r",
            "1 Jam",
            "Berita Acara Penyelesaian Pengaduan WBS",
            "jam_kerja(1)",
            "Kepala Dinas",
        ),
        task(
            "Task_tanggapan",
            "Menyampaikan tanggapan tertulis",
            "Sekretariat",
            5,
            "wbs-lamandau-tanggapan",
            "6",
            "n/r",
            "1 Jam",
            "Tanggapan Pengaduan WBS",
            "jam_kerja(1)",
            "Kepala Dinas",
            doc="Langkah 6: Menyampaikan tanggapan atas pengaduan pemohon secara tertulis.",
        ),
        notif(
            "Event_tanggapan_pelapor",
            "Menerima tanggapan pengaduan (notifikasi ke Pelapor)",
            6,
            "7",
            waktu="15 Menit",
            tampilkan="tanggapan,berkas_tanggapan",
        ),
        task(
            "Task_arsip",
            "Mengarsipkan berkas pengaduan",
            "Sekretariat",
            7,
            "wbs-lamandau-arsip",
            "8",
            "n/r",
            "15 Menit",
            "Tanggapan Pengaduan WBS",
            "menit_kerja(15)",
            "Kepala Dinas",
        ),
        end("End_selesai", "Selesai", "Sekretariat", 8),
    ],
    flows=seq(
        "Start_pengaduan",
        "Task_pencatatan",
        "Task_pengkajian",
        "Task_rapat",
        "Task_berita_acara",
        "Task_tanggapan",
        "Event_tanggapan_pelapor",
        "Task_arsip",
        "End_selesai",
    ),
)

# --------------------------------------------------------------------------------------------- 002
KEBUMEN = Process(
    id="wbs-disperindagkop-kebumen",
    name="Pelayanan Pengaduan Whistle Blowing System",
    participant="Disperindag KUKM Kab. Kebumen — Pelayanan Pengaduan WBS",
    documentation=(
        "SOP Pelayanan Pengaduan Whistle Blowing System, Dinas Perindustrian, Perdagangan, Koperasi, Usaha "
        "Kecil dan Menengah Kabupaten Kebumen (seed 002). Pelaksana → lane: Pemohon (Pelapor, an ASN) → "
        'Pelapor; "tim penerima aduan/pengaduan" (Keterangan only) → Tim Penerima Pengaduan; "sekretariat '
        'penanganan pengaduan" (Keterangan only) → Sekretariat Penanganan.\n'
        "Langkah 1–5 (menyampaikan aduan, login, isi formulir, upload lampiran, Kirim Pengaduan) are all the "
        'reporter filling one online form: together they are the start event (langkah "1,2,3,4,5"). '
        "D1 (data administrasi lengkap?) and D2 (dokumen lengkap?) come from the Keterangan column and are "
        "user tasks of the Tim Penerima Pengaduan without a seed step number.\n"
        'D1: "Apabila data administrasi lengkap maka pelapor akan dihubungi oleh tim penerima aduan terkait '
        'konfirmasi awal" → the konfirmasi awal is a pesan notifikasi_pelapor publishing the team\'s message '
        '(tampilkan konfirmasi_awal). D2: "Apabila dokumen dirasa lengkap, tim penerima pengaduan akan '
        'meneruskan laporan kepada sekretariat penanganan pengaduan".\n'
        "Inferred: incomplete data or documents → the team writes what is missing (kekurangan_laporan, "
        'required) and the reporter completes the report (user task "Melengkapi laporan" in lane Pelapor, '
        "showing kekurangan_laporan); the check starts again. The reporter has 14 hari kerja to complete it "
        "(no limit in the seed): the seed processes a report only when the data and documents are "
        'complete ("apabila data administrasi lengkap", "apabila dokumen dirasa lengkap"), so when the '
        "limit passes the report is closed as incomplete and the reporter is notified with what was "
        "missing. The Sekretariat Penanganan's work after receiving the report is not described and is "
        "one user task, ending with a written tanggapan to the reporter (tampilkan tanggapan_pelapor). No "
        "Waktu in the seed, so no SLA timers.\n"
        "Reporter identity: the reporter is an ASN who attaches identitas pemohon (no anonymous report: "
        "mode_pelapor rahasia, biasa; identitas_wajib nama, unit_kerja, telepon, email as the form asks); "
        "nip and unit_kerja identify the ASN (data_identitas). Pengawas: Kepala Dinas."
    ),
    props=meta(
        "000.8.3.3/5430/2024",
        "2024-08-01",
        "",
        "2024-08-01",
        seed.KEBUMEN_OLEH,
        "disperindagkop-kebumen",
        "Pelayanan Pengaduan Whistle Blowing System",
        seed.KEBUMEN,
        pengawas="Kepala Dinas",
        mode_pelapor="rahasia,biasa",
        identitas_wajib="nama,unit_kerja,telepon,email",
        data_identitas="nip,unit_kerja",
    ),
    lanes=["Pelapor", "Tim Penerima Pengaduan", "Sekretariat Penanganan"],
    nodes=[
        start(
            "Start_pengaduan",
            "Menyampaikan aduan melalui WBS online (Kirim Pengaduan)",
            "Pelapor",
            "wbs-kebumen-pengaduan",
            "1,2,3,4,5",
            kelengkapan="Pengisian Formulir online; data diri pelapor; lampiran bukti",
            waktu="—",
            output="Form pengaduan yang telah diisi lengkap dengan identitas pemohon dan bukti-bukti",
        ),
        gw("Gateway_cek_ulang", "", "Tim Penerima Pengaduan", 1),
        task(
            "Task_cek_administrasi",
            "Memeriksa kelengkapan data administrasi",
            "Tim Penerima Pengaduan",
            2,
            "wbs-kebumen-cek-administrasi",
            "",
            "Form pengaduan",
            "—",
            "Hasil pemeriksaan data administrasi",
        ),
        gw("Gateway_administrasi", "Data administrasi lengkap?", "Tim Penerima Pengaduan", 3),
        gw("Gateway_perlu_dilengkapi", "", "Pelapor", 3),
        task(
            "Task_melengkapi",
            "Melengkapi laporan",
            "Pelapor",
            4,
            "wbs-kebumen-melengkapi",
            "",
            "Permintaan kelengkapan",
            "14 hari kerja",
            "Laporan yang telah dilengkapi",
            tampilkan="kekurangan_laporan",
            deadline=batas_pelapor("Event_ditutup_tidak_lengkap"),
        ),
        notif("Event_konfirmasi_awal", "Konfirmasi awal ke Pelapor", 5, tampilkan="konfirmasi_awal"),
        notif(
            "Event_ditutup_tidak_lengkap",
            "Notifikasi ke Pelapor: laporan ditutup karena tidak dilengkapi dalam batas waktu",
            6,
            tampilkan="kekurangan_laporan",
        ),
        end("End_ditutup_tidak_lengkap", "Laporan ditutup: tidak lengkap", "Pelapor", 7),
        task(
            "Task_cek_dokumen",
            "Konfirmasi awal dan memeriksa kelengkapan dokumen",
            "Tim Penerima Pengaduan",
            6,
            "wbs-kebumen-cek-dokumen",
            "",
            "Form pengaduan, lampiran bukti",
            "—",
            "Laporan diteruskan ke sekretariat penanganan pengaduan",
        ),
        gw("Gateway_dokumen", "Dokumen lengkap?", "Tim Penerima Pengaduan", 7),
        task(
            "Task_penanganan",
            "Menerima dan menangani laporan pengaduan",
            "Sekretariat Penanganan",
            8,
            "wbs-kebumen-penanganan",
            "",
            "Laporan pengaduan",
            "—",
            "Catatan penanganan pengaduan",
        ),
        notif("Event_tanggapan", "Notifikasi ke Pelapor: tanggapan atas pengaduan", 9, tampilkan="tanggapan_pelapor"),
        end("End_selesai", "Selesai", "Pelapor", 10),
    ],
    flows=[
        *seq("Start_pengaduan", "Gateway_cek_ulang", "Task_cek_administrasi", "Gateway_administrasi"),
        Flow(
            "Gateway_administrasi",
            "Gateway_perlu_dilengkapi",
            "tidak lengkap",
            'kelengkapan_administrasi == "tidak lengkap"',
        ),
        Flow("Gateway_perlu_dilengkapi", "Task_melengkapi"),
        Flow("Gateway_administrasi", "Event_konfirmasi_awal", "lengkap", default=True),
        Flow("Task_melengkapi", "Gateway_cek_ulang"),
        Flow("Event_ditutup_tidak_lengkap", "End_ditutup_tidak_lengkap"),
        *seq("Event_konfirmasi_awal", "Task_cek_dokumen", "Gateway_dokumen"),
        Flow("Gateway_dokumen", "Gateway_perlu_dilengkapi", "tidak lengkap", 'kelengkapan_dokumen == "tidak lengkap"'),
        Flow("Gateway_dokumen", "Task_penanganan", "lengkap", default=True),
        *seq("Task_penanganan", "Event_tanggapan", "End_selesai"),
    ],
)

# --------------------------------------------------------------------------------------------- 003
DINSOS_META = dict(
    nomor="10/DINSOS/SET.1/337/12/2022",
    buat="2022-12-23",
    revisi="",
    efektif="2023-01-02",
    oleh=seed.DINSOS_OLEH,
    unit="dinsos-kukar",
)
LANGSUNG = Process(
    id="pengaduan-langsung-dinsos-kukar",
    name="SOP Penanganan Pengaduan secara Langsung",
    participant="Dinas Sosial Kab. Kutai Kartanegara — Pengaduan secara Langsung",
    documentation=(
        "SOP Penanganan Pengaduan Masyarakat secara Langsung, Dinas Sosial Kabupaten Kutai Kartanegara "
        "(seed 003, Lampiran 1 Keputusan Nomor 1167/DINSOS/SET.1/337/12/2022). Pelaksana → lane: "
        "Masyarakat → Pelapor; Petugas (Petugas Loket/Resepsionis) → Petugas; Kepala Bidang (Anggota Tim "
        "Pengaduan) → Kabid; Sekretaris (Ketua Tim Pengaduan) → Sekretaris; Kadis → Kepala Dinas.\n"
        'Langkah 1 = start event. No decisions: langkah 4 "mendisposisi dan meneruskan pengaduan kepada '
        'Anggota Tim Pengaduan yaitu Bidang terkait sesuai dengan materi pengaduan" names the bidang '
        "(bidang_tujuan, the code of a bidang of the Dinas Sosial), and langkah 5 goes to the Kepala Bidang "
        "of that bidang only (tujuan_unit=bidang_tujuan). Inferred: the reporter is notified of the "
        "follow-up after langkah 5 (pesan notifikasi_pelapor publishing the formulir penyelesaian, "
        "tampilkan hasil_tindak_lanjut; the seed states no reply), and the Laporan of langkah 6 goes to "
        "the Kepala Dinas (end event in his lane; he has no numbered step). The seed has no branch that "
        "ends, rejects or returns a report. Eskalasi SLA: Petugas → Sekretaris (Ketua Tim Pengaduan), "
        "Sekretaris → Kepala Dinas, Kabid → Kepala Dinas. Pengawas: Kepala Dinas (the Kadis column; the "
        "Keputusan is his)."
    ),
    props=meta(
        judul="SOP Penanganan Pengaduan secara Langsung",
        sections=seed.DINSOS_LANGSUNG,
        pengawas="Kepala Dinas",
        mode_pelapor=ALL_MODES,
        **DINSOS_META,
    ),
    lanes=["Pelapor", "Petugas", "Kabid", "Sekretaris", "Kepala Dinas"],
    nodes=[
        start(
            "Start_pengaduan",
            "Pengaduan masyarakat secara langsung",
            "Pelapor",
            "dinsos-langsung-pengaduan",
            "1",
            kelengkapan="Materi aduan",
            waktu="10 Menit",
            output="Dokumen materi pengaduan",
        ),
        task(
            "Task_pencatatan",
            "Petugas loket mencatat pengaduan",
            "Petugas",
            1,
            "dinsos-langsung-pencatatan",
            "2",
            "Buku Registrasi Pengaduan, Formulir Pengaduan",
            "10 Menit",
            "Tercatat di buku registrasi, formulir pengaduan",
            "menit_kerja(10)",
            "Sekretaris",
        ),
        task(
            "Task_penerusan",
            "Meneruskan pengaduan kepada Ketua Tim Pengaduan",
            "Petugas",
            2,
            "dinsos-langsung-penerusan",
            "3",
            "Dokumen materi pengaduan, formulir pengaduan",
            "10 Menit",
            "Formulir pengaduan yang telah diisi",
            "menit_kerja(10)",
            "Sekretaris",
        ),
        task(
            "Task_disposisi",
            "Ketua Tim Pengaduan mendisposisi ke bidang terkait",
            "Sekretaris",
            3,
            "dinsos-langsung-disposisi",
            "4",
            "Dokumen materi pengaduan, formulir pengaduan yang telah diisi",
            "10 Menit",
            "Formulir penyaluran pengaduan",
            "menit_kerja(10)",
            "Kepala Dinas",
        ),
        task(
            "Task_tindak_lanjut",
            "Kepala Bidang menindaklanjuti pengaduan",
            "Kabid",
            4,
            "dinsos-langsung-tindak-lanjut",
            "5",
            "Formulir penyelesaian pengaduan",
            "2 hari kerja",
            "Formulir penyelesaian pengaduan yang telah diisi dan dokumen terkait",
            "hari_kerja(2)",
            "Kepala Dinas",
            tujuan_unit="bidang_tujuan",
        ),
        notif(
            "Event_notifikasi_tindak_lanjut",
            "Notifikasi ke Pelapor: hasil tindak lanjut",
            5,
            tampilkan="hasil_tindak_lanjut",
        ),
        task(
            "Task_pelaporan",
            "Pelaporan dan pengarsipan",
            "Sekretaris",
            6,
            "dinsos-langsung-pelaporan",
            "6",
            "—",
            "10 hari kerja",
            "Laporan",
            "hari_kerja(10)",
            "Kepala Dinas",
        ),
        end("End_laporan", "Laporan diterima Kepala Dinas", "Kepala Dinas", 7),
    ],
    flows=seq(
        "Start_pengaduan",
        "Task_pencatatan",
        "Task_penerusan",
        "Task_disposisi",
        "Task_tindak_lanjut",
        "Event_notifikasi_tindak_lanjut",
        "Task_pelaporan",
        "End_laporan",
    ),
)

HKMJ = "Handphone, Komputer, Media Online, Jaringan Internet"
ONLINE = Process(
    id="pengaduan-online-dinsos-kukar",
    name="SOP Penanganan Pengaduan secara Online",
    participant="Dinas Sosial Kab. Kutai Kartanegara — Pengaduan secara Online",
    documentation=(
        "SOP Penanganan Pengaduan Masyarakat secara Online, Dinas Sosial Kabupaten Kutai Kartanegara "
        "(seed 003, Lampiran 2). Pelaksana → lane: Masyarakat/Pelapor → Pelapor; Admin (Admin Media Sosial) "
        "→ Admin Media Sosial; Anggota Tim Pengaduan/Kepala Bidang → Kabid; Ketua Tim Pengaduan/Sekdis → "
        "Sekretaris; Kepala Dinas: no step in the seed, so no lane (he is pengawas and receives escalations).\n"
        "The reporter's submission has no step number (implicit in langkah 1): it is the start event. "
        "Langkah 1–8 are user tasks; the acknowledgement of langkah 3 (tampilkan respon_admin) and the "
        "reply of langkah 8 (tampilkan balasan_publik, tautan_balasan) reach the reporter as pesan "
        'notifikasi_pelapor. D1 (langkah 2, "memverifikasi … pesan atau komentar yang terkait pengaduan", '
        'inferred branch): hasil_verifikasi_pesan "tidak terkait pengaduan" needs a written reason '
        "(alasan_bukan_pengaduan), which the reporter is told (tampilkan) → selesai. Langkah 5 "
        '"mendisposisi/meneruskan pengaduan kepada Anggota Tim Pengaduan/Kepala Bidang" names the bidang '
        "(bidang_tujuan, the code of a bidang of the Dinas Sosial); langkah 6 and 7 go to the Kepala Bidang "
        "of that bidang only (tujuan_unit=bidang_tujuan). Langkah 9 (Pelaporan dan Pengarsipan, 3 bulan/6 "
        "bulan) runs across cases: process pengaduan-online-dinsos-kukar-laporan-berkala (R/P3M). Eskalasi "
        "SLA: Admin → Sekretaris (Ketua Tim Pengaduan), Sekretaris → Kepala Dinas, Kabid → Kepala Dinas. "
        "Pengawas: Kepala Dinas, and the Sekretaris, who reports on every complaint (langkah 9)."
    ),
    props=meta(
        judul="SOP Penanganan Pengaduan secara Online",
        sections=seed.DINSOS_ONLINE,
        pengawas="Kepala Dinas,Sekretaris",
        mode_pelapor=ALL_MODES,
        **DINSOS_META,
    ),
    lanes=["Pelapor", "Admin Media Sosial", "Kabid", "Sekretaris"],
    nodes=[
        start("Start_pengaduan", "Pengaduan melalui media online", "Pelapor", "dinsos-online-pengaduan"),
        task(
            "Task_penerimaan",
            "Admin menerima pengaduan secara online",
            "Admin Media Sosial",
            1,
            "dinsos-online-penerimaan",
            "1",
            HKMJ,
            "5 Menit",
            "Dokumen materi pengaduan",
            "menit_kerja(5)",
            "Sekretaris",
        ),
        task(
            "Task_verifikasi",
            "Admin memverifikasi dan menindaklanjuti pesan/komentar",
            "Admin Media Sosial",
            2,
            "dinsos-online-verifikasi",
            "2",
            HKMJ,
            "10 Menit",
            "Bukti elektronik balasan admin",
            "menit_kerja(10)",
            "Sekretaris",
        ),
        gw("Gateway_terkait_pengaduan", "Terkait pengaduan?", "Admin Media Sosial", 3),
        notif(
            "Event_bukan_pengaduan",
            "Notifikasi ke Pelapor: pesan tidak diproses sebagai pengaduan",
            4,
            tampilkan="alasan_bukan_pengaduan",
        ),
        end("End_bukan_pengaduan", "Bukan pengaduan: selesai", "Pelapor", 5),
        task(
            "Task_respon",
            "Memberi respon: pengaduan diterima",
            "Admin Media Sosial",
            5,
            "dinsos-online-respon",
            "3",
            HKMJ,
            "5 Menit",
            "Bukti elektronik balasan admin",
            "menit_kerja(5)",
            "Sekretaris",
            doc="Langkah 3: Admin memberikan respon kepada masyarakat bahwa pengaduan diterima dan akan segera diproses.",
        ),
        notif("Event_respon", "Notifikasi ke Pelapor: pengaduan diterima", 6, "3", tampilkan="respon_admin"),
        task(
            "Task_penerusan",
            "Admin meneruskan laporan kepada Ketua Tim Pengaduan/Sekdis",
            "Admin Media Sosial",
            7,
            "dinsos-online-penerusan",
            "4",
            HKMJ,
            "10 Menit",
            "Bukti elektronik penyaluran pengaduan",
            "menit_kerja(10)",
            "Sekretaris",
        ),
        task(
            "Task_disposisi",
            "Ketua Tim Pengaduan mendisposisi kepada Kepala Bidang",
            "Sekretaris",
            8,
            "dinsos-online-disposisi",
            "5",
            HKMJ,
            "10 Menit",
            "Bukti elektronik penyaluran pengaduan",
            "menit_kerja(10)",
            "Kepala Dinas",
        ),
        task(
            "Task_tindak_lanjut",
            "Kepala Bidang menindaklanjuti pengaduan",
            "Kabid",
            9,
            "dinsos-online-tindak-lanjut",
            "6",
            HKMJ,
            "30 Menit",
            "Balasan/tindaklanjut pengaduan secara manual atau elektronik",
            "menit_kerja(30)",
            "Kepala Dinas",
            tujuan_unit="bidang_tujuan",
        ),
        task(
            "Task_balasan",
            "Kabid memberikan balasan tindak lanjut kepada admin",
            "Kabid",
            10,
            "dinsos-online-balasan",
            "7",
            HKMJ,
            "10 Menit",
            "Balasan/tindaklanjut secara manual atau elektronik",
            "menit_kerja(10)",
            "Kepala Dinas",
            tujuan_unit="bidang_tujuan",
        ),
        task(
            "Task_publikasi",
            "Admin meneruskan balasan/tindak lanjut di media online",
            "Admin Media Sosial",
            11,
            "dinsos-online-publikasi",
            "8",
            HKMJ,
            "30 Menit",
            "Balasan/tindaklanjut pengaduan secara elektronik",
            "menit_kerja(30)",
            "Sekretaris",
        ),
        notif(
            "Event_balasan",
            "Notifikasi ke Pelapor: balasan di media online",
            12,
            "8",
            tampilkan="balasan_publik,tautan_balasan",
        ),
        end("End_selesai", "Selesai", "Pelapor", 13),
    ],
    flows=[
        *seq("Start_pengaduan", "Task_penerimaan", "Task_verifikasi", "Gateway_terkait_pengaduan"),
        Flow(
            "Gateway_terkait_pengaduan",
            "Event_bukan_pengaduan",
            "tidak terkait pengaduan",
            'hasil_verifikasi_pesan == "tidak terkait pengaduan"',
        ),
        Flow("Event_bukan_pengaduan", "End_bukan_pengaduan"),
        Flow("Gateway_terkait_pengaduan", "Task_respon", "terkait pengaduan", default=True),
        *seq(
            "Task_respon",
            "Event_respon",
            "Task_penerusan",
            "Task_disposisi",
            "Task_tindak_lanjut",
            "Task_balasan",
            "Task_publikasi",
            "Event_balasan",
            "End_selesai",
        ),
    ],
)

ONLINE_BERKALA = Process(
    id="pengaduan-online-dinsos-kukar-laporan-berkala",
    name="Pelaporan dan Pengarsipan Berkala (Pengaduan secara Online)",
    participant="Dinas Sosial Kab. Kutai Kartanegara — Laporan Berkala Pengaduan Online",
    documentation=(
        'Langkah 9 of SOP Penanganan Pengaduan secara Online (seed 003, Lampiran 2): "Pelaporan dan '
        'Pengarsipan", Waktu "3 bulan/6 bulan", Output Laporan Berkala. It spans cases, so it is its own '
        "process started by a timer. Chosen period: per triwulan (periode=triwulan, R/P3M) — the shorter of "
        "the two, a semester report is two quarterly ones: the case starts at the opening of office hours on "
        "the first working day of January, April, July and October (the unit's calendar) and opens with the "
        "figures of the quarter just ended, counted from the cases of pengaduan-online-dinsos-kukar "
        "(rekap_sop): received, finished, late, per step, per media online (rekap_saluran=media) and per "
        "verification result (rekap_keputusan). Pelaksana (inferred, STEPS.md): Sekretaris (Ketua Tim "
        "Pengaduan/Sekdis). Inferred: the Laporan Berkala goes to the Kepala Dinas (end event in his lane)."
    ),
    props=meta(judul="Laporan Berkala Pengaduan secara Online", sections=seed.DINSOS_ONLINE, **DINSOS_META),
    lanes=["Sekretaris", "Kepala Dinas"],
    nodes=[
        Node("Start_berkala", "startEvent", "Awal setiap triwulan", "Sekretaris", 0, cycle="R/P3M",
             props={"periode": "triwulan", "rekap_sop": "pengaduan-online-dinsos-kukar", "rekap_saluran": "media",
                    "rekap_keputusan": "hasil_verifikasi_pesan"}),
        task(
            "Task_laporan_berkala",
            "Pelaporan dan pengarsipan berkala",
            "Sekretaris",
            1,
            "dinsos-online-laporan-berkala",
            "9",
            "Komputer, ATK",
            "3 bulan/6 bulan",
            "Laporan Berkala",
        ),
        end("End_laporan_berkala", "Laporan berkala diterima Kepala Dinas", "Kepala Dinas", 2),
    ],
    flows=seq("Start_berkala", "Task_laporan_berkala", "End_laporan_berkala"),
)

# --------------------------------------------------------------------------------------------- 004
MEMO = "Memo Kepala Inspektorat/laporan hasil penelaahan pengaduan masyarakat"
LAPORAN = "Laporan penyimpangan atau penyalahgunaan wewenang pegawai negeri sipil"
#: What the Eselon II of the reported unit kerja may read (need-to-know): the complaint and the Inspektur's
#: memo, and the laporan it writes itself — not the reporter's identity, the verifier's notes or the
#: reporter's later additions.
ESELON_II_MAY_READ = (
    "kategori_terlapor,jenis_laporan,uraian,lokasi_kasus,lampiran,inti_masalah,memo_kepala_inspektorat,alasan_kategori,"
    "laporan_tindak_lanjut,kesimpulan,saran_tindak_lanjut,berkas_laporan_tindak_lanjut"
)
DUMAS = Process(
    id="dumas-inspektorat-katingan",
    name="Penanganan Pengaduan Masyarakat (DUMAS)",
    participant="Inspektorat Kab. Katingan — Pengaduan Masyarakat (DUMAS)",
    documentation=(
        "SOP Alur Proses / Penanganan Pengaduan Masyarakat (DUMAS), Inspektorat Kabupaten Katingan (seed "
        "004). Pelaksana → lane: Pelapor (Pengadu) → Pelapor; Inspektorat → Inspektorat; Inspektur "
        "(Kepala Inspektorat) → Inspektur; Sekretariat Inspektorat (bagian tata usaha / sekretariat) → "
        "Sekretariat Inspektorat; Pejabat Eselon II/Unit Kerja yang terlapor → Eselon II. Kepala Instansi"
        " lain / Instansi Lain: no lane (see langkah 8).\n"
        'Langkah 1 = start event. "Dalam melakukan pelaporan, kepada pengadu wajib mengisi data-data '
        'pendukung berupa Nama lengkap, No. KTP, Alamat/Email, No. Hp dan Jenis Pekerjaan": no anonymous '
        "report (mode_pelapor rahasia, biasa; identitas_wajib nama, nik, alamat or email, telepon, "
        "pekerjaan). "
        "Langkah 7 (Pelapor menerima laporan tindak lanjut) = pesan notifikasi_pelapor, not a user task; "
        'it publishes the laporan tindak lanjut that "memuat kesimpulan dan/atau saran tindak lanjut" '
        "(tampilkan laporan_tindak_lanjut, kesimpulan, saran_tindak_lanjut, berkas_laporan_tindak_lanjut, "
        "and alasan_kategori when the report was forwarded to the unit kerja).\n"
        "D1 (langkah 2, hasil_verifikasi, no default): lengkap → langkah 3; tidak lengkap → the Inspektorat "
        'writes what is missing (kekurangan_laporan) and the Pelapor "Melengkapi laporan" (inferred), back '
        "to langkah 2; tidak dapat diproses → written reason alasan_tidak_dapat_diproses, the Pelapor is "
        "notified with it, case closed (inferred). The reporter has 14 hari kerja to complete the report "
        '(no limit in the seed). D1 is the Inspektorat\'s judgement whether the report "bisa/dapat untuk '
        'diproses lebih lanjut", so when the limit passes the report goes back to langkah 2 with the data '
        "there is (the Pelapor is notified) and the Inspektorat decides.\n"
        "D2 (langkah 3, kategori_telaah, no default): berkadar pengawasan → langkah 4 → langkah 5. T1: "
        '"Pengaduan ditindak lanjut dilakukan dalam jangka waktu paling lama 60 hari sejak pengaduan telah '
        'melewati proses penelaahan dan diterima oleh bagian sekretariat Inspektorat": the 60 days run from '
        "the receipt at the Sekretariat (langkah 4), not from the start of langkah 5. The Sekretariat records "
        "the day it received the complaint (tanggal_diterima) and the SLA timer of langkah 5 is "
        "hari_kalender(60, tanggal_diterima): the closing time of the 60th calendar day after it (calendar "
        'days, as printed "60 Hari"; when that day is closed, the next working day; a date after the day '
        "langkah 4 is done counts from that day). Tidak berkadar pengawasan atau tidak logis → "
        '"disalurkan kepada unit pejabat Eselon II '
        'untuk ditindak lanjuti secara intern": the Inspektur names the unit kerja (unit_kerja_terlapor, '
        "the code of a unit kerja of Kab. Katingan) and writes the reason (alasan_kategori); langkah 6 (14 "
        "hari kerja) goes to the Eselon II of that unit kerja only (tujuan_unit=unit_kerja_terlapor), who "
        "reads only the complaint and the Inspektur's memo (tampilkan: kategori_terlapor, jenis_laporan, "
        "uraian, lokasi_kasus, lampiran, inti_masalah, memo_kepala_inspektorat, alasan_kategori, and the "
        "laporan it writes; not the reporter's identity, the verifier's notes or the reporter's later "
        "additions); a tembusan goes to "
        "the Inspektur (pesan tembusan_inspektur). Bukan kewenangan → langkah 8 with the reason and the "
        "receiving agency (alasan_kategori, instansi_tujuan). Langkah 8: \"Kepala Inspektorat mengirimkan "
        "seluruh data/dokumen pengaduan yang ada ditambah dengan memo Kepala Inspektorat dan/atau laporan "
        'hasil penelaahan pengaduan untuk bisa ditindaklanjuti oleh instansi yang terkait" — the sending is '
        "the Inspektur's task (surat pengantar, how and when it was sent, proof of sending); the Kepala "
        "Instansi lain / Instansi Lain receives the file outside Alur and needs no account, so the diagram "
        "has no lane for it. The reporter is told where the report went after langkah 8 (inferred: the "
        "seed mentions no notice). Branches a and b meet at langkah 7. D3 "
        "(langkah 5, bentuk_tindak_lanjut) is recorded, not branched. Langkah 9 (semesteran) is process "
        "dumas-inspektorat-katingan-laporan-berkala. Nomor SOP, tanggal and pengesahan are not in the "
        "source. Eskalasi SLA: Inspektur (langkah 5) → Sekretariat Inspektorat, the SOP's other pengawas (the "
        "Inspektur heads the office and has nobody above him in the SOP; an escalation never goes to the "
        "step's own role); Eselon II "
        "(langkah 6) → Inspektur. Pengawas: Inspektur (coordinates every review, langkah 3) and "
        "Sekretariat Inspektorat (reports on every complaint to the Inspektur, langkah 9)."
    ),
    props=meta(
        "",
        "",
        "",
        "",
        ("", "", ""),
        "inspektorat-katingan",
        "Standar Operasional Prosedur Alur Proses Pengaduan Masyarakat (DUMAS)",
        pengawas="Inspektur,Sekretariat Inspektorat",
        mode_pelapor="rahasia,biasa",
        identitas_wajib="nama,nik,alamat|email,telepon,pekerjaan",
    ),
    lanes=["Pelapor", "Inspektorat", "Inspektur", "Sekretariat Inspektorat", "Eselon II"],
    nodes=[
        start(
            "Start_pengaduan",
            "Melaporkan penyimpangan atau penyalahgunaan wewenang",
            "Pelapor",
            "dumas-pengaduan",
            "1",
            kelengkapan="Identitas Pelapor dan bukti pendukung laporan",
            waktu="—",
            output=LAPORAN,
        ),
        gw("Gateway_verifikasi_ulang", "", "Inspektorat", 1),
        task(
            "Task_verifikasi",
            "Menerima, mencatat dan memverifikasi laporan",
            "Inspektorat",
            2,
            "dumas-verifikasi",
            "2",
            LAPORAN,
            "—",
            "Laporan Hasil verifikasi",
        ),
        gw("Gateway_hasil_verifikasi", "Laporan lengkap?", "Inspektorat", 3),
        task(
            "Task_melengkapi",
            "Melengkapi laporan",
            "Pelapor",
            4,
            "dumas-melengkapi",
            "",
            "Permintaan kelengkapan dari Inspektorat",
            "14 hari kerja",
            "Laporan yang telah dilengkapi",
            tampilkan="kekurangan_laporan",
            deadline=batas_pelapor("Event_batas_melengkapi"),
        ),
        notif(
            "Event_batas_melengkapi",
            "Notifikasi ke Pelapor: batas waktu melengkapi lewat, laporan diverifikasi dengan data yang ada",
            5,
            tampilkan="kekurangan_laporan",
        ),
        notif(
            "Event_ditutup",
            "Notifikasi ke Pelapor: laporan tidak dapat diproses",
            6,
            tampilkan="alasan_tidak_dapat_diproses",
        ),
        end("End_ditutup", "Laporan ditutup", "Pelapor", 7),
        task(
            "Task_penelaahan",
            "Mengkoordinasikan penelaahan dan menyalurkan hasil penelaahan",
            "Inspektur",
            4,
            "dumas-penelaahan",
            "3",
            "Laporan Hasil verifikasi",
            "—",
            MEMO,
        ),
        gw("Gateway_kategori", "Kategori hasil penelaahan?", "Inspektur", 5),
        task(
            "Task_penyaluran",
            "Menindaklanjuti penyaluran hasil penelaahan yang berkadar pengawasan",
            "Sekretariat Inspektorat",
            6,
            "dumas-penyaluran-sekretariat",
            "4",
            MEMO,
            "—",
            "—",
        ),
        task(
            "Task_tindak_lanjut_inspektur",
            "Tindak lanjut pengaduan berkadar pengawasan (tanggapan/audit)",
            "Inspektur",
            7,
            "dumas-tindak-lanjut-inspektur",
            "5",
            MEMO,
            "60 Hari",
            "Audit/laporan penanganan tindak lanjut",
            "hari_kalender(60, tanggal_diterima)",
            "Sekretariat Inspektorat",
        ),
        task(
            "Task_tindak_lanjut_eselon2",
            "Menindaklanjuti pengaduan tidak berkadar pengawasan",
            "Eselon II",
            6,
            "dumas-tindak-lanjut-eselon2",
            "6",
            MEMO,
            "14 hari kerja",
            "Laporan Penanganan Tindak lanjut",
            "hari_kerja(14)",
            "Inspektur",
            tampilkan=ESELON_II_MAY_READ,
            tujuan_unit="unit_kerja_terlapor",
        ),
        notif(
            "Event_tembusan",
            "Tembusan laporan tindak lanjut ke Inspektur",
            7,
            lane="Eselon II",
            message=TEMBUSAN,
            penerima="Inspektur",
        ),
        task(
            "Task_instansi_lain",
            "Mengirimkan seluruh berkas pengaduan ke instansi lain yang berwenang",
            "Inspektur",
            6,
            "dumas-pengiriman-instansi-lain",
            "8",
            MEMO,
            "—",
            "Surat pengantar dan bukti pengiriman berkas",
        ),
        gw("Gateway_gabung", "", "Pelapor", 8),
        notif(
            "Event_laporan_tindak_lanjut",
            "Menerima laporan tindak lanjut (notifikasi ke Pelapor)",
            9,
            "7",
            tampilkan="laporan_tindak_lanjut,kesimpulan,saran_tindak_lanjut,berkas_laporan_tindak_lanjut,"
            "alasan_kategori",
        ),
        end("End_selesai", "Selesai", "Pelapor", 10),
        notif(
            "Event_disalurkan_instansi_lain",
            "Notifikasi ke Pelapor: laporan disalurkan ke instansi lain yang berwenang",
            11,
            tampilkan="alasan_kategori,instansi_tujuan",
        ),
        end("End_instansi_lain", "Disalurkan ke instansi lain", "Pelapor", 12),
    ],
    flows=[
        *seq("Start_pengaduan", "Gateway_verifikasi_ulang", "Task_verifikasi", "Gateway_hasil_verifikasi"),
        Flow(
            "Gateway_hasil_verifikasi",
            "Task_melengkapi",
            "tidak lengkap",
            'hasil_verifikasi == "tidak lengkap"',
        ),
        Flow(
            "Gateway_hasil_verifikasi",
            "Event_ditutup",
            "tidak dapat diproses",
            'hasil_verifikasi == "tidak dapat diproses"',
        ),
        Flow("Gateway_hasil_verifikasi", "Task_penelaahan", "lengkap", default=True),
        Flow("Task_melengkapi", "Gateway_verifikasi_ulang"),
        Flow("Event_batas_melengkapi", "Gateway_verifikasi_ulang"),
        Flow("Event_ditutup", "End_ditutup"),
        Flow("Task_penelaahan", "Gateway_kategori"),
        Flow("Gateway_kategori", "Task_penyaluran", "berkadar pengawasan", default=True),
        Flow(
            "Gateway_kategori",
            "Task_tindak_lanjut_eselon2",
            "tidak berkadar pengawasan / tidak logis",
            'kategori_telaah == "tidak berkadar pengawasan atau tidak logis"',
        ),
        Flow(
            "Gateway_kategori",
            "Task_instansi_lain",
            "bukan kewenangan",
            'kategori_telaah == "bukan kewenangan"',
        ),
        Flow("Task_penyaluran", "Task_tindak_lanjut_inspektur"),
        Flow("Task_tindak_lanjut_inspektur", "Gateway_gabung"),
        Flow("Task_tindak_lanjut_eselon2", "Event_tembusan"),
        Flow("Event_tembusan", "Gateway_gabung"),
        *seq("Task_instansi_lain", "Event_disalurkan_instansi_lain", "End_instansi_lain"),
        *seq("Gateway_gabung", "Event_laporan_tindak_lanjut", "End_selesai"),
    ],
)

DUMAS_BERKALA = Process(
    id="dumas-inspektorat-katingan-laporan-berkala",
    name="Laporan Berkala Hasil Tindak Lanjut DUMAS (semesteran)",
    participant="Inspektorat Kab. Katingan — Laporan Berkala DUMAS",
    documentation=(
        "Langkah 9 of the DUMAS SOP (seed 004): \"Inspektur menerima laporan hasil tindak lanjut penanganan "
        'pengaduan tindak lanjut secara berkala (semesteran) dari bagian sekretariat." It spans cases, so it '
        "is its own process started by a timer per semester (periode=semester, R/P6M): at the opening of "
        "office hours on the first working day of January and July (the unit's calendar), for the semester "
        "just ended (Jan–Jun, Jul–Dec). The case opens with the figures of that semester counted from the "
        "cases of dumas-inspektorat-katingan (rekap_sop): received, finished, late, per step, per channel "
        "(rekap_saluran=saluran: langsung, tertulis, surat elektronik) and per decision (rekap_keputusan: "
        "D1 hasil_verifikasi, D2 kategori_telaah, D3 bentuk_tindak_lanjut). Pelaksana → lane: the bagian "
        "sekretariat prepares the report (Sekretariat Inspektorat, adds its narrative), the Inspektur "
        "receives it (Inspektur)."
    ),
    props=meta("", "", "", "", ("", "", ""), "inspektorat-katingan", "Laporan Berkala Hasil Tindak Lanjut DUMAS"),
    lanes=["Sekretariat Inspektorat", "Inspektur"],
    nodes=[
        Node("Start_berkala", "startEvent", "Awal setiap semester", "Sekretariat Inspektorat", 0, cycle="R/P6M",
             props={"periode": "semester", "rekap_sop": "dumas-inspektorat-katingan", "rekap_saluran": "saluran",
                    "rekap_keputusan": "hasil_verifikasi,kategori_telaah,bentuk_tindak_lanjut"}),
        task(
            "Task_laporan_berkala",
            "Menyusun laporan hasil tindak lanjut pengaduan (semesteran)",
            "Sekretariat Inspektorat",
            1,
            "dumas-laporan-berkala",
            "",  # inferred: langkah 9 is the Inspektur's; the report comes "dari bagian sekretariat"
            "Laporan Audit/Laporan Penanganan Tindak lanjut pengaduan masyarakat",
            "semesteran",
            "Laporan hasil tindak lanjut pengaduan masyarakat",
        ),
        task(
            "Task_terima_laporan_berkala",
            "Menerima laporan hasil tindak lanjut pengaduan (semesteran)",
            "Inspektur",
            2,
            "dumas-laporan-berkala-diterima",
            "9",
            "Laporan hasil tindak lanjut pengaduan masyarakat",
            "semesteran",
            "—",
        ),
        end("End_laporan_berkala", "Laporan berkala diterima", "Inspektur", 3),
    ],
    flows=seq("Start_berkala", "Task_laporan_berkala", "Task_terima_laporan_berkala", "End_laporan_berkala"),
)

ALL = [WBS_KUKAR, SURAT_KELUAR, LAMANDAU, KEBUMEN, LANGSUNG, ONLINE, ONLINE_BERKALA, DUMAS, DUMAS_BERKALA]


def main() -> None:
    out = Path(__file__).resolve().parents[2] / "build" / "scaffold" / "bpmn"
    out.mkdir(parents=True, exist_ok=True)
    only = set(sys.argv[1:])
    for p in ALL:
        if not only or p.id in only:
            write(p, str(out / f"{p.id}.bpmn"))
            print(out / f"{p.id}.bpmn")


if __name__ == "__main__":
    main()
