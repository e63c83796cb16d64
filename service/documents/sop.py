"""The SOP AP document of a revision, generated from the revision's diagram (Permenpan RB 35/2012).

A header with the identity table — Nomor SOP, Tanggal Pembuatan/Revisi/Efektif, *Disahkan oleh*
(jabatan, nama, NIP) — and the six boxes (Dasar Hukum, Kualifikasi Pelaksana, Keterkaitan,
Peralatan/Perlengkapan, Peringatan, Pencatatan dan Pendataan), all read from the diagram's process
properties (:mod:`service.engine.sop_metadata`); then the flowchart table: one row per step with the
seed's step number (``langkah``), its symbol in the column of its Pelaksana (lane) and arrows between
rows (:mod:`service.documents.flowchart`), and Mutu Baku Kelengkapan / Waktu / Output. Waktu is the
step's timer when it has one (:mod:`service.documents.waktu`), so the document says what the running
process enforces; the ``waktu`` property (the seed's words) is used only for steps without a timer.
Steps are the diagram's user tasks plus the other elements that carry SOP facts (the reporter's
start event, notifications), ordered by ``langkah`` then document order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from lxml import etree
from markupsafe import Markup

from service.documents import flowchart
from service.documents.waktu import waktu as timer_waktu
from service.engine import compiler, properties, sop_metadata
from service.engine.deploy_checks import NS
from service.engine.safe_xml import parse_xml
from service.store.states import RevisionStatus

TEMPLATES = Path(__file__).parent / "templates"
SECTIONS = properties.SOP_SECTIONS
_MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember")
_SOP_FACTS = (properties.STEP_NUMBER, properties.REQUIREMENTS, properties.STANDARD_TIME, properties.OUTPUT)
_PROPERTIES = "./bpmn:extensionElements/camunda:properties/camunda:property"
#: the flowchart table's columns on A4 landscape (277 mm between the margins), in millimetres
COLUMNS = {"no": 9.0, "kegiatan": 62.0, "kelengkapan": 32.0, "waktu": 19.0, "output": 32.0, "keterangan": 21.0}
LANES_WIDTH = 277.0 - sum(COLUMNS.values())
_LINE_MM, _PAD_MM, _CHAR_MM = 3.5, 2.6, 1.62  # 8pt text: line height, cell padding, a wide character


@dataclass(frozen=True)
class SopRow:
    number: int
    langkah: str
    element_id: str
    text: str
    lane: str | None
    kelengkapan: str
    waktu: str
    output: str
    keterangan: str
    symbol: str
    flow: Markup  # the lane cells: one SVG
    height: float  # mm
    done: bool = False  # highlighted: a step the case went through (the case file's diagram)


@dataclass(frozen=True)
class SopDocument:
    title: str
    office: str
    sop_number: str
    created_on: str
    revised_on: str
    effective_on: str
    approved_by: sop_metadata.Signatory
    version: int
    status: str
    sections: Sequence[tuple[str, Sequence[str]]]
    lanes: Sequence[str]
    rows: Sequence[SopRow]
    lane_width: float = LANES_WIDTH

    @property
    def is_draft(self) -> bool:
        return self.status == RevisionStatus.DRAFT.value

    @property
    def columns(self) -> Mapping[str, float]:
        return COLUMNS


def tanggal(value: date | None) -> str:
    """``07 Januari 2020``; a dash for no date, as the printed SOPs do."""
    return f"{value.day:02d} {_MONTHS[value.month - 1]} {value.year}" if value else "–"


def _first_number(text: str | None) -> int | None:
    found = re.search(r"\d+", text or "")
    return int(found.group()) if found else None


def step_numbers(langkah: str) -> str:
    """The seed's step number(s) as printed: a run of consecutive steps is a range (``1,2,3`` → ``1–3``)."""
    parts = [part.strip() for part in langkah.split(",") if part.strip()]
    if len(parts) > 2 and all(part.isdigit() for part in parts) and \
            [int(part) for part in parts] == list(range(int(parts[0]), int(parts[0]) + len(parts))):
        return f"{parts[0]}–{parts[-1]}"
    return ", ".join(parts)


def _lines_needed(text: str, width_mm: float) -> int:
    """How many lines ``text`` takes in a cell ``width_mm`` wide (greedy word wrap, wide characters)."""
    per_line = max(4, int((width_mm - _PAD_MM) / _CHAR_MM))
    lines, used = 1, 0
    for word in text.split():
        size = min(len(word), per_line)
        if used and used + 1 + size > per_line:
            lines, used = lines + 1, size
        else:
            used = used + 1 + size if used else size
    return lines


def _row_height(*cells: tuple[str, float]) -> float:
    needed = max(_lines_needed(text, width) for text, width in cells) * _LINE_MM + _PAD_MM + 1.0
    return max(flowchart.MIN_ROW_H, round(needed, 1))


@dataclass(frozen=True)
class _Step:
    element_id: str
    text: str
    lane: str | None
    facts: Mapping[str, str]
    timer: str | None


def _steps(main: etree._Element) -> list[_Step]:
    """The elements the table lists, in order: by ``langkah``; a step without one stays after the step
    before it in the file."""
    lane_of = compiler.lanes_of(main)
    timers = compiler.sla_timers(main)
    order: dict[str, int] = {}
    found: list[_Step] = []
    for position, node in enumerate(main.xpath(".//*[@id]", namespaces=NS)):
        element_id = node.get("id")
        order[element_id] = position
        facts = {p.get("name"): p.get("value") or "" for p in node.xpath(_PROPERTIES, namespaces=NS)}
        kind = etree.QName(node.tag).localname
        if kind == "userTask" or (kind != "process" and any(fact in facts for fact in _SOP_FACTS)):
            documentation = " ".join("".join(node.xpath("./bpmn:documentation/text()", namespaces=NS)).split())
            found.append(_Step(element_id, documentation or node.get("name") or element_id,
                               lane_of.get(element_id), facts, timers.get(element_id)))
    keys: dict[str, tuple[float, int]] = {}
    previous = 0.0
    for step in found:
        number = _first_number(step.facts.get(properties.STEP_NUMBER))
        previous = float(number) if number is not None else previous
        keys[step.element_id] = (previous, order[step.element_id])
    return sorted(found, key=lambda step: keys[step.element_id])


def _rows(main: etree._Element, lanes: Sequence[str], highlight: frozenset[str]) -> list[SopRow]:
    steps = _steps(main)
    links, symbols = flowchart.analyse(main, [step.element_id for step in steps])
    numbers = {index: step_numbers(step.facts.get(properties.STEP_NUMBER, "")) for index, step in enumerate(steps)}
    notes = flowchart.notes(links, numbers, {index: step.text for index, step in enumerate(steps)})
    lane_width = LANES_WIDTH / max(len(lanes), 1)
    prepared = []
    for index, step in enumerate(steps):
        waktu = timer_waktu(step.timer) or step.facts.get(properties.STANDARD_TIME, "")
        height = _row_height((step.text, COLUMNS["kegiatan"]),
                             (step.facts.get(properties.REQUIREMENTS, ""), COLUMNS["kelengkapan"]),
                             (waktu, COLUMNS["waktu"]), (step.facts.get(properties.OUTPUT, ""), COLUMNS["output"]),
                             (notes.get(index, ""), COLUMNS["keterangan"]))
        prepared.append((step, waktu, height))
    shapes = [flowchart.RowShape(lanes.index(step.lane) if step.lane in lanes else 0, symbols[index],
                                 numbers[index] or "", height, step.element_id in highlight)
              for index, (step, _waktu, height) in enumerate(prepared)]
    pictures = flowchart.draw(shapes, links, lane_width, len(lanes))
    return [
        SopRow(index + 1, numbers[index], step.element_id, step.text, step.lane,
               step.facts.get(properties.REQUIREMENTS, ""), waktu, step.facts.get(properties.OUTPUT, ""),
               notes.get(index, ""), symbols[index], Markup(pictures[index]), height,  # escaped in flowchart
               step.element_id in highlight)
        for index, (step, waktu, height) in enumerate(prepared)
    ]


def sop_document(*, bpmn: bytes, office: str, title: str = "", sop_number: str | None = None,
                 created_on: date | None = None, revised_on: date | None = None, effective_on: date | None = None,
                 approved_by: str | None = None, version: int = 1,
                 status: str = RevisionStatus.ACTIVE.value, highlight: frozenset[str] = frozenset()) -> SopDocument:
    """The document of the revision whose diagram is ``bpmn``. The identity fields come from its
    ``definitions`` row (derived from the diagram's metadata, and kept current by a deploy's form
    fields and by activation's Tanggal Efektif), else from the diagram; *Disahkan oleh* is the
    diagram's signatory (jabatan, nama, NIP), the row's ``approved_by`` only when it names none.
    ``highlight``: the element ids of the steps a case went through, drawn highlighted (the case file)."""
    root = parse_xml(bpmn).getroot()
    main = root.xpath("//bpmn:process[@isExecutable='true']", namespaces=NS)[0]
    meta = sop_metadata.read(bpmn)
    lanes = list(dict.fromkeys(lane.get("name") for lane in main.xpath(".//bpmn:lane[@name]", namespaces=NS)))
    if not lanes:
        lanes = [""]
    signatory = meta.disahkan_oleh
    if not signatory.nama and approved_by:
        signatory = sop_metadata.Signatory(signatory.jabatan, approved_by, signatory.nip)
    return SopDocument(
        title=title or meta.judul or main.get("name") or main.get("id"), office=office,
        sop_number=sop_number or meta.nomor_sop or "–",
        created_on=tanggal(created_on or meta.tanggal_pembuatan), revised_on=tanggal(revised_on or meta.tanggal_revisi),
        effective_on=tanggal(effective_on or meta.tanggal_efektif), approved_by=signatory,
        version=version, status=status,
        sections=[(label, list(meta.section(name))) for name, label in SECTIONS],
        lanes=lanes, rows=_rows(main, lanes, highlight), lane_width=LANES_WIDTH / len(lanes),
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
