"""The modeler's "Metadata SOP" panel: a plain HTML form over a revision's SOP metadata.

Field names are the diagram's property names (:mod:`service.engine.properties`), so an error the
command reports (``field``) lands on its input. The labels are the SOP document's own words.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from service.engine import properties as p
from service.engine.sop_metadata import SECTION_NAMES, Signatory, SopMetadata, lines
from service.errors import ErrorDetail, InvalidInput


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # "text", "date" or "lines"


FIELDS = (
    Field(p.TITLE, "Nama SOP", "text"),
    Field(p.SOP_NUMBER, "Nomor SOP", "text"),
    Field(p.CREATED_ON, "Tanggal Pembuatan", "date"),
    Field(p.REVISED_ON, "Tanggal Revisi", "date"),
    Field(p.EFFECTIVE_ON, "Tanggal Efektif", "date"),
    Field(p.APPROVER_POSITION, "Disahkan oleh — jabatan", "text"),
    Field(p.APPROVED_BY, "Disahkan oleh — nama", "text"),
    Field(p.APPROVER_NIP, "Disahkan oleh — NIP", "text"),
    *(Field(name, heading, "lines") for name, heading in p.SOP_SECTIONS),
)


def values(meta: SopMetadata) -> dict[str, str]:
    """The form's initial values."""
    def day(value: date | None) -> str:
        return value.isoformat() if value else ""

    return {
        p.TITLE: meta.judul, p.SOP_NUMBER: meta.nomor_sop, p.CREATED_ON: day(meta.tanggal_pembuatan),
        p.REVISED_ON: day(meta.tanggal_revisi), p.EFFECTIVE_ON: day(meta.tanggal_efektif),
        p.APPROVER_POSITION: meta.disahkan_oleh.jabatan, p.APPROVED_BY: meta.disahkan_oleh.nama,
        p.APPROVER_NIP: meta.disahkan_oleh.nip,
        **{name: "\n".join(meta.section(name)) for name in SECTION_NAMES},
    }


def parse(form: Mapping[str, str]) -> SopMetadata:
    """The submitted form as metadata; a date that is not one is a :class:`InvalidInput` naming it."""
    problems: list[ErrorDetail] = []
    dates: dict[str, date | None] = {}
    for name in (p.CREATED_ON, p.REVISED_ON, p.EFFECTIVE_ON):
        given = (form.get(name) or "").strip()
        try:
            dates[name] = date.fromisoformat(given) if given else None
        except ValueError:
            problems.append({"field": name, "message": f"not a date like 2026-01-31: {given[:40]!r}"})
    if problems:
        raise InvalidInput("Some SOP metadata is not valid", problems)

    def text(name: str) -> str:
        return " ".join((form.get(name) or "").split())

    return SopMetadata(
        judul=text(p.TITLE), nomor_sop=text(p.SOP_NUMBER), tanggal_pembuatan=dates[p.CREATED_ON],
        tanggal_revisi=dates[p.REVISED_ON], tanggal_efektif=dates[p.EFFECTIVE_ON],
        disahkan_oleh=Signatory(text(p.APPROVER_POSITION), text(p.APPROVED_BY), text(p.APPROVER_NIP)),
        sections={name: lines(form.get(name) or "") for name in SECTION_NAMES},
    )
