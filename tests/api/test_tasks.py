"""Tasks: form validation, claiming, who may see and complete what, the task list (issue #2, 5–7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from support.helpers import deploy_bytes, review_variant


def _case(client: Any, persona: Any, case_id: str) -> dict[str, Any]:
    response = client.get(f"/api/cases/{case_id}", headers=persona.headers)
    assert response.status_code == 200, response.json
    return dict(response.json)


def _complete(client: Any, persona: Any, task_id: str, data: Any) -> Any:
    return client.post(f"/api/tasks/{task_id}/complete", headers=persona.headers, json={"data": data})


# --- form validation ---------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "field"), [
    ({"catatan": "tanpa hasil"}, "hasil"),
    ({"hasil": "lengkap", "jumlah_lampiran": "tiga"}, "jumlah_lampiran"),
    ({"hasil": 3}, "hasil"),
    ({"hasil": "mungkin"}, "hasil"),
    ({"hasil": "lengkap", "catatan": "x" * 101}, "catatan"),
    ({"hasil": "lengkap", "jumlah_lampiran": -1}, "jumlah_lampiran"),
    (["hasil", "lengkap"], "data"),
], ids=["missing-required", "wrong-type", "wrong-type-enum", "outside-enum", "oversize-string", "minimum",
        "not-an-object"])
def test_invalid_form_data_names_the_field_and_leaves_the_case_unchanged(
    client: Any, staff: dict[str, Any], start_review: Any, data: Any, field: str
) -> None:
    case = start_review()
    before = _case(client, staff["kasi_a"], case["id"])
    response = _complete(client, staff["kasi_a"], case["tasks"][0]["id"], data)
    assert response.status_code == 422, response.json
    assert response.json["code"] == "form_invalid"
    assert {e["field"] for e in response.json["errors"]} == {field}
    assert response.json["errors"][0]["message"]
    assert _case(client, staff["kasi_a"], case["id"]) == before


def test_invalid_start_form_names_the_field_and_starts_nothing(client: Any, staff: dict[str, Any],
                                                               review: dict[str, Any]) -> None:
    response = client.post("/api/cases", headers=staff["pelapor_a"].headers,
                           json={"definition_key": "review", "data": {"judul": "x" * 201}})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "judul"
    assert client.get("/api/cases", headers=staff["admin_a"].headers).json["total"] == 0


# --- claiming ----------------------------------------------------------------------------------

def test_claimed_task_cannot_be_taken_or_completed_by_another(
    client: Any, staff: dict[str, Any], start_review: Any
) -> None:
    task_id = start_review()["tasks"][0]["id"]
    kasi, other = staff["kasi_a"], staff["kasi2_a"]
    claimed = client.post(f"/api/tasks/{task_id}/claim", headers=kasi.headers)
    assert claimed.status_code == 200 and claimed.json["claimed_by"] is not None
    assert client.post(f"/api/tasks/{task_id}/claim", headers=kasi.headers).status_code == 200
    assert client.post(f"/api/tasks/{task_id}/claim", headers=other.headers).status_code == 409
    assert client.post(f"/api/tasks/{task_id}/unclaim", headers=other.headers).status_code == 409
    assert _complete(client, other, task_id, {"hasil": "lengkap"}).status_code == 409
    assert client.get("/api/tasks", headers=other.headers).json["total"] == 1  # still listed, claimed or not

    assert client.post(f"/api/tasks/{task_id}/unclaim", headers=kasi.headers).json["claimed_by"] is None
    assert client.post(f"/api/tasks/{task_id}/claim", headers=other.headers).status_code == 200
    assert _complete(client, other, task_id, {"hasil": "ditolak"}).status_code == 200
    assert client.post(f"/api/tasks/{task_id}/claim", headers=other.headers).status_code == 409
    assert _complete(client, other, task_id, {"hasil": "ditolak"}).status_code == 409


def test_unit_admin_may_release_a_claim(client: Any, staff: dict[str, Any], start_review: Any,
                                        make_persona: Any) -> None:
    task_id = start_review()["tasks"][0]["id"]
    boss = make_persona("kasi.admin", "Kasi@unit-a", "admin@unit-a")
    assert client.post(f"/api/tasks/{task_id}/claim", headers=staff["kasi_a"].headers).status_code == 200
    assert client.post(f"/api/tasks/{task_id}/unclaim", headers=boss.headers).status_code == 200


# --- authorization matrix ----------------------------------------------------------------------

@pytest.fixture
def three_tasks(client: Any, staff: dict[str, Any], start_review: Any, review_b: dict[str, Any]) -> dict[str, str]:
    """verifikasi (Kasi) in A, tindak_lanjut (Kabid, Tim Audit) in A, verifikasi in B."""
    at_kasi = start_review()["tasks"][0]["id"]
    second = start_review()["tasks"][0]["id"]
    at_kabid = _complete(client, staff["kasi_a"], second, {"hasil": "lengkap"}).json["tasks"][0]["id"]
    in_b = client.post("/api/cases", headers=staff["pelapor_b"].headers,
                       json={"definition_key": "review_b", "data": {"judul": "x"}}).json["tasks"][0]["id"]
    return {"kasi_a": at_kasi, "kabid_a": at_kabid, "kasi_b": in_b}


DATA = {"kasi_a": {"hasil": "lengkap"}, "kabid_a": {}, "kasi_b": {"hasil": "lengkap"}}
#: 403: the actor sees the case (it held a task of it, or filed it) but the task is another lane's;
#: 404: no business in the case at all (need-to-know: the Kabid has none before the Kasi hands it on).
MATRIX = [
    ("kasi_a", "kasi_a", 200), ("kasi_a", "kabid_a", 403), ("kasi_a", "kasi_b", 404),
    ("kabid_a", "kabid_a", 200), ("kabid_a", "kasi_a", 404), ("kabid_a", "kasi_b", 404),
    ("audit_a", "kabid_a", 200), ("audit_a", "kasi_a", 404),
    ("pelapor_a", "kasi_a", 403), ("admin_a", "kasi_a", 403), ("admin_a", "kasi_b", 404),
    ("kasi_b", "kasi_b", 200), ("kasi_b", "kasi_a", 404), ("kabid_b", "kabid_a", 404),
]


@pytest.mark.parametrize(("who", "task", "status"), MATRIX, ids=[f"{w}-on-{t}-{s}" for w, t, s in MATRIX])
def test_who_may_see_and_complete_which_task(
    client: Any, staff: dict[str, Any], three_tasks: dict[str, str], who: str, task: str, status: int
) -> None:
    persona, task_id = staff[who], three_tasks[task]
    seen = client.get(f"/api/tasks/{task_id}", headers=persona.headers)
    assert seen.status_code == status, seen.json
    listed = {t["id"] for t in client.get("/api/tasks", headers=persona.headers).json["items"]}
    assert (task_id in listed) == (status == 200)
    assert client.post(f"/api/tasks/{task_id}/claim", headers=persona.headers).status_code == status
    completed = _complete(client, persona, task_id, DATA[task])
    assert completed.status_code == status, completed.json
    if status != 200:
        assert completed.json["code"] in ("forbidden", "not_found") and completed.json["message"]


def test_kasi_cannot_complete_kabid_task(client: Any, staff: dict[str, Any], three_tasks: dict[str, str]) -> None:
    response = _complete(client, staff["kasi_a"], three_tasks["kabid_a"], {})
    assert response.status_code == 403 and "Kabid" in response.json["message"]


def test_global_admin_sees_every_task(client: Any, admin: Any, three_tasks: dict[str, str]) -> None:
    listed = {t["id"] for t in client.get("/api/tasks", headers=admin.headers).json["items"]}
    assert listed == set(three_tasks.values())


def test_unit_admin_starts_and_cancels_only_in_their_unit(
    client: Any, staff: dict[str, Any], start_review: Any, review_b: dict[str, Any]
) -> None:
    admin_a = staff["admin_a"]
    own = start_review(admin_a)
    assert client.post(f"/api/cases/{own['id']}/cancel", headers=admin_a.headers, json={}).status_code == 200
    assert client.post("/api/cases", headers=admin_a.headers,
                       json={"definition_key": "review_b", "data": {"judul": "x"}}).status_code in (403, 404)
    other = client.post("/api/cases", headers=staff["pelapor_b"].headers,
                        json={"definition_key": "review_b", "data": {"judul": "x"}}).json
    assert client.post(f"/api/cases/{other['id']}/cancel", headers=admin_a.headers, json={}).status_code == 404
    assert _case(client, staff["kasi_b"], other["id"])["status"] == "running"


def test_staff_of_another_unit_cannot_read_a_case(client: Any, staff: dict[str, Any], start_review: Any) -> None:
    case = start_review()
    assert client.get(f"/api/cases/{case['id']}", headers=staff["kasi_b"].headers).status_code == 404
    assert client.get("/api/cases", headers=staff["kasi_b"].headers).json["total"] == 0
    assert client.get(f"/api/cases/{case['id']}", headers=staff["kasi_a"].headers).status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic eDp5"},
                                     {"Authorization": "Bearer "}], ids=["none", "bad", "basic", "empty"])
@pytest.mark.parametrize("path", ["/api/tasks", "/api/cases", "/api/definitions"])
def test_missing_or_bad_token_is_401(client: Any, units: dict[str, str], headers: dict[str, str], path: str) -> None:
    response = client.get(path, headers=headers)
    assert response.status_code == 401 and response.json["code"] == "unauthorized"


# --- the task list: paging, sorting, filters ---------------------------------------------------

BASE = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)


def _ids(client: Any, persona: Any, **query: Any) -> list[str]:
    response = client.get("/api/tasks", headers=persona.headers, query_string=query)
    assert response.status_code == 200, response.json
    return [t["id"] for t in response.json["items"]]


@pytest.fixture
def staggered(client: Any, staff: dict[str, Any], start_review: Any) -> list[str]:
    """Five verifikasi tasks created out of due order; returned in due_at order."""
    by_due: dict[int, str] = {}
    for offset in (3, 1, 4, 0, 2):
        with time_machine.travel(BASE + timedelta(minutes=offset), tick=False):
            by_due[offset] = start_review()["tasks"][0]["id"]
    return [by_due[offset] for offset in sorted(by_due)]


def test_task_list_sorts_by_due_at_and_pages(client: Any, staff: dict[str, Any], staggered: list[str]) -> None:
    kasi = staff["kasi_a"]
    assert _ids(client, kasi, sort="due_at") == staggered
    assert _ids(client, kasi, sort="-due_at") == staggered[::-1]
    pages = [client.get("/api/tasks", headers=kasi.headers, query_string={"per_page": 2, "page": page}).json
             for page in (1, 2, 3)]
    assert [p["total"] for p in pages] == [5, 5, 5] and [p["page"] for p in pages] == [1, 2, 3]
    assert [t["id"] for p in pages for t in p["items"]] == staggered
    assert _ids(client, kasi, page=4, per_page=2) == []
    due = [t["due_at"] for t in client.get("/api/tasks", headers=kasi.headers).json["items"]]
    assert due == sorted(due) and len(set(due)) == 5
    assert client.get("/api/tasks", headers=kasi.headers, query_string={"sort": "name"}).status_code == 422
    assert client.get("/api/tasks", headers=kasi.headers, query_string={"per_page": 0}).status_code == 422


def test_mine_lists_only_the_tasks_i_claimed(client: Any, staff: dict[str, Any], staggered: list[str]) -> None:
    kasi = staff["kasi_a"]
    assert _ids(client, kasi, mine="true") == []
    for task_id in (staggered[3], staggered[1]):
        assert client.post(f"/api/tasks/{task_id}/claim", headers=kasi.headers).status_code == 200
    assert _ids(client, kasi, mine="true") == [staggered[1], staggered[3]]
    assert _ids(client, staff["kasi2_a"], mine="true") == []
    assert len(_ids(client, staff["kasi2_a"])) == 5


def test_overdue_follows_the_clock(client: Any, staff: dict[str, Any], staggered: list[str]) -> None:
    kasi = staff["kasi_a"]
    with time_machine.travel(BASE + timedelta(minutes=5), tick=False):
        assert _ids(client, kasi, overdue="true") == []
        assert _ids(client, kasi, overdue="false") == staggered
    with time_machine.travel(BASE + timedelta(minutes=11, seconds=30), tick=False):
        assert _ids(client, kasi, overdue="true") == staggered[:2]
        assert _ids(client, kasi, overdue="false") == staggered[2:]


def test_filters_by_definition_key_lane_and_unit(
    client: Any, admin: Any, staff: dict[str, Any], start_review: Any, three_tasks: dict[str, str]
) -> None:
    assert deploy_bytes(client, admin, review_variant("review_c")).status_code == 201
    other = client.post("/api/cases", headers=staff["pelapor_a"].headers,
                        json={"definition_key": "review_c", "data": {"judul": "x"}}).json["tasks"][0]["id"]
    kasi = staff["kasi_a"]
    assert set(_ids(client, kasi)) == {three_tasks["kasi_a"], other}
    assert _ids(client, kasi, definition_key="review_c") == [other]
    assert _ids(client, kasi, definition_key="review") == [three_tasks["kasi_a"]]
    assert _ids(client, admin, unit="unit-b") == [three_tasks["kasi_b"]]
    assert _ids(client, admin, lane="Tim Audit") == [three_tasks["kabid_a"]]
    assert _ids(client, kasi, lane="Kabid") == []
