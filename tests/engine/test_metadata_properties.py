"""SOP metadata kept as process properties of the diagram (service/engine/sop_metadata.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from service.engine import outline, sop_metadata
from service.engine.sop_metadata import Signatory, SopMetadata

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
META = SopMetadata(
    judul="SOP uji", nomor_sop="P. 20.2/UJI", tanggal_pembuatan=date(2020, 1, 7), tanggal_efektif=date(2020, 1, 7),
    disahkan_oleh=Signatory("Kepala Dinas", "Dr. H. Bambang Arwanto, AP, M.Si", "19740111 199311 1 002"),
    sections={"dasar_hukum": ("UU 25/2009, tentang Pelayanan Publik", "Perbup 57/2012"),
              "keterkaitan": ("Manual Mutu",)},
)


def test_metadata_round_trips_through_the_diagram_and_other_properties_stay() -> None:
    original = (BPMN / "wbs-dpmptsp-kukar.bpmn").read_bytes()
    policy = {name: value for name, value in outline(original).metadata.items() if name not in sop_metadata.NAMES}
    written = sop_metadata.write(original, sop_metadata.to_properties(META))
    assert sop_metadata.read(written) == META
    assert "&#10;" in written.decode()  # one entry per line, kept through any XML writer
    assert {name: outline(written).metadata[name] for name in policy} == policy  # pengawas, mode_pelapor, …
    assert sop_metadata.write(written, sop_metadata.to_properties(META)) == written  # stable bytes


def test_blank_values_remove_their_property() -> None:
    written = sop_metadata.write((BPMN / "wbs-dpmptsp-kukar.bpmn").read_bytes(), {})
    props = sop_metadata.process_properties(written)
    assert not set(props) & set(sop_metadata.NAMES) and "pengawas" in props


def test_a_diagram_without_properties_gets_them_after_its_documentation() -> None:
    xml = (b'<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           b'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"><bpmn:process id="p" isExecutable="true">'
           b'<bpmn:documentation>d</bpmn:documentation><bpmn:startEvent id="s"/></bpmn:process></bpmn:definitions>')
    written = sop_metadata.write(xml, sop_metadata.to_properties(META))
    assert sop_metadata.read(written) == META
    assert written.index(b"documentation>") < written.index(b"extensionElements") < written.index(b"startEvent")


def test_carry_fills_what_the_new_diagram_does_not_set() -> None:
    base = sop_metadata.as_json(sop_metadata.to_properties(META))
    bare = sop_metadata.write((BPMN / "wbs-dpmptsp-kukar.bpmn").read_bytes(), {"nomor_sop": "BARU/1"})
    carried = sop_metadata.read(sop_metadata.carry(bare, base))
    assert carried.nomor_sop == "BARU/1"  # the new diagram's own value wins
    assert carried.disahkan_oleh == META.disahkan_oleh and carried.sections == META.sections
