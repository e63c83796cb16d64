"""Parallel dispositions (issue 15, item 3): the Ketua Tim Pengaduan disposes to several bidang at once.

In SOP 003a (``pengaduan-langsung-dinsos-kukar``) langkah 5 is a parallel multi-instance user task over
the list ``bidang_tujuan`` the Sekretaris chose at langkah 4 (``camunda:elementVariable="bidang"``,
``tujuan_unit=bidang``): one task per bidang, each in that bidang's task list only, each with the SLA
of the step; the answers are collected by bidang (``jawaban_bidang``) and langkah 6 starts once every
bidang answered. The SLA timer of the step escalates only the bidang still open when it fires.
Deploying a multi-instance task that routes no instance, or runs over a field no form provides as a
list, is a 422 naming the element.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from support.sop_driver import (
    BPMN_DIR,
    OFFICES,
    START,
    Sop,
    Step,
    actions,
    form,
    instant,
    ready,
    sqlite_only,
    walk,
    working_days_due,
)
from support.web import browser, browser_login, live_server, new_page, sign_in  # noqa: F401 - fixtures by name

from service.catalogue import SUB_UNITS
from service.store.models import Definition, Notification, OutboxItem, Task, Unit, User
from service.worker.loop import run_once

KEY = "pengaduan-langsung-dinsos-kukar"
UNIT = "dinsos-kukar"
TZ = OFFICES[UNIT].timezone
LINJAMSOS, REHSOS, DAYASOS, PFM = ("dinsos-kukar-linjamsos", "dinsos-kukar-rehsos", "dinsos-kukar-dayasos",
                                   "dinsos-kukar-pfm")
CHOSEN = [LINJAMSOS, REHSOS, PFM]
NAMES = {unit.code: unit.name for unit in SUB_UNITS[UNIT]}
MIN = timedelta(minutes=1)
PENGADUAN = form("dinsos-langsung-pengaduan", nama="Siti Aminah", nik="6402015507900002", telepon="+6281298765432",
                 alamat="Loa Kulu", materi_aduan="Lansia terlantar tidak menerima bantuan dan rehabilitasi")
DISPOSED = [
    Step("Task_pencatatan", "Petugas", form("dinsos-langsung-pencatatan", nomor_registrasi="ADU/LGS/077"),
         10 * MIN, "Sekretaris"),
    Step("Task_penerusan", "Petugas", form("dinsos-langsung-penerusan"), 10 * MIN, "Sekretaris"),
    Step("Task_disposisi", "Sekretaris", form("dinsos-langsung-disposisi", bidang_tujuan=CHOSEN,
                                              isi_disposisi="Ditangani bersama tiga bidang"), 10 * MIN,
         "Kepala Dinas"),
]
ANSWERS = {
    LINJAMSOS: {"hasil_tindak_lanjut": "Didaftarkan sebagai penerima jaminan sosial lanjut usia."},
    REHSOS: {"hasil_tindak_lanjut": "Dijadwalkan rehabilitasi sosial di panti pada pekan depan."},
    PFM: {"hasil_tindak_lanjut": "Diusulkan masuk DTKS untuk bantuan fakir miskin."},
}


def _dispose(sop: Sop) -> dict[str, Any]:
    case = walk(sop, sop.start(KEY, PENGADUAN), DISPOSED)
    assert ready(case) == ["Task_tindak_lanjut"] * 3
    return case


def _by_unit(case: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {task["unit"]: task for task in case["tasks"] if task["element_id"] == "Task_tindak_lanjut"}


def _answer(sop: Sop, case: dict[str, Any], bidang: str) -> dict[str, Any]:
    task = _by_unit(case)[bidang]
    kabid = sop.staff("Kabid", bidang)
    done = sop.client.post(f"/api/tasks/{task['id']}/complete", headers=kabid.headers,
                           json={"data": ANSWERS[bidang]})
    assert done.status_code == 200, done.json
    return dict(done.json)


def _breached(sop: Sop, case_id: str) -> dict[str, bool]:
    with sop.services.db.reading() as session:
        rows = session.execute(select(Task.unit_id, Task.breached_at, Task.status).where(
            Task.case_id == case_id, Task.element_id == "Task_tindak_lanjut")).all()
        codes = {unit_id: code for unit_id, code in session.execute(select(Unit.id, Unit.code))}
    return {codes[unit_id]: breached_at is not None for unit_id, breached_at, _status in rows}


def test_a_disposition_to_three_bidang_makes_three_tasks_each_in_its_bidang_only(sop: Sop) -> None:
    case = _dispose(sop)
    tasks = _by_unit(case)
    assert sorted(tasks) == sorted(CHOSEN)
    # each with the 2 hari kerja of langkah 5, counted from the disposition
    due = working_days_due(START + 30 * MIN, 2, TZ)
    assert {instant(task["due_at"]) for task in tasks.values()} == {due}
    assert len({task["id"] for task in tasks.values()}) == 3
    for bidang, task in tasks.items():
        assert [t["id"] for t in sop.tasks("Kabid", bidang)] == [task["id"]], bidang
    assert sop.tasks("Kabid", DAYASOS) == [] and sop.tasks("Kabid", UNIT) == []
    # another bidang's Kabid neither reads nor completes it
    for bidang, task in tasks.items():
        for other in [*CHOSEN, DAYASOS]:
            if other == bidang:
                continue
            headers = sop.staff("Kabid", other).headers
            assert sop.client.get(f"/api/tasks/{task['id']}", headers=headers).status_code in (403, 404)
            refused = sop.client.post(f"/api/tasks/{task['id']}/complete", headers=headers,
                                      json={"data": ANSWERS[bidang]})
            assert refused.status_code in (403, 404), refused.json
        mine = sop.client.get(f"/api/tasks/{task['id']}", headers=sop.staff("Kabid", bidang).headers)
        assert mine.status_code == 200 and mine.json["unit"] == bidang


def test_the_next_step_starts_after_every_bidang_answered_with_all_answers(
        sop: Sop, request: pytest.FixtureRequest) -> None:
    case = _dispose(sop)
    case = _answer(sop, case, REHSOS)
    sop.services.specs.clear()  # another process (web worker, restart) compiles the revision afresh
    case = _answer(sop, case, LINJAMSOS)
    # two of three answered: langkah 6 has not started, the reporter was not told yet
    assert ready(case) == ["Task_tindak_lanjut"] and list(_by_unit(case)) == [PFM]
    assert sop.published(case["id"]) == []
    assert sop.tasks("Sekretaris", UNIT) == []
    assert case["data"]["jawaban_bidang"] == {REHSOS: ANSWERS[REHSOS], LINJAMSOS: ANSWERS[LINJAMSOS]}
    assert "hasil_tindak_lanjut" not in case["data"]
    # the last bidang's form is not filled with another bidang's answer
    pfm_task = sop.client.get(f"/api/tasks/{_by_unit(case)[PFM]['id']}", headers=sop.staff("Kabid", PFM).headers)
    assert pfm_task.status_code == 200
    sop.services.specs.clear()
    case = _answer(sop, case, PFM)
    assert ready(case) == ["Task_pelaporan"]
    assert case["data"]["jawaban_bidang"] == ANSWERS
    assert case["data"]["bidang_tujuan"] == CHOSEN, "the disposition itself stays as the Sekretaris chose it"
    # the reporter reads every bidang's answer, each under its label and the bidang's name
    notices = [row.payload for row in sop.outbox(case["id"], "notification") if row.recipient_role == "Pelapor"]
    assert len(notices) == 1
    assert [(f["name"], f["label"], f["value"]) for f in notices[0]["fields"]] == [
        ("hasil_tindak_lanjut", f"Formulir penyelesaian pengaduan — {NAMES[bidang]}", ANSWERS[bidang][
            "hasil_tindak_lanjut"]) for bidang in (REHSOS, LINJAMSOS, PFM)]
    assert [h["data"]["name"] for h in actions(case, "task_completed")][-3:] == [
        "Kepala Bidang menindaklanjuti pengaduan"] * 3
    # the Sekretaris's next task page shows every bidang's answer (escaped, in the case data)
    pelaporan = next(t for t in case["tasks"] if t["element_id"] == "Task_pelaporan")
    signed_in: Callable[[str], Any] = request.getfixturevalue("sign_in")
    page = signed_in(sop.staff("Sekretaris", UNIT).persona.username).get(f"/tasks/{pelaporan['id']}")
    assert page.status_code == 200
    for answer in ANSWERS.values():
        assert answer["hasil_tindak_lanjut"] in page.text
    case = walk(sop, case, [Step("Task_pelaporan", "Sekretaris",
                                 form("dinsos-langsung-pelaporan", nomor_arsip="ARS/LGS/77"), 10, "Kepala Dinas")])
    assert case["status"] == "completed"


def test_one_bidang_breaching_its_deadline_escalates_alone(sop: Sop) -> None:
    kadis = sop.staff("Kepala Dinas", UNIT)  # the escalation's recipient holds the role
    kabid = {bidang: sop.staff("Kabid", bidang) for bidang in [*CHOSEN, DAYASOS]}
    case = _dispose(sop)
    tasks = _by_unit(case)
    due = instant(tasks[PFM]["due_at"])
    case = _answer(sop, case, LINJAMSOS)
    case = _answer(sop, case, REHSOS)
    sop.clock.move_to(due - timedelta(seconds=1))
    assert run_once(sop.services) is False
    sop.clock.move_to(due + timedelta(seconds=1))
    assert run_once(sop.services) is True

    after = sop.case(case["id"])
    fired = actions(after, "timer_fired")
    assert [(h["element_id"], h["data"]["attached_to"]) for h in fired] == [
        ("Timer_Task_tindak_lanjut", "Task_tindak_lanjut")]
    assert ready(after) == ["Task_tindak_lanjut"] and list(_by_unit(after)) == [PFM]
    assert _breached(sop, case["id"]) == {LINJAMSOS: False, REHSOS: False, PFM: True}
    escalations = sop.outbox(case["id"], "escalation")
    assert [(row.recipient_role, row.payload["element_id"]) for row in escalations] == [
        ("Kepala Dinas", "Task_tindak_lanjut")]
    with sop.services.db.reading() as session:
        notes = session.execute(select(Notification.task_id, Notification.kind, User.username)
                                .join(User, User.id == Notification.user_id)
                                .where(Notification.case_id == case["id"])).all()
    # the Kepala Dinas is told of the late bidang, and that bidang's Kabid that his task is overdue
    assert sorted((task_id, kind, name) for task_id, kind, name in notes) == sorted([
        (tasks[PFM]["id"], "escalation", kadis.persona.username),
        (tasks[PFM]["id"], "overdue", kabid[PFM].persona.username)])
    overdue = [t["id"] for t in sop.tasks("Kabid", PFM, overdue="true")]
    assert overdue == [tasks[PFM]["id"]]
    assert sop.tasks("Kabid", LINJAMSOS, overdue="true") == []

    # the worker runs again after a restart (the revision compiled afresh): nothing fires twice
    sop.services.specs.clear()
    assert run_once(sop.services) is False
    sop.clock.move_to(due + timedelta(days=1))
    assert run_once(sop.services) is False
    with sop.services.db.reading() as session:
        counted = session.scalar(select(func.count()).select_from(OutboxItem).where(
            OutboxItem.case_id == case["id"], OutboxItem.kind == "escalation"))
        noted = session.scalar(select(func.count()).select_from(Notification).where(
            Notification.case_id == case["id"]))
    assert (counted, noted) == (1, len(notes))
    assert len(actions(sop.case(case["id"]), "timer_fired")) == 1
    # the late bidang still answers, and the case goes on
    case = _answer(sop, sop.case(case["id"]), PFM)
    assert ready(case) == ["Task_pelaporan"] and case["data"]["jawaban_bidang"] == ANSWERS
    assert datetime.now(UTC) == due + timedelta(days=1)


def _variant(old: str, new: str) -> bytes:
    text = (BPMN_DIR / f"{KEY}.bpmn").read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    return text.replace(old, new).encode()


MI = '<bpmn:multiInstanceLoopCharacteristics camunda:collection="bidang_tujuan" camunda:elementVariable="bidang"/>'
ROUTE = '<camunda:property name="tujuan_unit" value="bidang"/>'


def test_a_multi_instance_task_without_routing_or_collection_field_is_refused_at_deploy(sop: Sop) -> None:
    with sop.services.db.reading() as session:
        before = session.scalar(select(func.count()).select_from(Definition))
    variants = {
        "no routing": _variant(ROUTE, ""),
        "routed by the whole list": _variant(ROUTE, '<camunda:property name="tujuan_unit" value="bidang_tujuan"/>'),
        "no element variable": _variant(MI, '<bpmn:multiInstanceLoopCharacteristics '
                                            'camunda:collection="bidang_tujuan"/>'),
        "collection no form provides": _variant(MI, MI.replace('"bidang_tujuan"', '"bidang_lain"')),
        "collection not a list": _variant(MI, MI.replace('"bidang_tujuan"', '"isi_disposisi"')),
    }
    for name, diagram in variants.items():
        response = sop.client.post("/api/definitions", headers=sop.admin.headers,
                                   data={"bpmn": (io.BytesIO(diagram), f"{KEY}.bpmn"), "unit": UNIT},
                                   content_type="multipart/form-data")
        assert response.status_code == 422, (name, response.json)
        assert {error["element_id"] for error in response.json["errors"]} == {"Task_tindak_lanjut"}, name
    with sop.services.db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Definition)) == before


@pytest.fixture
def page(request: pytest.FixtureRequest) -> Any:
    """A fresh page of the session's Chromium on a live server (``new_page`` of ``tests/support/web.py``)."""
    return request.getfixturevalue("new_page")()


@sqlite_only
def test_the_ketua_tim_ticks_the_bidang_on_the_task_page(sop: Sop, page: Any) -> None:
    case = walk(sop, sop.start(KEY, PENGADUAN), DISPOSED[:2])
    task = next(t for t in case["tasks"] if t["element_id"] == "Task_disposisi")
    browser_login(page, sop.staff("Sekretaris", UNIT).persona.username)
    page.goto(f"/tasks/{task['id']}")
    page.locator("form.rjsf").wait_for()
    for bidang in (REHSOS, PFM):  # the choices are the bidang by name (checkboxes), not their codes
        page.get_by_label(NAMES[bidang], exact=True).check()
    assert not page.get_by_label(NAMES[LINJAMSOS], exact=True).is_checked()
    page.fill("#root_isi_disposisi", "Mohon ditindaklanjuti bersama")
    page.get_by_role("button", name="Selesaikan tugas").click()
    page.wait_for_url("**/cases/**")
    after = sop.case(case["id"])
    assert after["data"]["bidang_tujuan"] == [REHSOS, PFM]
    assert sorted(_by_unit(after)) == sorted([REHSOS, PFM])
    assert page.console_errors == []
