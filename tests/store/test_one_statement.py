"""A command's writes as one statement (``service/store/one_statement.py``), on both backends.

PostgreSQL sends data-modifying CTEs; SQLite an INSERT into a TEMP table of the shape whose trigger
writes the rows. These tests hold what the statement counts of ``tests/api/test_statement_counts.py``
do not show: the answer equals a fresh read whatever way the rows were written, a write whose TEMP
table went with a rolled-back transaction creates it again, a shape wider than a SQLite table is
written step by step (a case that opens eighty tasks at once), and a stale case is refused there too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session
from support.consistency import check_cases
from support.helpers import Persona, case_moved_before, deploy_bytes, services_of, sql_statements

from service.commands.history import HistoryWriter
from service.store.models import Case, HistoryEntry
from service.store.one_statement import write_in_one

#: parallel user tasks of the wide model: the completion opening them writes 2,300-odd values, more than a
#: SQLite table's 2,000 columns
WIDE = 80


def _wide_model(count: int) -> bytes:
    """A Pelapor task, then ``count`` Kasi tasks at once (a parallel split), joined before the end."""
    tasks = "".join(f'<bpmn:userTask id="t{n}" name="Telaah {n}"><bpmn:incoming>s{n}</bpmn:incoming>'
                    f'<bpmn:outgoing>j{n}</bpmn:outgoing></bpmn:userTask>'
                    f'<bpmn:sequenceFlow id="s{n}" sourceRef="split" targetRef="t{n}" />'
                    f'<bpmn:sequenceFlow id="j{n}" sourceRef="t{n}" targetRef="join" />' for n in range(count))
    refs = "".join(f"<bpmn:flowNodeRef>t{n}</bpmn:flowNodeRef>" for n in range(count))
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Definitions_wide"
    targetNamespace="http://alur.test/wide">
  <bpmn:collaboration id="Collab_wide"><bpmn:participant id="P_wide" name="Lebar" processRef="wide" />
  </bpmn:collaboration>
  <bpmn:process id="wide" name="Telaah serentak (uji)" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_pelapor" name="Pelapor"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>lengkapi</bpmn:flowNodeRef></bpmn:lane>
      <bpmn:lane id="Lane_kasi" name="Kasi"><bpmn:flowNodeRef>split</bpmn:flowNodeRef>{refs}
        <bpmn:flowNodeRef>join</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" name="Mulai"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="lengkapi" />
    <bpmn:userTask id="lengkapi" name="Lengkapi"><bpmn:incoming>f0</bpmn:incoming><bpmn:outgoing>f1</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f1" sourceRef="lengkapi" targetRef="split" />
    <bpmn:parallelGateway id="split" />
    {tasks}
    <bpmn:parallelGateway id="join"><bpmn:outgoing>f9</bpmn:outgoing></bpmn:parallelGateway>
    <bpmn:sequenceFlow id="f9" sourceRef="join" targetRef="end" />
    <bpmn:endEvent id="end" name="Selesai" />
  </bpmn:process>
</bpmn:definitions>""".encode()


@pytest.fixture
def wide(client: Any, admin: Persona, make_persona: Callable[..., Persona]) -> dict[str, Persona]:
    response = deploy_bytes(client, admin, _wide_model(WIDE), name="wide.bpmn")
    assert response.status_code == 201, response.json
    return {"pelapor": make_persona("pelapor.wide", "Pelapor@unit-a"), "kasi": make_persona("kasi.wide", "Kasi@unit-a")}


def _start(client: Any, wide: dict[str, Persona]) -> dict[str, Any]:
    created = client.post("/api/cases", headers=wide["pelapor"].headers, json={"definition_key": "wide"})
    assert created.status_code == 201, created.json
    return dict(created.json)


def _complete(client: Any, persona: Persona, task_id: str) -> Any:
    return client.post(f"/api/tasks/{task_id}/complete", headers=persona.headers, json={"data": {}})


def test_a_step_opening_eighty_tasks_is_written_and_answered_as_a_fresh_read(
        app: Any, client: Any, wide: dict[str, Persona], db_url: str) -> None:
    services = services_of(app)
    created = _start(client, wide)
    case_id = created["id"]
    with sql_statements(services.db.engine) as seen:
        opened = _complete(client, wide["pelapor"], created["tasks"][0]["id"])
    assert opened.status_code == 200, opened.json
    assert len(opened.json["tasks"]) == WIDE
    if services.db.is_postgres:
        assert len([statement for statement in seen if statement.startswith("WITH")]) == 1
    else:  # step by step: the case row, then one statement per table written, then the history read
        assert not any("alur_write_" in statement for statement in seen)
        first_write = next(statement for statement in seen if statement.startswith(("UPDATE", "INSERT")))
        assert first_write.startswith("UPDATE cases SET")
    assert opened.json == client.get(f"/api/cases/{case_id}", headers=wide["kasi"].headers).json
    done = _complete(client, wide["kasi"], opened.json["tasks"][0]["id"])
    assert done.status_code == 200, done.json
    assert len(done.json["tasks"]) == WIDE - 1
    assert done.json == client.get(f"/api/cases/{case_id}", headers=wide["kasi"].headers).json
    assert check_cases(services, [case_id]).problems == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_stale_case_is_refused_step_by_step_too(app: Any, client: Any, wide: dict[str, Persona]) -> None:
    """The wide step written step by step checks the case row's lock as the trigger does: another command
    moved the case between the read and the write, the step is a 409 and writes nothing."""
    services = services_of(app)
    created = _start(client, wide)
    before = client.get(f"/api/cases/{created['id']}", headers=wide["pelapor"].headers).json
    with case_moved_before(services.db.engine, "UPDATE cases", created["id"]) as bumped:
        response = _complete(client, wide["pelapor"], created["tasks"][0]["id"])
    assert bumped and response.status_code == 409, response.json
    after = client.get(f"/api/cases/{created['id']}", headers=wide["pelapor"].headers).json
    assert after["history"] == before["history"] and after["tasks"] == before["tasks"]


def _note(session: Session, case_id: str, text_: str) -> list[HistoryEntry]:
    """A small command by hand: a history row on the case, written with :func:`write_in_one`."""
    case = session.get(Case, case_id)
    assert case is not None
    HistoryWriter(session, case.id, "uji", case=case).add("note", {"isi": text_})
    return write_in_one(session, case, last=True)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_write_table_rolled_back_with_its_transaction_is_created_again(
        app: Any, client: Any, wide: dict[str, Persona]) -> None:
    services = services_of(app)
    case_id = _start(client, wide)["id"]
    with services.db.engine.connect() as connection:
        def temp_tables() -> set[str]:
            return set(connection.exec_driver_sql(
                "SELECT name FROM sqlite_temp_master WHERE type = 'table' AND name LIKE 'alur_write_%'").scalars())

        known = temp_tables()
        with Session(bind=connection) as session:
            session.execute(text("UPDATE units SET name = name"))  # the transaction is open: the DDL joins it
            assert [entry.action for entry in _note(session, case_id, "batal")][-1] == "note"
            created = temp_tables() - known
            assert len(created) == 1
            session.rollback()
        assert temp_tables() == known  # gone with the transaction, though the connection remembers it
        assert created <= connection.connection.info["alur.write_tables"]
        with Session(bind=connection) as session:
            answered = _note(session, case_id, "jadi")
            session.commit()
        connection.commit()  # the session joined the transaction the reads above began: it is the connection's
        assert temp_tables() == known | created
    assert [entry.data for entry in answered if entry.action == "note"] == [{"isi": "jadi"}]
    stored = client.get(f"/api/cases/{case_id}", headers=wide["pelapor"].headers).json["history"]
    assert [(entry["action"], entry["hash"]) for entry in stored] == [(entry.action, entry.hash) for entry in answered]
    assert check_cases(services, [case_id]).problems == []


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_answers_digests_stored_as_text_as_it_reads_them(
        app: Any, client: Any, wide: dict[str, Persona]) -> None:
    """Rows written before migration 0026 hold their digests as hex text on SQLite: the JSON answer of the
    trigger's write gives them back as a read of the table does."""
    services = services_of(app)
    created = _start(client, wide)
    case_id = created["id"]
    with services.db.engine.begin() as connection:
        connection.execute(text("UPDATE history SET hash = lower(hex(hash)), prev_hash = lower(hex(prev_hash)) "
                                "WHERE case_id = :id"), {"id": case_id})
        assert set(connection.execute(text("SELECT typeof(hash) FROM history WHERE case_id = :id"),
                                      {"id": case_id}).scalars()) == {"text"}
    opened = _complete(client, wide["pelapor"], created["tasks"][0]["id"])  # step by step
    assert opened.status_code == 200, opened.json
    assert opened.json == client.get(f"/api/cases/{case_id}", headers=wide["kasi"].headers).json
    done = _complete(client, wide["kasi"], opened.json["tasks"][0]["id"])  # through the trigger
    assert done.status_code == 200, done.json
    assert done.json == client.get(f"/api/cases/{case_id}", headers=wide["kasi"].headers).json
    with services.db.reading() as session:
        kinds = list(session.execute(select(text("typeof(hash)")).select_from(HistoryEntry)
                                     .where(HistoryEntry.case_id == case_id)).scalars())
    assert kinds[:2] == ["text", "text"] and set(kinds[2:]) == {"blob"}
    assert check_cases(services, [case_id]).problems == []
