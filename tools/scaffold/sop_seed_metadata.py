"""The SOP documents' header data of the seed procedures (shared/seeds/000–004, STEPS.md "Header").

Transcribed as printed, with the OCR fixes STEPS.md lists (e.g. "Per/05/M.PAN/42009" →
PER/05/M.PAN/4/2009, "penangan" → penanganan, "Tidak lanjut" → Tindak lanjut, "NIR" → NIP) and the
documents' own slips kept (UU 14/2008 "Keterbukaan Informasi Pelayanan Publik", UU 5/2015 in 001;
"penyelenggaraan" in 002's Keterkaitan). ``sop_diagrams.meta`` writes them as process properties
(one entry per line); seed 004 prints none of them.
"""

from __future__ import annotations

#: Disahkan oleh: (jabatan, nama, NIP); the pangkat printed under the name (001, 002) is not kept
Signatory = tuple[str, str, str]

KUKAR_DPMPTSP_OLEH: Signatory = ("Kepala Dinas", "Dr. H. Bambang Arwanto, AP, M.Si", "19740111 199311 1 002")
KUKAR_DPMPTSP: dict[str, list[str]] = {
    "dasar_hukum": [
        "Undang-Undang Republik Indonesia Nomor 32 Tahun 2004 tentang Pemerintah Daerah",
        "Undang-Undang Republik Indonesia Nomor 25 Tahun 2009 tentang Pelayanan Publik",
        "Peraturan Menteri Negara Pendayagunaan Aparatur Negara Nomor PER/05/M.PAN/4/2009 tentang Pedoman Umum "
        "Penanganan Pengaduan Masyarakat bagi Instansi Pemerintah",
        "Peraturan Bupati No. 57 Tahun 2012 tentang Pedoman Penyusunan Standar Operasional Prosedur (SOP) "
        "Pemerintah di Kabupaten Kutai Kartanegara",
        "Peraturan Bupati No. 33 Tahun 2014 tentang Pedoman Umum System Penanganan Pengaduan (Whistle Blower "
        "System) Tindak Pidana Korupsi di Pemkab. Kutai Kartanegara",
        "Peraturan Bupati Kutai Kartanegara No. 62 Tahun 2016 tentang Kedudukan Susunan Organisasi Tugas dan "
        "Fungsi serta Tata Kerja Perangkat Daerah pada Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu",
    ],
    "kualifikasi_pelaksana": [
        "Memahami tentang proses penanganan Whistle Blower System",
        "Memiliki kemampuan dalam penanganan Whistle Blower System",
        "Mampu berkoordinasi dengan semua pihak terkait",
    ],
    "keterkaitan": ["Manual Mutu"],
    "peralatan": [
        "Data-data pendukung",
        "Komputer / printer / scanner / Alat Tulis Kantor / dll",
        "Jaringan internet",
    ],
    "peringatan": [
        "Jika SOP penanganan Whistle Blower System tidak dilaksanakan maka SOP penanganan Whistle Blower System "
        "tidak akan berjalan dengan baik",
    ],
    "pencatatan": ["Form Whistle Blower System", "Surat balasan"],
}

LAMANDAU_OLEH: Signatory = (
    "Kepala Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Lamandau",
    "MUL'ATMIDY, S.Sos., M.A.P.", "19790402 200502 1 004")
LAMANDAU: dict[str, list[str]] = {
    "dasar_hukum": [
        "Undang-Undang Nomor 28 Tahun 1999 tentang Penyelenggaraan Negara yang Bersih dan Bebas dari Korupsi, "
        "Kolusi dan Nepotisme (Lembaran Negara Republik Indonesia Nomor 3851)",
        "Undang-Undang Nomor 31 Tahun 1999 tentang Pemberantasan Tindak Pidana Korupsi (Lembaran Negara Republik "
        "Indonesia Tahun 1999 Nomor 140, Tambahan Lembaran Negara Republik Indonesia Nomor 387), sebagaimana telah "
        "diubah dengan Undang-Undang Nomor 20 Tahun 2001 tentang Perubahan atas Undang-Undang Nomor 31 Tahun 1999 "
        "tentang Pemberantasan Tindak Pidana Korupsi (Lembaran Negara Republik Indonesia Tahun 2001 Nomor 134, "
        "Tambahan Lembaran Negara Republik Indonesia Nomor 4150)",
        "Undang-Undang Nomor 14 Tahun 2008 tentang Keterbukaan Informasi Pelayanan Publik",
        "Undang-Undang Nomor 5 Tahun 2015 tentang Aparatur Sipil Negara (Lembaran Negara Republik Indonesia Tahun "
        "2016 Nomor 6, Tambahan Lembaran Negara Republik Indonesia Nomor 5494)",
        "Permenpan RB Nomor 60 Tahun 2012 tentang Pedoman Pembangunan Zona Integritas Menuju Wilayah Bebas dari "
        "Korupsi dan Wilayah Birokrasi Bersih dan Melayani di Lingkungan Instansi Pemerintahan",
    ],
    "kualifikasi_pelaksana": [
        "Minimal SMU/Sederajat",
        "Menguasai pengoperasian komputer",
        "Memahami alur dan prosedur perizinan",
        "Memahami Peraturan Perundang-undangan mengenai Perizinan dan Whistle Blowing System (WBS)",
    ],
    "keterkaitan": [],  # printed "-"
    "peralatan": [
        "Ruang Kerja, Kursi / Meja, Tempat Arsip/Almari, Perangkat Komputer dan Printer, Formulir, ATK, "
        "Stempel Dinas, WiFi",
    ],
    "peringatan": [
        "Pelaksana bertanggung jawab atas pelaksanaan seluruh aktifitas yang telah ditetapkan.",
        "Segala bentuk penyimpangan atas mutu baku dari SOP ini, dikategorikan sebagai bentuk kegagalan yang harus "
        "dipertanggung jawabkan oleh pelaksana.",
        "Apabila SOP ini tidak dijalankan sesuai dengan prosedur yang telah ditetapkan, maka permohonan tidak dapat "
        "diproses.",
    ],
    "pencatatan": [
        "Buku Agenda Permohonan",
        "Buku Agenda Tanggapan Pengaduan Whistle Blowing System (WBS)",
        "Dokumen Pengelolaan Whistle Blowing System (WBS)",
    ],
}

KEBUMEN_OLEH: Signatory = (
    "Kepala Dinas Perindustrian, Perdagangan, Koperasi, Usaha Kecil dan Menengah Kabupaten Kebumen",
    "HARYONO WAHYUDI, ST, MT.", "197401261999031004")
KEBUMEN: dict[str, list[str]] = {
    "dasar_hukum": [
        "Undang-Undang Nomor 28 Tahun 1999 tentang Penyelenggaraan Negara yang Bersih dari Korupsi, Kolusi, dan "
        "Nepotisme",
        "Undang-Undang Nomor 31 Tahun 1999 tentang Pemberantasan Tindak Pidana Korupsi",
        "Undang-Undang Nomor 14 Tahun 2008 tentang Keterbukaan Informasi Publik",
        "Undang-Undang Nomor 25 Tahun 2009 tentang Pelayanan Publik",
        "Undang-Undang Nomor 23 Tahun 2014 tentang Pemerintah Daerah",
        "Undang-Undang Nomor 30 Tahun 2014 tentang Administrasi Pemerintahan",
        "Peraturan Pemerintah Nomor 68 Tahun 1999 tentang Tata Cara Pelaksanaan Peran serta Masyarakat dalam "
        "Penyelenggaraan Negara",
        "Peraturan Pemerintah Nomor 60 Tahun 2008 tentang Sistem Pengendalian Intern Pemerintah",
        "Peraturan Pemerintah Nomor 53 Tahun 2010 tentang Disiplin Pegawai Negeri Sipil",
        "Peraturan Pemerintah Nomor 12 Tahun 2017 tentang Pembinaan dan Pengawasan Penyelenggaraan Pemerintah "
        "Daerah",
        "Peraturan Bupati Kebumen Nomor 119 Tahun 2021 tentang Kedudukan, Susunan Organisasi, Tugas dan Fungsi "
        "serta Tata Kerja Dinas Perindustrian, Perdagangan, Koperasi Usaha Kecil dan Menengah Kabupaten Kebumen",
    ],
    "kualifikasi_pelaksana": [
        "Mengetahui dan memahami aturan tentang peraturan perundang-undangan",
        "Mampu mengoperasikan komputer",
        "Memiliki kemampuan perencanaan",
        "Memiliki kompetensi",
    ],
    "keterkaitan": [
        "ASN yang menemukan adanya tindak pelanggaran, penyelenggaraan, dan atau tindak pidana yang terjadi di "
        "lingkungan Pemerintah Kabupaten Kebumen",
    ],
    "peralatan": ["Komputer", "Jaringan Internet", "Printer", "ATK"],
    "peringatan": [
        "Bila Prosedur ini ada yang terlewat maka pelapor tidak terlayani dengan baik;",
        "Bila Prosedur ini ada yang terlewat maka ASN di lingkungan Pemerintah Kabupaten Kebumen mendapatkan kesan "
        "negatif oleh Masyarakat.",
    ],
    "pencatatan": ["Semua pencatatan dan pendataan dalam Sistem Informasi WBS Inspektorat Daerah Kebumen"],
}

#: 003: only the stamp "Dinas Sosial Kabupaten Kutai Kartanegara" is legible; the Keputusan is the Kepala Dinas's
DINSOS_OLEH: Signatory = ("Kepala Dinas Sosial Kabupaten Kutai Kartanegara", "", "")
_DINSOS_PERBUP = ("Perbup No. 22 Tahun 2021 tentang Kedudukan, Susunan Organisasi, Tugas dan Fungsi serta Tata "
                  "Kerja Perangkat Daerah pada Dinas Sosial")
DINSOS_LANGSUNG: dict[str, list[str]] = {
    "dasar_hukum": [
        "Undang-Undang Nomor 25 Tahun 2009 tentang Pelayanan Publik",
        "Peraturan Presiden R.I Nomor 76 Tahun 2013 tentang Pengelolaan Pengaduan Pelayanan Publik",
        "Permen PAN-RB Nomor 15 Tahun 2014 tentang Pedoman Standar Pelayanan Publik",
        _DINSOS_PERBUP,
    ],
    "kualifikasi_pelaksana": [
        "Memiliki kemampuan teknis pengaduan",
        "Memiliki kemampuan memahami regulasi terkait pengawasan dan pengaduan",
        "Memiliki komitmen untuk mewujudkan pelayanan berkualitas transparan, akuntabel",
        "Petugas layanan, Kabid, Kadis dan instansi terkait",
    ],
    "keterkaitan": ["SOP Pengaduan melalui Medsos", "Standar Pelayanan Publik"],
    "peralatan": ["Komputer", "Printer", "Lembar Kerja (Formulir-Formulir Pengaduan)", "Alat Tulis Kantor"],
    "peringatan": ["Tindak lanjut segera dilaksanakan."],
    "pencatatan": ["Dicatat sebagai data manual dan elektronik"],
}
DINSOS_ONLINE: dict[str, list[str]] = {
    "dasar_hukum": [
        "Undang-Undang Nomor 25 tentang Pelayanan Publik",  # the year is not printed in Lampiran 2
        "Peraturan Presiden R.I Nomor 76 Tahun 2013 tentang Pengelolaan Pengaduan Pelayanan Publik",
        "Permen PAN-RB Nomor 15 Tahun 2014 tentang Pedoman Standar Pelayanan Publik",
        _DINSOS_PERBUP,
    ],
    "kualifikasi_pelaksana": [
        "Memiliki Kemampuan Mengelola Keluhan Masyarakat",
        "Memiliki Keterampilan Komunikasi Secara Efektif Baik Lisan Maupun Tertulis",
        "Memiliki Kemampuan Memahami Regulasi terkait Pengawasan dan Pengaduan",
        "Memiliki Kemampuan berkoordinasi dengan unit kerja lain",
    ],
    "keterkaitan": ["SOP Penanganan Pengaduan secara langsung", "Standar Pelayanan Publik"],
    "peralatan": ["Komputer/Notebook/Handphone", "Koneksi Internet", "Jaringan Internet"],
    "peringatan": ["Tindak lanjut segera dilaksanakan"],
    "pencatatan": ["Dicatat sebagai data manual dan elektronik"],
}
