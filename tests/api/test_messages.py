"""BPMN messages to cases: buffered until catchable, delivered when waiting, refused when done."""

from __future__ import annotations

from typing import Any

INFO = "informasi_tambahan"


def _message(client: Any, persona: Any, case_id: str, name: str = INFO, data: dict[str, Any] | None = None) -> Any:
    return client.post(f"/api/cases/{case_id}/messages", headers=persona.headers,
                       json={"name": name, "data": data or {"lampiran": "ktp.pdf"}})


def _complete(client: Any, persona: Any, task_id: str, data: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/tasks/{task_id}/complete", headers=persona.headers, json={"data": data})
    assert response.status_code == 200, response.json
    return dict(response.json)


def _case(client: Any, persona: Any, case_id: str) -> dict[str, Any]:
    return dict(client.get(f"/api/cases/{case_id}", headers=persona.headers).json)


def test_early_message_is_buffered_then_delivered_when_the_catch_is_reached(
    client: Any, staff: dict[str, Any], start_review: Any
) -> None:
    case = start_review()
    early = _message(client, staff["pelapor_a"], case["id"])
    assert early.status_code == 202, early.json
    assert early.json == {"delivered": False, "buffered": True}
    waiting = _case(client, staff["kasi_a"], case["id"])
    assert [t["element_id"] for t in waiting["tasks"]] == ["verifikasi"]
    assert [h["action"] for h in waiting["history"]][-1] == "message_buffered"

    moved = _complete(client, staff["kasi_a"], case["tasks"][0]["id"], {"hasil": "kurang"})
    delivered = [h for h in moved["history"] if h["action"] == "message_delivered"]
    assert [(h["data"]["name"], h["data"].get("buffered")) for h in delivered] == [(INFO, True)]
    (again,) = moved["tasks"]
    assert again["element_id"] == "verifikasi" and again["id"] != case["tasks"][0]["id"]

    # the buffered message was used up: the next "kurang" waits for a new one
    parked = _complete(client, staff["kasi_a"], again["id"], {"hasil": "kurang"})
    assert parked["tasks"] == [] and parked["status"] == "running"


def test_message_to_a_waiting_case_is_delivered_and_moves_it_on(
    client: Any, staff: dict[str, Any], start_review: Any
) -> None:
    case = start_review()
    parked = _complete(client, staff["kasi_a"], case["tasks"][0]["id"], {"hasil": "kurang"})
    assert parked["tasks"] == []
    assert client.get("/api/tasks", headers=staff["kasi_a"].headers).json["total"] == 0

    response = _message(client, staff["pelapor_a"], case["id"], data={"lampiran": "akta.pdf"})
    assert response.status_code == 200, response.json
    assert response.json == {"delivered": True, "buffered": False}
    after = _case(client, staff["kasi_a"], case["id"])
    assert [t["element_id"] for t in after["tasks"]] == ["verifikasi"]
    assert after["data"][INFO] == {"lampiran": "akta.pdf"}
    assert [h["action"] for h in after["history"]].count("message_delivered") == 1
    assert client.get("/api/tasks", headers=staff["kasi_a"].headers).json["total"] == 1


def test_message_to_a_finished_case_is_a_conflict(client: Any, staff: dict[str, Any], start_review: Any) -> None:
    case = start_review()
    done = _complete(client, staff["kasi_a"], case["tasks"][0]["id"], {"hasil": "ditolak"})
    assert done["status"] == "completed"
    response = _message(client, staff["pelapor_a"], case["id"])
    assert response.status_code == 409 and response.json["code"] == "conflict"
    assert len(_case(client, staff["kasi_a"], case["id"])["history"]) == len(done["history"])


def test_message_to_a_cancelled_case_is_a_conflict(client: Any, staff: dict[str, Any], start_review: Any) -> None:
    case = start_review()
    assert client.post(f"/api/cases/{case['id']}/cancel", headers=staff["admin_a"].headers,
                       json={}).status_code == 200
    assert _message(client, staff["pelapor_a"], case["id"]).status_code == 409


def test_message_to_an_invisible_or_unknown_case_is_404(
    client: Any, staff: dict[str, Any], start_review: Any
) -> None:
    case = start_review()
    assert _message(client, staff["pelapor_b"], case["id"]).status_code == 404
    assert _message(client, staff["pelapor_a"], "00000000-0000-0000-0000-000000000000").status_code == 404
    bad = client.post(f"/api/cases/{case['id']}/messages", headers=staff["pelapor_a"].headers, json={"data": {}})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "name"
