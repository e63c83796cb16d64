"""The SOP AP document of a revision: header, the six text sections and the activity table.

The layout follows the SOPs the offices print (Permenpan RB 35/2012): a header with Nomor SOP,
Tanggal Pembuatan/Revisi/Efektif and *Disahkan oleh*; Dasar Hukum, Kualifikasi Pelaksana,
Keterkaitan, Peralatan/Perlengkapan, Peringatan, Pencatatan dan Pendataan; then one row per step
with a mark in the column of the lane that performs it (Pelaksana) and its Mutu Baku (Kelengkapan,
Waktu, Output). Steps are the diagram's user tasks plus the other elements that carry SOP
properties (the reporter's start event, notifications), ordered by ``langkah`` then document order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from service.engine import properties
from service.engine.compiler import outline, steps
from service.engine.deploy_checks import NS
from service.engine.safe_xml import parse_xml
from service.store.states import RevisionStatus

TEMPLATES = Path(__file__).parent / "templates"
SECTIONS = properties.SOP_SECTIONS
_MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember")
_SOP_FACTS = (properties.STEP_NUMBER, properties.REQUIREMENTS, properties.STANDARD_TIME, properties.OUTPUT)
_PROPERTIES = "./bpmn:extensionElements/camunda:properties/camunda:property"


@dataclass(frozen=True)
class SopRow:
    number: int
    element_id: str
    text: str
    lane: str | None
    kelengkapan: str
    waktu: str
    output: str


@dataclass(frozen=True)
class SopDocument:
    title: str
    office: str
    sop_number: str
    created_on: str
    revised_on: str
    effective_on: str
    approved_by: str
    version: int
    status: str
    sections: Sequence[tuple[str, Sequence[str]]]
    lanes: Sequence[str]
    rows: Sequence[SopRow]

    @property
    def is_draft(self) -> bool:
        return self.status == RevisionStatus.DRAFT.value


def tanggal(value: date | None) -> str:
    """``07 Januari 2020``; a dash for no date, as the printed SOPs do."""
    return f"{value.day:02d} {_MONTHS[value.month - 1]} {value.year}" if value else "–"


def _items(value: Any) -> list[str]:
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    if isinstance(value, list | tuple):
        return [str(item).strip() for item in value if str(item).strip()]
    return []


def _first_number(text: str | None) -> int | None:
    found = re.search(r"\d+", text or "")
    return int(found.group()) if found else None


def _rows(bpmn: bytes) -> list[SopRow]:
    """User tasks (with their lanes and properties) and other flow nodes that carry SOP facts."""
    root = parse_xml(bpmn).getroot()
    main = root.xpath("//bpmn:process[@isExecutable='true']", namespaces=NS)[0]
    lane_of = {ref.text: lane.get("name") for lane in main.xpath(".//bpmn:lane", namespaces=NS)
               for ref in lane.xpath("./bpmn:flowNodeRef", namespaces=NS)}
    order: dict[str, int] = {}
    found: dict[str, tuple[str, str | None, Mapping[str, str]]] = {}
    for position, node in enumerate(main.xpath(".//*[@id]", namespaces=NS)):
        order[node.get("id")] = position
        props = {p.get("name"): p.get("value") or "" for p in node.xpath(_PROPERTIES, namespaces=NS)}
        if any(fact in props for fact in _SOP_FACTS) and not node.tag.endswith("}process"):
            found[node.get("id")] = (node.get("name") or node.get("id"), lane_of.get(node.get("id")), props)
    for step in steps(bpmn):
        found[step.element_id] = (step.name, step.lane, step.properties)
    ordered = sorted(found, key=order.__getitem__)
    keys: dict[str, tuple[float, int]] = {}
    previous = 0.0
    for element_id in ordered:  # a step without langkah stays after the one before it in the file
        number = _first_number(found[element_id][2].get(properties.STEP_NUMBER))
        previous = float(number) if number is not None else previous
        keys[element_id] = (previous, order[element_id])
    rows = []
    for index, element_id in enumerate(sorted(ordered, key=keys.__getitem__), start=1):
        name, lane, facts = found[element_id]
        rows.append(SopRow(index, element_id, name, lane, facts.get(properties.REQUIREMENTS, ""),
                           facts.get(properties.STANDARD_TIME, ""), facts.get(properties.OUTPUT, "")))
    return rows


def sop_document(*, bpmn: bytes, title: str, office: str, sop_number: str | None, created_on: date | None,
                 revised_on: date | None, effective_on: date | None, approved_by: str | None,
                 metadata: Mapping[str, Any], version: int = 1,
                 status: str = RevisionStatus.ACTIVE.value) -> SopDocument:
    diagram = outline(bpmn)
    rows = _rows(bpmn)
    lanes = list(diagram.lanes) + [row.lane for row in rows if row.lane and row.lane not in diagram.lanes]
    return SopDocument(
        title=title or diagram.title, office=office, sop_number=sop_number or "–",
        created_on=tanggal(created_on), revised_on=tanggal(revised_on), effective_on=tanggal(effective_on),
        approved_by=approved_by or "–", version=version, status=status,
        sections=[(label, _items(metadata.get(name))) for name, label in SECTIONS],
        lanes=list(dict.fromkeys(lanes)), rows=rows,
    )


@cache
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


def render_html(document: SopDocument) -> str:
    return _environment().get_template("sop.html").render(doc=document)


def render_pdf(document: SopDocument) -> bytes:
    """The document as PDF (WeasyPrint; needs Pango from the system)."""
    from weasyprint import HTML  # imported on use: it loads Pango and takes a moment

    pdf: bytes = HTML(string=render_html(document), base_url=str(TEMPLATES)).write_pdf()
    return pdf
