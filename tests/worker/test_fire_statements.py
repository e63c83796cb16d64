"""The SQL statements of firing SLA timers are counted (issue 13), and the cheap path stays exact.

A batch of due SLA timers of ``review.bpmn`` ("Verifikasi kelengkapan", escalating to the Kabid) is fired
by one :func:`fire_batch`. On PostgreSQL the batch costs its claim (with the cases' access rows), one read
of the units' closed days and one of the open task rows, one statement per case: everything the fire
wrote (``write_in_one``: the case row, the breach mark, the history, the escalation grant and the outbox
row), and the notifications of all its breaches (one INSERT … SELECT). SQLite writes through the unit of
work at the commit.
The results are checked as well: each timer fired once, the projection and the history chain agree with
the engine, the notices reach the right people (acting officials in force included).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import select
from support.consistency import check_cases
from support.helpers import Persona, deploy_bytes, services_of, signed_in_now, sql_statements

from service.commands import accounts, acting, notifications
from service.commands.context import Services
from service.commands.timers import FIRE_BATCH, fire_batch
from service.store.models import (
    BufferedMessage,
    Case,
    CaseAccess,
    HistoryEntry,
    Notification,
    OutboxItem,
    Task,
    TaskCandidate,
    Unit,
    User,
)

#: a Monday, 09:00 in unit A (Asia/Jakarta); the SLA of "Verifikasi kelengkapan" is 10 minutes
START = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)
BREACH = START + timedelta(minutes=11)


def counted(services: Services) -> AbstractContextManager[list[str]]:
    """The statements sent through the engine inside the block."""
    return sql_statements(services.db.engine)


def _start(client: Any, persona: Persona, count: int) -> list[str]:
    with time_machine.travel(START, tick=False):
        pelapor = signed_in_now(client, persona)
        ids = []
        for number in range(count):
            answer = client.post("/api/cases", headers=pelapor.headers,
                                 json={"definition_key": "review", "data": {"judul": f"Pungli {number}"}})
            assert answer.status_code == 201, answer.json
            ids.append(str(answer.json["id"]))
    return ids


def _notified(services: Services) -> Counter[tuple[str, str, str]]:
    """(case, user, kind) of every notification."""
    with services.db.reading() as session:
        rows = session.execute(select(Notification.case_id, User.username, Notification.kind)
                               .join(User, User.id == Notification.user_id)).all()
    return Counter((case_id, username, kind) for case_id, username, kind in rows)


#: statements of one batch besides its fires, and per fire, as reached (issue 13: at most 4 per fire
#: besides the claim): ``write_in_one``, on both backends
BATCH_READS = 3  # the claim with the access rows, the closed days, the open task rows
BATCH_WRITES = 1  # the notifications of every breach of the batch
PER_FIRE = 1


def test_statements_per_fire(app: Any, client: Any, db_url: str, review: dict[str, Any],
                             staff: dict[str, Persona]) -> None:
    services = services_of(app)
    backend = "postgres" if services.db.is_postgres else "sqlite"
    cases = _start(client, staff["pelapor_a"], 4)
    with time_machine.travel(BREACH, tick=False), counted(services) as seen:
        assert fire_batch(services, BREACH, FIRE_BATCH) == (4, 4)
    assert len(seen) == BATCH_READS + BATCH_WRITES + PER_FIRE * 4, "\n\n".join(seen)
    assert (len(seen) - 1) / 4 <= 4
    notices = [statement for statement in seen if "INSERT INTO notifications" in statement]
    assert len(notices) == 1  # the notifications of the batch's four breaches
    write = "WITH" if backend == "postgres" else "INSERT INTO alur_write_"
    writes = [statement for statement in seen if statement.lstrip().startswith(write) and statement not in notices]
    assert len(writes) == 4  # one write per fire
    with time_machine.travel(BREACH, tick=False), counted(services) as again:
        assert fire_batch(services, BREACH, FIRE_BATCH) == (0, 0)
    assert len(again) == 1  # nothing due: the claim alone

    with services.db.reading() as session:
        fired = Counter(session.scalars(select(HistoryEntry.case_id).where(HistoryEntry.action == "timer_fired")))
        breached = dict(session.execute(select(Task.case_id, Task.breached_at).where(Task.case_id.in_(cases))).all())
        grants = {case_id: (source, fields) for case_id, source, fields in session.execute(
            select(CaseAccess.case_id, CaseAccess.source, CaseAccess.fields).where(CaseAccess.role == "Kabid"))}
        escalations = [(item.case_id, item.recipient_role, item.payload["step"]) for item in session.scalars(
            select(OutboxItem).where(OutboxItem.kind == "escalation"))]
    assert fired == Counter(dict.fromkeys(cases, 1))
    assert breached == dict.fromkeys(cases, BREACH)
    assert grants == dict.fromkeys(cases, ("escalation", None))
    assert sorted(escalations) == sorted((case_id, "Kabid", "Verifikasi kelengkapan") for case_id in cases)
    assert _notified(services) == Counter({**{(case_id, "kabid.a", "escalation"): 1 for case_id in cases},
                                           **{(case_id, kasi, "overdue"): 1 for case_id in cases
                                              for kasi in ("kasi.a", "kasi2.a")}})
    checked = check_cases(services, cases)
    assert checked.problems == [] and checked.cases == 4


def test_a_need_to_know_grant_of_the_escalation_role_is_widened(app: Any, client: Any, db_url: str,
                                                                  review: dict[str, Any],
                                                                  staff: dict[str, Persona]) -> None:
    """The access rows come with the claim, so the escalation still widens a grant limited to some fields
    (the widest access wins) instead of leaving it as it was."""
    services = services_of(app)
    limited, plain = _start(client, staff["pelapor_a"], 2)
    with services.db.transaction() as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == "unit-a"))
        assert unit_id is not None
        created = session.scalar(select(Case.created_at).where(Case.id == limited))
        session.add(CaseAccess(case_id=limited, unit_id=unit_id, role="Kabid", fields=["judul"], source="task",
                               case_created_at=created))
    kabid = signed_in_now(client, staff["kabid_a"])
    assert client.get(f"/api/cases/{plain}", headers=kabid.headers).status_code == 404
    with time_machine.travel(BREACH, tick=False):
        assert fire_batch(services, BREACH, FIRE_BATCH) == (2, 2)
        kabid = signed_in_now(client, staff["kabid_a"])
        for case_id in (limited, plain):
            seen = client.get(f"/api/cases/{case_id}", headers=kabid.headers)
            assert seen.status_code == 200 and seen.json["data"] == {"judul": seen.json["data"]["judul"]}
            assert [entry["action"] for entry in seen.json["history"]].count("timer_fired") == 1
    with services.db.reading() as session:
        rows = {row.case_id: (row.fields, row.source) for row in session.scalars(
            select(CaseAccess).where(CaseAccess.role == "Kabid"))}
    assert rows == {limited: (None, "task"), plain: (None, "escalation")}


def test_escalation_notices_reach_acting_officials_in_force_at_the_breach(
        app: Any, client: Any, db_url: str, review: dict[str, Any], staff: dict[str, Persona],
        make_persona: Callable[..., Persona]) -> None:
    """The notices' statement is built once with the breach's instant as a parameter: a Plt. Kabid whose
    grant is in force then is notified, one whose grant starts the next day is not."""
    services = services_of(app)
    make_persona("citra", "Kasi@unit-b")
    make_persona("dodi", "Kasi@unit-b")
    admin = accounts.actor_by_id(services, _user_id(services, "admin.a"))
    day = START.date()
    for username, first in (("citra", day), ("dodi", day + timedelta(days=1))):
        acting.grant(services, admin, acting.GrantRequest(username=username, role="Kabid", unit_code="unit-a",
                                                          for_username="kabid.a", kind="Plt", starts_on=first,
                                                          ends_on=first + timedelta(days=2)))
    (case_id,) = _start(client, staff["pelapor_a"], 1)
    with time_machine.travel(BREACH, tick=False):
        assert fire_batch(services, BREACH, FIRE_BATCH) == (1, 1)
    assert _notified(services) == Counter({(case_id, "kabid.a", "escalation"): 1,
                                           (case_id, "citra", "escalation"): 1,
                                           (case_id, "kasi.a", "overdue"): 1, (case_id, "kasi2.a", "overdue"): 1})


def _user_id(services: Services, username: str) -> int:
    with services.db.reading() as session:
        found = session.scalar(select(User.id).where(User.username == username))
    assert found is not None
    return found


#: a timer, then a catch of the message ``dokumen``, then a task: a message sent while the timer waits is
#: buffered, and the fire that reaches the catch delivers it (the probe is skipped only when nothing waits)
TIMER_THEN_MESSAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Definitions_tunggu_dokumen" targetNamespace="http://alur.test/tunggu_dokumen">
  <bpmn:message id="Msg_dokumen" name="dokumen" />
  <bpmn:collaboration id="Collab_tunggu_dokumen">
    <bpmn:participant id="Participant_tunggu_dokumen" name="Uji" processRef="tunggu_dokumen" />
  </bpmn:collaboration>
  <bpmn:process id="tunggu_dokumen" name="Tunggu lalu terima dokumen (uji worker)" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_kasi" name="Kasi">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>tunggu</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>terima</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>periksa</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>selesai</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="Mulai"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="tunggu" />
    <bpmn:intermediateCatchEvent id="tunggu" name="Tunggu 1 menit">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition id="td_tunggu"><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="tunggu" targetRef="terima" />
    <bpmn:intermediateCatchEvent id="terima" name="Dokumen diterima">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:messageEventDefinition id="med_dokumen" messageRef="Msg_dokumen" />
    </bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="terima" targetRef="periksa" />
    <bpmn:userTask id="periksa" name="Periksa dokumen">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f4" sourceRef="periksa" targetRef="selesai" />
    <bpmn:endEvent id="selesai" name="Selesai"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_fire_that_reaches_a_message_catch_delivers_the_buffered_message(
        app: Any, client: Any, db_url: str, admin: Persona, staff: dict[str, Persona]) -> None:
    services = services_of(app)
    deployed = deploy_bytes(client, admin, TIMER_THEN_MESSAGE, name="tunggu_dokumen.bpmn")
    assert deployed.status_code == 201, deployed.json
    with time_machine.travel(START, tick=False):
        kasi = signed_in_now(client, staff["kasi_a"])
        case = client.post("/api/cases", headers=kasi.headers, json={"definition_key": "tunggu_dokumen"})
        assert case.status_code == 201, case.json
        case_id = case.json["id"]
        sent = client.post(f"/api/cases/{case_id}/messages", headers=kasi.headers,
                           json={"name": "dokumen", "data": {"nomor": "12/2026"}})
        assert sent.status_code == 202 and sent.json == {"delivered": False, "buffered": True}, sent.json
    moment = START + timedelta(minutes=2)
    with time_machine.travel(moment, tick=False):
        assert fire_batch(services, moment, FIRE_BATCH) == (1, 1)
        kasi = signed_in_now(client, staff["kasi_a"])
        after = client.get(f"/api/cases/{case_id}", headers=kasi.headers).json
    assert [task["element_id"] for task in after["tasks"]] == ["periksa"]
    actions = [entry["action"] for entry in after["history"]]
    assert actions[actions.index("timer_fired"):] == ["timer_fired", "message_delivered", "task_created"]
    (delivered,) = [entry for entry in after["history"] if entry["action"] == "message_delivered"]
    assert delivered["data"] == {"name": "dokumen", "buffered": True}
    with services.db.reading() as session:
        assert session.scalars(select(BufferedMessage.delivered_at)).all() == [moment]
    checked = check_cases(services, [case_id])
    assert checked.problems == []


#: a Kasi task whose deadline interrupts it and hands the case to the Kabid
DEADLINE = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
    id="Definitions_batas_waktu" targetNamespace="http://alur.test/batas_waktu">
  <bpmn:collaboration id="Collab_batas_waktu">
    <bpmn:participant id="Participant_batas_waktu" name="Uji" processRef="batas_waktu" />
  </bpmn:collaboration>
  <bpmn:process id="batas_waktu" name="Batas waktu yang memutus (uji worker)" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_kasi" name="Kasi">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>kerja</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>batas</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>selesai</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_kabid" name="Kabid">
        <bpmn:flowNodeRef>ambil_alih</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>selesai_kabid</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="Mulai"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="kerja" />
    <bpmn:userTask id="kerja" name="Kerjakan laporan">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="kerja" targetRef="selesai" />
    <bpmn:endEvent id="selesai" name="Selesai"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:boundaryEvent id="batas" name="Batas 10 menit" attachedToRef="kerja" cancelActivity="true">
      <bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:timerEventDefinition id="td_batas"><bpmn:timeDuration>PT10M</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="batas" targetRef="ambil_alih" />
    <bpmn:userTask id="ambil_alih" name="Diambil alih Kabid">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f4" sourceRef="ambil_alih" targetRef="selesai_kabid" />
    <bpmn:endEvent id="selesai_kabid" name="Selesai"><bpmn:incoming>f4</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_an_interrupting_deadline_cancels_the_task_and_its_candidates(
        app: Any, client: Any, db_url: str, admin: Persona, staff: dict[str, Persona]) -> None:
    """The cancelled row loses its candidates (dropped children of the one write on PostgreSQL), the
    new row gets its own and the Kabid its access, in the same batch as another case's fire."""
    services = services_of(app)
    deployed = deploy_bytes(client, admin, DEADLINE, name="batas_waktu.bpmn")
    assert deployed.status_code == 201, deployed.json
    with time_machine.travel(START, tick=False):
        kasi = signed_in_now(client, staff["kasi_a"])
        cases = []
        for _ in range(2):
            answer = client.post("/api/cases", headers=kasi.headers, json={"definition_key": "batas_waktu"})
            assert answer.status_code == 201, answer.json
            cases.append(answer.json["id"])
    with time_machine.travel(BREACH, tick=False):
        assert fire_batch(services, BREACH, FIRE_BATCH) == (2, 2)
        kabid = signed_in_now(client, staff["kabid_a"])
        for case_id in cases:
            seen = client.get(f"/api/cases/{case_id}", headers=kabid.headers)
            assert seen.status_code == 200, seen.json
            assert [task["element_id"] for task in seen.json["tasks"]] == ["ambil_alih"]
            actions = [entry["action"] for entry in seen.json["history"]]
            assert actions[actions.index("timer_fired"):] == ["timer_fired", "task_cancelled", "task_created"]
    with services.db.reading() as session:
        rows = session.execute(select(Task.element_id, Task.status, Task.completed_at, TaskCandidate.role)
                               .outerjoin(TaskCandidate, TaskCandidate.task_id == Task.id)
                               .where(Task.case_id.in_(cases))).all()
    assert Counter(rows) == Counter({("kerja", "cancelled", BREACH, None): 2,
                                     ("ambil_alih", "ready", None, "Kabid"): 2})
    checked = check_cases(services, cases)
    assert checked.problems == [] and checked.cases == 2


def test_one_statement_notifies_a_batch_of_breaches_of_cancelled_and_claimed_steps(
        app: Any, client: Any, db_url: str, admin: Persona, staff: dict[str, Persona]) -> None:
    """The notices of a whole batch are one INSERT … SELECT at its end, after each fire's own write: the
    candidates of a step an interrupting SLA timer cancelled (dropped by that write) still get the overdue
    notice, a claimed step's notice goes to its claimant alone, and no escalated user gets both."""
    services = services_of(app)
    escalating = DEADLINE.replace(b'cancelActivity="true">', b'cancelActivity="true"><bpmn:extensionElements>'
                                  b'<camunda:properties><camunda:property name="eskalasi_ke" value="Kabid" />'
                                  b'</camunda:properties></bpmn:extensionElements>')
    deployed = deploy_bytes(client, admin, escalating, name="batas_waktu.bpmn")
    assert deployed.status_code == 201, deployed.json
    with time_machine.travel(START, tick=False):
        kasi = signed_in_now(client, staff["kasi_a"])
        cases, tasks = [], []
        for _ in range(3):
            answer = client.post("/api/cases", headers=kasi.headers, json={"definition_key": "batas_waktu"})
            assert answer.status_code == 201, answer.json
            cases.append(answer.json["id"])
            tasks.append(answer.json["tasks"][0]["id"])
        assert client.post(f"/api/tasks/{tasks[1]}/claim", headers=kasi.headers).status_code == 200
    with time_machine.travel(BREACH, tick=False), counted(services) as seen:
        assert fire_batch(services, BREACH, FIRE_BATCH) == (3, 3)
    assert sum("INSERT INTO notifications" in statement for statement in seen) == 1
    unclaimed = {(case_id, kasi_name, "overdue"): 1 for case_id in (cases[0], cases[2])
                 for kasi_name in ("kasi.a", "kasi2.a")}
    assert _notified(services) == Counter({**{(case_id, "kabid.a", "escalation"): 1 for case_id in cases},
                                           (cases[1], "kasi.a", "overdue"): 1, **unclaimed})
    with services.db.reading() as session:
        rows = session.execute(select(Notification.case_id, Notification.task_id, Notification.kind,
                                      Notification.data, Notification.created_at, Notification.id)
                               .order_by(Notification.id)).all()
        statuses = dict(session.execute(select(Task.id, Task.status).where(Task.id.in_(tasks))).all())
    assert statuses == dict.fromkeys(tasks, "cancelled")
    # breach by breach (in the batch's order), each breach's escalation first
    order = [case_id for case_id, *_ in rows]
    assert sorted(order, key=order.index) == order
    assert all(rows[order.index(case_id)].kind == "escalation" for case_id in cases)
    assert {(case_id, task_id) for case_id, task_id, *_ in rows} == set(zip(cases, tasks, strict=True))
    assert {(row.data["step"], row.data["role"]) for row in rows} == {("Kerjakan laporan", "Kabid")}
    assert {row.created_at for row in rows} == {BREACH}


def test_a_breach_whose_task_row_is_not_in_the_session_reads_its_candidates(
        app: Any, client: Any, db_url: str, review: dict[str, Any], staff: dict[str, Persona]) -> None:
    """:func:`notifications.record_breach` takes the step's candidates from its row in the session, or reads
    them when the row is not there; nothing is written before :func:`notifications.write_breaches`."""
    services = services_of(app)
    (case_id,) = _start(client, staff["pelapor_a"], 1)
    with services.db.transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        task_id, name, due_at = session.execute(select(Task.id, Task.name, Task.due_at)
                                                .where(Task.case_id == case_id)).one()
        notifications.record_breach(session, case, notifications.BreachedTask(task_id, name, due_at, None),
                                    "Kabid", BREACH)
        assert session.scalars(select(Notification.id)).all() == []
        assert notifications.write_breaches(session) == 1
        assert notifications.write_breaches(session) == 0  # written once
    assert _notified(services) == Counter({(case_id, "kabid.a", "escalation"): 1, (case_id, "kasi.a", "overdue"): 1,
                                           (case_id, "kasi2.a", "overdue"): 1})
