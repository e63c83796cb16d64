"""The task list reads the ``tasks`` projection only: no workflow is deserialized (issue #2, point 7).

The spies wrap (never replace) the two ways a workflow comes to life: ``load_state`` as the
engine's runtime calls it, and ``BpmnWorkflow.__init__`` (which also a restore goes through).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow

from service.engine import runtime


class Spy:
    def __init__(self) -> None:
        self.calls = 0

    def wrap(self, function: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return function(*args, **kwargs)

        return counted


@pytest.fixture
def spies(monkeypatch: pytest.MonkeyPatch) -> dict[str, Spy]:
    loads, workflows = Spy(), Spy()
    monkeypatch.setattr(runtime, "load_state", loads.wrap(runtime.load_state))
    monkeypatch.setattr(BpmnWorkflow, "__init__", workflows.wrap(BpmnWorkflow.__init__))
    return {"load_state": loads, "workflow": workflows}


def test_listing_tasks_deserializes_no_workflow(
    client: Any, staff: dict[str, Any], start_review: Any, spies: dict[str, Spy]
) -> None:
    cases = [start_review() for _ in range(3)]
    assert spies["workflow"].calls == 3  # the spy sees the starts
    kasi = staff["kasi_a"]
    before = {name: spy.calls for name, spy in spies.items()}

    for query in ({}, {"sort": "-due_at"}, {"mine": "true"}, {"overdue": "true"}, {"definition_key": "review"},
                  {"page": 2, "per_page": 2}):
        response = client.get("/api/tasks", headers=kasi.headers, query_string=query)
        assert response.status_code == 200, response.json
    listed = client.get("/api/tasks", headers=kasi.headers).json
    assert listed["total"] == 3
    assert {t["case_id"] for t in listed["items"]} == {c["id"] for c in cases}
    assert {name: spy.calls for name, spy in spies.items()} == before

    done = client.post(f"/api/tasks/{listed['items'][0]['id']}/complete", headers=kasi.headers,
                       json={"data": {"hasil": "lengkap"}})
    assert done.status_code == 200, done.json
    assert spies["load_state"].calls == before["load_state"] + 1
    assert spies["workflow"].calls == before["workflow"] + 1


def test_reading_a_task_and_a_case_deserializes_no_workflow(
    client: Any, staff: dict[str, Any], start_review: Any, spies: dict[str, Spy]
) -> None:
    case = start_review()
    before = spies["workflow"].calls
    assert client.get(f"/api/tasks/{case['tasks'][0]['id']}", headers=staff["kasi_a"].headers).status_code == 200
    assert client.get(f"/api/cases/{case['id']}", headers=staff["kasi_a"].headers).status_code == 200
    assert client.get("/api/cases", headers=staff["kasi_a"].headers).status_code == 200
    assert spies["workflow"].calls == before and spies["load_state"].calls == 0
