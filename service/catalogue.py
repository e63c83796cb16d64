"""The offices of the bundled SOPs (``bpmn/``): unit code, name and timezone."""

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
