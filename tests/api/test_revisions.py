"""The revision workflow: draft → approved → active from Tanggal Efektif → retired; history; diff."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from support.helpers import ENGINE_DATA, PASSWORD, Persona, deploy_file

from service.commands import accounts

WIB = ZoneInfo("Asia/Jakarta")
BASE = "/api/definitions/revisi_uji"


@pytest.fixture
def people(app: Any, make_persona: Callable[..., Persona], admin: Persona) -> dict[str, Persona]:
    services = app.extensions["alur.services"]
    accounts.create_user(services, "approver.a", PASSWORD, ["approver@unit-a"],
                         display_name="Dr. H. Bambang Arwanto, AP, M.Si (Kepala Dinas)")
    token = app.test_client().post("/api/auth/token", json={"username": "approver.a", "password": PASSWORD})
    return {
        "admin": admin,
        "owner": make_persona("owner.a", "process_owner@unit-a"),
        "kasi": make_persona("kasi.a", "Kasi@unit-a"),
        "approver": Persona("approver.a", token.json["token"]),
        "approver_b": make_persona("approver.b", "approver@unit-b"),
    }


@pytest.fixture
def draft(client: Any, people: dict[str, Persona]) -> dict[str, Any]:
    """v1 deployed active by the admin, v2 deployed as a draft by the process owner."""
    assert deploy_file(client, people["admin"], ENGINE_DATA / "revision_v1.bpmn").status_code == 201
    response = deploy_file(client, people["owner"], ENGINE_DATA / "revision_v2.bpmn")
    assert response.status_code == 201, response.json
    assert (response.json["version"], response.json["status"]) == (2, "draft")
    return dict(response.json)


def _post(client: Any, persona: Persona, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"{BASE}{path}", headers=persona.headers, json=body or {})


def _start(client: Any, persona: Persona) -> dict[str, Any]:
    response = client.post("/api/cases", headers=persona.headers, json={"definition_key": "revisi_uji"})
    assert response.status_code == 201, response.json
    return dict(response.json)


def _fresh(client: Any, persona: Persona) -> Persona:
    response = client.post("/api/auth/token", json={"username": persona.username, "password": PASSWORD})
    return Persona(persona.username, response.json["token"])


def test_process_owner_edits_metadata_of_the_draft(client: Any, people: dict[str, Persona], draft: Any) -> None:
    body = {"title": "Revisi uji", "sop_number": "UJI/REV/002", "revised_on": "2026-12-01",
            "effective_on": "2027-01-04", "dasar_hukum": ["UU 25/2009 Pelayanan Publik"],
            "peralatan": ["Komputer", "Jaringan internet"]}
    response = client.patch(f"{BASE}/versions/2", headers=people["owner"].headers, json=body)
    assert response.status_code == 200, response.json
    assert response.json["title"] == "Revisi uji" and response.json["effective_on"] == "2027-01-04"
    assert response.json["metadata"]["peralatan"] == ["Komputer", "Jaringan internet"]
    assert client.patch(f"{BASE}/versions/2", headers=people["kasi"].headers, json=body).status_code == 403
    assert client.patch(f"{BASE}/versions/2", headers=people["owner"].headers,
                        json={"warna": "merah"}).status_code == 422
    assert client.patch(f"{BASE}/versions/2", headers=people["owner"].headers,
                        json={"effective_on": "besok"}).status_code == 422
    assert client.patch(f"{BASE}/versions/1", headers=people["owner"].headers, json=body).status_code == 409
    assert client.patch(f"{BASE}/versions/9", headers=people["owner"].headers, json=body).status_code == 404


def test_only_an_approver_of_the_unit_approves_and_becomes_disahkan_oleh(client: Any, people: dict[str, Persona],
                                                                          draft: Any) -> None:
    for who in ("kasi", "owner", "admin", "approver_b"):
        assert _post(client, people[who], "/versions/2/approve").status_code in (403, 404), who
    response = _post(client, people["approver"], "/versions/2/approve")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "approved"
    assert response.json["approved_by"] == "Dr. H. Bambang Arwanto, AP, M.Si (Kepala Dinas)"
    assert response.json["approved_at"]
    assert _post(client, people["approver"], "/versions/2/approve").status_code == 409
    assert client.patch(f"{BASE}/versions/2", headers=people["owner"].headers,
                        json={"title": "terlambat"}).status_code == 409


def test_activate_and_retire_need_an_administrator_and_the_right_status(client: Any, people: dict[str, Persona],
                                                                        draft: Any) -> None:
    assert _post(client, people["admin"], "/versions/2/activate").status_code == 409  # still a draft
    assert _post(client, people["admin"], "/versions/2/retire").status_code == 409
    assert _post(client, people["approver"], "/versions/2/approve").status_code == 200
    assert _post(client, people["approver"], "/versions/2/activate").status_code == 403
    assert _post(client, people["kasi"], "/versions/2/retire").status_code == 403
    response = _post(client, people["admin"], "/versions/2/activate", {"effective_on": "2026-01-10"})
    assert response.status_code == 200, response.json
    assert (response.json["status"], response.json["effective_on"]) == ("active", "2026-01-10")
    assert _start(client, people["admin"])["version"] == 2
    assert _post(client, people["admin"], "/versions/2/retire").json["status"] == "retired"
    assert _start(client, people["admin"])["version"] == 1
    assert _post(client, people["admin"], "/versions/2/retire").status_code == 409
    pinned = client.post("/api/cases", headers=people["admin"].headers,
                         json={"definition_key": "revisi_uji", "version": 2})
    assert pinned.status_code == 409


def test_every_transition_is_in_the_revision_history(client: Any, people: dict[str, Persona], draft: Any) -> None:
    client.patch(f"{BASE}/versions/2", headers=people["owner"].headers, json={"sop_number": "UJI/9"})
    _post(client, people["approver"], "/versions/2/approve")
    _post(client, people["admin"], "/versions/2/activate")
    _post(client, people["admin"], "/versions/2/retire")
    response = client.get(f"{BASE}/versions/2/events", headers=people["kasi"].headers)
    assert response.status_code == 200
    assert [(e["action"], e["actor"]) for e in response.json] == [
        ("deployed", "owner.a"), ("metadata_updated", "owner.a"), ("approved", "approver.a"),
        ("activated", "admin"), ("retired", "admin")]
    assert response.json[1]["data"] == {"sop_number": "UJI/9"}
    assert client.get(f"{BASE}/versions/2/events", headers=people["approver_b"].headers).status_code == 404


def test_new_cases_use_the_revision_effective_today_in_the_unit_timezone(client: Any, people: dict[str, Persona],
                                                                         draft: Any) -> None:
    client.patch(f"{BASE}/versions/2", headers=people["owner"].headers, json={"effective_on": "2027-03-01"})
    assert _post(client, people["approver"], "/versions/2/approve").status_code == 200
    # 2027-02-28 23:30 WIB is 16:30 UTC: still the eve of the Tanggal Efektif in the unit
    with time_machine.travel(datetime(2027, 2, 28, 23, 30, tzinfo=WIB), tick=False):
        before = _start(client, _fresh(client, people["admin"]))
    with time_machine.travel(datetime(2027, 3, 1, 0, 30, tzinfo=WIB), tick=False):
        admin = _fresh(client, people["admin"])
        after = _start(client, admin)
        # the case started before keeps its revision
        assert client.get(f"/api/cases/{before['id']}", headers=admin.headers).json["version"] == 1
    assert (before["version"], after["version"]) == (1, 2)


def test_diff_between_two_revisions(client: Any, people: dict[str, Persona], draft: Any) -> None:
    response = client.get(f"{BASE}/diff?from=1&to=2", headers=people["kasi"].headers)
    assert response.status_code == 200, response.json
    assert {e["id"] for e in response.json["added"]} == {"balas", "f6"}
    assert "telaah" in {e["id"] for e in response.json["removed"]}
    changed = {e["id"]: e for e in response.json["changed"]}
    assert changed["terima"]["changes"]["name"] == {"from": "Terima pengaduan", "to": "Terima dan catat pengaduan"}
    assert changed["sla_putuskan"]["changes"]["timer"]["to"] == "hari_kerja(3)"
    assert client.get(f"{BASE}/diff?from=1&to=7", headers=people["kasi"].headers).status_code == 404
    assert client.get(f"{BASE}/diff?from=1", headers=people["kasi"].headers).status_code == 422
    assert client.get(f"{BASE}/diff?from=1&to=2", headers=people["approver_b"].headers).status_code == 404
    assert client.get(f"{BASE}/diff?from=1&to=2").status_code == 401
