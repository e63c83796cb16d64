"""Every bundled diagram is readable as bpmn-js draws it (issue 11, item 7), in headless Chromium.

Each diagram is imported into the viewer of ``tools/render_diagrams.py`` (bpmn-js's own text styles,
as the modeler shows them) and every rendered text is measured with ``getBBox``:

* a task's name lies inside its shape and clear of the task's icon or marker;
* the external labels (events, gateways, flows) overlap no other label and no shape;
* no label breaks a word: every rendered line starts and ends at a word boundary of the name;
* no lane is empty, and no flow runs across a shape other than its own ends (from the diagram's DI).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from support.browser import CHROMIUM, render_diagrams_module
from support.sop_driver import BPMN_DIR, ROOT

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
}
DIAGRAMS = sorted(BPMN_DIR.glob("*.bpmn"))
ACTIVITIES = ("bpmn:UserTask", "bpmn:CallActivity", "bpmn:Task", "bpmn:ManualTask", "bpmn:SubProcess")
FLOW_NODE_TYPES = (*ACTIVITIES, "bpmn:ExclusiveGateway", "bpmn:StartEvent", "bpmn:EndEvent",
                   "bpmn:IntermediateThrowEvent", "bpmn:IntermediateCatchEvent", "bpmn:BoundaryEvent")
SLACK = 0.5  # px: rounding of the renderer's boxes

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: `make sysdeps` installs Debian's chromium"
)

Box = tuple[float, float, float, float]  # x, y, width, height


render = render_diagrams_module()


@pytest.fixture(scope="module")
def rendered(chromium: Any) -> Iterator[dict[str, list[dict[str, Any]]]]:
    """The texts of every bundled diagram as bpmn-js renders them (one page, one import each)."""
    assert render.VIEWER_JS.exists(), f"{render.VIEWER_JS.relative_to(ROOT)} is missing: run `make assets`"
    page = render.ViewerPage(chromium)
    try:
        found = {}
        for path in DIAGRAMS:
            result = page.load(path)
            assert result.error is None and not result.warnings, (path.name, result.error, result.warnings)
            found[path.stem] = page.texts()
        yield found
    finally:
        page.close()


def _box(raw: Mapping[str, float]) -> Box:
    return raw["x"], raw["y"], raw["width"], raw["height"]


def _inside(inner: Box, outer: Box) -> bool:
    return (outer[0] - SLACK <= inner[0] and inner[0] + inner[2] <= outer[0] + outer[2] + SLACK
            and outer[1] - SLACK <= inner[1] and inner[1] + inner[3] <= outer[1] + outer[3] + SLACK)


def _overlap(a: Box, b: Box) -> bool:
    return (a[0] + SLACK < b[0] + b[2] and b[0] + SLACK < a[0] + a[2]
            and a[1] + SLACK < b[1] + b[3] and b[1] + SLACK < a[1] + a[3])


def broken_words(name: str, lines: Sequence[str]) -> bool:
    """Do the rendered ``lines`` cut a word of ``name`` (a line break inside a word, not after a hyphen)?"""
    joined = ""
    for line in lines:
        part = line.strip()
        if joined and part and not joined.endswith(("-", "\u00ad")):
            joined += " "
        joined += part
    return joined.split() != name.split()


def test_broken_words_sees_a_cut_word() -> None:
    assert broken_words("Menindaklanjuti keluhan", ["Menindaklanjut", "i keluhan"])
    assert not broken_words("Menindaklanjuti keluhan", ["Menindaklanjuti ", "keluhan"])
    assert not broken_words("surat-menyurat dinas", ["surat-", "menyurat dinas"])


def _texts(rendered: Mapping[str, list[dict[str, Any]]], key: str) -> list[dict[str, Any]]:
    return [t for t in rendered[key] if t["type"] in FLOW_NODE_TYPES or t["type"] == "bpmn:SequenceFlow"]


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_task_names_fit_their_shapes_clear_of_the_icon(rendered: Mapping[str, list[dict[str, Any]]],
                                                        path: Path) -> None:
    tasks = [t for t in _texts(rendered, path.stem) if t["type"] in ACTIVITIES and not t["external"]]
    assert tasks, path.name
    for task in tasks:
        shape = _box(task["shape"])
        assert _inside(_box(task["text"]), shape), (task["id"], task["name"], task["text"], shape)
        icons = [_box(icon) for icon in task["icons"] if not _inside(shape, _box(icon))]  # not the border
        for line in task["lines"]:
            clash = [icon for icon in icons if _overlap(_box(line["box"]), icon)]
            assert not clash, (task["id"], line["text"], "covers the task's icon")


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_no_label_breaks_a_word(rendered: Mapping[str, list[dict[str, Any]]], path: Path) -> None:
    for text in _texts(rendered, path.stem):
        lines = [line["text"] for line in text["lines"]]
        assert not broken_words(text["name"], lines), (text["id"], text["name"], lines)


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_external_labels_overlap_no_label_and_no_shape(rendered: Mapping[str, list[dict[str, Any]]],
                                                       path: Path) -> None:
    texts = _texts(rendered, path.stem)
    labels = [t for t in texts if t["external"]]
    shapes = {t["id"]: _box(t["shape"]) for t in texts if t["type"] in FLOW_NODE_TYPES}
    shapes.update(_shapes(path))
    for a, b in itertools.combinations(labels, 2):
        assert not _overlap(_box(a["text"]), _box(b["text"])), (a["id"], a["name"], b["id"], b["name"])
    for label in labels:
        for shape_id, shape in shapes.items():
            assert not _overlap(_box(label["text"]), shape), (label["id"], label["name"], "over", shape_id)


def _shapes(path: Path) -> dict[str, Box]:
    """The flow node shapes of the diagram's DI (lanes and the pool left out)."""
    tree = etree.parse(str(path))
    nodes = {el.get("id") for el in tree.iter() if isinstance(el.tag, str) and etree.QName(el).localname in (
        "userTask", "callActivity", "task", "manualTask", "subProcess", "exclusiveGateway", "parallelGateway",
        "startEvent", "endEvent", "intermediateThrowEvent", "intermediateCatchEvent", "boundaryEvent")}
    found: dict[str, Box] = {}
    for shape in tree.iterfind(".//bpmndi:BPMNShape", NS):
        element, b = shape.get("bpmnElement"), shape.find("dc:Bounds", NS)
        if element in nodes and b is not None:
            found[str(element)] = (float(b.get("x", 0)), float(b.get("y", 0)), float(b.get("width", 0)),
                                   float(b.get("height", 0)))
    return found


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_no_lane_is_empty(path: Path) -> None:
    tree = etree.parse(str(path))
    lanes = tree.findall(".//bpmn:lane", NS)
    assert lanes, path.name
    for lane in lanes:
        assert lane.findall("bpmn:flowNodeRef", NS), f"{path.name}: lane {lane.get('name')} is empty"


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_flows_go_around_shapes(path: Path) -> None:
    """No segment of a sequence flow passes through a shape other than its source and target (and the
    task a boundary event source sits on)."""
    tree = etree.parse(str(path))
    shapes = _shapes(path)
    attached = {b.get("id"): b.get("attachedToRef") for b in tree.iterfind(".//bpmn:boundaryEvent", NS)}
    flows = {f.get("id"): f for f in tree.iterfind(".//bpmn:sequenceFlow", NS)}
    for edge in tree.iterfind(".//bpmndi:BPMNEdge", NS):
        flow = flows[edge.get("bpmnElement")]
        ends = {flow.get("sourceRef"), flow.get("targetRef")}
        ends |= {attached[e] for e in list(ends) if e in attached}
        points = [(float(p.get("x")), float(p.get("y"))) for p in edge.iterfind("di:waypoint", NS)]
        for (x1, y1), (x2, y2) in itertools.pairwise(points):
            segment = (min(x1, x2), min(y1, y2), abs(x2 - x1), abs(y2 - y1))
            for shape_id, shape in shapes.items():
                if shape_id not in ends:
                    assert not _crosses(segment, shape), (flow.get("id"), "crosses", shape_id)


def _crosses(segment: Box, shape: Box) -> bool:
    """Does an axis-parallel segment enter the shape (touching its border does not count)?"""
    x, y, w, h = segment
    return x < shape[0] + shape[2] and x + w > shape[0] and y < shape[1] + shape[3] and y + h > shape[1]
