"""Periodic SOPs (timer start events): the worker starts one case per period, never twice."""

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

DEPLOYED = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
REPORT = ROOT / "bpmn" / "dumas-inspektorat-katingan-laporan-berkala.bpmn"


def _forms(app: Any) -> None:
    """These tests deploy a bundled SOP: its forms live in the repository's forms directory."""
    services = app.extensions["alur.services"]
    services.settings = services.settings.with_overrides({"forms_dir": ROOT / "forms"})


def test_semester_report_cases_start_every_six_months(app: Any, admin: Any, make_persona: Any) -> None:
    _forms(app)
    client = app.test_client()
    services = app.extensions["alur.services"]
    with time_machine.travel(DEPLOYED, tick=False):
        response = deploy_file(client, signed_in_now(client, admin), REPORT, unit="unit-a")
        assert response.status_code == 201, response.json
        assert run_once(services) is False
    with services.db.reading() as session:
        first = session.scalars(select(Schedule)).one().next_run_at
    assert first == datetime(2026, 7, 5, 1, 0, tzinfo=UTC)
    with time_machine.travel(first + timedelta(hours=1), tick=False):
        assert run_once(services) is True
        assert start_due_schedule(services, first + timedelta(hours=1)) is False  # not twice
        inspektur = signed_in_now(client, make_persona("inspektur", "Inspektur@unit-a"))
        tasks = client.get("/api/tasks", headers=inspektur.headers).json
    assert [t["element_id"] for t in tasks["items"]] == ["Task_laporan_berkala"]
    with services.db.reading() as session:
        cases = session.scalars(select(Case)).all()
        second = session.scalars(select(Schedule)).one().next_run_at
    assert [c.business_key for c in cases] == ["dumas-inspektorat-katingan-laporan-berkala@2026-07-05"]
    assert second == datetime(2027, 1, 5, 1, 0, tzinfo=UTC)


def test_a_new_revision_replaces_the_schedule(app: Any, admin: Any) -> None:
    _forms(app)
    client = app.test_client()
    services = app.extensions["alur.services"]
    assert deploy_file(client, admin, REPORT).status_code == 201
    changed = REPORT.read_bytes().replace(b"R/P6M", b"R/P3M")
    response = client.post("/api/definitions", headers=admin.headers, content_type="multipart/form-data",
                           data={"bpmn": (io.BytesIO(changed), "laporan.bpmn"), "unit": "unit-a"})
    assert response.status_code == 201 and response.json["version"] == 2
    with services.db.reading() as session:
        schedules = session.scalars(select(Schedule)).all()
    assert [s.expression for s in schedules] == ["R/P3M"]
