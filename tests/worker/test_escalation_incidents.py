"""An escalation to a role nobody holds in the unit is an incident an administrator sees — outbox
``failed`` with the reason, a history row on the case, and ``GET /api/reports/incidents`` — never a
silent ``skipped``."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import time_machine
from sqlalchemy import select
from support.helpers import ENGINE_DATA, deploy_file, signed_in_now

from service.store.models import OutboxItem
from service.worker.loop import run_once
from service.worker.outbox import send_once

START = datetime(2026, 5, 4, 9, 0, tzinfo=ZoneInfo("Asia/Jakarta"))


class _NoMail:
    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


def _breached_case(app: Any, admin: Any, make_persona: Any) -> str:
    """A case of ``office_hours`` whose first SLA fired: it escalates to the Kabid of unit-a."""
    client = app.test_client()
    services = app.extensions["alur.services"]
    make_persona("kasi", "Kasi@unit-a")
    assert deploy_file(client, admin, ENGINE_DATA / "office_hours.bpmn").status_code == 201
    with time_machine.travel(START, tick=False):
        response = client.post("/api/cases", headers=signed_in_now(client, admin).headers,
                               json={"definition_key": "office_hours"})
        assert response.status_code == 201, response.json
    with time_machine.travel(START + timedelta(minutes=11), tick=False):
        assert run_once(services) is True
    return str(response.json["id"])


def test_an_escalation_to_an_unheld_role_is_an_incident(app: Any, admin: Any, make_persona: Any) -> None:
    services = app.extensions["alur.services"]
    case_id = _breached_case(app, admin, make_persona)
    mailer = _NoMail()
    assert send_once(services, mailer) == 0 and mailer.sent == []
    with services.db.reading() as session:
        (item,) = session.scalars(select(OutboxItem).where(OutboxItem.kind == "escalation")).all()
        assert (item.status, item.last_error) == ("failed", "no user holds role Kabid in unit unit-a")
    client = app.test_client()
    history = client.get(f"/api/cases/{case_id}", headers=admin.headers).json["history"]
    (undeliverable,) = [h for h in history if h["action"] == "escalation_undeliverable"]
    assert undeliverable["data"]["role"] == "Kabid"
    (incident,) = client.get("/api/reports/incidents", headers=admin.headers).json["items"]
    assert incident["kind"] == "escalation" and incident["case_id"] == case_id and incident["unit"] == "unit-a"
    assert incident["recipient_role"] == "Kabid" and "no user holds role Kabid" in incident["error"]


def test_an_escalation_to_a_held_role_without_mail_is_no_incident(app: Any, admin: Any, make_persona: Any) -> None:
    services = app.extensions["alur.services"]
    _breached_case(app, admin, make_persona)
    make_persona("kabid", "Kabid@unit-a")  # holds the role, has no mail address: sees it in Alur
    assert send_once(services, _NoMail()) == 0
    with services.db.reading() as session:
        assert session.scalars(select(OutboxItem.status).where(OutboxItem.kind == "escalation")).all() == ["skipped"]
    assert app.test_client().get("/api/reports/incidents", headers=admin.headers).json["items"] == []


def test_incidents_are_for_administrators_of_the_unit(app: Any, admin: Any, make_persona: Any) -> None:
    _breached_case(app, admin, make_persona)
    send_once(app.extensions["alur.services"], _NoMail())
    kasi = make_persona("kasi2", "Kasi@unit-a")
    assert app.test_client().get("/api/reports/incidents", headers=kasi.headers).json["items"] == []
