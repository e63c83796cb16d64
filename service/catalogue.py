"""The offices of the bundled SOPs (``bpmn/``): unit code, name and timezone; and their sub-units.

A sub-unit (bidang, unit kerja) is where a bundled SOP routes a task with ``tujuan_unit``: the form
field that names it is an enum of these codes (``tools/scaffold/sop_forms.py`` reads them from here), and
``alur demo`` creates them under their office.
"""

from __future__ import annotations

from typing import NamedTuple


class Office(NamedTuple):
    code: str
    name: str
    timezone: str


BUNDLED_OFFICES = (
    Office("dpmptsp-kukar", "DPMPTSP Kabupaten Kutai Kartanegara", "Asia/Makassar"),
    Office("dpmptsp-lamandau", "DPMPTSP Kabupaten Lamandau", "Asia/Jakarta"),
    Office("disperindagkop-kebumen", "Disperindag KUKM Kabupaten Kebumen", "Asia/Jakarta"),
    Office("dinsos-kukar", "Dinas Sosial Kabupaten Kutai Kartanegara", "Asia/Makassar"),
    Office("inspektorat-katingan", "Inspektorat Kabupaten Katingan", "Asia/Jakarta"),
)

_KUKAR, _KATINGAN = "Asia/Makassar", "Asia/Jakarta"

#: office code → its sub-units, in the order a form lists them.
SUB_UNITS: dict[str, tuple[Office, ...]] = {
    # SOP 000, langkah 3–6: "bidang/sub bagian yang dituju", the Bidang Terkait (Perbup Kukar 62/2016)
    "dpmptsp-kukar": (
        Office("dpmptsp-kukar-sekretariat", "Sekretariat DPMPTSP", _KUKAR),
        Office("dpmptsp-kukar-perencanaan", "Bidang Perencanaan dan Pengembangan Iklim Penanaman Modal", _KUKAR),
        Office("dpmptsp-kukar-promosi", "Bidang Promosi Penanaman Modal", _KUKAR),
        Office("dpmptsp-kukar-perizinan", "Bidang Penyelenggaraan Pelayanan Perizinan dan Non Perizinan", _KUKAR),
        Office("dpmptsp-kukar-pengendalian", "Bidang Pengendalian Pelaksanaan Penanaman Modal", _KUKAR),
        Office("dpmptsp-kukar-data", "Bidang Data dan Sistem Informasi Penanaman Modal", _KUKAR),
    ),
    # SOP 003a langkah 4–5, 003b langkah 5–7: the bidang terkait of the Anggota Tim Pengaduan (Perbup 22/2021)
    "dinsos-kukar": (
        Office("dinsos-kukar-linjamsos", "Bidang Perlindungan dan Jaminan Sosial", _KUKAR),
        Office("dinsos-kukar-rehsos", "Bidang Rehabilitasi Sosial", _KUKAR),
        Office("dinsos-kukar-dayasos", "Bidang Pemberdayaan Sosial", _KUKAR),
        Office("dinsos-kukar-pfm", "Bidang Penanganan Fakir Miskin", _KUKAR),
    ),
    # SOP 004 langkah 6: the Pejabat Eselon II / Unit Kerja yang terlapor of the Kabupaten Katingan
    "inspektorat-katingan": (
        Office("katingan-setda", "Sekretariat Daerah Kabupaten Katingan", _KATINGAN),
        Office("katingan-disdik", "Dinas Pendidikan Kabupaten Katingan", _KATINGAN),
        Office("katingan-dinkes", "Dinas Kesehatan Kabupaten Katingan", _KATINGAN),
        Office("katingan-dpupr", "Dinas Pekerjaan Umum dan Penataan Ruang Kabupaten Katingan", _KATINGAN),
        Office("katingan-dpmd", "Dinas Pemberdayaan Masyarakat dan Desa Kabupaten Katingan", _KATINGAN),
        Office("katingan-bkpsdm", "Badan Kepegawaian dan Pengembangan SDM Kabupaten Katingan", _KATINGAN),
        Office("katingan-bpkad", "Badan Pengelolaan Keuangan dan Aset Daerah Kabupaten Katingan", _KATINGAN),
    ),
}
