"""64 clients at once on the same tasks and cases, on PostgreSQL (issue 12, the suite).

Each round releases 64 threads through a barrier, each with its own test client (so its own pooled
connection): all complete one task, all claim another, all send the waiting message to one case, and
half claim while half complete a fourth. Exactly one wins each task (every other client gets 409), the
message is delivered once (the others conflict, or are buffered or refused past the buffer's bound),
no request answers 500, and afterwards every case loads, its ready tasks equal the projection and its
history chain holds. Short: ``SHORT_ROUNDS``; long (``-m long``): ``LONG_ROUNDS``.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from support.consistency import check_cases
from support.helpers import PASSWORD, Persona

from service.commands import accounts

pytestmark = pytest.mark.postgres

CLIENTS = 64
SHORT_ROUNDS = 3
LONG_ROUNDS = 25
MESSAGE = "informasi_tambahan"


@pytest.fixture
def db_url(postgres_db: str) -> str:
    """PostgreSQL only: SQLite serializes writers, so there is no race to lose there."""
    return postgres_db


@pytest.fixture
def crowd(app: Any, units: dict[str, str]) -> list[Persona]:
    """``CLIENTS`` staff members holding Kasi in unit A, each signed in."""
    services = app.extensions["alur.services"]
    client = app.test_client()
    people = []
    for number in range(CLIENTS):
        name = f"kasi.{number:02d}"
        accounts.create_user(services, name, PASSWORD, ["Kasi@unit-a"])
        response = client.post("/api/auth/token", json={"username": name, "password": PASSWORD})
        assert response.status_code == 200, response.json
        people.append(Persona(name, response.json["token"]))
    return people


def race(app: Any, calls: list[Callable[[Any], Any]]) -> list[Any]:
    """Run each call with its own client, all released at once; returns the responses in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(position: int) -> None:
        client = app.test_client()
        barrier.wait(timeout=60)
        results[position] = calls[position](client)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    return results


def _complete(persona: Persona, task_id: str, hasil: str) -> Callable[[Any], Any]:
    return lambda client: client.post(f"/api/tasks/{task_id}/complete", headers=persona.headers,
                                      json={"data": {"hasil": hasil, "catatan": persona.username}})


def _claim(persona: Persona, task_id: str) -> Callable[[Any], Any]:
    return lambda client: client.post(f"/api/tasks/{task_id}/claim", headers=persona.headers)


def _message(persona: Persona, case_id: str) -> Callable[[Any], Any]:
    return lambda client: client.post(f"/api/cases/{case_id}/messages", headers=persona.headers,
                                      json={"name": MESSAGE, "data": {"dari": persona.username}})


def _codes(responses: list[Any]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


def play_rounds(app: Any, crowd: list[Persona], start: Callable[..., dict[str, Any]], rounds: int) -> Counter[str]:
    """Run ``rounds`` rounds of the four races; returns the status counts by race."""
    client = app.test_client()
    seen: Counter[str] = Counter()
    for _ in range(rounds):
        completed, claimed, messaged, mixed = (start() for _ in range(4))
        # all complete the same task: one wins
        codes = _codes(race(app, [_complete(p, completed["tasks"][0]["id"], "lengkap") for p in crowd]))
        assert codes == {200: 1, 409: CLIENTS - 1}, codes
        seen.update(f"complete {code}" for code in codes.elements())
        # all claim the same task: one wins, and holds it
        task_id = claimed["tasks"][0]["id"]
        responses = race(app, [_claim(p, task_id) for p in crowd])
        codes = _codes(responses)
        assert codes == {200: 1, 409: CLIENTS - 1}, codes
        seen.update(f"claim {code}" for code in codes.elements())
        winner = next(r for r in responses if r.status_code == 200).json["claimed_by"]
        assert client.get(f"/api/tasks/{task_id}", headers=crowd[0].headers).json["claimed_by"] == winner
        # all message the same waiting case: delivered once
        done = client.post(f"/api/tasks/{messaged['tasks'][0]['id']}/complete", headers=crowd[0].headers,
                           json={"data": {"hasil": "kurang"}})
        assert done.status_code == 200, done.json
        codes = _codes(race(app, [_message(p, messaged["id"]) for p in crowd]))
        assert codes[200] == 1 and set(codes) <= {200, 202, 409, 429}, codes
        seen.update(f"message {code}" for code in codes.elements())
        # half claim, half complete the same task: at most one claim and one completion win
        task_id = mixed["tasks"][0]["id"]
        calls = [(_claim if n % 2 else _complete)(*((p, task_id) if n % 2 else (p, task_id, "ditolak")))
                 for n, p in enumerate(crowd)]
        codes = _codes(race(app, calls))
        assert set(codes) <= {200, 409} and 1 <= codes[200] <= 2, codes
        seen.update(f"mixed {code}" for code in codes.elements())
    return seen


def test_64_clients_racing_on_tasks_and_messages_one_wins_nothing_breaks(
    app: Any, admin: Persona, review: dict[str, Any], crowd: list[Persona],
    start_review: Callable[..., dict[str, Any]], staff: dict[str, Persona]
) -> None:
    rounds = SHORT_ROUNDS
    seen = play_rounds(app, crowd, start_review, rounds)
    checked = check_cases(app.extensions["alur.services"])
    assert not checked.problems, checked.problems
    assert checked.cases == 4 * rounds
    # one completion per round in the first race, one of "kurang" before the messages, 0-1 in the mixed race
    assert 2 * rounds <= checked.actions["task_completed"] <= 3 * rounds, checked.actions
    assert sum(n for key, n in seen.items() if key.endswith(" 500")) == 0


@pytest.mark.long
def test_64_clients_racing_on_tasks_and_messages_long(
    app: Any, admin: Persona, review: dict[str, Any], crowd: list[Persona],
    start_review: Callable[..., dict[str, Any]], staff: dict[str, Persona]
) -> None:
    seen = play_rounds(app, crowd, start_review, LONG_ROUNDS)
    checked = check_cases(app.extensions["alur.services"])
    print(f"\nraces long: {LONG_ROUNDS} rounds × 4 races × {CLIENTS} clients; statuses {dict(sorted(seen.items()))}; "
          f"cases {checked.cases}, history entries {checked.history_entries}, actions {dict(checked.actions)}")
    assert not checked.problems, checked.problems
    assert 2 * LONG_ROUNDS <= checked.actions["task_completed"] <= 3 * LONG_ROUNDS
