"""Mutu Baku *Waktu* in the words of the printed SOPs, from the step's timer (the running SLA).

``hari_kerja(14)`` → "14 hari kerja", ``jam_kerja(3)`` → "3 jam kerja", ``menit_kerja(5)`` →
"5 menit kerja", ``hari_kalender(60, tanggal_diterima)`` → "60 hari", ISO 8601 ``P60D`` → "60 hari",
``PT1H30M`` → "1 jam 30 menit". The timer is the source, so a document always says what the running
process enforces.
"""

from __future__ import annotations

import re

#: ``hari_kerja(14)``, ``jam_kerja(3)``, ``menit_kerja(5)``; ``hari_kalender(60, tanggal_diterima)`` (calendar days)
_CALENDAR = re.compile(r"([a-z]+)_(kerja|kalender)\(\s*(\d+)\s*(?:,[^()]*)?\)")
_ISO = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?")
_ISO_UNITS = ("tahun", "bulan", "minggu", "hari", "jam", "menit", "detik")


def waktu(timer: str | None) -> str | None:
    """The Waktu a timer expression stands for, or ``None`` when it is not one of the known forms."""
    text = (timer or "").strip().strip("'\"").strip()
    if found := _CALENDAR.fullmatch(text):
        amount, unit, kind = int(found.group(3)), found.group(1), found.group(2)
        return f"{amount} {unit} kerja" if kind == "kerja" else f"{amount} {unit}"
    found = _ISO.fullmatch(text.upper())
    if found and text.upper() not in ("P", "PT") and any(found.groups()):
        return " ".join(f"{int(amount)} {unit}" for amount, unit in zip(found.groups(), _ISO_UNITS, strict=True)
                        if amount)
    return None
