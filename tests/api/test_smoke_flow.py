"""The whole path through the API: token → deploy → start → task list → complete → end."""

from __future__ import annotations

from typing import Any

from support.helpers import ENGINE_DATA, deploy_file


def test_case_runs_from_start_to_end(app: Any, admin: Any, make_persona: Any) -> None:
    client = app.test_client()
    kasi = make_persona("kasi", "Kasi@unit-a")
    kabid = make_persona("kabid", "Kabid@unit-a")
    pelapor = make_persona("pelapor", "Pelapor@unit-a")

    deployed = deploy_file(client, admin, ENGINE_DATA / "review.bpmn")
    assert deployed.status_code == 201, deployed.json
    assert deployed.json["version"] == 1

    started = client.post("/api/cases", headers=pelapor.headers,
                          json={"definition_key": "review", "data": {"judul": "Pungli"}})
    assert started.status_code == 201, started.json
    case = started.json
    assert [t["element_id"] for t in case["tasks"]] == ["verifikasi"]
    assert case["tasks"][0]["lane"] == "Kasi" and case["tasks"][0]["due_at"]

    listed = client.get("/api/tasks", headers=kasi.headers).json
    assert listed["total"] == 1
    task_id = listed["items"][0]["id"]
    assert client.get("/api/tasks", headers=kabid.headers).json["total"] == 0

    done = client.post(f"/api/tasks/{task_id}/complete", headers=kasi.headers,
                       json={"data": {"hasil": "lengkap"}})
    assert done.status_code == 200, done.json
    follow = done.json["tasks"][0]
    assert follow["element_id"] == "tindak_lanjut" and follow["lane"] == "Kabid"

    finished = client.post(f"/api/tasks/{follow['id']}/complete", headers=kabid.headers, json={"data": {}})
    assert finished.status_code == 200, finished.json
    assert finished.json["status"] == "completed"
    actions = [h["action"] for h in finished.json["history"]]
    assert actions[0] == "case_started" and actions[-1] == "case_completed"
    assert "notification" in actions
