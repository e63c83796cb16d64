"""Bytes per completed case (issue 13): what a finished complaint leaves in the database, counted.

The complaint of ``benchmarks/models/complaint.bpmn`` (Pelapor files, Kasi verifies) runs through the API
on SQLite and PostgreSQL; the stored size of every value of every row the case owns (``length()`` /
``pg_column_size()``: after PostgreSQL's compression, without page and index overhead) must stay under
bounds measured with ``benchmarks/case_bytes.py``. The state of a finished case is format 2, pruned to
its root (``service.engine.serialization``), and still restores; a format 1 dump written before keeps
loading. The partial indexes of migration 0020 serve the queries they are there for. SQLite's search
index (migration 0021) keeps no copy of the text and stays under its measured bytes too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import create_engine, inspect, text
from support.helpers import ENGINE_DATA, Persona, deploy_file

from service.engine import CaseRun, WorkCalendar, compile_definition
from service.engine.serialization import (
    FORMAT_KEY,
    FORMAT_VERSION,
    FULL_FORMAT,
    PRUNED_KEY,
    compact_state,
    dump_state,
    expand_state,
    load_state,
)
from service.store.types import state_of

MODELS = Path(__file__).resolve().parents[2] / "benchmarks" / "models"
COMPLAINT = MODELS / "complaint.bpmn"
FLOW = json.loads((MODELS / "complaint-flow.json").read_text())  # the complaint of benchmarks/complaints.py
KEY: str = FLOW["key"]
CREATE: dict[str, Any] = FLOW["create"]
STEPS: list[tuple[str, str, dict[str, Any]]] = [(lane, element, data) for lane, element, data in FLOW["steps"]]
#: the tables holding a case's rows (``cases`` by ``id``, the others by ``case_id``)
CASE_TABLES = ("cases", "history", "tasks", "case_access", "outbox", "messages", "notifications")
#: measured 2026-12-02 (SQLite / PostgreSQL): state 381 / 387 B stored (its JSON 555 B, deflated: migration
#: 0025; format 1: 4,643 B), the case row 938 / 913 B, all its rows 3,326 / 3,173 B (history's digests as
#: bytes: migration 0026). Bounds with ~10 % room for values of other lengths; on 2026-12-01, before those
#: two migrations, the same complaint measured 555 / 559, 1,112 / 1,085 and 3,890 / 3,729 B.
STATE_BOUND = 430
#: the JSON of a completed state, before it is deflated
STATE_JSON_BOUND = 620
CASE_ROW_BOUND = 1_040
ALL_ROWS_BOUND = 3_650
#: SQLite's search index (migration 0021: contentless FTS5, no positions), every value of its shadow
#: tables per completed complaint once merged: measured 146 B over 11 complaints (migration 0014's table,
#: which kept a copy of the text, took ~0.8 kB)
SEARCH_BOUND = 165
SEARCH_TABLES = ("case_search_data", "case_search_idx", "case_search_docsize", "case_search_config")


@pytest.fixture
def forms_dir() -> Path:
    return MODELS


@pytest.fixture
def complaint(client: Any, admin: Persona, make_persona: Callable[..., Persona]) -> dict[str, Persona]:
    """The complaint model deployed in unit A; one persona per lane."""
    response = deploy_file(client, admin, COMPLAINT)
    assert response.status_code == 201, response.json
    return {lane: make_persona(lane.lower(), f"{lane}@unit-a") for lane in ("Pelapor", "Kasi", "Kabid")}


def run_complaint(client: Any, lanes: dict[str, Persona]) -> str:
    created = client.post("/api/cases", headers=lanes["Pelapor"].headers, json={"definition_key": KEY, "data": CREATE})
    assert created.status_code == 201, created.json
    case_id = str(created.json["id"])
    body: dict[str, Any] = {}
    for lane, element, data in STEPS:
        listed = client.get("/api/tasks", headers=lanes[lane].headers)
        assert listed.status_code == 200, listed.json
        (task,) = [t for t in listed.json["items"] if t["case_id"] == case_id and t["element_id"] == element]
        done = client.post(f"/api/tasks/{task['id']}/complete", headers=lanes[lane].headers, json={"data": data})
        assert done.status_code == 200, done.json
        body = done.json
    assert body["status"] == "completed", body
    return case_id


def stored_bytes(url: str, case_id: str) -> dict[str, int]:
    """Per table, the stored size of every value of the case's rows (NULL counts 0)."""
    engine = create_engine(url)
    postgres = engine.dialect.name == "postgresql"
    sizes: dict[str, int] = {}
    try:
        with engine.connect() as conn:
            for table in CASE_TABLES:
                columns = [c["name"] for c in inspect(conn).get_columns(table)]
                size = (" + ".join(f"coalesce(pg_column_size({c}), 0)" for c in columns) if postgres
                        else " + ".join(f"coalesce(length(CAST({c} AS BLOB)), 0)" for c in columns))
                key = "id" if table == "cases" else "case_id"
                sizes[table] = int(conn.execute(text(f"SELECT coalesce(sum({size}), 0) FROM {table} WHERE {key} = :c"),
                                                {"c": case_id}).scalar_one())
            sizes["cases.state"] = int(conn.execute(text(
                "SELECT pg_column_size(state) FROM cases WHERE id = :c" if postgres
                else "SELECT length(CAST(state AS BLOB)) FROM cases WHERE id = :c"), {"c": case_id}).scalar_one())
    finally:
        engine.dispose()
    return sizes


def test_a_completed_complaint_stays_under_its_measured_bytes(
        client: Any, complaint: dict[str, Persona], db_url: str) -> None:
    case_ids = [run_complaint(client, complaint) for _ in range(3)]
    for case_id in case_ids:
        sizes = stored_bytes(db_url, case_id)
        rows = sum(size for table, size in sizes.items() if table in CASE_TABLES)
        assert sizes["cases.state"] <= STATE_BOUND, sizes
        assert sizes["cases"] <= CASE_ROW_BOUND, sizes
        assert rows <= ALL_ROWS_BOUND, sizes


def test_the_stored_state_of_a_completed_case_is_pruned_and_restores(
        client: Any, complaint: dict[str, Persona], db_url: str, admin: Persona) -> None:
    case_id = run_complaint(client, complaint)
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            raw = conn.execute(text("SELECT state FROM cases WHERE id = :c"), {"c": case_id}).scalar_one()
    finally:
        engine.dispose()
    state = state_of(raw)
    assert state[FORMAT_KEY] == FORMAT_VERSION and state[PRUNED_KEY] is True
    assert len(state["tasks"]) == 1  # the root
    compiled = compile_definition(COMPLAINT.read_bytes(), {"complaint-aduan", "complaint-verifikasi"}.__contains__)
    run = CaseRun.restore(compiled, state, WorkCalendar("Asia/Jakarta"))
    assert run.completed and run.ready_tasks() == [] and run.next_timer_at() is None
    assert run.workflow.data == {**STEPS[0][2], **STEPS[1][2]}
    # the case page still has what it shows: data, history, the finished tasks
    shown = client.get(f"/api/cases/{case_id}", headers=complaint["Kasi"].headers)
    assert shown.status_code == 200 and shown.json["status"] == "completed"
    assert shown.json["data"] == {**STEPS[0][2], **STEPS[1][2]}
    assert shown.json["history"][-1]["action"] == "case_completed"
    verified = client.get(f"/api/cases/{case_id}/history/verify", headers=admin.headers)
    assert verified.status_code == 200 and verified.json["intact"] is True, verified.json


# --- the format, without a database ------------------------------------------------------------------------
COMPILED = compile_definition(COMPLAINT.read_bytes(), {"complaint-aduan", "complaint-verifikasi"}.__contains__)
CALENDAR = WorkCalendar("Asia/Jakarta")


def _states_along_a_complaint() -> list[dict[str, Any]]:
    """Format 1 dumps (SpiffWorkflow's dict form) at each rest of a complaint, JSON round-tripped."""
    from service.engine.serialization import _SERIALIZER

    def full(run: CaseRun) -> dict[str, Any]:
        state = _SERIALIZER.to_dict(run.workflow)
        state[FORMAT_KEY] = FULL_FORMAT
        state["spiff_serializer_version"] = _SERIALIZER.VERSION
        return dict(json.loads(json.dumps(state)))

    run = CaseRun.start(COMPILED, dict(CREATE), CALENDAR)
    states = [full(run)]
    for _lane, element, data in STEPS:
        (task,) = [t for t in run.ready_tasks() if t.element_id == element]
        run.complete(task.id, data)
        states.append(full(run))
    return states


def test_format_2_of_a_running_state_expands_to_exactly_format_1() -> None:
    *running, finished = _states_along_a_complaint()
    frozen = json.loads((ENGINE_DATA / "state_v1.json").read_text(encoding="utf-8"))
    for state in [*running, frozen]:
        compact = compact_state(state)
        assert compact[FORMAT_KEY] == FORMAT_VERSION
        assert len(json.dumps(compact)) < 0.7 * len(json.dumps(state))
        assert expand_state(json.loads(json.dumps(compact))) == state
    assert finished["completed"] is True and PRUNED_KEY in compact_state(finished)


def test_a_running_state_in_format_2_runs_on_like_format_1() -> None:
    start, *_ = _states_along_a_complaint()
    for state in (start, compact_state(start)):
        run = CaseRun.restore(COMPILED, json.loads(json.dumps(state)), CALENDAR)
        (task,) = run.ready_tasks()
        assert task.element_id == "Task_aduan" and run.next_timer_at() is None
        run.complete(task.id, STEPS[0][2])
        (task,) = run.ready_tasks()
        assert task.element_id == "Task_verifikasi" and run.next_timer_at() is not None
        assert run.workflow.get_task_from_id(run.workflow.last_task.id).data["kategori"] == "pungutan liar"


def test_a_format_1_completed_state_stored_before_loads_and_compacts() -> None:
    """What migration 0020 does to a finished case's row: the result loads as the same finished workflow."""
    *_, finished = _states_along_a_complaint()
    old = load_state(finished, COMPILED.spec, COMPILED.subprocess_specs)
    assert old.is_completed() and len(old.tasks) > 5
    pruned = compact_state(finished)
    new = load_state(json.loads(json.dumps(pruned)), COMPILED.spec, COMPILED.subprocess_specs)
    assert new.is_completed() and len(new.tasks) == 1 and new.data == old.data
    assert len(json.dumps(pruned, separators=(",", ":"))) <= STATE_JSON_BOUND
    assert dump_state(new) == pruned  # dumping a pruned workflow again changes nothing


def test_odd_task_trees_still_expand_exactly() -> None:
    """A subprocess whose root's parent lives in the parent workflow keeps that parent; a task with a field
    SpiffWorkflow does not write keeps the whole mapping of its workflow."""
    start, *_ = _states_along_a_complaint()
    outer = next(iter(start["tasks"]))
    sub = json.loads(json.dumps({**start, "root": "sub-root", "typename": "BpmnSubWorkflow", "tasks": {
        "sub-root": {**start["tasks"][outer], "id": "sub-root", "parent": outer, "children": ["sub-child"]},
        "sub-child": {**start["tasks"][outer], "id": "sub-child", "parent": "sub-root", "children": []}}}))
    for key in ("subprocesses", "bpmn_events", "correlations"):
        sub.pop(key, None)
    odd = json.loads(json.dumps(start))
    odd["tasks"][outer]["extra_field"] = 1
    for state in ({**start, "subprocesses": {outer: sub}}, odd):
        compact = compact_state(state)
        assert expand_state(json.loads(json.dumps(compact))) == state
    assert compact_state({**start, "subprocesses": {outer: sub}})["subprocesses"][outer]["tasks"][0][4]["p"] == outer
    assert isinstance(compact_state(odd)["tasks"], dict)


#: ``data/state_v2_complaint.json``: format 2, written once by starting the complaint on Monday 2 February
#: 2026 02:00 UTC and completing Task_aduan. Never regenerate it: a later format must keep loading it.
FROZEN_V2 = json.loads((Path(__file__).parent / "data" / "state_v2_complaint.json").read_text(encoding="utf-8"))
FROZEN_V2_TASK = "8ea28154-0ffa-48f9-9a6b-ca28a372f7c9"


def test_a_frozen_format_2_dump_loads_and_runs_to_the_end() -> None:
    assert FROZEN_V2[FORMAT_KEY] == 2 and isinstance(FROZEN_V2["tasks"], list)
    run = CaseRun.restore(COMPILED, FROZEN_V2, CALENDAR)
    (task,) = run.ready_tasks()
    assert (task.id, task.element_id) == (FROZEN_V2_TASK, "Task_verifikasi")
    assert run.next_timer_at() == datetime(2026, 2, 3, 9, 0, tzinfo=UTC)
    assert run.workflow.get_task_from_id(UUID(FROZEN_V2_TASK)).data == STEPS[0][2]
    run.complete(FROZEN_V2_TASK, STEPS[1][2])
    assert run.completed and run.dump()[PRUNED_KEY] is True


def test_compacting_asks_for_format_1() -> None:
    with pytest.raises(ValueError):
        compact_state(compact_state(_states_along_a_complaint()[0]))


def test_migration_0020_rewrites_the_stored_state_of_a_finished_case(
        client: Any, complaint: dict[str, Persona], db_url: str) -> None:
    """A case finished before this revision (format 1, every task kept) is pruned by the migration; a
    running case is left for its next step."""
    from alembic import command

    from service.store.migrate import alembic_config, upgrade

    finished_id = run_complaint(client, complaint)
    running = client.post("/api/cases", headers=complaint["Pelapor"].headers,
                          json={"definition_key": KEY, "data": CREATE})
    assert running.status_code == 201, running.json
    *_, old = _states_along_a_complaint()
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            as_stored = "convert_to(:s, 'UTF8')" if engine.dialect.name == "postgresql" else ":s"  # 0025's column
            conn.execute(text(f"UPDATE cases SET state = {as_stored} WHERE id = :c"),
                         {"s": json.dumps(old), "c": finished_id})
            before_running = conn.execute(text("SELECT state FROM cases WHERE id = :c"),
                                          {"c": running.json["id"]}).scalar_one()
        command.downgrade(alembic_config(db_url), "0019")
        upgrade(db_url)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT state FROM cases WHERE id = :c"), {"c": finished_id}).scalar_one()
            after_running = conn.execute(text("SELECT state FROM cases WHERE id = :c"),
                                         {"c": running.json["id"]}).scalar_one()
    finally:
        engine.dispose()
    state = state_of(stored)
    assert state[FORMAT_KEY] == FORMAT_VERSION and state[PRUNED_KEY] is True and len(state["tasks"]) == 1
    assert state == compact_state(old)
    workflow = load_state(state, COMPILED.spec, COMPILED.subprocess_specs)
    assert workflow.is_completed() and workflow.data == old["data"]
    assert state_of(after_running) == state_of(before_running)


# --- migration 0020's indexes ------------------------------------------------------------------------------
#: (query, the index it must be able to use)
INDEXED = [
    ("SELECT id FROM cases WHERE next_timer_at <= :now ORDER BY next_timer_at LIMIT 10",
     "ix_cases_next_timer_at"),
    ("SELECT id FROM cases WHERE business_key = :now", "ix_cases_business_key"),
    ("SELECT id FROM cases WHERE unit_id IN (1, 2)", "ix_cases_unit_registration"),
]


@pytest.mark.parametrize(("query", "index"), INDEXED)
def test_the_narrower_indexes_serve_their_queries(db_url: str, query: str, index: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL enable_seqscan = off"))
                plan = "\n".join(conn.execute(text(f"EXPLAIN {query}"), {"now": "2026-12-01"}).scalars())
            else:
                plan = "\n".join(str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {query}"),
                                                                       {"now": "2026-12-01"}))
    finally:
        engine.dispose()
    assert index in plan, plan


def test_the_dropped_indexes_are_gone(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            names = {i["name"] for table in ("cases", "outbox") for i in inspect(conn).get_indexes(table)}
    finally:
        engine.dispose()
    assert not names & {"ix_cases_unit_id", "ix_outbox_sent_at", "ix_outbox_case_id"}
    assert {"ix_cases_next_timer_at", "ix_cases_business_key", "ix_cases_unit_registration"} <= names



def test_the_sqlite_search_index_of_a_complaint_stays_under_its_measured_bytes(
        client: Any, complaint: dict[str, Persona], db_url: str) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's search is GIN indexes on the rows (benchmarks/case_bytes.py measures them)")
    cases = len([run_complaint(client, complaint) for _ in range(11)])
    engine = create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO case_search (case_search) VALUES ('optimize')"))
            tables = set(conn.execute(text("SELECT name FROM sqlite_master WHERE name LIKE 'case_search_%' "
                                           "AND type = 'table'")).scalars())
            assert tables == set(SEARCH_TABLES), tables  # no copy of the text (case_search_content)
            total = 0
            for table in SEARCH_TABLES:
                size = " + ".join(f"coalesce(length(CAST({c['name']} AS BLOB)), 0)"
                                  for c in inspect(conn).get_columns(table))
                total += int(conn.execute(text(f"SELECT coalesce(sum({size}), 0) FROM {table}")).scalar_one())
    finally:
        engine.dispose()
    assert total / cases <= SEARCH_BOUND, total / cases
