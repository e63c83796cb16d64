"""The status indexes of ``tasks`` hold open tasks only (migration 0024, issue 13), on both backends.

A task is inserted ready and updated once, to completed or cancelled; the four indexes that served "the
ready tasks in some order" are partial (``WHERE status = 'ready'``; ``ix_tasks_ready_claimed`` the claimed
ones of them), so a finished task leaves no entry in them. These tests count their entries after tasks
finish (PostgreSQL: the index's ``reltuples`` after a VACUUM, which counts them exactly; SQLite: the first
figure of ``sqlite_stat1`` after ANALYZE), show that the queries on open tasks use them as they are sent
(PostgreSQL: the generic plan of the prepared statement, as psycopg runs one after five executions, where
a status sent as a parameter could not use them; SQLite: with its ``?`` parameters bound), and migrate
0023 → 0024 → 0023 with tasks in the table.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Select, bindparam, func, select, text
from support.helpers import actor_named, empty_database, generic_plan, insert_unit_and_revision, reflected, services_of

from service.api.metrics import OPEN_TASKS, OVERDUE_TASKS
from service.commands import task_list
from service.commands.bench_seed import seed
from service.commands.context import Services
from service.store.migrate import alembic_config, upgrade
from service.store.models import Task

#: the partial indexes of migration 0024
OPEN_INDEXES = ("ix_tasks_ready_due", "ix_tasks_ready_created", "ix_tasks_ready_claimed", "ix_tasks_ready_unit_due")
#: the full indexes they replace
FULL_INDEXES = ("ix_tasks_status_due", "ix_tasks_status_created", "ix_tasks_claimed_status",
                "ix_tasks_unit_lane_status_due")
NOW = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


def _entries(engine: sa.Engine, index: str) -> int:
    """How many entries ``index`` holds, counted by the database itself."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if engine.dialect.name == "postgresql":
            # VACUUM removes the entries of dead row versions and sets reltuples to the entries it counted
            connection.execute(text("VACUUM (INDEX_CLEANUP ON) tasks"))
            found = connection.execute(text("SELECT reltuples FROM pg_class WHERE relname = :index"),
                                       {"index": index}).scalar_one()
        else:  # ANALYZE writes "<entries> <rows per key>..." per index
            connection.execute(text("ANALYZE tasks"))
            stat = connection.execute(text("SELECT stat FROM sqlite_stat1 WHERE idx = :index"),
                                      {"index": index}).scalar()
            found = stat.split()[0] if stat else 0
    return int(found)


def _tasks_by_status(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {status: count for status, count in connection.execute(
            text("SELECT status, count(*) FROM tasks GROUP BY status"))}


def test_a_finished_task_leaves_no_entry_in_the_open_task_indexes(client: Any, staff: dict[str, Any],
                                                                  start_review: Any) -> None:
    done, cancelled, kept = start_review(), start_review(), start_review()
    kasi = staff["kasi_a"].headers
    for case in (done, kept):
        claimed = client.post(f"/api/tasks/{case['tasks'][0]['id']}/claim", headers=kasi)
        assert claimed.status_code == 200, claimed.json
    completed = client.post(f"/api/tasks/{done['tasks'][0]['id']}/complete", headers=kasi,
                            json={"data": {"hasil": "lengkap"}})
    assert completed.status_code == 200, completed.json
    response = client.post(f"/api/cases/{cancelled['id']}/cancel", headers=staff["admin_a"].headers, json={})
    assert response.status_code == 200, response.json
    engine = services_of(client.application).db.engine
    # the completed task's case went on to its next step: 2 ready (that one and the third case's, claimed)
    assert _tasks_by_status(engine) == {"ready": 2, "completed": 1, "cancelled": 1}
    assert {index: _entries(engine, index) for index in OPEN_INDEXES} == {**dict.fromkeys(OPEN_INDEXES, 2),
                                                                          "ix_tasks_ready_claimed": 1}
    assert _entries(engine, "ix_tasks_case_id") == 4  # a full index: every task (the count counts entries)


# --- the queries on open tasks use them -----------------------------------------------------------


@pytest.fixture
def many_tasks(client: Any, review: dict[str, Any], staff: dict[str, Any]) -> Services:
    """600 open tasks of ``review`` over two units (``alur bench seed``), four finished ones for each
    (what a database holds after a while), five of the open ones claimed by the Kasi; statistics taken."""
    services = services_of(client.application)
    seed(services, 600, units=2, now=NOW)
    kasi = actor_named(services, staff["kasi_a"].username)
    # a copy's id: the task's with its first two hex digits replaced (a uuid on PostgreSQL, text on SQLite)
    copied_id = ("CAST('f{copy}' || substr(CAST(id AS text), 3) AS uuid)" if services.db.is_postgres
                 else "'f{copy}' || substr(id, 3)")
    with services.db.transaction() as session:
        for copy in range(4):
            session.execute(text(
                "INSERT INTO tasks (id, case_id, definition_key, element_id, name, lane, unit_id, status, "
                "due_at, created_at, completed_at) "
                f"SELECT {copied_id.format(copy=copy)}, case_id, definition_key, element_id, name, lane, unit_id, "
                "'completed', due_at, created_at, created_at FROM tasks WHERE status = 'ready'"))
        session.execute(text("UPDATE tasks SET claimed_by = :user WHERE id IN "
                             "(SELECT id FROM tasks WHERE status = 'ready' ORDER BY id LIMIT 5)"),
                        {"user": kasi.user_id})
    with services.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE tasks" if services.db.is_postgres else "ANALYZE"))
    return services


def test_the_queries_on_open_tasks_walk_the_partial_indexes(many_tasks: Services, staff: dict[str, Any],
                                                            admin: Any) -> None:
    services, engine = many_tasks, many_tasks.db.engine
    manager, kasi = actor_named(services, admin.username), actor_named(services, staff["kasi_a"].username)
    queries: dict[str, tuple[Select[Any], dict[str, Any], tuple[str, ...]]] = {}
    for label, actor, query, wanted in (
            ("admin, due date order", manager, task_list.TaskQuery(), ("ix_tasks_ready_due",)),
            ("admin, creation order", manager, task_list.TaskQuery(sort="-created_at"), ("ix_tasks_ready_created",)),
            ("admin, unit filter", manager, task_list.TaskQuery(unit="unit-a"), ("ix_tasks_ready_unit_due",)),
            ("mine", kasi, task_list.TaskQuery(mine=True, sort="-created_at"), ("ix_tasks_ready_claimed",))):
        statement, values = task_list._page_statement(actor, query, NOW, None)
        queries[label] = statement, values, wanted
    queries["metrics, open"] = OPEN_TASKS, {}, OPEN_INDEXES
    queries["metrics, overdue"] = OVERDUE_TASKS, {"now": NOW}, OPEN_INDEXES
    for label, (statement, values, indexes) in queries.items():
        plan = generic_plan(engine, statement, values, seq_scans=False)
        assert any(index in plan for index in indexes), (label, plan)
        # every read of tasks by status goes through a partial index: no scan of the table
        assert "Seq Scan on tasks" not in plan and "SCAN tasks\n" not in f"{plan}\n", (label, plan)
    if engine.dialect.name == "postgresql":  # SQLite plans with the values bound (and plans again for others)
        # the same count with the status as a parameter: a generic plan cannot use a partial index for it
        as_parameter = select(func.count()).select_from(Task).where(Task.status == bindparam("status"))
        plan = generic_plan(engine, as_parameter, {"status": "ready"}, seq_scans=False)
        assert not any(index in plan for index in OPEN_INDEXES), plan


# --- the migration ---------------------------------------------------------------------------------


def _task_indexes(engine: sa.Engine) -> dict[str, str]:
    """Name → definition (its SQL) of each ``ix_tasks_*`` index."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            rows = connection.execute(text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'tasks'"))
        else:
            rows = connection.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                                           "AND tbl_name = 'tasks'"))
        return {name: str(sql) for name, sql in rows if name.startswith("ix_tasks_")}


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migration_0024_keeps_open_tasks_only_and_downgrades(backend: str, request: pytest.FixtureRequest,
                                                              tmp_path: Path) -> None:
    from alembic import command

    url = empty_database(backend, request, tmp_path)
    upgrade(url, "0023")
    engine = sa.create_engine(url)
    tables = reflected(engine, "units", "users", "definitions", "cases", "tasks")
    moment = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    try:
        with engine.begin() as connection:
            insert_unit_and_revision(connection, tables, moment, user=(1, "kasi"))
            connection.execute(sa.insert(tables["cases"]).values(
                id="c-1", definition_id=1, unit_id=1, status="running", state={}, data={}, lock_version=1,
                created_at=moment, updated_at=moment, timer_failures=0))
            # two open tasks (one claimed), three finished ones (one claimed)
            connection.execute(sa.insert(tables["tasks"]), [
                {"id": f"t-{status}-{n}", "case_id": "c-1", "definition_key": "review", "element_id": "kerja",
                 "name": "Kerja", "lane": "Kasi", "unit_id": 1, "status": status, "claimed_by": claimed_by,
                 "due_at": moment + timedelta(days=n), "created_at": moment + timedelta(minutes=n)}
                for n, (status, claimed_by) in enumerate((("ready", 1), ("ready", None), ("completed", 1),
                                                          ("cancelled", None), ("completed", None)))])
        assert set(_task_indexes(engine)) == {*FULL_INDEXES, "ix_tasks_case_id"}

        upgrade(url, "0024")
        indexes = _task_indexes(engine)
        assert set(indexes) == {*OPEN_INDEXES, "ix_tasks_case_id"}
        for name in OPEN_INDEXES:
            assert "status" not in indexes[name].split("WHERE")[0], indexes[name]  # not in the key
            assert "'ready'" in indexes[name].split("WHERE")[1], indexes[name]
            assert _entries(engine, name) == (1 if name == "ix_tasks_ready_claimed" else 2), name
        engine.dispose()

        command.downgrade(alembic_config(url), "0023")
        indexes = _task_indexes(engine)
        assert set(indexes) == {*FULL_INDEXES, "ix_tasks_case_id"}
        for name in FULL_INDEXES:
            assert "WHERE" not in indexes[name] and "status" in indexes[name], indexes[name]
            assert _entries(engine, name) == 5, name
    finally:
        engine.dispose()
