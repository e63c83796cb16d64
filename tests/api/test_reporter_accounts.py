"""Reporter accounts (role Pelapor) see only the cases they filed and their own Pelapor tasks."""

from __future__ import annotations

from typing import Any

from support.helpers import ENGINE_DATA, deploy_file


def test_reporters_do_not_see_each_others_cases_or_tasks(app: Any, admin: Any, make_persona: Any) -> None:
    client = app.test_client()
    assert deploy_file(client, admin, ENGINE_DATA / "review.bpmn").status_code == 201
    first, second = make_persona("pelapor-1", "Pelapor@unit-a"), make_persona("pelapor-2", "Pelapor@unit-a")
    kasi = make_persona("kasi", "Kasi@unit-a")
    own = client.post("/api/cases", headers=first.headers, json={"definition_key": "review",
                                                                  "data": {"judul": "Laporan satu"}}).json
    other = client.post("/api/cases", headers=second.headers, json={"definition_key": "review",
                                                                     "data": {"judul": "Laporan dua"}}).json
    assert [c["id"] for c in client.get("/api/cases", headers=first.headers).json["items"]] == [own["id"]]
    assert client.get(f"/api/cases/{other['id']}", headers=first.headers).status_code == 404
    assert client.get(f"/api/cases/{own['id']}", headers=first.headers).status_code == 200
    assert client.get("/api/cases", headers=kasi.headers).json["total"] == 2
    staff_task = other["tasks"][0]["id"]
    assert client.get(f"/api/tasks/{staff_task}", headers=first.headers).status_code == 404
    assert client.get("/api/tasks", headers=first.headers).json["total"] == 0
