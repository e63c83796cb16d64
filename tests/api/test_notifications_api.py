"""GET /api/notifications and POST /api/notifications/{id}/read: the bell's list over the REST API.

``review.bpmn``: the Kasi's verifikasi has a 10-minute SLA timer escalating to the Kabid. The clock moves
11 minutes on (time-machine) and the worker sweeps once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from support.helpers import Persona

from service.commands.display import case_label
from service.engine import utc_now
from service.store.models import Case
from service.worker.loop import run_once


@pytest.fixture
def breached(app: Any, client: Any, staff: dict[str, Persona],
             start_review: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """Start a review case (optionally let ``claimer`` claim verifikasi), let its SLA run out; the case."""

    def make(claimer: str | None = None) -> dict[str, Any]:
        case = start_review()
        (task,) = case["tasks"]
        if claimer:
            assert client.post(f"/api/tasks/{task['id']}/claim", headers=staff[claimer].headers).status_code == 200
        with time_machine.travel(utc_now() + timedelta(minutes=11), tick=False):
            assert run_once(app.extensions["alur.services"]) is True
        return case

    return make


def _listed(client: Any, persona: Persona, **query: Any) -> dict[str, Any]:
    response = client.get("/api/notifications", headers=persona.headers, query_string=query)
    assert response.status_code == 200, response.json
    return dict(response.json)


def test_the_kabid_lists_the_escalation_and_marks_it_read(app: Any, client: Any, staff: dict[str, Persona],
                                                          breached: Callable[..., dict[str, Any]]) -> None:
    case = breached()
    (task,) = case["tasks"]
    listed = _listed(client, staff["kabid_a"])
    assert (listed["unread"], listed["total"], listed["page"]) == (1, 1, 1)
    (item,) = listed["items"]
    assert (item["kind"], item["case_id"], item["task_id"], item["step"], item["role"], item["open"]) == (
        "escalation", case["id"], task["id"], "Verifikasi kelengkapan", "Kabid", True)
    with app.extensions["alur.services"].db.reading() as session:
        stored = session.get(Case, case["id"])
        assert stored is not None and item["label"] == case_label(stored)
    assert item["read_at"] is None and item["due_at"] == task["due_at"]

    read = client.post(f"/api/notifications/{item['id']}/read", headers=staff["kabid_a"].headers)
    assert read.status_code == 200, read.json
    assert read.json["id"] == item["id"] and read.json["read_at"] is not None
    again = client.post(f"/api/notifications/{item['id']}/read", headers=staff["kabid_a"].headers)
    assert again.status_code == 200 and again.json["read_at"] == read.json["read_at"]  # already read: unchanged
    after = _listed(client, staff["kabid_a"])
    assert (after["unread"], after["total"]) == (0, 1)


def test_the_steps_own_role_is_told_it_is_overdue_and_nobody_else_hears_of_it(
        client: Any, staff: dict[str, Persona], breached: Callable[..., dict[str, Any]]) -> None:
    case = breached()
    for own in ("kasi_a", "kasi2_a"):  # unclaimed: every holder of the step's role
        (item,) = _listed(client, staff[own])["items"]
        assert (item["kind"], item["case_id"]) == ("overdue", case["id"]), own
    for other in ("kabid_b", "kasi_b", "audit_a", "pelapor_a"):  # another office, another role, the reporter
        assert _listed(client, staff[other]) == {"items": [], "unread": 0, "total": 0, "page": 1, "per_page": 20}
    (escalation,) = _listed(client, staff["kabid_a"])["items"]
    stolen = client.post(f"/api/notifications/{escalation['id']}/read", headers=staff["kabid_b"].headers)
    assert stolen.status_code == 404
    assert _listed(client, staff["kabid_a"])["unread"] == 1


def test_a_claimed_step_tells_only_its_claimant(client: Any, staff: dict[str, Persona],
                                                breached: Callable[..., dict[str, Any]]) -> None:
    breached(claimer="kasi2_a")
    assert [i["kind"] for i in _listed(client, staff["kasi2_a"])["items"]] == ["overdue"]
    assert _listed(client, staff["kasi_a"])["total"] == 0


def test_paging_and_marking_all(client: Any, staff: dict[str, Persona],
                                breached: Callable[..., dict[str, Any]]) -> None:
    first, second = breached(), breached()
    page = _listed(client, staff["kabid_a"], per_page=1)
    assert (page["total"], page["unread"], [i["case_id"] for i in page["items"]]) == (2, 2, [second["id"]])
    assert [i["case_id"] for i in _listed(client, staff["kabid_a"], per_page=1, page=2)["items"]] == [first["id"]]
    marked = client.post("/api/notifications/read", headers=staff["kabid_a"].headers)
    assert marked.status_code == 200 and marked.json == {"marked": 2}
    assert _listed(client, staff["kabid_a"])["unread"] == 0
    assert _listed(client, staff["kasi_a"])["unread"] == 2  # another user's stay unread


def test_the_4xx_answers(client: Any, staff: dict[str, Persona]) -> None:
    assert client.get("/api/notifications").status_code == 401
    assert client.post("/api/notifications/1/read").status_code == 401
    assert client.post("/api/notifications/999999/read", headers=staff["kabid_a"].headers).status_code == 404
    assert client.get("/api/notifications", headers=staff["kabid_a"].headers,
                      query_string={"per_page": 0}).status_code == 422
    assert client.post("/api/notifications/abc/read", headers=staff["kabid_a"].headers).status_code == 404
    spec = client.get("/api/openapi.json").json
    assert {"/api/notifications", "/api/notifications/{notification_id}/read"} <= set(spec["paths"])
