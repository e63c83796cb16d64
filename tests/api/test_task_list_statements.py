"""The task list's statements: two per request with any filters, built once per shape (issue 13).

A page statement is kept per *shape* (filters set, sort, cursor position, the actor's units and
roles) and each request binds only its values; these tests show the values never stick to the kept
statement, and that a request stays at two statements (the sign-in check and the page) whatever
filters it carries.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text, update
from support.helpers import actor_named, generic_plan, services_of, sql_statements

from service.commands import task_list
from service.commands.bench_seed import seed
from service.commands.context import Actor
from service.store.models import Task, TaskCandidate

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def statements(client: Any) -> Iterator[list[str]]:
    """The SQL statements the app's engine runs while the test goes on."""
    with sql_statements(services_of(client.application).db.engine) as seen:
        yield seen


@pytest.fixture
def spread(client: Any, staff: dict[str, Any], start_review: Any, review_b: dict[str, Any]) -> dict[str, list[str]]:
    """Kasi tasks in unit A (``review``; half overdue at :data:`NOW`, one without a due date) and in
    unit B (``review_b``, all overdue); the task ids per (unit, overdue or not)."""
    a = [start_review()["tasks"][0]["id"] for _ in range(5)]
    b = [client.post("/api/cases", headers=staff["pelapor_b"].headers,
                     json={"definition_key": "review_b", "data": {"judul": "Di unit B"}}).json["tasks"][0]["id"]
         for _ in range(3)]
    due = {a[0]: NOW - timedelta(hours=3), a[1]: NOW - timedelta(minutes=1), a[2]: NOW + timedelta(days=1),
           a[3]: NOW + timedelta(days=2), a[4]: None, **{task_id: NOW - timedelta(days=1) for task_id in b}}
    with services_of(client.application).db.transaction() as session:
        for task_id, due_at in due.items():
            session.execute(update(Task).where(Task.id == task_id).values(due_at=due_at))
            # and the candidate rows' copy of it, as if the tasks had been written so
            session.execute(update(TaskCandidate).where(TaskCandidate.task_id == task_id).values(due_at=due_at))
    return {"a_overdue": a[:2], "a_on_time": a[2:], "b_overdue": b}


QUERIES = [
    {},
    {"per_page": 2},
    {"sort": "-created_at"},
    {"definition_key": "review", "overdue": "true"},
    {"definition_key": "review", "overdue": "false", "sort": "-due_at"},
    {"lane": "Kasi", "unit": "unit-a"},
    {"due_before": "2026-12-02T00:00:00+00:00", "sort": "created_at"},
    {"mine": "true"},
]


@pytest.mark.parametrize("query", QUERIES, ids=lambda query: ",".join(query) or "none")
def test_a_task_list_request_is_two_statements_with_any_filters(
        client: Any, staff: dict[str, Any], spread: dict[str, list[str]], statements: list[str],
        query: dict[str, str]) -> None:
    kasi = staff["kasi_a"]
    client.get("/api/tasks", headers=kasi.headers)  # warms the signed-in user cache
    statements.clear()
    response = client.get("/api/tasks", headers=kasi.headers, query_string=query)
    assert response.status_code == 200, response.json
    assert len(statements) == 2, statements  # the sign-in check and the page with its capped total
    assert sum("tasks" in statement for statement in statements) == 1


def test_a_cursor_page_is_two_statements(client: Any, staff: dict[str, Any], spread: dict[str, list[str]],
                                         statements: list[str]) -> None:
    kasi = staff["kasi_a"]
    first = client.get("/api/tasks", headers=kasi.headers, query_string={"per_page": 2}).json
    for sort in ("due_at", "-created_at"):
        cursor = client.get("/api/tasks", headers=kasi.headers, query_string={"per_page": 2, "sort": sort}).json
        statements.clear()
        response = client.get("/api/tasks", headers=kasi.headers,
                              query_string={"per_page": 2, "sort": sort, "cursor": cursor["next_cursor"]})
        assert response.status_code == 200 and len(response.json["items"]) == 2, response.json
        assert len(statements) == 2, statements
    assert first["total"] == 5


def test_a_kept_statement_takes_each_requests_values(client: Any, staff: dict[str, Any],
                                                     spread: dict[str, list[str]]) -> None:
    services = services_of(client.application)
    kasi_a, kasi_b = actor_named(services, "kasi.a"), actor_named(services, "kasi.b")
    overdue = task_list.TaskQuery(definition_key="review", overdue=True)
    statement_a, values_a = task_list._page_statement(kasi_a, overdue, NOW, None)
    statement_b, values_b = task_list._page_statement(kasi_b, task_list.TaskQuery(definition_key="review_b",
                                                                                  overdue=True), NOW, None)
    assert statement_a is statement_b  # one shape: the statement is built once
    assert (values_a["unit_0"], values_a["definition_key"]) != (values_b["unit_0"], values_b["definition_key"])

    def ids(actor: Actor, query: task_list.TaskQuery, now: datetime = NOW) -> tuple[set[str], int]:
        page = task_list.page_tasks(services, actor, query, now)
        return {task.id for task in page.items}, page.total

    # the same kept statements, one request after the other, each with its own values
    assert ids(kasi_a, overdue) == (set(spread["a_overdue"]), 2)
    assert ids(kasi_b, task_list.TaskQuery(definition_key="review_b", overdue=True)) == (set(spread["b_overdue"]), 3)
    assert ids(kasi_b, overdue) == (set(), 0)  # unit B has no task of ``review``
    assert ids(kasi_a, task_list.TaskQuery(definition_key="review", overdue=False)) == (set(spread["a_on_time"]), 3)
    assert ids(kasi_a, overdue, NOW - timedelta(hours=1)) == ({spread["a_overdue"][0]}, 1)  # ``now`` is a value too
    assert ids(kasi_a, overdue) == (set(spread["a_overdue"]), 2)
    assert ids(kasi_a, task_list.TaskQuery(due_before=NOW + timedelta(days=1, hours=1))) == (
        {*spread["a_overdue"], spread["a_on_time"][0]}, 3)
    assert ids(kasi_a, task_list.TaskQuery(due_before=NOW)) == (set(spread["a_overdue"]), 2)

    # past the last page the total comes from the kept count statement, with this request's values
    beyond = task_list.page_tasks(services, kasi_b, task_list.TaskQuery(page=4, per_page=1), NOW)
    assert (beyond.items, beyond.total) == ([], 3)
    assert task_list.page_tasks(services, kasi_a, task_list.TaskQuery(page=9, per_page=1), NOW).total == 5

    per_sop = task_list.TaskQuery(overdue=True)
    assert task_list.count_by_definition(services, kasi_a, per_sop, NOW) == {"review": 2}
    assert task_list.count_by_definition(services, kasi_b, per_sop, NOW) == {"review_b": 3}
    assert task_list.count_by_definition(services, kasi_a, task_list.TaskQuery(count_cap=1), NOW) == {"review": 2}


def test_two_actors_of_one_shape_each_see_their_own_tasks_through_the_api(
        client: Any, staff: dict[str, Any], spread: dict[str, list[str]]) -> None:
    everything_a = {*spread["a_overdue"], *spread["a_on_time"]}
    for _ in range(2):  # the second round runs on the kept statements
        for persona, expected in ((staff["kasi_a"], everything_a), (staff["kasi_b"], set(spread["b_overdue"])),
                                  (staff["kasi2_a"], everything_a), (staff["kabid_b"], set())):
            body = client.get("/api/tasks", headers=persona.headers, query_string={"per_page": 50}).json
            assert {t["id"] for t in body["items"]} == expected and body["total"] == len(expected)


def test_task_candidates_are_never_scanned_by_parallel_workers(client: Any, db_url: str) -> None:
    """Migration 0019: a parallel scan started two worker processes per filtered page (PostgreSQL)."""
    if not db_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL storage parameter")
    with services_of(client.application).db.reading() as session:
        options = session.scalar(text("SELECT reloptions FROM pg_class WHERE relname = 'task_candidates'"))
    assert "parallel_workers=0" in (options or [])


#: the indexes of a staff member's walks (every (unit, role)'s rows), as a plan names them
STAFF_WALKS = re.compile(r"\bix_task_candidates_(due|created)\b")


@pytest.mark.parametrize(("query", "index"), [
    (task_list.TaskQuery(), "ix_task_candidates_reporter_due"),
    (task_list.TaskQuery(sort="-created_at"), "ix_task_candidates_reporter_created"),
    (task_list.TaskQuery(lane="Pelapor"), "ix_task_candidates_reporter_due")], ids=["due", "created", "lane"])
def test_a_reporters_page_walks_their_own_rows(client: Any, staff: dict[str, Any], start_review: Any,
                                               query: task_list.TaskQuery, index: str) -> None:
    """A reporter's Pelapor tasks are those of the cases they filed: the page walks the candidate rows that
    name them (migration 0028), with no read of ``cases``. Walking the unit's Pelapor rows and probing each
    one's case read every reporter's rows (15 ms at 100k open cases); probing with ``case_id IN (the
    reporter's cases)`` read every case per row walked (nothing leads with ``started_by``). Sequential
    scans are ruled out: a test's tables are small enough for either planner to read them whole.

    The planner chooses by the statistics, so the tables get the shape they have in service: 600 open
    cases filed by no one (``alur bench seed``, then ANALYZE) beside the reporter's three. With the three
    alone, every Pelapor row named the reporter; a staff index filtered on ``reporter_id`` cost the same
    and PostgreSQL took it on one CI run."""
    for _ in range(3):
        start_review()
    services = services_of(client.application)
    seed(services, 600, units=2, now=NOW)
    reporter = actor_named(services, staff["pelapor_a"].username)
    statement, values = task_list._page_statement(reporter, query, NOW, None)
    plan = generic_plan(services.db.engine, statement, values, seq_scans=False)
    assert index in plan, plan
    assert not STAFF_WALKS.search(plan) and " cases" not in plan, plan
