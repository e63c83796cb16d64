"""The SLA report (:func:`service.commands.reports.sla_report`) as a file: CSV and XLSX, the same columns.

Both the API (``/api/reports/sla?format=csv|xlsx``) and the dashboard's download links write through
here; the cells are made safe by :mod:`service.commands.spreadsheets` (text that a spreadsheet would read
as a formula is quoted), so a step name from a diagram never runs as one.
"""

from __future__ import annotations

from dataclasses import asdict, fields

from service.commands.reports import SlaRow
from service.commands.spreadsheets import csv_lines, xlsx_bytes

#: the columns of both files, in the order of :class:`SlaRow`
SLA_COLUMNS: tuple[str, ...] = tuple(field.name for field in fields(SlaRow))


def sla_filename(rows: list[SlaRow], extension: str) -> str:
    name = rows[0].definition_key if rows else "kosong"
    return f"sla-{name}.{extension}"


def sla_csv(rows: list[SlaRow]) -> str:
    return "".join(csv_lines(SLA_COLUMNS, (asdict(row) for row in rows)))


def sla_xlsx(rows: list[SlaRow]) -> bytes:
    """One sheet ``SLA``: a header row, then a row per step; numbers stay numbers."""
    return xlsx_bytes("SLA", SLA_COLUMNS, (asdict(row) for row in rows))
