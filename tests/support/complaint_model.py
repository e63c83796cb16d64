"""The benchmark's complaint model (``benchmarks/models``) in a test: its flow, and fixtures that deploy it
with a user per lane. A test module binds the fixtures to module names (pytest finds them by name):
``engine, forms_dir, lanes = complaint_model.engine, complaint_model.forms_dir, complaint_model.lanes``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, select
from sqlalchemy.orm import Session
from support.helpers import Persona, deploy_file

from service.commands.history import check_chain
from service.store.models import Case, HistoryEntry

MODELS = Path(__file__).resolve().parents[2] / "benchmarks" / "models"
#: the complaint's key, its start data and its steps (lane, element, data)
FLOW: dict[str, Any] = json.loads((MODELS / "complaint-flow.json").read_text())
KEY: str = FLOW["key"]


@pytest.fixture
def forms_dir() -> Path:
    return MODELS


@pytest.fixture
def lanes(client: Any, admin: Persona, make_persona: Callable[..., Persona]) -> dict[str, Persona]:
    """The model deployed, and a user per lane (Pelapor, Kasi) of unit-a."""
    response = deploy_file(client, admin, MODELS / "complaint.bpmn")
    assert response.status_code == 201, response.json
    return {lane: make_persona(lane.lower(), f"{lane}@unit-a") for lane in ("Pelapor", "Kasi")}


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine of its own on the test's database (the app's is not shared with the test's reads)."""
    found = create_engine(db_url)
    yield found
    found.dispose()


def start(client: Any, lanes: dict[str, Persona]) -> str:
    """A complaint filed by the Pelapor through the API; its case id."""
    created = client.post("/api/cases", headers=lanes["Pelapor"].headers,
                          json={"definition_key": KEY, "data": FLOW["create"]})
    assert created.status_code == 201, created.json
    return str(created.json["id"])


def complete_step(client: Any, lanes: dict[str, Persona], case_id: str,
                  step: Sequence[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """One step of :data:`FLOW` (lane, element, data) through the API: the lane's user finds the case's task
    in the task list and completes it. The task as listed, and the completion's answer."""
    lane, element, data = step
    listed = client.get("/api/tasks", headers=lanes[lane].headers)
    (task,) = [t for t in listed.json["items"] if t["case_id"] == case_id and t["element_id"] == element]
    done = client.post(f"/api/tasks/{task['id']}/complete", headers=lanes[lane].headers, json={"data": data})
    assert done.status_code == 200, done.json
    return dict(task), dict(done.json)


def history_chain(engine: Engine, case_id: str) -> tuple[list[tuple[str, str]], bool]:
    """The case's (prev_hash, hash) pairs as the code reads them, and whether its chain checks out."""
    with Session(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        entries = list(session.scalars(select(HistoryEntry).where(HistoryEntry.case_id == case_id)
                                       .order_by(HistoryEntry.id)))
        return [(e.prev_hash, e.hash) for e in entries], check_chain(case_id, entries, case.history_head).intact
