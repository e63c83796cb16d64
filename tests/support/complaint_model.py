"""The benchmark's complaint model (``benchmarks/models``) in a test: its flow, and fixtures that deploy it
with a user per lane. A test module binds the fixtures to module names (pytest finds them by name):
``engine, forms_dir, lanes = complaint_model.engine, complaint_model.forms_dir, complaint_model.lanes``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine
from support.helpers import Persona, deploy_file

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
