"""Deploying SOP revisions: checksums, versions, pinning, units, roles, forms (issue #2, point 2)."""

from __future__ import annotations

import io
import json
from typing import Any

from support.helpers import ENGINE_DATA, deploy_bytes, deploy_file, review_variant

RENAMED = ('name="Tindak lanjut"', 'name="Tindak lanjut (revisi)"')


def _complete(client: Any, persona: Any, task_id: str, data: dict[str, Any]) -> Any:
    response = client.post(f"/api/tasks/{task_id}/complete", headers=persona.headers, json={"data": data})
    assert response.status_code == 200, response.json
    return response.json


def test_same_bytes_twice_give_the_same_revision(client: Any, admin: Any, review: dict[str, Any]) -> None:
    again = deploy_file(client, admin, ENGINE_DATA / "review.bpmn")
    assert again.status_code == 200, again.json
    assert (again.json["id"], again.json["version"]) == (review["id"], review["version"]) == (review["id"], 1)
    assert again.json["checksum"] == review["checksum"]
    listed = client.get("/api/definitions/review/versions", headers=admin.headers).json
    assert [d["version"] for d in listed] == [1]


def test_changed_bytes_give_the_next_version(client: Any, admin: Any, review: dict[str, Any]) -> None:
    second = deploy_bytes(client, admin, review_variant("review", RENAMED))
    assert second.status_code == 201, second.json
    assert second.json["version"] == 2 and second.json["id"] != review["id"]
    assert second.json["checksum"] != review["checksum"]
    third = deploy_bytes(client, admin, review_variant("review", RENAMED, ('name="Selesai"', 'name="Tuntas"')))
    assert third.status_code == 201 and third.json["version"] == 3


def test_case_started_on_v1_stays_on_v1_after_v2_and_completes(
    client: Any, admin: Any, staff: dict[str, Any], start_review: Any
) -> None:
    old = start_review()
    assert deploy_bytes(client, admin, review_variant("review", RENAMED)).status_code == 201
    new = start_review()
    assert (old["version"], new["version"]) == (1, 2)

    moved = _complete(client, staff["kasi_a"], old["tasks"][0]["id"], {"hasil": "lengkap"})
    assert moved["version"] == 1
    assert [t["name"] for t in moved["tasks"]] == ["Tindak lanjut"]
    done = _complete(client, staff["kabid_a"], moved["tasks"][0]["id"], {})
    assert done["status"] == "completed" and done["version"] == 1

    fresh = _complete(client, staff["kasi_a"], new["tasks"][0]["id"], {"hasil": "lengkap"})
    assert [t["name"] for t in fresh["tasks"]] == ["Tindak lanjut (revisi)"]


def test_start_with_a_pinned_version_runs_that_version(
    client: Any, admin: Any, start_review: Any
) -> None:
    assert deploy_bytes(client, admin, review_variant("review", RENAMED)).status_code == 201
    assert start_review(version=1)["version"] == 1
    assert start_review()["version"] == 2
    missing = client.post("/api/cases", headers=admin.headers, json={"definition_key": "review", "version": 9,
                                                                    "data": {"judul": "x"}})
    assert missing.status_code == 404 and missing.json["errors"][0]["field"] == "version"


def test_key_of_another_unit_is_a_conflict(client: Any, admin: Any, review: dict[str, Any]) -> None:
    response = deploy_file(client, admin, ENGINE_DATA / "review.bpmn", unit="unit-b")
    assert response.status_code == 409, response.json
    assert response.json["code"] == "conflict" and response.json["errors"][0]["element_id"] == "review"
    assert len(client.get("/api/definitions", headers=admin.headers).json) == 1


def test_process_owner_deploys_a_draft_that_cannot_be_started(
    client: Any, make_persona: Any, units: dict[str, str], staff: dict[str, Any]
) -> None:
    owner = make_persona("pemilik", "process_owner@unit-a")
    response = deploy_file(client, owner, ENGINE_DATA / "review.bpmn")
    assert response.status_code == 201, response.json
    assert response.json["status"] == "draft"
    latest = client.post("/api/cases", headers=staff["admin_a"].headers,
                         json={"definition_key": "review", "data": {"judul": "x"}})
    assert latest.status_code == 404, latest.json
    pinned = client.post("/api/cases", headers=staff["admin_a"].headers,
                         json={"definition_key": "review", "version": 1, "data": {"judul": "x"}})
    assert pinned.status_code == 409, pinned.json


def test_kasi_cannot_deploy(client: Any, staff: dict[str, Any]) -> None:
    response = deploy_file(client, staff["kasi_a"], ENGINE_DATA / "review.bpmn")
    assert response.status_code == 403, response.json
    assert response.json["code"] == "forbidden" and response.json["message"]


def test_admin_of_one_unit_cannot_deploy_in_another(client: Any, staff: dict[str, Any]) -> None:
    assert deploy_file(client, staff["admin_a"], ENGINE_DATA / "review.bpmn", unit="unit-b").status_code == 403
    assert deploy_file(client, staff["admin_a"], ENGINE_DATA / "review.bpmn").status_code == 201


def test_deploy_without_unit_names_the_unit_field(client: Any, admin: Any) -> None:
    with (ENGINE_DATA / "review.bpmn").open("rb") as handle:
        response = client.post("/api/definitions", headers=admin.headers, data={"bpmn": (handle, "r.bpmn")},
                               content_type="multipart/form-data")
    assert response.status_code == 422, response.json
    assert [e["field"] for e in response.json["errors"]] == ["unit"]


def test_deploy_to_unknown_unit_is_refused(client: Any, admin: Any) -> None:
    response = deploy_file(client, admin, ENGINE_DATA / "review.bpmn", unit="unit-x")
    assert response.status_code in (404, 422) and response.json["errors"][0]["field"] == "unit"


def test_form_key_without_a_form_names_the_element(client: Any, admin: Any) -> None:
    data = review_variant("review", ('camunda:formKey="uji-verifikasi"', 'camunda:formKey="tidak-ada"'))
    response = deploy_bytes(client, admin, data)
    assert response.status_code == 422, response.json
    assert response.json["code"] == "invalid_diagram"
    (error,) = response.json["errors"]
    assert error["element_id"] == "verifikasi" and "tidak-ada" in error["message"] and error["line"]
    assert client.get("/api/definitions", headers=admin.headers).json == []


def test_uploaded_forms_file_supplies_a_missing_form(client: Any, admin: Any, staff: dict[str, Any]) -> None:
    schema = {"type": "object", "properties": {"keputusan": {"type": "string", "enum": ["ya", "tidak"]},
                                               "hasil": {"type": "string"}}, "required": ["keputusan"]}
    forms = json.dumps({"unggahan": {"schema": schema, "ui": {"ui:order": ["keputusan"]}}}).encode()
    data = review_variant("review", ('camunda:formKey="uji-verifikasi"', 'camunda:formKey="unggahan"'))
    response = deploy_bytes(client, admin, data, forms=(io.BytesIO(forms), "forms.json"))
    assert response.status_code == 201, response.json
    assert "unggahan" in response.json["forms"]

    case = client.post("/api/cases", headers=staff["pelapor_a"].headers,
                       json={"definition_key": "review", "data": {"judul": "x"}}).json
    task_id = case["tasks"][0]["id"]
    detail = client.get(f"/api/tasks/{task_id}", headers=staff["kasi_a"].headers).json
    assert detail["form"]["schema"] == schema
    bad = client.post(f"/api/tasks/{task_id}/complete", headers=staff["kasi_a"].headers,
                      json={"data": {"keputusan": "mungkin"}})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "keputusan"
    _complete(client, staff["kasi_a"], task_id, {"keputusan": "ya", "hasil": "lengkap"})


def test_forms_file_that_is_not_json_is_refused(client: Any, admin: Any) -> None:
    response = deploy_file(client, admin, ENGINE_DATA / "review.bpmn", forms=(io.BytesIO(b"{nope"), "f.json"))
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "forms"


def test_versions_one_version_and_raw_xml(client: Any, admin: Any, staff: dict[str, Any],
                                          review: dict[str, Any]) -> None:
    v2 = review_variant("review", RENAMED)
    assert deploy_bytes(client, admin, v2, sop_number="SOP/7", approved_by="Kepala Dinas",
                        effective_on="2026-02-01").status_code == 201
    versions = client.get("/api/definitions/review/versions", headers=staff["kasi_a"].headers)
    assert versions.status_code == 200 and [d["version"] for d in versions.json] == [1, 2]
    one = client.get("/api/definitions/review/versions/2", headers=staff["kasi_a"].headers).json
    assert (one["sop_number"], one["approved_by"], one["effective_on"]) == ("SOP/7", "Kepala Dinas", "2026-02-01")
    assert client.get("/api/definitions/review/versions/1", headers=admin.headers).json["sop_number"] == "UJI/001"
    raw = client.get("/api/definitions/review/versions/2/bpmn", headers=admin.headers)
    assert raw.status_code == 200 and raw.mimetype == "application/xml" and raw.data == v2
    assert client.get("/api/definitions/review/versions/3", headers=admin.headers).status_code == 404
    assert client.get("/api/definitions/nope/versions", headers=admin.headers).status_code == 404
    assert client.get("/api/definitions/review/versions", headers=staff["kasi_b"].headers).status_code == 404


def test_list_shows_the_latest_revision_per_key_of_your_units(
    client: Any, admin: Any, staff: dict[str, Any], review: dict[str, Any], review_b: dict[str, Any]
) -> None:
    assert deploy_bytes(client, admin, review_variant("review", RENAMED)).status_code == 201
    everything = client.get("/api/definitions", headers=admin.headers).json
    assert [(d["key"], d["version"], d["unit"]) for d in everything] == [("review", 2, "unit-a"),
                                                                         ("review_b", 1, "unit-b")]
    mine = client.get("/api/definitions", headers=staff["kasi_b"].headers).json
    assert [d["key"] for d in mine] == ["review_b"]
    assert client.get("/api/definitions").status_code == 401
