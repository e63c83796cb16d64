"""Element diff between two revisions of a diagram."""

from __future__ import annotations

from support.helpers import ENGINE_DATA

from service.engine.diff import diff_diagrams

V1 = (ENGINE_DATA / "revision_v1.bpmn").read_bytes()
V2 = (ENGINE_DATA / "revision_v2.bpmn").read_bytes()


def test_same_diagram_has_no_changes() -> None:
    assert diff_diagrams(V1, V1).empty


def test_added_and_removed_elements_are_listed_with_type_and_name() -> None:
    found = diff_diagrams(V1, V2)
    added = {item.element_id: (item.type, item.name) for item in found.added}
    removed = {item.element_id: (item.type, item.name) for item in found.removed}
    assert added["balas"] == ("userTask", "Balas kepada pelapor")
    assert "f6" in added
    assert removed["telaah"] == ("userTask", "Telaah awal")
    assert removed["sla_telaah"] == ("boundaryEvent", "1 hari")
    assert {"eskalasi_telaah", "f3", "f_esk2"} <= set(removed)


def test_changed_elements_say_what_changed() -> None:
    changed = {item.element_id: item.changes for item in diff_diagrams(V1, V2).changed}
    assert changed["terima"] == {"name": {"from": "Terima pengaduan", "to": "Terima dan catat pengaduan"}}
    assert changed["sla_putuskan"]["timer"] == {"from": "hari_kerja(2)", "to": "hari_kerja(3)"}
    assert changed["putuskan"]["properties"]["to"]["waktu"] == "3 hari kerja"
    assert changed["f2"] == {"targetRef": {"from": "telaah", "to": "putuskan"}}
    assert "start" not in changed


def test_lane_form_and_condition_changes_are_reported() -> None:
    review = (ENGINE_DATA / "review.bpmn").read_bytes()
    edited = (review.replace(b'<bpmn:flowNodeRef>tindak_lanjut</bpmn:flowNodeRef>', b"")
              .replace(b'<bpmn:flowNodeRef>verifikasi</bpmn:flowNodeRef>',
                       b'<bpmn:flowNodeRef>verifikasi</bpmn:flowNodeRef><bpmn:flowNodeRef>tindak_lanjut</bpmn:flowNodeRef>')
              .replace(b'camunda:formKey="uji-verifikasi"', b'camunda:formKey="uji-verifikasi-2"')
              .replace(b'hasil == "ditolak"', b'hasil == "tolak"'))
    changed = {item.element_id: item.changes for item in diff_diagrams(review, edited).changed}
    assert changed["tindak_lanjut"]["lane"] == {"from": "Kabid", "to": "Kasi"}
    assert changed["verifikasi"]["formKey"] == {"from": "uji-verifikasi", "to": "uji-verifikasi-2"}
    assert changed["f_tolak"]["condition"] == {"from": 'hasil == "ditolak"', "to": 'hasil == "tolak"'}
    assert diff_diagrams(review, edited).as_dict()["changed"][0].keys() == {"id", "type", "name", "changes"}
