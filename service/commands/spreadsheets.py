"""Tables leaving Alur as files (CSV, JSON Lines, XLSX): one place that makes a cell safe to open.

A value starting with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage return) is a formula to a
spreadsheet program; a reporter's text must never run as one (CSV/formula injection, OWASP), so such
text gets a leading apostrophe in CSV and XLSX. JSON Lines is data for programs and stays as it is.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a spreadsheet cell: text that a spreadsheet would read as a formula is quoted."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """The header and then one CSV line per row (streamable), cells made safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(fields)
    yield _take(buffer)
    for row in rows:
        writer.writerow([safe_cell(row.get(field)) for field in fields])
        yield _take(buffer)


def jsonl_lines(fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[str]:
    """One JSON object per line, with exactly ``fields`` (streamable)."""
    for row in rows:
        yield json.dumps({field: row.get(field) for field in fields}, ensure_ascii=False, default=str) + "\n"


def xlsx_bytes(sheet: str, fields: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    """A one-sheet workbook (openpyxl, write-only so memory stays flat), cells made safe."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    worksheet = book.create_sheet(sheet[:31])
    worksheet.append(list(fields))
    for row in rows:
        worksheet.append([safe_cell(row.get(field)) for field in fields])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
