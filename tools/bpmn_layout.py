"""Lay out an executable BPMN 2.0 diagram with swimlanes from a compact description.

This is how the SOP diagrams in ``bpmn/`` were first produced (see ``tools/sop_diagrams.py``).
The committed ``.bpmn`` files are the source of truth; this tool is only a generator.

Conventions (DESIGN.md §3): one executable process, a collaboration with one participant whose
lanes are named after roles, Camunda 7 extensions (``camunda:formKey``, ``camunda:properties``),
a non-interrupting timer boundary event per SOP "Waktu" leading to an "Eskalasi SLA" end event,
exclusive gateways with a default flow, full BPMNDI (horizontal lanes stacked vertically).
"""

from __future__ import annotations

import itertools
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

# geometry
P_X, P_Y = 160, 80  # participant origin
HEADER_W = 30  # participant label band
LANE_H = 210
COL_W = 190
FIRST_COL_X = P_X + HEADER_W + 90  # centre x of column 0
ROW_DY = 70  # node centre below the lane top
LOOP_DY = 8  # loop-back flows run this far below the top of a lane
# external labels (bpmn-js: 11px Arial, line height 1.2, wrapped at the label's width)
LABEL_W = 90
LINE_H = 13.2
CHAR_W = 6.2  # a generous average advance of 11px Arial, so that estimated labels are never too small
TASK_TEXT_OVERFLOW = 10  # long task names spill this far above and below a 100x80 task
SIZES: dict[str, tuple[int, int]] = {
    "userTask": (100, 80),
    "callActivity": (100, 80),
    "exclusiveGateway": (50, 50),
    "startEvent": (36, 36),
    "endEvent": (36, 36),
    "intermediateThrowEvent": (36, 36),
    "boundaryEvent": (36, 36),
}


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


def text_height(text: str, width: float) -> float:
    """Height of ``text`` wrapped at ``width`` as bpmn-js lays out an external label (an estimate)."""
    lines, cur = 0, 0.0
    for para in text.split("\n"):
        lines += 1
        cur = 0.0
        for word in para.split():
            w = len(word) * CHAR_W
            if cur and cur + CHAR_W + w > width:
                lines += 1
                cur = w
            else:
                cur += (CHAR_W if cur else 0) + w
            while cur > width:  # a word longer than the line is broken
                lines += 1
                cur -= width
    return lines * LINE_H + 4


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


class Layout:
    def __init__(self, proc: Process) -> None:
        self.proc = proc
        self.lane_index = {name: i for i, name in enumerate(proc.lanes)}
        self.boxes: dict[str, Box] = {}
        self.lane_of: dict[str, str] = {}
        self.reserved: list[Box] = []  # label areas that flows avoid
        ncols = max(n.col for n in proc.nodes) + 1
        self.width = HEADER_W + 90 + ncols * COL_W
        seen: set[tuple[str, int]] = set()
        for n in proc.nodes:
            if (n.lane, n.col) in seen:
                raise ValueError(f"{proc.id}: two nodes in lane {n.lane} column {n.col}")
            seen.add((n.lane, n.col))
            w, h = SIZES[n.kind]
            cx = FIRST_COL_X + n.col * COL_W
            cy = self.lane_top(n.lane) + ROW_DY
            self.boxes[n.id] = Box(cx - w / 2, cy - h / 2, w, h)
            self.lane_of[n.id] = n.lane
            if n.timer:
                tb = self.boxes[n.id]
                # on the right of the task's bottom border (clear of the name), its SLA end below it
                self.boxes[self.timer_id(n)] = Box(tb.x + tb.w - 38, tb.y + tb.h - 18, 36, 36)
                self.boxes[self.sla_end_id(n)] = Box(tb.x + tb.w - 38, tb.y + tb.h + 46, 36, 36)
                self.lane_of[self.timer_id(n)] = n.lane
                self.lane_of[self.sla_end_id(n)] = n.lane
                # kept clear of flows: the timer's and the SLA end's labels go left of them
                self.reserved.append(Box(tb.x - 32, tb.y + tb.h, tb.w + 30, LANE_H - ROW_DY - tb.h / 2 - 4))
            if n.deadline:
                if n.timer:
                    raise ValueError(f"{proc.id}: {n.id} has both an SLA timer and a deadline")
                tb = self.boxes[n.id]
                self.boxes[self.deadline_id(n)] = Box(tb.x + tb.w - 38, tb.y + tb.h - 18, 36, 36)
                self.lane_of[self.deadline_id(n)] = n.lane
                self.reserved.append(Box(tb.x - 32, tb.y + tb.h, tb.w + 30, LANE_H - ROW_DY - tb.h / 2 - 4))
        #: the diagram's flows plus the flow out of each deadline boundary event
        self.flows: list[Flow] = [*proc.flows, *(
            Flow(self.deadline_id(n), n.deadline.target) for n in proc.nodes if n.deadline)]

    @staticmethod
    def timer_id(n: Node) -> str:
        return f"Timer_{n.id}"

    @staticmethod
    def sla_end_id(n: Node) -> str:
        return f"End_SLA_{n.id}"

    @staticmethod
    def deadline_id(n: Node) -> str:
        return f"Deadline_{n.id}"

    @staticmethod
    def deadline_name(n: Node) -> str:
        assert n.deadline
        return f"Batas waktu Pelapor: {n.deadline.waktu}"

    @staticmethod
    def timer_name(n: Node) -> str:
        assert n.timer
        return f"Batas waktu {n.props.get('waktu', n.timer.duration)}"

    @staticmethod
    def sla_end_name(n: Node) -> str:
        assert n.timer
        return f"Eskalasi SLA langkah {n.props.get('langkah', '')} ke {n.timer.eskalasi_ke}".replace("  ", " ")

    def lane_top(self, lane: str) -> float:
        return P_Y + self.lane_index[lane] * LANE_H

    def _free(self, pts: Sequence[tuple[float, float]], skip: Iterable[str]) -> bool:
        skip = set(skip)
        for a, b in itertools.pairwise(pts):
            for nid, box in self.boxes.items():
                if nid not in skip and box.hit(a, b):
                    return False
            if any(box.hit(a, b) for box in self.reserved):
                return False
        return True

    def route(self, f: Flow) -> list[tuple[float, float]]:
        s, t = self.boxes[f.source], self.boxes[f.target]
        skip = {f.source, f.target}
        sright, tleft = (s.x + s.w, s.cy), (t.x, t.cy)
        cands: list[list[tuple[float, float]]] = []
        if t.cx > s.cx:
            if abs(s.cy - t.cy) < 1:
                cands.append([sright, tleft])
            s_edge_y = s.y if t.cy < s.cy else s.y + s.h
            t_edge_y = t.y + t.h if t.cy < s.cy else t.y
            if s.w == 50:  # gateways leave vertically towards another lane
                cands.append([(s.cx, s_edge_y), (s.cx, t.cy), tleft])
            hvh = []
            gap_x = s.cx + COL_W / 2  # middle of the gap between two columns
            while gap_x < t.x:
                hvh.append([sright, (gap_x, s.cy), (gap_x, t.cy), tleft])
                gap_x += COL_W
            into_top = [sright, (t.cx, s.cy), (t.cx, t_edge_y)]
            # events leave to the right (a notification between two tasks must not reuse its way in)
            cands += [*hvh, into_top] if s.w == 36 else [into_top, *hvh]
        else:  # loop back: over the top of the target's (or the source's) lane
            out_x = s.cx + COL_W / 2
            for lane in (self.lane_of[f.target], self.lane_of[f.source]):
                yr = self.lane_top(lane) + LOOP_DY
                cands.append([sright, (out_x, s.cy), (out_x, yr), (t.cx, yr), (t.cx, t.y)])
        for c in cands:
            if self._free(c, skip):
                return c
        return cands[-1] if t.cx > s.cx else cands[0]

    def build(self) -> etree._ElementTree:
        p = self.proc
        defs = etree.Element(
            q(BPMN, "definitions"),
            nsmap=NSMAP,
            id=f"Definitions_{p.id.replace('-', '_')}",
            targetNamespace="http://bpmn.io/schema/bpmn",
            exporter="alur tools/bpmn_layout.py",
            exporterVersion="1.0",
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
                incoming.setdefault(self.sla_end_id(n), []).append(f"Flow_{self.timer_id(n)}")

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
                    targetRef=self.sla_end_id(n),
                )
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
        end = etree.SubElement(proc, q(BPMN, "endEvent"), id=self.sla_end_id(n), name=self.sla_end_name(n))
        etree.SubElement(end, q(BPMN, "incoming")).text = f"Flow_{self.timer_id(n)}"

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

        def shape(el_id: str, box: Box, horizontal: bool = False, marker: bool = False) -> etree._Element:
            s = etree.SubElement(plane, q(BPMNDI, "BPMNShape"), id=f"{el_id}_di", bpmnElement=el_id)
            if horizontal:
                s.set("isHorizontal", "true")
            if marker:
                s.set("isMarkerVisible", "true")
            etree.SubElement(
                s, q(DC, "Bounds"), x=f"{box.x:g}", y=f"{box.y:g}", width=f"{box.w:g}", height=f"{box.h:g}"
            )
            return s

        total_h = LANE_H * len(p.lanes)
        shape(part_id, Box(P_X, P_Y, self.width, total_h), horizontal=True)
        for lane in p.lanes:
            shape(
                lane_id(lane), Box(P_X + HEADER_W, self.lane_top(lane), self.width - HEADER_W, LANE_H), True
            )
        routes: dict[str, list[tuple[float, float]]] = {f.id: self.route(f) for f in self.flows}
        for n in p.nodes:
            if n.timer:
                tb, eb = self.boxes[self.timer_id(n)], self.boxes[self.sla_end_id(n)]
                routes[f"Flow_{self.timer_id(n)}"] = [(tb.cx, tb.y + tb.h), (eb.cx, eb.y)]
        labels = self._labels(routes)

        def label(parent: etree._Element, el_id: str) -> None:
            if el_id in labels:
                b = labels[el_id]
                lab = etree.SubElement(parent, q(BPMNDI, "BPMNLabel"))
                etree.SubElement(
                    lab, q(DC, "Bounds"), x=f"{b.x:g}", y=f"{b.y:g}", width=f"{b.w:g}", height=f"{b.h:g}"
                )

        kinds = {n.id: n.kind for n in p.nodes}
        for nid, box in self.boxes.items():
            label(shape(nid, box, marker=kinds.get(nid) == "exclusiveGateway"), nid)

        for fid, pts in routes.items():
            e = etree.SubElement(plane, q(BPMNDI, "BPMNEdge"), id=f"{fid}_di", bpmnElement=fid)
            for x, y in pts:
                etree.SubElement(e, q(DI, "waypoint"), x=f"{x:g}", y=f"{y:g}")
            label(e, fid)

    def _labels(self, routes: dict[str, list[tuple[float, float]]]) -> dict[str, Box]:
        """Place every external label (events, gateways, named flows) where it overlaps no shape, no
        flow and no other label, inside its lane (flows: inside the pool); else at its first choice."""
        p = self.proc
        kinds = {n.id: n.kind for n in p.nodes}
        obstacles = {
            nid: Box(b.x, b.y - TASK_TEXT_OVERFLOW, b.w, b.h + 2 * TASK_TEXT_OVERFLOW)
            if kinds.get(nid) in ("userTask", "callActivity")
            else b
            for nid, b in self.boxes.items()
        }
        segments = [(a, b) for pts in routes.values() for a, b in itertools.pairwise(pts)]
        segments += [  # lane borders: a label stays in one lane
            ((P_X + HEADER_W, self.lane_top(lane)), (P_X + self.width, self.lane_top(lane))) for lane in p.lanes[1:]
        ]
        pool = Box(P_X + HEADER_W, P_Y, self.width - HEADER_W, LANE_H * len(p.lanes))
        placed: dict[str, Box] = {}

        def clashes(c: Box, area: Box, own: str) -> int:
            return (
                (0 if c.inside(area) else 1)
                + sum(c.overlaps(o) for nid, o in obstacles.items() if nid != own)
                + sum(c.overlaps(o) for o in placed.values())
                + sum(c.hit(a, b) for a, b in segments)
            )

        def place(el_id: str, cands: Sequence[Box], area: Box) -> None:
            """The first candidate that clashes with nothing, else the one with the fewest clashes."""
            best: tuple[int, Box] | None = None
            for c in cands:
                n = clashes(c, area, el_id)
                if n == 0:
                    placed[el_id] = c
                    return
                if best is None or n < best[0]:
                    best = (n, c)
            if best:
                placed[el_id] = best[1]

        def lane_box(nid: str) -> Box:
            return Box(P_X + HEADER_W, self.lane_top(self.lane_of[nid]), self.width - HEADER_W, LANE_H)

        def around(b: Box, text: str) -> list[Box]:
            """below, above, then the four corners (the default of bpmn-js is below); then wider."""
            out = []
            for w in (LABEL_W, 130):
                h = text_height(text, w)
                out += [
                    Box(b.cx - w / 2, b.y + b.h + 4, w, h),
                    Box(b.cx - w / 2, b.y - 4 - h, w, h),
                    Box(b.x - w + 8, b.y + b.h - 2, w, h),
                    Box(b.x - w + 8, b.y - h + 2, w, h),
                    Box(b.x + b.w - 8, b.y + b.h - 2, w, h),
                    Box(b.x + b.w - 8, b.y - h + 2, w, h),
                ]
            return out

        def beside(b: Box, text: str, top: float) -> list[Box]:
            """left of b, then right of it, from ``top`` down; narrower if need be."""
            out = []
            for w in (LABEL_W, 70):
                h = text_height(text, w)
                out += [Box(b.x - 4 - w, top, w, h), Box(b.x + b.w + 4, top, w, h)]
            return out

        for n in p.nodes:
            if n.kind in ("startEvent", "endEvent", "intermediateThrowEvent", "exclusiveGateway") and n.name:
                place(n.id, around(self.boxes[n.id], n.name), lane_box(n.id))
        for n in p.nodes:
            if n.timer:
                task, tb, eb = self.boxes[n.id], self.boxes[self.timer_id(n)], self.boxes[self.sla_end_id(n)]
                tid, eid = self.timer_id(n), self.sla_end_id(n)
                place(tid, beside(tb, self.timer_name(n), task.y + task.h + TASK_TEXT_OVERFLOW + 1), lane_box(tid))
                place(eid, [*beside(eb, self.sla_end_name(n), eb.y - 2), *around(eb, self.sla_end_name(n))],
                      lane_box(eid))
            if n.deadline:
                task, db = self.boxes[n.id], self.boxes[self.deadline_id(n)]
                did = self.deadline_id(n)
                place(did, beside(db, self.deadline_name(n), task.y + task.h + TASK_TEXT_OVERFLOW + 1), lane_box(did))

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
            # the first segment (nearest the gateway), the last, then the longest; never a common trunk
            middle = sorted(segs[1:-1], key=lambda s: -abs(s[1][0] - s[0][0]) - abs(s[1][1] - s[0][1]))
            order = [segs[0], *segs[1:][-1:], *middle]
            cands: list[Box] = []
            for a, b in order:
                if shared(a, b, f.id):
                    continue
                if a[1] == b[1]:  # horizontal: above, then below, from the end nearest the source
                    lo, hi = sorted((a[0], b[0]))
                    w = min(130, hi - lo - 10)
                    if w < 40:
                        continue
                    h = text_height(f.name, w)
                    xs = (lo + 5, hi - 5 - w) if a[0] <= b[0] else (hi - 5 - w, lo + 5)
                    cands += [Box(x, a[1] + dy, w, h) for x in xs for dy in (-3 - h, 3)]
                else:  # vertical: right, then left, at the end nearest the source
                    h = text_height(f.name, LABEL_W)
                    lo, hi = sorted((a[1], b[1]))
                    if hi - lo < h + 10:
                        continue
                    y = lo + 5 if a[1] <= b[1] else hi - 5 - h
                    cands += [Box(a[0] + 4, y, LABEL_W, h), Box(a[0] - 4 - LABEL_W, y, LABEL_W, h)]
            if not cands:  # fall back to the middle of the first segment
                (a, b), h = segs[0], text_height(f.name, LABEL_W)
                cands = [Box((a[0] + b[0]) / 2 - LABEL_W / 2, (a[1] + b[1]) / 2 - h - 3, LABEL_W, h)]
            place(f.id, cands, pool)
        return placed


def write(proc: Process, path: str) -> None:
    tree = Layout(proc).build()
    etree.indent(tree, space="  ")
    tree.write(path, xml_declaration=True, encoding="UTF-8", pretty_print=True)
