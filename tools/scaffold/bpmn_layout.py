"""Lay out an executable BPMN 2.0 diagram with swimlanes from a compact description.

This is how the SOP diagrams in ``bpmn/`` were first produced (see ``tools/sop_diagrams.py``, a
one-time scaffold: docs/DIAGRAMS.md). The committed ``.bpmn`` files are the source of truth.

Conventions (DESIGN.md §3): one executable process, a collaboration with one participant whose
lanes are named after roles (no empty lane), Camunda 7 extensions (``camunda:formKey``,
``camunda:properties``), a non-interrupting timer boundary event per SOP "Waktu" (its
``eskalasi_ke`` names the role escalated to) whose flow runs along a rail at the bottom of its lane
to that lane's one "Eskalasi SLA" end event (through an exclusive merge when the lane has several),
exclusive gateways with a default flow, full BPMNDI (horizontal lanes stacked vertically).

Readable in bpmn-js and Camunda Modeler: every task is as large as its name needs (12px Arial,
wrapped in whole words as bpmn-js wraps it, clear of the task's icon), every external label's
bounds are its text's box, placed clear of shapes, flows and other labels; loop-backs run along the
top of a lane through the gaps between columns.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"bpmn": BPMN, "bpmndi": BPMNDI, "dc": DC, "di": DI, "camunda": CAMUNDA, "xsi": XSI}

# text, as bpmn-js renders it: Arial (Liberation Sans has the same advance widths), 12px in tasks
# with 5px padding, 11px external labels (events, gateways, flows) wrapped at 90px; line height 1.2
TASK_FONT, TASK_LINE_H, TASK_PADDING = 12.0, 14.4, 5.0
LABEL_FONT, LINE_H, LABEL_W = 11.0, 13.2, 90.0
LABEL_WIDTHS = (LABEL_W, 120.0)  # an external label is tried at these widths, narrow first
#: advance widths of Arial in 1/1000 em, by width
_WIDTHS = {
    191: "'", 222: "ijl\u2018\u2019", 260: "|", 278: " !,./:;I[\\]ft\u00ed\u00b7", 333: "()-`r\u201c\u201d",
    334: "{}", 355: '"', 389: "*", 469: "^", 500: "Jcksvxyz",
    556: "#$0123456789?L_abdeghnopqu\u2013\u00e9\u00e8\u00e1\u00f3\u00fa", 584: "+<=>~\u00d7", 611: "FTZ",
    667: "&ABEKPSVXY\u00c9", 722: "CDHNRUw", 778: "GOQ", 833: "Mm", 889: "%", 944: "W",
    1000: "\u2014\u2192\u2026", 1015: "@",
}
_ADVANCE = {ch: w for w, chars in _WIDTHS.items() for ch in chars}
#: the renderer's widths differ from the font's by a percent or so (hinting at 11px): a layout must
#: come out the same at both ends of this range
_SCALES = (0.97, 1.03)
# the task type icon (user task: top left) and marker (call activity: bottom centre) keep text away
ICON_CLEAR = 24.0  # px from the top (user icon) or the bottom (call marker) of a task
ICON_RIGHT = 22.0  # the user icon ends this far from the left border
TASK_WIDTHS = tuple(range(100, 261, 10))
TASK_MIN_H = 80
# geometry
P_X, P_Y = 160, 80  # participant origin
HEADER_W = 30  # participant label band
LANE_HEADER_W = 30  # lane label band (bpmn-js draws lane names vertically in it)
TOP_BAND = 60  # above the tallest shape of a lane: loop-backs and labels above events
BOTTOM_BAND = 80  # below it: labels below events
RAIL_BAND = 42  # lanes with SLA timers: the escalation rail runs this far above the lane's bottom
COL_GAP = 90  # between the widest shapes of two neighbouring columns
MIN_COL = 100  # the narrowest column
LOOP_DY = 8  # loop-back flows run this far below the top of a lane
SIZES: dict[str, tuple[int, int]] = {
    "exclusiveGateway": (50, 50),
    "startEvent": (36, 36),
    "endEvent": (36, 36),
    "intermediateThrowEvent": (36, 36),
    "boundaryEvent": (36, 36),
}


def text_width(text: str, size: float) -> float:
    return sum(_ADVANCE.get(ch, 556) for ch in text) * size / 1000


def _semantic_shorten(line: str, max_length: float) -> str:
    """bpmn-js (diagram-js ``Text``): the longest run of whole parts shorter than ``max_length`` chars."""
    parts = re.split(r"(\s|-|\u00AD)", line)
    kept: list[str] = []
    length = 0
    if len(parts) > 1:
        for part in parts:
            if not part:  # the JavaScript loop stops at the first empty part
                break
            if len(part) + length < max_length:
                kept.append(part)
                length += len(part)
            else:
                if part in ("-", "\u00ad") and kept:
                    kept.pop()
                break
    if kept and kept[-1] == "\u00ad":
        kept[-1] = "-"
    return "".join(kept)


def wrap(text: str, max_width: float, size: float, scale: float = 1.0) -> list[str]:
    """The lines bpmn-js makes of ``text`` in a box ``max_width`` wide (diagram-js ``Text.layoutText``):
    lines are shortened at spaces and hyphens by an estimate in characters, a word that does not fit is
    cut (a mid-word break); ``scale`` multiplies the widths."""
    lines = re.split(r"\u00AD?\r?\n", text)
    out: list[str] = []
    while lines:
        original = lines.pop(0)
        fit = original
        while True:
            width = text_width(fit, size) * scale if fit else 0.0
            if fit in (" ", "") or width < round(max_width) or len(fit) < 2:
                break
            length = max(len(fit) * (max_width / width), 1)
            shorter = _semantic_shorten(fit, length)
            fit = shorter or fit[: max(int(length - 1 + 0.5), 1)]
        if len(fit) < len(original):
            lines.insert(0, original[len(fit):].strip())
        out.append(fit)
    return out


def breaks_words(text: str, lines: Sequence[str]) -> bool:
    """Did wrapping ``text`` into ``lines`` cut a word (rather than break at a space or a hyphen)?"""
    joined = ""
    for line in lines:
        part = line.strip()
        if joined and not joined.endswith(("-", "\u00ad")):
            joined += " "
        joined += part
    return joined.split() != text.split()


@dataclass(frozen=True)
class TextBlock:
    """Wrapped text at both ends of the renderer's width range: its most lines and widest line."""

    lines: int
    width: float
    whole_words: bool  # at both ends
    stable: bool  # as many lines at both ends


def text_block(text: str, max_width: float, size: float) -> TextBlock:
    wraps = [(wrap(text, max_width, size, s), s) for s in _SCALES]
    return TextBlock(
        lines=max(len(w) for w, _ in wraps),
        width=max(text_width(line.rstrip(), size) * s for w, s in wraps for line in w),
        whole_words=all(not breaks_words(text, w) for w, _ in wraps),
        stable=len({len(w) for w, _ in wraps}) == 1,
    )


def task_size(name: str, kind: str) -> tuple[float, float]:
    """The smallest task box whose name fits inside, clear of its icon, in whole words, in at most three
    lines (four when no width allows three)."""
    found: list[tuple[int, int, int]] = []  # (lines, width, height)
    for width in TASK_WIDTHS:
        block = text_block(name, width - 2 * TASK_PADDING, TASK_FONT)
        if not (block.whole_words and block.stable):
            continue
        # centred vertically: the text is n * line height tall, clear of the icon band at both ends
        height = max(TASK_MIN_H, math.ceil((block.lines * TASK_LINE_H + 2 * ICON_CLEAR + 2) / 10) * 10)
        found.append((block.lines, width, height))
        if block.lines <= 3:
            return width, height
    if not found:
        raise ValueError(f"no task width fits the name {name!r} in whole words: shorten it")
    _, width, height = min(found)
    return width, height


def label_size(text: str, width: float = LABEL_W) -> tuple[float, float]:
    """Width and height of an external label's text: bpmn-js wraps it at its bounds' width (11px
    Arial) and centres each line in that width, from the top."""
    block = text_block(text, width, LABEL_FONT)
    return math.ceil(block.width) + 1, block.lines * LINE_H + 1


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


@dataclass
class Timer:
    """SOP Waktu of a task: a non-interrupting timer boundary event plus its escalation end."""

    duration: str  # ISO 8601 (PT10M, P60D) or hari_kerja(N) / jam_kerja(N)
    eskalasi_ke: str  # role notified when the timer fires


@dataclass
class Deadline:
    """The reporter's time limit on a Pelapor task: an interrupting timer boundary event whose flow
    leads to ``target`` (the case moves on without the reporter)."""

    duration: str  # hari_kerja(N) or ISO 8601
    target: str  # the node the case moves on to
    waktu: str  # the limit as people read it ("14 hari kerja"), shown in the event's name


@dataclass
class Node:
    id: str
    kind: str  # userTask | callActivity | exclusiveGateway | startEvent | endEvent | intermediateThrowEvent
    name: str
    lane: str
    col: int
    form_key: str | None = None
    props: dict[str, str] = field(default_factory=dict)  # camunda:properties
    timer: Timer | None = None
    deadline: Deadline | None = None
    message: str | None = None  # message name thrown (intermediate throw / end)
    called: str | None = None  # callActivity calledElement
    cycle: str | None = None  # timer start event timeCycle
    doc: str | None = None


@dataclass
class Flow:
    source: str
    target: str
    name: str | None = None
    condition: str | None = None
    default: bool = False

    @property
    def id(self) -> str:
        return f"Flow_{self.source}_{self.target}"


@dataclass
class Process:
    id: str
    name: str
    participant: str
    documentation: str
    props: dict[str, str]
    lanes: Sequence[str]
    nodes: Sequence[Node]
    flows: Sequence[Flow]


@dataclass
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def hit(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        """Does the axis-parallel segment a-b pass through this box (border touch excluded)?"""
        (x1, y1), (x2, y2) = a, b
        lo_x, hi_x = sorted((x1, x2))
        lo_y, hi_y = sorted((y1, y2))
        return lo_x < self.x + self.w and hi_x > self.x and lo_y < self.y + self.h and hi_y > self.y

    def overlaps(self, o: Box) -> bool:
        return self.x < o.x + o.w and o.x < self.x + self.w and self.y < o.y + o.h and o.y < self.y + self.h

    def inside(self, o: Box) -> bool:
        return o.x <= self.x and self.x + self.w <= o.x + o.w and o.y <= self.y and self.y + self.h <= o.y + o.h


def lane_id(name: str) -> str:
    return "Lane_" + "".join(c if c.isalnum() else "_" for c in name)


def _props(parent: etree._Element, props: dict[str, str]) -> None:
    if not props:
        return
    ext = parent.find(q(BPMN, "extensionElements"))
    if ext is None:
        ext = etree.SubElement(parent, q(BPMN, "extensionElements"))
    cp = etree.SubElement(ext, q(CAMUNDA, "properties"))
    for k, v in props.items():
        etree.SubElement(cp, q(CAMUNDA, "property"), name=k, value=v)


def _collinear(a: tuple[float, float], b: tuple[float, float], c: tuple[float, float],
               d: tuple[float, float]) -> bool:
    """Do the axis-parallel segments a-b and c-d run along each other for a stretch?"""
    if a[0] == b[0] == c[0] == d[0]:
        return min(a[1], b[1]) < max(c[1], d[1]) and min(c[1], d[1]) < max(a[1], b[1])
    if a[1] == b[1] == c[1] == d[1]:
        return min(a[0], b[0]) < max(c[0], d[0]) and min(c[0], d[0]) < max(a[0], b[0])
    return False


def _is_activity(kind: str) -> bool:
    return kind in ("userTask", "callActivity")


class Layout:
    """Columns as wide as their widest shape, lanes as tall as their tallest; the SLA timers of a lane
    lead along a rail at the lane's bottom to that lane's one "Eskalasi SLA" end event (right end)."""

    def __init__(self, proc: Process) -> None:
        self.proc = proc
        used = {n.lane for n in proc.nodes}
        if empty := [lane for lane in proc.lanes if lane not in used]:
            raise ValueError(f"{proc.id}: lanes without a node: {empty} (drop them, or give them their step)")
        self.lane_index = {name: i for i, name in enumerate(proc.lanes)}
        self.boxes: dict[str, Box] = {}
        self.lane_of: dict[str, str] = {}
        self.col_of: dict[str, int] = {}
        self.reserved: list[Box] = []  # label areas that flows avoid
        #: segments of the flows routed so far, with their flow's source and target
        self.taken: list[tuple[str, str, tuple[float, float], tuple[float, float]]] = []
        seen: set[tuple[str, int]] = set()
        size: dict[str, tuple[float, float]] = {}
        for n in proc.nodes:
            if (n.lane, n.col) in seen:
                raise ValueError(f"{proc.id}: two nodes in lane {n.lane} column {n.col}")
            seen.add((n.lane, n.col))
            if n.timer and n.deadline:
                raise ValueError(f"{proc.id}: {n.id} has both an SLA timer and a deadline")
            size[n.id] = task_size(n.name, n.kind) if _is_activity(n.kind) else SIZES[n.kind]
        #: lanes with SLA timers, in lane order: each has one escalation end, in a column after the last
        self.sla_lanes = [lane for lane in proc.lanes if any(n.timer and n.lane == lane for n in proc.nodes)]
        ncols = max(n.col for n in proc.nodes) + 1
        widths = [max([MIN_COL, *(size[n.id][0] for n in proc.nodes if n.col == c)]) + COL_GAP for c in range(ncols)]
        if self.sla_lanes:
            widths.append(MIN_COL + COL_GAP)
        self.col_left = list(itertools.accumulate([P_X + HEADER_W + LANE_HEADER_W, *widths]))
        self.width = self.col_left[-1] - P_X
        self.lane_tops: dict[str, float] = {}
        self.lane_hs: dict[str, float] = {}
        self.row_cy: dict[str, float] = {}
        top = float(P_Y)
        for lane in proc.lanes:
            row_h = max([TASK_MIN_H, *(size[n.id][1] for n in proc.nodes if n.lane == lane)])
            railed = lane in self.sla_lanes or any(n.deadline and n.lane == lane for n in proc.nodes)
            self.lane_tops[lane] = top
            self.row_cy[lane] = top + TOP_BAND + row_h / 2
            self.lane_hs[lane] = TOP_BAND + row_h + BOTTOM_BAND + (RAIL_BAND if railed else 0)
            top += self.lane_hs[lane]
        self.height = top - P_Y
        for n in proc.nodes:
            w, h = size[n.id]
            cx = (self.col_left[n.col] + self.col_left[n.col + 1]) / 2
            self._add(n.id, Box(cx - w / 2, self.row_cy[n.lane] - h / 2, w, h), n.lane, n.col)
            tb = self.boxes[n.id]
            event = self.timer_id(n) if n.timer else self.deadline_id(n) if n.deadline else None
            if event:
                # on the task's bottom border, right (clear of the name); its label left of it: kept clear of flows
                self._add(event, Box(tb.x + tb.w - 38, tb.y + tb.h - 18, 36, 36), n.lane, n.col)
                self.reserved.append(Box(tb.x - 40, tb.y + tb.h, tb.w + 38, 40))
        for lane in self.sla_lanes:
            cx, rail = (self.col_left[-2] + self.col_left[-1]) / 2, self.rail_y(lane)
            if self.merged(lane):
                self._add(self.sla_merge_id(lane), Box(cx - 65, rail - 25, 50, 50), lane, len(widths) - 1)
            self._add(self.sla_end_id(lane), Box(cx + 27, rail - 18, 36, 36), lane, len(widths) - 1)
        #: the diagram's flows plus the flow out of each deadline boundary event
        self.flows: list[Flow] = [*proc.flows, *(
            Flow(self.deadline_id(n), n.deadline.target) for n in proc.nodes if n.deadline)]
        external = [n.name for n in proc.nodes if not _is_activity(n.kind)]
        external += [f.name for f in proc.flows if f.name]
        external += [self.timer_name(n) for n in proc.nodes if n.timer]
        external += [self.deadline_name(n) for n in proc.nodes if n.deadline]
        external += [self.sla_end_name(lane) for lane in self.sla_lanes]
        if cut := [t for t in external if t and not text_block(t, LABEL_W, LABEL_FONT).whole_words]:
            raise ValueError(f"{proc.id}: labels with a word wider than {LABEL_W:g}px: {cut} (shorten them)")

    def _add(self, el_id: str, box: Box, lane: str, col: int) -> None:
        self.boxes[el_id] = box
        self.lane_of[el_id] = lane
        self.col_of[el_id] = col

    @staticmethod
    def timer_id(n: Node) -> str:
        return f"Timer_{n.id}"

    @staticmethod
    def sla_end_id(lane: str) -> str:
        return "End_SLA_" + lane_id(lane)[len("Lane_"):]

    @staticmethod
    def sla_merge_id(lane: str) -> str:
        return "Gateway_SLA_" + lane_id(lane)[len("Lane_"):]

    def merged(self, lane: str) -> bool:
        """Several timers in the lane: they meet in an exclusive merge before the end (an end event
        with several incoming flows would be a fake join)."""
        return sum(1 for n in self.proc.nodes if n.timer and n.lane == lane) > 1

    def escalation_target(self, lane: str) -> str:
        return self.sla_merge_id(lane) if self.merged(lane) else self.sla_end_id(lane)

    @staticmethod
    def deadline_id(n: Node) -> str:
        return f"Deadline_{n.id}"

    @staticmethod
    def deadline_name(n: Node) -> str:
        assert n.deadline
        return f"Batas waktu Pelapor: {n.deadline.waktu}"

    def targets(self, lane: str) -> list[str]:
        """The roles the SLA timers of ``lane`` escalate to, in diagram order."""
        return list(dict.fromkeys(n.timer.eskalasi_ke for n in self.proc.nodes if n.timer and n.lane == lane))

    def timer_name(self, n: Node) -> str:
        """The SOP Waktu; with the role it escalates to when the lane's timers escalate to several."""
        assert n.timer
        name = f"Batas waktu {n.props.get('waktu', n.timer.duration)}"
        return f"{name} → {n.timer.eskalasi_ke}" if len(self.targets(n.lane)) > 1 else name

    def sla_end_name(self, lane: str) -> str:
        return "Eskalasi SLA ke " + " / ".join(self.targets(lane))

    def lane_top(self, lane: str) -> float:
        return self.lane_tops[lane]

    def lane_box(self, lane: str) -> Box:
        return Box(P_X + HEADER_W, self.lane_tops[lane], self.width - HEADER_W, self.lane_hs[lane])

    def rail_y(self, lane: str) -> float:
        """Where the escalation flows of a lane run: above the lane's bottom, below every label."""
        return self.lane_tops[lane] + self.lane_hs[lane] - RAIL_BAND / 2 - 4

    def _free(self, pts: Sequence[tuple[float, float]], skip: Iterable[str], f: Flow | None = None) -> bool:
        """Does the path pass through no shape (but those in ``skip``) and no reserved label area, and
        run along no other flow (but one with the same source or target: a common trunk)?"""
        skip = set(skip)
        for a, b in itertools.pairwise(pts):
            if f is not None and any(_collinear(a, b, c, d) for src, tgt, c, d in self.taken
                                     if src != f.source and tgt != f.target):
                return False
            for nid, box in self.boxes.items():
                if nid not in skip and box.hit(a, b):
                    return False
            if any(box.hit(a, b) for box in self.reserved):
                return False
        return True

    def gaps(self, after: int, before: int) -> list[float]:
        """x of the column borders right of column ``after`` and left of column ``before``."""
        return [self.col_left[c + 1] for c in range(after, before)]

    def route(self, f: Flow) -> list[tuple[float, float]]:
        s, t = self.boxes[f.source], self.boxes[f.target]
        skip = {f.source, f.target}
        sright, tleft = (s.x + s.w, s.cy), (t.x, t.cy)
        cands: list[list[tuple[float, float]]] = []
        scol, tcol = self.col_of[f.source], self.col_of[f.target]
        if t.cx > s.cx:
            if abs(s.cy - t.cy) < 1:
                cands.append([sright, tleft])
            s_edge_y = s.y if t.cy < s.cy else s.y + s.h
            t_edge_y = t.y + t.h if t.cy < s.cy else t.y
            if s.w == 50:  # gateways leave vertically towards another lane
                cands.append([(s.cx, s_edge_y), (s.cx, t.cy), tleft])
            hvh = [[sright, (x, s.cy), (x, t.cy), tleft] for x in self.gaps(scol, tcol)]
            into_top = [sright, (t.cx, s.cy), (t.cx, t_edge_y)]
            # events leave to the right (a notification between two tasks must not reuse its way in)
            cands += [*hvh, into_top] if s.w == 36 else [into_top, *hvh]
            if s.w == 36 and abs(s.cy - t.cy) >= 1:  # boundary events leave downwards
                cands.append([(s.cx, s.y + s.h), (s.cx, t.cy), tleft])
            # round the shapes in the way: along the top of the target's lane, down (or up) into it
            for lane in (self.lane_of[f.target], self.lane_of[f.source]):
                yr = self.lane_top(lane) + LOOP_DY
                into = [(t.cx, yr), (t.cx, t.y)] if yr < t.y else [(t.cx, yr), (t.cx, t.y + t.h)]
                cands += [[sright, (x, s.cy), (x, yr), *into] for x in self.gaps(scol, tcol)]
        else:
            if abs(s.cx - t.cx) < 1 and abs(s.cy - t.cy) >= 1:  # one column: straight up or down
                cands.append([(s.cx, s.y), (t.cx, t.y + t.h)] if t.cy < s.cy else [(s.cx, s.y + s.h), (t.cx, t.y)])
            # loop back: out to the right, along the top of the target's (or the source's) lane, down
            # into the target; a border further right when the first is taken
            outs = self.gaps(scol, len(self.col_left) - 2) or [s.x + s.w + COL_GAP / 2]
            for out_x in outs:
                for lane in (self.lane_of[f.target], self.lane_of[f.source]):
                    yr = self.lane_top(lane) + LOOP_DY
                    into = [(t.cx, yr), (t.cx, t.y)] if yr < t.y else [(t.cx, yr), (t.cx, t.y + t.h)]
                    cands.append([sright, (out_x, s.cy), (out_x, yr), *into])
        chosen = next((c for c in cands if self._free(c, skip, f)), None)
        chosen = chosen or next((c for c in cands if self._free(c, skip)), None)
        chosen = chosen or (cands[-1] if t.cx > s.cx else cands[0])
        self.taken += [(f.source, f.target, a, b) for a, b in itertools.pairwise(chosen)]
        return chosen

    def escalation_route(self, n: Node) -> list[tuple[float, float]]:
        """Down from the timer to the lane's rail, along it to the lane's escalation end."""
        tb, eb = self.boxes[self.timer_id(n)], self.boxes[self.escalation_target(n.lane)]
        return [(tb.cx, tb.y + tb.h), (tb.cx, eb.cy), (eb.x, eb.cy)]

    def build(self) -> etree._ElementTree:
        p = self.proc
        defs = etree.Element(
            q(BPMN, "definitions"),
            nsmap=NSMAP,
            id=f"Definitions_{p.id.replace('-', '_')}",
            targetNamespace="http://bpmn.io/schema/bpmn",
            exporter="alur tools/bpmn_layout.py",
            exporterVersion="2.0",
        )
        for m in sorted({n.message for n in p.nodes if n.message}):
            etree.SubElement(defs, q(BPMN, "message"), id=f"Message_{m}", name=m)
        collab_id = f"Collaboration_{p.id.replace('-', '_')}"
        part_id = f"Participant_{p.id.replace('-', '_')}"
        collab = etree.SubElement(defs, q(BPMN, "collaboration"), id=collab_id)
        etree.SubElement(collab, q(BPMN, "participant"), id=part_id, name=p.participant, processRef=p.id)

        proc = etree.SubElement(defs, q(BPMN, "process"), id=p.id, name=p.name, isExecutable="true")
        etree.SubElement(proc, q(BPMN, "documentation")).text = p.documentation
        _props(proc, p.props)
        lane_set = etree.SubElement(proc, q(BPMN, "laneSet"), id=f"LaneSet_{p.id.replace('-', '_')}")
        lane_els = {}
        for lane in p.lanes:
            lane_els[lane] = etree.SubElement(lane_set, q(BPMN, "lane"), id=lane_id(lane), name=lane)
        for nid, lane in self.lane_of.items():
            etree.SubElement(lane_els[lane], q(BPMN, "flowNodeRef")).text = nid

        incoming: dict[str, list[str]] = {}
        outgoing: dict[str, list[str]] = {}
        for f in self.flows:
            outgoing.setdefault(f.source, []).append(f.id)
            incoming.setdefault(f.target, []).append(f.id)
        for n in p.nodes:
            if n.timer:
                outgoing.setdefault(self.timer_id(n), []).append(f"Flow_{self.timer_id(n)}")
                incoming.setdefault(self.escalation_target(n.lane), []).append(f"Flow_{self.timer_id(n)}")

        for n in p.nodes:
            attrs = {"id": n.id, "name": n.name}
            if n.kind == "exclusiveGateway":
                defaults = [f.id for f in p.flows if f.source == n.id and f.default]
                if defaults:
                    attrs["default"] = defaults[0]
            if n.kind == "callActivity" and n.called:
                attrs["calledElement"] = n.called
            el = etree.SubElement(proc, q(BPMN, n.kind), attrs)
            if n.form_key:
                el.set(q(CAMUNDA, "formKey"), n.form_key)
            if n.doc:
                etree.SubElement(el, q(BPMN, "documentation")).text = n.doc
            _props(el, n.props)
            for fid in incoming.get(n.id, []):
                etree.SubElement(el, q(BPMN, "incoming")).text = fid
            for fid in outgoing.get(n.id, []):
                etree.SubElement(el, q(BPMN, "outgoing")).text = fid
            if n.message:
                etree.SubElement(
                    el,
                    q(BPMN, "messageEventDefinition"),
                    id=f"MessageDef_{n.id}",
                    messageRef=f"Message_{n.message}",
                )
            if n.cycle:
                ted = etree.SubElement(el, q(BPMN, "timerEventDefinition"), id=f"TimerDef_{n.id}")
                tc = etree.SubElement(ted, q(BPMN, "timeCycle"))
                tc.set(q(XSI, "type"), "bpmn:tFormalExpression")
                tc.text = n.cycle
            if n.timer:
                self._timer(proc, n)
            if n.deadline:
                self._deadline(proc, n, outgoing[self.deadline_id(n)])
        for lane in self.sla_lanes:
            if self.merged(lane):
                merge = etree.SubElement(proc, q(BPMN, "exclusiveGateway"), id=self.sla_merge_id(lane))
                for fid in incoming.get(self.sla_merge_id(lane), []):
                    etree.SubElement(merge, q(BPMN, "incoming")).text = fid
                etree.SubElement(merge, q(BPMN, "outgoing")).text = f"Flow_{self.sla_merge_id(lane)}"
                incoming[self.sla_end_id(lane)] = [f"Flow_{self.sla_merge_id(lane)}"]
            end = etree.SubElement(proc, q(BPMN, "endEvent"), id=self.sla_end_id(lane), name=self.sla_end_name(lane))
            etree.SubElement(end, q(BPMN, "documentation")).text = (
                f"Where the SLA timers of lane {lane} end. The escalation itself is the timer's: when it fires, "
                "Alur mails the role named by its eskalasi_ke property and records the escalation in the case "
                "history; the task stays open (non-interrupting timer)."
            )
            for fid in incoming.get(self.sla_end_id(lane), []):
                etree.SubElement(end, q(BPMN, "incoming")).text = fid
        for f in self.flows:
            el = etree.SubElement(
                proc, q(BPMN, "sequenceFlow"), id=f.id, sourceRef=f.source, targetRef=f.target
            )
            if f.name:
                el.set("name", f.name)
            if f.condition:
                ce = etree.SubElement(el, q(BPMN, "conditionExpression"))
                ce.set(q(XSI, "type"), "bpmn:tFormalExpression")
                ce.text = f.condition
        for n in p.nodes:
            if n.timer:
                etree.SubElement(
                    proc,
                    q(BPMN, "sequenceFlow"),
                    id=f"Flow_{self.timer_id(n)}",
                    sourceRef=self.timer_id(n),
                    targetRef=self.escalation_target(n.lane),
                )
        for lane in self.sla_lanes:
            if self.merged(lane):
                etree.SubElement(proc, q(BPMN, "sequenceFlow"), id=f"Flow_{self.sla_merge_id(lane)}",
                                 sourceRef=self.sla_merge_id(lane), targetRef=self.sla_end_id(lane))
        self._di(defs, collab_id, part_id)
        return etree.ElementTree(defs)

    def _timer(self, proc: etree._Element, n: Node) -> None:
        assert n.timer
        b = etree.SubElement(
            proc,
            q(BPMN, "boundaryEvent"),
            id=self.timer_id(n),
            name=self.timer_name(n),
            cancelActivity="false",
            attachedToRef=n.id,
        )
        _props(b, {"eskalasi_ke": n.timer.eskalasi_ke})
        etree.SubElement(b, q(BPMN, "outgoing")).text = f"Flow_{self.timer_id(n)}"
        ted = etree.SubElement(b, q(BPMN, "timerEventDefinition"), id=f"TimerDef_{self.timer_id(n)}")
        td = etree.SubElement(ted, q(BPMN, "timeDuration"))
        td.set(q(XSI, "type"), "bpmn:tFormalExpression")
        td.text = n.timer.duration

    def _deadline(self, proc: etree._Element, n: Node, outgoing: list[str]) -> None:
        """An interrupting timer boundary event: when it fires, the task is cancelled and the case moves on."""
        assert n.deadline
        b = etree.SubElement(
            proc,
            q(BPMN, "boundaryEvent"),
            id=self.deadline_id(n),
            name=self.deadline_name(n),
            cancelActivity="true",
            attachedToRef=n.id,
        )
        for fid in outgoing:
            etree.SubElement(b, q(BPMN, "outgoing")).text = fid
        ted = etree.SubElement(b, q(BPMN, "timerEventDefinition"), id=f"TimerDef_{self.deadline_id(n)}")
        td = etree.SubElement(ted, q(BPMN, "timeDuration"))
        td.set(q(XSI, "type"), "bpmn:tFormalExpression")
        td.text = n.deadline.duration

    def _di(self, defs: etree._Element, collab_id: str, part_id: str) -> None:
        p = self.proc
        diag = etree.SubElement(defs, q(BPMNDI, "BPMNDiagram"), id=f"BPMNDiagram_{p.id.replace('-', '_')}")
        plane = etree.SubElement(diag, q(BPMNDI, "BPMNPlane"), id=f"BPMNPlane_{p.id.replace('-', '_')}")
        plane.set("bpmnElement", collab_id)

        def bounds(parent: etree._Element, box: Box) -> None:
            etree.SubElement(parent, q(DC, "Bounds"), x=f"{box.x:g}", y=f"{box.y:g}", width=f"{box.w:g}",
                             height=f"{box.h:g}")

        def shape(el_id: str, box: Box, horizontal: bool = False, marker: bool = False) -> etree._Element:
            s = etree.SubElement(plane, q(BPMNDI, "BPMNShape"), id=f"{el_id}_di", bpmnElement=el_id)
            if horizontal:
                s.set("isHorizontal", "true")
            if marker:
                s.set("isMarkerVisible", "true")
            bounds(s, box)
            return s

        shape(part_id, Box(P_X, P_Y, self.width, self.height), horizontal=True)
        for lane in p.lanes:
            shape(lane_id(lane), self.lane_box(lane), True)
        routes: dict[str, list[tuple[float, float]]] = {f.id: self.route(f) for f in self.flows}
        for n in p.nodes:
            if n.timer:
                routes[f"Flow_{self.timer_id(n)}"] = self.escalation_route(n)
        for lane in self.sla_lanes:
            if self.merged(lane):
                gb, eb = self.boxes[self.sla_merge_id(lane)], self.boxes[self.sla_end_id(lane)]
                routes[f"Flow_{self.sla_merge_id(lane)}"] = [(gb.x + gb.w, gb.cy), (eb.x, eb.cy)]
        labels = self._labels(routes)

        def label(parent: etree._Element, el_id: str) -> None:
            if el_id in labels:
                text, width = labels[el_id]  # the text is centred in its bounds' width
                bounds(etree.SubElement(parent, q(BPMNDI, "BPMNLabel")),
                       Box(text.x - (width - text.w) / 2, text.y, width, text.h))

        kinds = {n.id: n.kind for n in p.nodes}
        for nid, box in self.boxes.items():
            merge = nid.startswith("Gateway_SLA_")
            label(shape(nid, box, marker=kinds.get(nid) == "exclusiveGateway" or merge), nid)

        for fid, pts in routes.items():
            e = etree.SubElement(plane, q(BPMNDI, "BPMNEdge"), id=f"{fid}_di", bpmnElement=fid)
            for x, y in pts:
                etree.SubElement(e, q(DI, "waypoint"), x=f"{x:g}", y=f"{y:g}")
            label(e, fid)

    def _labels(self, routes: dict[str, list[tuple[float, float]]]) -> dict[str, tuple[Box, float]]:
        """Place every external label (events, gateways, named flows) where its text overlaps no shape, no
        flow and no other label, inside its lane (flows: inside the pool); else where it clashes least.

        Returns each label's text box and the width of its bounds: bpmn-js wraps the text at that width
        and centres every line in it, from the bounds' top."""
        p = self.proc
        obstacles = dict(self.boxes)
        segments = [(a, b) for pts in routes.values() for a, b in itertools.pairwise(pts)]
        segments += [  # lane borders: a label stays in one lane
            ((P_X + HEADER_W, self.lane_top(lane)), (P_X + self.width, self.lane_top(lane))) for lane in p.lanes[1:]
        ]
        pool = Box(P_X + HEADER_W + LANE_HEADER_W, P_Y, self.width - HEADER_W - LANE_HEADER_W, self.height)
        placed: dict[str, Box] = {}
        widths: dict[str, float] = {}
        Cands = Sequence[tuple[Box, float]]

        def clashes(c: Box, area: Box) -> int:
            return (
                (0 if c.inside(area) else 1)
                + sum(c.overlaps(o) for o in obstacles.values())
                + sum(c.overlaps(o) for o in placed.values())
                + sum(c.hit(a, b) for a, b in segments)
            )

        def place(el_id: str, cands: Cands, area: Box) -> None:
            """The first candidate that clashes with nothing, else the one with the fewest clashes."""
            best: tuple[int, Box, float] | None = None
            for c, width in cands:
                n = clashes(c, area)
                if n == 0:
                    best = (n, c, width)
                    break
                if best is None or n < best[0]:
                    best = (n, c, width)
            if best:
                placed[el_id], widths[el_id] = best[1], best[2]

        def lane_area(nid: str) -> Box:
            b = self.lane_box(self.lane_of[nid])
            return Box(b.x + LANE_HEADER_W, b.y, b.w - LANE_HEADER_W, b.h)

        def around(b: Box, text: str) -> Cands:
            """below (bpmn-js's default), above, the four corners, then further out; then wider."""
            out = []
            for width, d in itertools.product(LABEL_WIDTHS, (4, 14, 26)):
                w, h = label_size(text, width)
                out += [(c, width) for c in (
                    Box(b.cx - w / 2, b.y + b.h + d, w, h),
                    Box(b.cx - w / 2, b.y - d - h, w, h),
                    Box(b.x - w - d + 8, b.y + b.h - 2 + d, w, h),
                    Box(b.x - w - d + 8, b.y - h + 2 - d, w, h),
                    Box(b.x + b.w + d - 8, b.y + b.h - 2 + d, w, h),
                    Box(b.x + b.w + d - 8, b.y - h + 2 - d, w, h),
                    Box(b.x - w - d, b.cy - h / 2, w, h),
                    Box(b.x + b.w + d, b.cy - h / 2, w, h),
                )]
            return out

        def beside(b: Box, text: str, top: float) -> Cands:
            """left of b, then right of it, from ``top`` down."""
            w, h = label_size(text)
            return [(Box(b.x - 4 - w, top + dy, w, h), LABEL_W) for dy in (0, 6)] + [
                (Box(b.x + b.w + 4, top, w, h), LABEL_W)]

        for n in p.nodes:
            if n.kind in ("startEvent", "endEvent", "intermediateThrowEvent", "exclusiveGateway") and n.name:
                place(n.id, around(self.boxes[n.id], n.name), lane_area(n.id))
        for n in p.nodes:
            event = self.timer_id(n) if n.timer else self.deadline_id(n) if n.deadline else None
            if event:
                name = self.timer_name(n) if n.timer else self.deadline_name(n)
                task, eb = self.boxes[n.id], self.boxes[event]
                place(event, [*beside(eb, name, task.y + task.h + 2), *around(eb, name)], lane_area(event))
        for lane in self.sla_lanes:
            end_id = self.sla_end_id(lane)
            place(end_id, around(self.boxes[end_id], self.sla_end_name(lane)), lane_area(end_id))

        def shared(a: tuple[float, float], b: tuple[float, float], fid: str) -> bool:
            """Does another flow run along the segment a-b (a common trunk)?"""
            for other, pts in routes.items():
                if other == fid:
                    continue
                for c, d in itertools.pairwise(pts):
                    if a[0] == b[0] == c[0] == d[0] and min(a[1], b[1]) < max(c[1], d[1]) and \
                            min(c[1], d[1]) < max(a[1], b[1]):
                        return True
                    if a[1] == b[1] == c[1] == d[1] and min(a[0], b[0]) < max(c[0], d[0]) and \
                            min(c[0], d[0]) < max(a[0], b[0]):
                        return True
            return False

        for f in p.flows:
            if not f.name:
                continue
            pts = routes[f.id]
            segs = list(itertools.pairwise(pts))
            # the two segments nearest the gateway, the last, then the longest; never a common trunk
            rest = sorted(segs[2:-1], key=lambda s: -abs(s[1][0] - s[0][0]) - abs(s[1][1] - s[0][1]))
            order = list(dict.fromkeys([*segs[:2], *segs[2:][-1:], *rest]))
            cands: list[tuple[Box, float]] = []
            for (a, b), width in itertools.product(order, LABEL_WIDTHS):
                w, h = label_size(f.name, width)
                if shared(a, b, f.id):
                    continue
                if a[1] == b[1]:  # horizontal: above, then below, from the end nearest the source
                    lo, hi = sorted((a[0], b[0]))
                    if hi - lo < w + 10:
                        continue
                    xs = (lo + 5, hi - 5 - w) if a[0] <= b[0] else (hi - 5 - w, lo + 5)
                    cands += [(Box(x, a[1] + dy, w, h), width) for x in xs for dy in (-3 - h, 3)]
                else:  # vertical: right, then left, from the end nearest the source
                    lo, hi = sorted((a[1], b[1]))
                    if hi - lo < h + 10:
                        continue
                    ys = [lo + 5, (lo + hi - h) / 2, hi - 5 - h]
                    ys = ys if a[1] <= b[1] else ys[::-1]
                    cands += [(Box(a[0] + dx, y, w, h), width) for y in ys for dx in (4, -4 - w)]
            if not cands:  # fall back to the middle of the first segment
                (a, b), (w, h) = segs[0], label_size(f.name)
                cands = [(Box((a[0] + b[0]) / 2 - w / 2, (a[1] + b[1]) / 2 - h - 3, w, h), LABEL_W)]
            place(f.id, cands, pool)
        return {el_id: (box, widths[el_id]) for el_id, box in placed.items()}


def write(proc: Process, path: str) -> None:
    tree = Layout(proc).build()
    etree.indent(tree, space="  ")
    tree.write(path, xml_declaration=True, encoding="UTF-8", pretty_print=True)
