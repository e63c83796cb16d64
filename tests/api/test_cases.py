"""Cases: listing with filters and paging, one case, cancelling, the tamper-evident history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from support.helpers import deploy_bytes, review_variant

from service.commands.history import verify_chain
from service.store.models import HistoryEntry, Task


def _list(client: Any, persona: Any, **query: Any) -> dict[str, Any]:
    response = client.get("/api/cases", headers=persona.headers, query_string=query)
    assert response.status_code == 200, response.json
    return dict(response.json)


def _history(app: Any, case_id: str) -> list[HistoryEntry]:
    with app.extensions["alur.services"].db.reading() as session:
        return list(session.scalars(select(HistoryEntry).where(HistoryEntry.case_id == case_id)
                                    .order_by(HistoryEntry.id)))


def test_list_filters_and_pages(client: Any, admin: Any, staff: dict[str, Any], start_review: Any) -> None:
    assert deploy_bytes(client, admin, review_variant("review_c")).status_code == 201
    started = [start_review(business_key=f"BK-{n}") for n in range(4)]
    other = client.post("/api/cases", headers=staff["pelapor_a"].headers,
                        json={"definition_key": "review_c", "data": {"judul": "x"}, "business_key": "BK-C"}).json
    rejected = client.post(f"/api/tasks/{started[0]['tasks'][0]['id']}/complete", headers=staff["kasi_a"].headers,
                           json={"data": {"hasil": "ditolak"}})
    assert rejected.json["status"] == "completed"
    kasi = staff["kasi_a"]

    everything = _list(client, kasi)
    assert everything["total"] == 5 and len(everything["items"]) == 5
    assert {c["id"] for c in _list(client, kasi, definition_key="review")["items"]} == {c["id"] for c in started}
    assert [c["id"] for c in _list(client, kasi, definition_key="review_c")["items"]] == [other["id"]]
    assert [c["id"] for c in _list(client, kasi, status="completed")["items"]] == [started[0]["id"]]
    assert _list(client, kasi, status="running")["total"] == 4
    (found,) = _list(client, kasi, business_key="BK-2")["items"]
    assert (found["id"], found["business_key"], found["version"], found["unit"]) == (started[2]["id"], "BK-2", 1,
                                                                                      "unit-a")
    assert _list(client, kasi, business_key="BK-9")["total"] == 0

    pages = [_list(client, kasi, per_page=2, page=n) for n in (1, 2, 3)]
    ids = [c["id"] for page in pages for c in page["items"]]
    assert [len(p["items"]) for p in pages] == [2, 2, 1] and {p["total"] for p in pages} == {5}
    assert sorted(ids) == sorted([*(c["id"] for c in started), other["id"]])
    assert client.get("/api/cases", headers=kasi.headers, query_string={"status": "lost"}).status_code == 422


def test_one_case_has_its_ready_tasks_data_and_history(client: Any, staff: dict[str, Any],
                                                       start_review: Any) -> None:
    case = start_review(business_key="BK-1", data={"judul": "Pungli", "uraian": "di loket 3"})
    assert case["status"] == "running" and case["definition_key"] == "review" and case["version"] == 1
    assert case["data"] == {"judul": "Pungli", "uraian": "di loket 3"}
    (task,) = case["tasks"]
    assert (task["element_id"], task["lane"], task["unit"], task["status"], task["form_key"]) == (
        "verifikasi", "Kasi", "unit-a", "ready", "uji-verifikasi")
    assert [h["action"] for h in case["history"]] == ["case_started", "task_created"]
    assert case["history"][0]["actor"] == "pelapor.a"
    shown = client.get(f"/api/cases/{case['id']}", headers=staff["kasi_a"].headers).json
    assert shown == case
    assert client.get("/api/cases/nope", headers=staff["kasi_a"].headers).status_code == 404


def test_admin_cancels_a_case_and_its_tasks(app: Any, client: Any, staff: dict[str, Any],
                                            start_review: Any) -> None:
    case = start_review()
    response = client.post(f"/api/cases/{case['id']}/cancel", headers=staff["admin_a"].headers,
                           json={"reason": "laporan ganda"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "cancelled" and response.json["tasks"] == []
    assert response.json["history"][-1]["action"] == "case_cancelled"
    assert response.json["history"][-1]["data"] == {"reason": "laporan ganda"}
    with app.extensions["alur.services"].db.reading() as session:
        statuses = session.scalars(select(Task.status).where(Task.case_id == case["id"])).all()
    assert statuses == ["cancelled"]
    assert client.get("/api/tasks", headers=staff["kasi_a"].headers).json["total"] == 0
    task_id = case["tasks"][0]["id"]
    assert client.post(f"/api/tasks/{task_id}/complete", headers=staff["kasi_a"].headers,
                       json={"data": {"hasil": "lengkap"}}).status_code == 409
    again = client.post(f"/api/cases/{case['id']}/cancel", headers=staff["admin_a"].headers, json={})
    assert again.status_code == 409


def test_staff_cannot_cancel(client: Any, staff: dict[str, Any], start_review: Any) -> None:
    case = start_review()
    for who in ("kasi_a", "pelapor_a"):  # they see the case: it waits for the Kasi, the Pelapor filed it
        response = client.post(f"/api/cases/{case['id']}/cancel", headers=staff[who].headers, json={})
        assert response.status_code == 403 and response.json["code"] == "forbidden"
    # the Kabid has no business in the case yet: it does not exist for him
    assert client.post(f"/api/cases/{case['id']}/cancel", headers=staff["kabid_a"].headers, json={}).status_code == 404
    assert client.get(f"/api/cases/{case['id']}", headers=staff["kasi_a"].headers).json["status"] == "running"


def test_pelapor_of_another_unit_cannot_start(client: Any, staff: dict[str, Any], review: dict[str, Any]) -> None:
    response = client.post("/api/cases", headers=staff["pelapor_b"].headers,
                           json={"definition_key": "review", "data": {"judul": "x"}})
    assert response.status_code in (403, 404)
    kasi = client.post("/api/cases", headers=staff["kasi_a"].headers,
                       json={"definition_key": "review", "data": {"judul": "x"}})
    assert kasi.status_code == 403 and "Pelapor" in kasi.json["message"]


def test_history_hash_chain_verifies_and_detects_tampering(
    app: Any, client: Any, staff: dict[str, Any], start_review: Any
) -> None:
    case = start_review()
    moved = client.post(f"/api/tasks/{case['tasks'][0]['id']}/complete", headers=staff["kasi_a"].headers,
                        json={"data": {"hasil": "lengkap"}}).json
    client.post(f"/api/tasks/{moved['tasks'][0]['id']}/complete", headers=staff["kabid_a"].headers, json={"data": {}})
    start_review()  # another case's history must not interleave with this chain
    entries = _history(app, case["id"])
    assert len(entries) >= 7 and entries[-1].action == "case_completed"
    assert verify_chain(entries)
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]

    entries[2].data = {**entries[2].data, "data": {"hasil": "ditolak"}}
    assert not verify_chain(entries)
    assert not verify_chain(_history(app, case["id"])[1:])  # a dropped first row breaks the chain
