"""Periodic SOPs (timer start events): the worker starts one case per period, never twice.

A timer start event with ``periode`` runs per calendar period at the opening of the unit's office;
one without keeps the ISO cycle from the deploy instant (schedules stored before ``periode``).
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import select
from support.helpers import ROOT, deploy_file, signed_in_now

from service.commands.schedules import start_due_schedule
from service.store.models import Case, Schedule
from service.worker.loop import run_once

DEPLOYED = datetime(2026, 1, 5, 16, 12, tzinfo=UTC)  # Monday 23:12 WIB
REPORT = ROOT / "bpmn" / "dumas-inspektorat-katingan-laporan-berkala.bpmn"
SEMESTER = b'<camunda:property name="periode" value="semester"/>'


def _forms(app: Any) -> None:
    """These tests deploy a bundled SOP: its forms live in the repository's forms directory."""
    services = app.extensions["alur.services"]
    services.settings = services.settings.with_overrides({"forms_dir": ROOT / "forms"})


def _deploy(client: Any, persona: Any, data: bytes) -> Any:
    return client.post("/api/definitions", headers=persona.headers, content_type="multipart/form-data",
                       data={"bpmn": (io.BytesIO(data), "laporan.bpmn"), "unit": "unit-a"})


def test_semester_report_cases_start_at_the_opening_of_the_first_working_day(app: Any, admin: Any,
                                                                             make_persona: Any) -> None:
    _forms(app)
    client = app.test_client()
    services = app.extensions["alur.services"]
    with time_machine.travel(DEPLOYED, tick=False):
        response = deploy_file(client, signed_in_now(client, admin), REPORT, unit="unit-a")
        assert response.status_code == 201, response.json
        assert run_once(services) is False
    with services.db.reading() as session:
        schedule = session.scalars(select(Schedule)).one()
    # Unit A is WIB: Wednesday 1 July 2026 08:00 WIB, not six months after the deploy instant.
    first = datetime(2026, 7, 1, 1, 0, tzinfo=UTC)
    assert (schedule.expression, schedule.next_run_at) == ("R/semester", first)
    with time_machine.travel(first - timedelta(seconds=1), tick=False):
        assert run_once(services) is False
    with time_machine.travel(first, tick=False):
        assert run_once(services) is True
        assert start_due_schedule(services, first + timedelta(hours=1)) is False  # not twice
        sekretariat = signed_in_now(client, make_persona("sekretariat", "Sekretariat Inspektorat@unit-a"))
        tasks = client.get("/api/tasks", headers=sekretariat.headers).json
    assert [(t["element_id"], t["lane"]) for t in tasks["items"]] == [("Task_laporan_berkala",
                                                                        "Sekretariat Inspektorat")]
    with services.db.reading() as session:
        cases = session.scalars(select(Case)).all()
        second = session.scalars(select(Schedule)).one().next_run_at
    assert [c.business_key for c in cases] == ["dumas-inspektorat-katingan-laporan-berkala@2026-S1"]
    assert cases[0].data["periode_awal"] == "2026-01-01" and cases[0].data["periode_akhir"] == "2026-06-30"
    assert second == datetime(2027, 1, 4, 1, 0, tzinfo=UTC)  # 1 January 2027 is a Friday and a holiday


def test_a_cycle_without_periode_still_runs_from_the_deploy_instant(app: Any, admin: Any) -> None:
    """Schedules deployed before ``periode`` (an ISO cycle) keep their meaning."""
    _forms(app)
    client = app.test_client()
    services = app.extensions["alur.services"]
    with time_machine.travel(DEPLOYED, tick=False):
        response = _deploy(client, signed_in_now(client, admin), REPORT.read_bytes().replace(SEMESTER, b""))
        assert response.status_code == 201, response.json
    with services.db.reading() as session:
        schedule = session.scalars(select(Schedule)).one()
    assert (schedule.expression, schedule.next_run_at) == ("R/P6M", datetime(2026, 7, 5, 16, 12, tzinfo=UTC))
    with time_machine.travel(schedule.next_run_at, tick=False):
        assert run_once(services) is True
    with services.db.reading() as session:
        [case] = session.scalars(select(Case)).all()
        after = session.scalars(select(Schedule)).one().next_run_at
    assert case.business_key == "dumas-inspektorat-katingan-laporan-berkala@2026-07-05"
    assert after == datetime(2027, 1, 5, 16, 12, tzinfo=UTC)


def test_a_new_revision_replaces_the_schedule(app: Any, admin: Any) -> None:
    _forms(app)
    client = app.test_client()
    services = app.extensions["alur.services"]
    assert deploy_file(client, admin, REPORT).status_code == 201
    changed = REPORT.read_bytes().replace(b"R/P6M", b"R/P3M").replace(SEMESTER, SEMESTER.replace(b"semester",
                                                                                                 b"triwulan"))
    response = _deploy(client, admin, changed)
    assert response.status_code == 201 and response.json["version"] == 2
    with services.db.reading() as session:
        schedules = session.scalars(select(Schedule)).all()
    assert [s.expression for s in schedules] == ["R/triwulan"]


def test_a_periode_its_timer_does_not_repeat_is_refused_at_deploy(app: Any, admin: Any) -> None:
    _forms(app)
    response = _deploy(app.test_client(), admin, REPORT.read_bytes().replace(b"R/P6M", b"R/P3M"))
    assert response.status_code == 422, response.json
    assert "periode 'semester'" in response.json["message"]
