"""SOP metadata as the revision's own data: kept in the diagram, edited on drafts only, carried into
new drafts (issue 11, item 5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from support.helpers import ENGINE_DATA, PASSWORD, Persona, deploy_file

from service.commands import accounts, drafts
from service.engine import sop_metadata

BASE = "/api/definitions/revisi_uji/versions"
METADATA = {
    "judul": "SOP Penanganan Pengaduan (uji)",
    "nomor_sop": "P. 20.2/UJI/067/01/2026",
    "tanggal_pembuatan": "2026-01-07",
    "tanggal_revisi": None,
    "tanggal_efektif": "2026-02-02",
    "disahkan_oleh": {"jabatan": "Kepala Dinas", "nama": "Dr. H. Bambang Arwanto, AP, M.Si",
                      "nip": "19740111 199311 1 002"},
    "dasar_hukum": ["Undang-Undang Nomor 25 Tahun 2009 tentang Pelayanan Publik",
                    "Peraturan Presiden Nomor 76 Tahun 2013 tentang Pengelolaan Pengaduan Pelayanan Publik, "
                    "dengan koma"],
    "kualifikasi_pelaksana": ["Mampu mengoperasikan komputer"],
    "keterkaitan": [],
    "peralatan": ["Komputer", "Jaringan internet"],
    "peringatan": ["Tindak lanjut segera dilaksanakan."],
    "pencatatan": ["Buku Agenda Pengaduan"],
}


@pytest.fixture
def people(app: Any, make_persona: Callable[..., Persona], admin: Persona) -> dict[str, Persona]:
    services = app.extensions["alur.services"]
    accounts.create_user(services, "approver.a", PASSWORD, ["approver@unit-a"], display_name="Pengesah Uji")
    token = app.test_client().post("/api/auth/token", json={"username": "approver.a", "password": PASSWORD})
    return {"admin": admin, "owner": make_persona("owner.a", "process_owner@unit-a"),
            "kasi": make_persona("kasi.a", "Kasi@unit-a"), "owner_b": make_persona("owner.b", "process_owner@unit-b"),
            "approver": Persona("approver.a", token.json["token"])}


@pytest.fixture
def draft(client: Any, people: dict[str, Persona]) -> None:
    """v1 active (deployed by the admin), v2 a draft of the process owner."""
    assert deploy_file(client, people["admin"], ENGINE_DATA / "revision_v1.bpmn").status_code == 201
    assert deploy_file(client, people["owner"], ENGINE_DATA / "revision_v2.bpmn").json["status"] == "draft"


def _put(client: Any, persona: Persona, version: int, body: dict[str, Any]) -> Any:
    return client.put(f"{BASE}/{version}/metadata", headers=persona.headers, json=body)


def test_draft_metadata_is_written_into_its_diagram(client: Any, people: dict[str, Persona], draft: None) -> None:
    owner = people["owner"]
    before = client.get(f"{BASE}/2", headers=owner.headers).json
    assert client.get(f"{BASE}/2/metadata", headers=people["kasi"].headers).json["nomor_sop"] == "UJI/REV/002"

    response = _put(client, owner, 2, METADATA)
    assert response.status_code == 200, response.json
    assert response.json == METADATA
    assert client.get(f"{BASE}/2/metadata", headers=owner.headers).json == METADATA
    # the file is the revision: the diagram holds the metadata, the columns are derived from it
    xml = client.get(f"{BASE}/2/bpmn", headers=owner.headers).data
    assert sop_metadata.process_properties(xml)["disahkan_oleh_nip"] == "19740111 199311 1 002"
    assert sop_metadata.read(xml).section("dasar_hukum") == tuple(METADATA["dasar_hukum"])
    after = client.get(f"{BASE}/2", headers=owner.headers).json
    assert after["checksum"] != before["checksum"]
    assert (after["title"], after["sop_number"], after["created_on"], after["effective_on"], after["approved_by"]) == (
        "SOP Penanganan Pengaduan (uji)", "P. 20.2/UJI/067/01/2026", "2026-01-07", "2026-02-02",
        "Dr. H. Bambang Arwanto, AP, M.Si")
    assert after["metadata"]["peralatan"] == ["Komputer", "Jaringan internet"]
    events = client.get(f"{BASE}/2/events", headers=owner.headers).json
    assert events[-1]["action"] == "metadata_updated" and "disahkan_oleh_nip" in events[-1]["data"]
    # the same metadata again changes nothing
    assert _put(client, owner, 2, METADATA).status_code == 200
    assert client.get(f"{BASE}/2", headers=owner.headers).json["checksum"] == after["checksum"]
    # a PUT sets all of it: what is left out is cleared
    cleared = _put(client, owner, 2, {"nomor_sop": "UJI/3"}).json
    assert cleared["nomor_sop"] == "UJI/3" and cleared["dasar_hukum"] == [] and cleared["disahkan_oleh"]["nama"] == ""


@pytest.mark.parametrize(("change", "field"), [
    ({"disahkan_oleh": {"nip": "1974-01-11"}}, "disahkan_oleh.nip"),
    ({"disahkan_oleh": {"nip": "19740111 199311 1 00"}}, "disahkan_oleh.nip"),
    ({"tanggal_efektif": "besok"}, "tanggal_efektif"),
    ({"dasar_hukum": "UU 25/2009"}, "dasar_hukum"),
    ({"peringatan": ["x" * 2001]}, "peringatan.0"),
    ({"warna": "merah"}, "warna"),
])
def test_a_bad_value_is_a_422_naming_the_field(client: Any, people: dict[str, Persona], draft: None,
                                               change: dict[str, Any], field: str) -> None:
    response = _put(client, people["owner"], 2, {**METADATA, **change})
    assert response.status_code == 422, response.json
    assert field in {error["field"] for error in response.json["errors"]}, response.json
    assert client.get(f"{BASE}/2/metadata", headers=people["owner"].headers).json["nomor_sop"] == "UJI/REV/002"


def test_approved_and_active_revisions_are_immutable(client: Any, people: dict[str, Persona], draft: None) -> None:
    assert _put(client, people["owner"], 1, METADATA).status_code == 409  # v1 is active
    assert _put(client, people["kasi"], 2, METADATA).status_code == 403
    assert _put(client, people["owner_b"], 2, METADATA).status_code == 404
    assert _put(client, people["owner"], 9, METADATA).status_code == 404
    assert client.put(f"{BASE}/2/metadata", json=METADATA).status_code == 401
    assert client.post(f"{BASE}/2/approve", headers=people["approver"].headers).status_code == 200
    response = _put(client, people["owner"], 2, METADATA)
    assert response.status_code == 409 and response.json["errors"][0]["field"] == "status"
    assert client.patch(f"{BASE}/2", headers=people["owner"].headers, json={"sop_number": "X"}).status_code == 409


def test_a_draft_made_from_a_revision_starts_with_its_metadata(app: Any, client: Any, people: dict[str, Persona],
                                                                draft: None) -> None:
    services = app.extensions["alur.services"]
    assert _put(client, people["owner"], 2, METADATA).status_code == 200
    approved = client.post(f"{BASE}/2/approve", headers=people["approver"].headers)
    assert approved.json["approved_by"] == "Dr. H. Bambang Arwanto, AP, M.Si"  # the signatory, not the login
    assert client.post(f"{BASE}/2/activate", headers=people["admin"].headers, json={}).status_code == 200
    v2 = client.get(f"{BASE}/2/bpmn", headers=people["owner"].headers).data
    # the modeler sends the diagram it loaded: its metadata comes along
    edited = v2.replace(b'name="Terima dan catat pengaduan"', b'name="Terima, catat dan beri nomor"')
    owner = accounts.actor_from_token(services, people["owner"].token)
    saved = drafts.save(services, owner, "revisi_uji", 2, edited)
    assert (saved.outcome, saved.definition.version) == ("created", 3)
    assert client.get(f"{BASE}/3/metadata", headers=people["owner"].headers).json == METADATA
    # a diagram without the metadata (another tool stripped it) still starts with version 2's
    stripped = sop_metadata.write(edited.replace(b"beri nomor", b"beri nomor agenda"), {})
    assert sop_metadata.read(stripped).nomor_sop == ""
    saved = drafts.save(services, owner, "revisi_uji", 2, stripped)
    assert saved.definition.version == 4
    assert client.get(f"{BASE}/4/metadata", headers=people["owner"].headers).json == METADATA
    # and the draft's own edits stay its own
    changed = {**METADATA, "nomor_sop": "P. 20.2/UJI/068/03/2026", "tanggal_revisi": "2026-03-01"}
    assert _put(client, people["owner"], 4, changed).status_code == 200
    assert client.get(f"{BASE}/2/metadata", headers=people["owner"].headers).json == METADATA
    assert client.get(f"{BASE}/4", headers=people["owner"].headers).json["revised_on"] == "2026-03-01"
