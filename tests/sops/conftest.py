"""Driving the bundled SOP diagrams (``bpmn/``, ``forms/``) through the REST API.

Every test here runs against an app whose forms directory is the repository's ``forms/``, with the
five offices of :data:`service.catalogue.BUNDLED_OFFICES` and their sub-units as units and all bundled diagrams
deployed (the called ``surat-keluar`` before its caller). The clock is frozen at :data:`START`
(a Monday, 09:00 WITA / 08:00 WIB) for the whole test and only moves when a test moves it, so
task due dates are exact and SLA breaches happen by moving the clock, never by sleeping.

The helpers live in ``tests/support/sop_driver.py``; tests import them from there, never from a
``conftest`` (every conftest module of the suite is named ``conftest``, so such imports collide).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import time_machine
from support.sop_driver import DIAGRAMS, FORMS_DIR, START, Sop, deploy

from service.catalogue import BUNDLED_OFFICES, SUB_UNITS
from service.commands import accounts
from service.config import Settings


@pytest.fixture
def forms_dir() -> Path:
    return FORMS_DIR


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Tokens that outlive the long clock moves of the SLA tests."""
    return replace(settings, token_hours=24 * 366)


@pytest.fixture
def clock(app: Any) -> Iterator[Any]:
    """The frozen clock, set to :data:`START` (after the database is up, before anyone signs in)."""
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def offices(app: Any, clock: Any) -> dict[str, str]:
    """The bundled offices and their sub-units (bidang, unit kerja), as ``alur demo`` creates them."""
    services = app.extensions["alur.services"]
    for office in BUNDLED_OFFICES:
        accounts.create_unit(services, office.code, office.name, office.timezone)
        for unit in SUB_UNITS.get(office.code, ()):
            accounts.create_unit(services, unit.code, unit.name, unit.timezone, parent=office.code)
    return {office.code: office.timezone for office in BUNDLED_OFFICES}


@pytest.fixture
def sop(app: Any, clock: Any, offices: dict[str, str], make_persona: Callable[..., Any]) -> Sop:
    """Every bundled diagram deployed (201) by a global administrator."""
    found = Sop(app, clock, make_persona, make_persona("admin", admin=True))
    for path in DIAGRAMS:
        response = deploy(found.client, found.admin, path)
        assert response.status_code == 201, (path.name, response.json)
        found.deployed[response.json["key"]] = dict(response.json)
    return found
