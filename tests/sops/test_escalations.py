"""Escalations of the bundled SOPs reach someone: every SLA timer names a role that ``alur demo`` creates
in the SOP's office and that is not the step's own role; when a timer fires, the holder of that role
gets the mail (a real SMTP server on loopback); an escalation to a role nobody holds is an incident.

Statically for every step with an SLA timer; one breached step per SOP end to end (the first step with
a Waktu on the path of the first choices).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from lxml import etree
from sqlalchemy import select
from support.helpers import ROOT
from support.smtp import smtp_server
from support.sop_driver import DIAGRAMS, Sop, form, instant, ready, sqlite_only, unit_of

from service.cli import _demo_roles
from service.mail import SMTPMailer
from service.store.models import OutboxItem, User
from service.worker.loop import run_once

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn"}
ESCALATION_SUBJECT = "Batas waktu SOP terlewati"


class Escalation(NamedTuple):
    element_id: str  # the user task the SLA timer is attached to
    roles: frozenset[str]  # the task's own roles: candidateGroups, else its lane
    target: str  # eskalasi_ke


def escalations(path: Path) -> list[Escalation]:
    """Every non-interrupting timer of the diagram with the role it escalates to."""
    root = etree.parse(str(path)).getroot()
    lane_of = {ref.text: lane.get("name") for lane in root.iterfind(".//bpmn:lane", NS)
               for ref in lane.iterfind("bpmn:flowNodeRef", NS)}
    tasks = {task.get("id"): task for task in root.iterfind(".//bpmn:userTask", NS)}
    found = []
    for timer in root.iterfind(".//bpmn:boundaryEvent", NS):
        if timer.get("cancelActivity") != "false" or timer.find("bpmn:timerEventDefinition", NS) is None:
            continue
        task = tasks[timer.get("attachedToRef")]
        groups = {g.strip() for g in task.get(f"{{{NS['camunda']}}}candidateGroups", "").split(",") if g.strip()}
        target = timer.xpath(".//camunda:property[@name='eskalasi_ke']/@value", namespaces=NS)
        assert target, f"{path.stem}: the SLA timer of {task.get('id')} names no role to escalate to"
        found.append(Escalation(task.get("id"), frozenset(groups or {lane_of[task.get("id")]}), target[0]))
    return found


TIMED = [path for path in DIAGRAMS if escalations(path)]


def _key(path: Path) -> str:
    return path.stem


@pytest.mark.parametrize("path", DIAGRAMS, ids=_key)
def test_every_escalation_names_a_demo_role_other_than_the_steps_own(path: Path) -> None:
    unit = unit_of(path)
    demo = _demo_roles(unit, path.read_bytes())
    for escalation in escalations(path):
        assert escalation.target not in escalation.roles, escalation
        assert (unit, escalation.target) in demo, escalation


def test_the_sops_with_a_waktu_escalate_and_the_others_have_nothing_to_escalate() -> None:
    assert {path.stem for path in TIMED} == {"wbs-dpmptsp-kukar", "wbs-dpmptsp-lamandau",
                                             "pengaduan-langsung-dinsos-kukar", "pengaduan-online-dinsos-kukar",
                                             "dumas-inspektorat-katingan"}


# --- end to end -------------------------------------------------------------------------------------------

def _address(username: str) -> str:
    return f"{re.sub(r'[^a-z0-9]+', '.', username.lower()).strip('.')}@contoh.go.id"


@pytest.fixture
def mail(sop: Sop) -> Iterator[tuple[Any, SMTPMailer]]:
    """A real SMTP server on loopback and the mailer the worker sends through."""
    with smtp_server() as (handler, port):
        services = sop.services
        services.settings = services.settings.with_overrides({"smtp_host": "127.0.0.1", "smtp_port": port,
                                                              "forms_dir": ROOT / "forms"})
        yield handler, SMTPMailer(services.settings)


def _demo_staff(sop: Sop, path: Path, *, without: str | None = None) -> dict[tuple[str, str], str]:
    """The users ``alur demo`` creates for the SOP (one per role and unit), each with a mail address;
    ``without``: a role left unheld. Returns (unit, role) → address."""
    usernames = {(unit, role): sop.staff(role, unit).persona.username
                 for unit, role in sorted(_demo_roles(unit_of(path), path.read_bytes())) if role != without}
    with sop.services.db.transaction() as session:
        for user in session.scalars(select(User).where(User.username.in_(list(usernames.values())))):
            user.email = _address(user.username)
    return {held: _address(username) for held, username in usernames.items()}


def _first_timed_task(sop: Sop, key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Start a case and complete the tasks before the first one with a Waktu (the first choice of each
    decision); the case and that task."""
    case = sop.start(key, form(_start_form(key)))
    while True:
        assert ready(case), f"{key}: no task with a Waktu on the path"
        task = case["tasks"][0]
        if task["due_at"]:
            return case, task
        case = sop.work(case, task["element_id"], task["lane"], form(task["form_key"]))


def _start_form(key: str) -> str:
    path = next(path for path in DIAGRAMS if path.stem == key)
    found = re.search(r'<bpmn:startEvent [^>]*camunda:formKey="([^"]+)"', path.read_text(encoding="utf-8"))
    assert found, key
    return found.group(1)


@pytest.mark.parametrize("path", TIMED, ids=_key)
def test_the_escalation_of_a_breached_step_reaches_the_demo_user_by_mail(sop: Sop, mail: tuple[Any, SMTPMailer],
                                                                         path: Path) -> None:
    handler, mailer = mail
    addresses = _demo_staff(sop, path)
    case, task = _first_timed_task(sop, path.stem)
    (escalation,) = [e for e in escalations(path) if e.element_id == task["element_id"]]
    sop.clock.move_to(instant(task["due_at"]) + timedelta(seconds=1))
    assert run_once(sop.services, mailer=mailer) is True

    with sop.services.db.reading() as session:
        (item,) = session.scalars(select(OutboxItem).where(OutboxItem.case_id == case["id"],
                                                           OutboxItem.kind == "escalation")).all()
        assert (item.recipient_role, item.status) == (escalation.target, "sent")
    escalated = [m for m in handler.messages if str(m["Subject"]).startswith(ESCALATION_SUBJECT)]
    assert [m["To"] for m in escalated] == [addresses[case["unit"], escalation.target]]
    body = escalated[0].get_payload(decode=True).decode()
    assert f"Yth. {escalation.target}," in body and task["name"] in body
    own = {addresses[case["unit"], role] for role in escalation.roles if (case["unit"], role) in addresses}
    assert not own & {m["To"] for m in escalated}


@sqlite_only
def test_an_escalation_to_a_role_nobody_holds_is_an_incident(sop: Sop, mail: tuple[Any, SMTPMailer]) -> None:
    """000 langkah 2 escalates to the Kabid: in an office where nobody holds that role, the administrator
    sees an incident; no mail goes out."""
    handler, mailer = mail
    path = next(path for path in DIAGRAMS if path.stem == "wbs-dpmptsp-kukar")
    _demo_staff(sop, path, without="Kabid")
    case, task = _first_timed_task(sop, path.stem)
    assert task["element_id"] == "Task_pemeriksaan"
    sop.clock.move_to(instant(task["due_at"]) + timedelta(seconds=1))
    assert run_once(sop.services, mailer=mailer) is True
    assert not [m for m in handler.messages if str(m["Subject"]).startswith(ESCALATION_SUBJECT)]
    incidents = sop.client.get("/api/reports/incidents", headers=sop.admin.headers)
    assert incidents.status_code == 200, incidents.json
    (incident,) = [i for i in incidents.json["items"] if i["case_id"] == case["id"]]
    assert (incident["kind"], incident["recipient_role"], incident["unit"]) == ("escalation", "Kabid", "dpmptsp-kukar")
    assert "no user holds role Kabid" in incident["error"]
