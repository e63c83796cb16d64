"""Two clients acting on the same task at the same moment, on PostgreSQL (issue #2, point 4).

Each round releases two threads together through a barrier, each with its own test client (so its
own database connection); the optimistic lock on the case row must let exactly one through.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

ROUNDS = 10


@pytest.fixture
def db_url(postgres_db: str) -> str:
    """PostgreSQL only: SQLite serializes writers, so there is no race to lose there."""
    return postgres_db


def race(app: Any, calls: list[Callable[[Any], Any]]) -> list[Any]:
    """Run each call with its own client, all released at once; returns the responses in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(position: int) -> None:
        client = app.test_client()
        barrier.wait(timeout=30)
        results[position] = calls[position](client)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return results


def _complete(persona: Any, task_id: str, data: dict[str, Any]) -> Callable[[Any], Any]:
    return lambda client: client.post(f"/api/tasks/{task_id}/complete", headers=persona.headers,
                                      json={"data": data})


def _claim(persona: Any, task_id: str) -> Callable[[Any], Any]:
    return lambda client: client.post(f"/api/tasks/{task_id}/claim", headers=persona.headers)


def test_two_clients_completing_the_same_task_one_wins(
    app: Any, client: Any, staff: dict[str, Any], start_review: Any
) -> None:
    for _ in range(ROUNDS):
        case = start_review()
        task_id = case["tasks"][0]["id"]
        responses = race(app, [_complete(staff["kasi_a"], task_id, {"hasil": "lengkap"}),
                               _complete(staff["kasi2_a"], task_id, {"hasil": "lengkap", "catatan": "dua"})])
        assert sorted(r.status_code for r in responses) == [200, 409], [r.json for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json["code"] == "conflict" and loser.json["message"]

        after = client.get(f"/api/cases/{case['id']}", headers=staff["admin_a"].headers).json
        actions = [h["action"] for h in after["history"]]
        assert actions.count("task_completed") == 1
        assert [t["element_id"] for t in after["tasks"]] == ["tindak_lanjut"]
        assert actions.count("task_created") == 2
        winner = next(r for r in responses if r.status_code == 200)
        assert after["data"].get("catatan") == winner.json["data"].get("catatan")


def test_two_clients_claiming_the_same_task_one_wins(
    app: Any, client: Any, staff: dict[str, Any], start_review: Any
) -> None:
    for _ in range(ROUNDS):
        task_id = start_review()["tasks"][0]["id"]
        responses = race(app, [_claim(staff["kasi_a"], task_id), _claim(staff["kasi2_a"], task_id)])
        assert sorted(r.status_code for r in responses) == [200, 409], [r.json for r in responses]
        winner = next(r for r in responses if r.status_code == 200)
        held = client.get(f"/api/tasks/{task_id}", headers=staff["kasi_a"].headers).json["claimed_by"]
        assert held == winner.json["claimed_by"]


def test_claim_racing_a_completion_never_leaves_a_half_state(
    app: Any, client: Any, staff: dict[str, Any], start_review: Any
) -> None:
    for _ in range(ROUNDS):
        case = start_review()
        task_id = case["tasks"][0]["id"]
        responses = race(app, [
            _complete(staff["kasi_a"], task_id, {"hasil": "ditolak"}),
            _claim(staff["kasi2_a"], task_id),
        ])
        assert all(r.status_code in (200, 409) for r in responses), [r.json for r in responses]
        after = client.get(f"/api/cases/{case['id']}", headers=staff["admin_a"].headers).json
        if responses[0].status_code == 200:
            assert after["status"] == "completed"
        else:
            assert after["status"] == "running" and [t["id"] for t in after["tasks"]] == [task_id]
