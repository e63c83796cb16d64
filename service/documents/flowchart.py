"""The flowchart of the SOP document: one column per Pelaksana (lane), one row per step.

Each row's lane cells are one inline SVG (in millimetres) with the step's symbol in its lane's column
— terminator (rounded) for the first and last steps, process box, decision diamond where the diagram
branches — and the connectors that pass through the row, so the arrows run from row to row as on the
printed SOPs (Permenpan RB 35/2012). Links come from the diagram's sequence flows: from a step through
gateways and events to the next steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

from lxml import etree

from service.engine.deploy_checks import NS

TERMINATOR, PROCESS, DECISION = "terminator", "process", "decision"
END = ""  # a link target: the process ends
_SPLITS = ("exclusiveGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway")
_SKIPPED = ("boundaryEvent",)
BOX_H, DIAMOND_H = 7.0, 10.0
MIN_ROW_H = 17.0
_FONT = 2.4  # mm
_GAP = 1.8  # between a symbol and a connector running beside it


@dataclass(frozen=True)
class Link:
    source: int  # row index
    target: int | None  # row index; None: the process ends
    label: str


def _local(tag: str) -> str:
    return etree.QName(tag).localname


def analyse(main: etree._Element, row_ids: Sequence[str]) -> tuple[list[Link], list[str]]:
    """The links between the rows (row indexes in ``row_ids`` order) and each row's symbol."""
    nodes = {node.get("id"): _local(node.tag) for node in main.iter() if node.get("id")}
    outgoing: dict[str, list[tuple[str, str]]] = {}
    for flow in main.xpath(".//bpmn:sequenceFlow", namespaces=NS):
        target, name = flow.get("targetRef"), (flow.get("name") or "").strip()
        outgoing.setdefault(flow.get("sourceRef"), []).append((target, name))
    index = {element_id: number for number, element_id in enumerate(row_ids)}
    links: list[Link] = []
    symbols: list[str] = []
    for number, element_id in enumerate(row_ids):
        found: dict[int | None, str] = {}
        branches = False
        pending = [(target, name) for target, name in reversed(outgoing.get(element_id, []))]
        seen: set[str] = set()
        while pending:
            node, label = pending.pop()
            if node in seen or nodes.get(node) in _SKIPPED:
                continue
            seen.add(node)
            if node in index:
                found.setdefault(index[node], label)
                continue
            after = outgoing.get(node, [])
            branches = branches or (nodes.get(node) in _SPLITS and len(after) > 1)
            if not after and nodes.get(node) == "endEvent":
                found.setdefault(None, label)
            pending.extend((target, label or name) for target, name in reversed(after))
        links += [Link(number, target, label) for target, label in found.items() if target != number]
        rows_after = [target for target in found if target is not None]
        if branches and len(found) > 1:
            symbols.append(DECISION)
        elif nodes.get(element_id) == "startEvent" or not rows_after:
            symbols.append(TERMINATOR)
        else:
            symbols.append(PROCESS)
    if symbols and not any(nodes.get(element_id) == "startEvent" for element_id in row_ids[:1]) \
            and not any(link.target == 0 for link in links) and symbols[0] == PROCESS:
        symbols[0] = TERMINATOR  # the first step opens the chart
    return links, symbols


@dataclass(frozen=True)
class RowShape:
    lane: int  # column
    symbol: str
    text: str  # printed inside the symbol (the step number)
    height: float  # mm
    done: bool = False  # a step the case went through: drawn filled, with a bold outline (the case file)


class _Canvas:
    def __init__(self, rows: Sequence[RowShape], lane_width: float, lanes: int) -> None:
        self.rows, self.lane_w, self.lanes = rows, lane_width, lanes
        self.items: list[list[str]] = [[] for _ in rows]
        self.tracks: dict[tuple[int, str], int] = {}
        self.labels: dict[int, int] = {}  # labels placed beside a row's symbol so far
        self.symbol_w = min(lane_width * 0.64, 22.0)

    def cx(self, row: int) -> float:
        return self.rows[row].lane * self.lane_w + self.lane_w / 2

    def half_h(self, row: int) -> float:
        return (DIAMOND_H if self.rows[row].symbol == DECISION else BOX_H) / 2

    def mid(self, row: int) -> float:
        return self.rows[row].height / 2

    def track(self, column: int, side: str) -> float:
        count = self.tracks.get((column, side), 0)
        self.tracks[(column, side)] = count + 1
        offset = self.symbol_w / 2 + _GAP + count * 1.4
        centre = column * self.lane_w + self.lane_w / 2
        low, high = column * self.lane_w + 0.8, (column + 1) * self.lane_w - 0.8
        return max(low, min(high, centre + offset if side == "right" else centre - offset))

    def line(self, row: int, *points: tuple[float, float]) -> None:
        text = " ".join(f"{x:.2f},{y:.2f}" for x, y in points)
        self.items[row].append(f'<polyline class="link" points="{text}" {_LINK}/>')

    def arrow(self, row: int, x: float, y: float, direction: str) -> None:
        d = 1.3
        points = {"down": ((x - d, y - 2 * d), (x + d, y - 2 * d)), "right": ((x - 2 * d, y - d), (x - 2 * d, y + d)),
                  "left": ((x + 2 * d, y - d), (x + 2 * d, y + d))}[direction]
        text = " ".join(f"{px:.2f},{py:.2f}" for px, py in (*points, (x, y)))
        self.items[row].append(f'<polygon class="arrow" points="{text}" fill="#000"/>')

    def label(self, row: int, x: float, y: float, text: str, anchor: str = "start", stacked: bool = False) -> None:
        if stacked:  # several branches leave beside the symbol: one label under the other
            count = self.labels.get(row, 0)
            self.labels[row] = count + 1
            y -= count * 2.6
        short = text if len(text) <= 22 else text[:21] + "…"
        self.items[row].append(f'<text class="label" x="{x:.2f}" y="{y:.2f}" text-anchor="{anchor}" {_LABEL}>'
                               f'{escape(short)}</text>')

    def connect(self, link: Link) -> None:
        source, target = link.source, link.target
        if target is None:
            return
        sx, tx = self.cx(source), self.cx(target)
        s_bottom = self.mid(source) + self.half_h(source)
        t_top = self.mid(target) - self.half_h(target)
        if target == source + 1:
            self.line(source, (sx, s_bottom), (sx, self.rows[source].height))
            turn = min(1.6, t_top / 2)
            self.line(target, (sx, 0), (sx, turn), (tx, turn), (tx, t_top))
            self.arrow(target, tx, t_top, "down")
            if link.label:
                self.label(source, sx + 1.0, self.rows[source].height - 0.8, link.label)
            return
        if target > source:
            x = self.track(self.rows[source].lane, "right")
            edge = sx + self.symbol_w / 2
            self.line(source, (edge, self.mid(source)), (x, self.mid(source)), (x, self.rows[source].height))
            for row in range(source + 1, target):
                self.line(row, (x, 0), (x, self.rows[row].height))
            turn = min(1.6, t_top / 2)
            self.line(target, (x, 0), (x, turn), (tx, turn), (tx, t_top))
            self.arrow(target, tx, t_top, "down")
            if link.label:
                self.label(source, edge + 0.6, self.mid(source) - 0.8, link.label, stacked=True)
            return
        x = self.track(self.rows[target].lane, "left")  # a loop back: up the left side of the target's column
        edge = sx - self.symbol_w / 2 if x < sx else sx + self.symbol_w / 2
        self.line(source, (edge, self.mid(source)), (x, self.mid(source)), (x, 0))
        for row in range(target + 1, source):
            self.line(row, (x, 0), (x, self.rows[row].height))
        t_edge = tx - self.symbol_w / 2
        self.line(target, (x, self.rows[target].height), (x, self.mid(target)), (t_edge, self.mid(target)))
        self.arrow(target, t_edge, self.mid(target), "right")
        if link.label:
            self.label(source, edge - 0.6 if x < sx else edge + 0.6, self.mid(source) - 0.8, link.label,
                       "end" if x < sx else "start", stacked=True)

    def symbol(self, row: int) -> str:
        shape, x, y, w = self.rows[row], self.cx(row), self.mid(row), self.symbol_w
        look, done = (_SHAPE_DONE, " done") if shape.done else (_SHAPE, "")
        if shape.symbol == DECISION:
            h = DIAMOND_H / 2
            points = f"{x:.2f},{y - h:.2f} {x + w / 2:.2f},{y:.2f} {x:.2f},{y + h:.2f} {x - w / 2:.2f},{y:.2f}"
            outline = f'<polygon class="symbol decision{done}" points="{points}" {look}/>'
        else:
            radius = BOX_H / 2 if shape.symbol == TERMINATOR else 0.4
            outline = (f'<rect class="symbol {shape.symbol}{done}" x="{x - w / 2:.2f}" y="{y - BOX_H / 2:.2f}" '
                       f'width="{w:.2f}" height="{BOX_H:.2f}" rx="{radius:.2f}" ry="{radius:.2f}" {look}/>')
        text = (f'<text class="number" x="{x:.2f}" y="{y + _FONT / 3:.2f}" text-anchor="middle" {_NUMBER}>'
                f'{escape(shape.text)}</text>') if shape.text else ""
        return outline + text

    def svg(self, row: int) -> str:
        width, height = self.lane_w * self.lanes, self.rows[row].height
        grid = "".join(f'<line class="grid" x1="{k * self.lane_w:.2f}" y1="0" x2="{k * self.lane_w:.2f}" '
                       f'y2="{height:.2f}" {_GRID}/>' for k in range(1, self.lanes))
        return (f'<svg xmlns="http://www.w3.org/2000/svg" class="flow" width="{width:.2f}mm" height="{height:.2f}mm" '
                f'viewBox="0 0 {width:.2f} {height:.2f}" preserveAspectRatio="none">'
                f'{grid}{"".join(self.items[row])}{self.symbol(row)}</svg>')


# presentation attributes, not CSS: the SVG renders the same in WeasyPrint and in browsers
_GRID = 'stroke="#000" stroke-width="0.2"'
_LINK = 'fill="none" stroke="#000" stroke-width="0.3"'
_SHAPE = 'fill="#fff" stroke="#000" stroke-width="0.35"'
_SHAPE_DONE = 'fill="#bdbdbd" stroke="#000" stroke-width="0.9"'  # grey and bold: legible in black and white
_NUMBER = f'font-family="Liberation Sans, DejaVu Sans, sans-serif" font-size="{_FONT}" font-weight="bold"'
_LABEL = 'font-family="Liberation Sans, DejaVu Sans, sans-serif" font-size="2.1" font-style="italic"'


def draw(rows: Sequence[RowShape], links: Sequence[Link], lane_width: float, lanes: int) -> list[str]:
    """One SVG per row (its lane cells), connectors included."""
    canvas = _Canvas(rows, lane_width, max(lanes, 1))
    for link in links:
        canvas.connect(link)
    return [canvas.svg(row) for row in range(len(rows))]


def swatch(done: bool) -> str:
    """The legend's sample of a step symbol, plain or as a step the case went through."""
    look = _SHAPE_DONE if done else _SHAPE
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="swatch" width="10mm" height="5mm" viewBox="0 0 10 5">'
            f'<rect class="symbol{" done" if done else ""}" x="0.6" y="0.6" width="8.8" height="3.8" rx="0.4" ry="0.4" '
            f'{look}/></svg>')


def notes(links: Sequence[Link], numbers: Mapping[int, str], names: Mapping[int, str]) -> dict[int, str]:
    """Keterangan of decision rows: where each branch goes (``ada → 3; tidak ada → selesai``), by the
    target's step number, else its name."""
    found: dict[int, list[str]] = {}
    for link in links:
        if link.label:
            if link.target is None:
                where = "selesai"
            else:
                name = names.get(link.target, "")
                where = numbers.get(link.target) or (name if len(name) <= 40 else name[:39] + "…")
            found.setdefault(link.source, []).append(f"{link.label} → {where}")
    return {row: "; ".join(parts) for row, parts in found.items()}
