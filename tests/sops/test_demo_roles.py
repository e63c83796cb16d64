"""``alur demo`` gives every role a bundled SOP names a user: lanes, ``pengawas``, escalation targets,
and the lanes routed to sub-units (``tujuan_unit``) in each sub-unit of the office."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from support.sop_driver import DIAGRAMS, unit_of

from service.catalogue import SUB_UNITS
from service.cli import _demo_roles

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _named(path: Path) -> tuple[set[str], set[str]]:
    """(roles the diagram names, lanes whose tasks all go to a sub-unit)."""
    root = etree.parse(str(path)).getroot()
    ns = {"bpmn": BPMN, "camunda": CAMUNDA}
    roles = {lane.get("name") for lane in root.iterfind(".//bpmn:lane", ns)}
    roles |= set(root.xpath("//camunda:property[@name='eskalasi_ke']/@value", namespaces=ns))
    for value in root.xpath("/*/bpmn:process/bpmn:extensionElements/camunda:properties/"
                            "camunda:property[@name='pengawas']/@value", namespaces=ns):
        roles |= {role.strip() for role in value.split(",")}
    lane_of = {ref.text: lane.get("name") for lane in root.iterfind(".//bpmn:lane", ns)
               for ref in lane.iterfind("bpmn:flowNodeRef", ns)}
    tasks = root.findall(".//bpmn:userTask", ns)
    routed = {lane_of[t.get("id")] for t in tasks if t.xpath(".//camunda:property[@name='tujuan_unit']", namespaces=ns)}
    routed -= {lane_of[t.get("id")] for t in tasks
               if not t.xpath(".//camunda:property[@name='tujuan_unit']", namespaces=ns)}
    return roles, routed


@pytest.mark.parametrize("path", DIAGRAMS, ids=lambda path: path.stem)
def test_every_role_the_sop_names_gets_a_demo_user(path: Path) -> None:
    unit = unit_of(path)
    roles, routed = _named(path)
    demo = _demo_roles(unit, path.read_bytes())
    assert {(unit, role) for role in roles - routed} <= demo
    for lane in routed:
        assert {(sub.code, lane) for sub in SUB_UNITS[unit]} <= demo, lane
    assert {u for u, _ in demo} <= {unit, *(sub.code for sub in SUB_UNITS.get(unit, ()))}


def test_the_routed_lanes_are_the_bidang_and_unit_kerja_of_the_seeds() -> None:
    routed = {path.stem: _named(path)[1] for path in DIAGRAMS}
    assert routed["wbs-dpmptsp-kukar"] == {"Bidang Terkait"}
    assert routed["pengaduan-langsung-dinsos-kukar"] == routed["pengaduan-online-dinsos-kukar"] == {"Kabid"}
    assert routed["dumas-inspektorat-katingan"] == {"Eselon II"}
