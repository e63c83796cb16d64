"""Keyset (cursor) paging of the task list, capped totals, and what a list request costs (issue 13)."""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from support.helpers import actor_named, services_of, sql_statements

from service.commands import task_list
from service.commands.bench_seed import seed
from service.store.models import Task, TaskCandidate

BASE = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
#: due dates of the twelve tasks, in start order: three ties, two pairs, three without a due date
DUE = [BASE, BASE, None, BASE + timedelta(hours=1), BASE, None, BASE + timedelta(hours=1),
       BASE - timedelta(hours=2), None, BASE - timedelta(hours=2), BASE + timedelta(days=3), BASE]


@pytest.fixture
def tied(client: Any, staff: dict[str, Any], start_review: Any) -> list[Task]:
    """Twelve Kasi tasks of unit A with tied due dates and tied creation times; the rows, as stored."""
    ids = [start_review()["tasks"][0]["id"] for _ in DUE]
    with services_of(client.application).db.transaction() as session:
        for number, (task_id, due) in enumerate(zip(ids, DUE, strict=True)):
            created = BASE - timedelta(days=1, minutes=number // 3)  # three tasks share each creation time
            session.execute(update(Task).where(Task.id == task_id).values(due_at=due, created_at=created))
            # and the candidate rows' copies of them, as if the tasks had been written so
            session.execute(update(TaskCandidate).where(TaskCandidate.task_id == task_id)
                            .values(due_at=due, created_at=created))
    with services_of(client.application).db.reading() as session:
        rows = list(session.scalars(select(Task).where(Task.id.in_(ids))))
        session.expunge_all()
    return rows


def _expected(rows: list[Task], sort: str) -> list[str]:
    """The order SORTS promises, computed here: due-date sorts keep the undated tasks last."""
    descending = sort.startswith("-")
    if sort.endswith("due_at"):
        dated = sorted((r for r in rows if r.due_at), key=lambda r: (r.due_at, r.created_at, r.id),
                       reverse=descending)
        undated = sorted((r for r in rows if not r.due_at), key=lambda r: (r.created_at, r.id), reverse=descending)
        return [r.id for r in dated + undated]
    return [r.id for r in sorted(rows, key=lambda r: (r.created_at, r.id), reverse=descending)]


def _walk(client: Any, persona: Any, per_page: int, **query: Any) -> tuple[list[str], int]:
    """Every page from the first, following next_cursor; (ids in order, number of requests)."""
    seen: list[str] = []
    cursor = None
    requests = 0
    while True:
        response = client.get("/api/tasks", headers=persona.headers,
                              query_string={**query, "per_page": per_page, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.json
        requests += 1
        seen += [t["id"] for t in response.json["items"]]
        cursor = response.json["next_cursor"]
        if cursor is None:
            return seen, requests
        assert requests < 50


@pytest.mark.parametrize("sort", sorted(task_list.SORTS))
@pytest.mark.parametrize("per_page", [1, 5, 12])
def test_keyset_pages_return_every_task_once_in_order(client: Any, staff: dict[str, Any], tied: list[Task],
                                                      sort: str, per_page: int) -> None:
    seen, requests = _walk(client, staff["kasi_a"], per_page, sort=sort)
    assert seen == _expected(tied, sort)
    assert requests == -(-len(tied) // per_page)  # the last page says so: no empty page after it


def test_offset_pages_still_work_and_agree_with_the_cursor(client: Any, staff: dict[str, Any],
                                                           tied: list[Task]) -> None:
    kasi = staff["kasi_a"]
    pages = [client.get("/api/tasks", headers=kasi.headers, query_string={"per_page": 5, "page": n}).json
             for n in (1, 2, 3)]
    assert [t["id"] for p in pages for t in p["items"]] == _expected(tied, "due_at")
    assert [p["total"] for p in pages] == [12, 12, 12] and not any(p["total_capped"] for p in pages)
    after_first = client.get("/api/tasks", headers=kasi.headers,
                             query_string={"per_page": 5, "cursor": pages[0]["next_cursor"]}).json
    assert after_first["items"] == pages[1]["items"]
    assert pages[2]["next_cursor"] is None


def test_a_cursor_shows_only_what_the_bearer_may_pick_up(client: Any, staff: dict[str, Any], tied: list[Task],
                                                         review_b: dict[str, Any]) -> None:
    kasi_a, kasi_b = staff["kasi_a"], staff["kasi_b"]
    theirs = {client.post("/api/cases", headers=staff["pelapor_b"].headers,
                          json={"definition_key": "review_b", "data": {"judul": "Di unit B"}}).json["tasks"][0]["id"]
              for _ in range(3)}
    first = client.get("/api/tasks", headers=kasi_a.headers, query_string={"per_page": 2}).json
    cursor = first["next_cursor"]
    for persona, allowed in ((kasi_b, theirs), (staff["pelapor_b"], set()), (staff["kabid_a"], set()),
                             (staff["pelapor_a"], set())):
        response = client.get("/api/tasks", headers=persona.headers, query_string={"cursor": cursor})
        assert response.status_code == 200, response.json
        assert {t["id"] for t in response.json["items"]} <= allowed
    assert set(_walk(client, kasi_b, 1)[0]) == theirs


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize("cursor", [
    "garbage!!", "////", "e30", _cursor({"sort": "due_at"}), _cursor(["created_at", None, BASE.isoformat(), "x"]),
    _cursor(["due_at", "kemarin", BASE.isoformat(), "x"]), _cursor(["due_at", None, "2026-12-01T02:00:00", "x"]),
    _cursor(["due_at", None, BASE.isoformat(), 7]), _cursor(["due_at", None, BASE.isoformat(), "x" * 37]),
    _cursor(["due_at", None]), "x" * 401, base64.urlsafe_b64encode(b"\xff\xfe").decode(),
], ids=["not-base64", "slashes", "empty-object", "object", "other-sort", "bad-date", "naive-date", "id-not-text",
        "id-too-long", "short", "too-long", "not-utf8"])
def test_a_damaged_cursor_is_a_422_naming_the_cursor(client: Any, staff: dict[str, Any], tied: list[Task],
                                                     cursor: str) -> None:
    response = client.get("/api/tasks", headers=staff["kasi_a"].headers, query_string={"cursor": cursor})
    assert response.status_code == 422, response.json
    assert [e["field"] for e in response.json["errors"]] == ["cursor"]


def test_totals_and_per_sop_counts_stop_at_the_cap(client: Any, staff: dict[str, Any], tied: list[Task]) -> None:
    services = services_of(client.application)
    kasi = actor_named(services, "kasi.a")
    capped = task_list.page_tasks(services, kasi, task_list.TaskQuery(count_cap=5, per_page=2))
    assert (capped.total, capped.total_capped, len(capped.items)) == (6, True, 2)
    exact = task_list.page_tasks(services, kasi, task_list.TaskQuery(count_cap=12, per_page=2))
    assert (exact.total, exact.total_capped) == (12, False)
    assert task_list.count_by_definition(services, kasi, task_list.TaskQuery(count_cap=5)) == {"review": 6}
    assert task_list.count_by_definition(services, kasi, task_list.TaskQuery(count_cap=12)) == {"review": 12}
    beyond = task_list.page_tasks(services, kasi, task_list.TaskQuery(count_cap=5, per_page=10, page=3))
    assert (beyond.items, beyond.total, beyond.total_capped) == ([], 6, True)
    body = client.get("/api/tasks", headers=staff["kasi_a"].headers).json
    assert (body["total"], body["total_capped"]) == (12, False)


def test_a_task_with_two_of_my_roles_is_counted_once(client: Any, make_persona: Any, units: dict[str, str],
                                                     tied: list[Task]) -> None:
    both = make_persona("kasi.kabid", "Kasi@unit-a", "Kabid@unit-a")
    services = services_of(client.application)
    with services.db.transaction() as session:  # the Kabid of unit A may also pick up the first task
        session.add(TaskCandidate(**TaskCandidate.values_for(
            {key: getattr(tied[0], key) for key in ("id", *TaskCandidate.COPIED)}, "Kabid")))
    body = client.get("/api/tasks", headers=both.headers, query_string={"per_page": 20}).json
    assert body["total"] == 12 and len(body["items"]) == 12
    assert len({t["id"] for t in body["items"]}) == 12


@pytest.fixture
def statements(client: Any) -> Iterator[list[str]]:
    with sql_statements(services_of(client.application).db.engine) as seen:
        yield seen


def test_a_task_list_request_costs_at_most_two_statements(client: Any, staff: dict[str, Any], tied: list[Task],
                                                          statements: list[str]) -> None:
    kasi = staff["kasi_a"]
    first = client.get("/api/tasks", headers=kasi.headers, query_string={"per_page": 5})  # warms the actor cache
    for query in ({"per_page": 5}, {"per_page": 5, "cursor": first.json["next_cursor"]},
                  {"sort": "-created_at", "overdue": "false", "definition_key": "review"}):
        statements.clear()
        response = client.get("/api/tasks", headers=kasi.headers, query_string=query)
        assert response.status_code == 200 and response.json["items"]
        assert len(statements) <= 2, statements
        assert all(t["roles"] == ["Kasi"] and t["unit"] == "unit-a" for t in response.json["items"])


def test_bench_seed_fills_lists_that_the_rules_apply_to(client: Any, staff: dict[str, Any],
                                                        review: dict[str, Any]) -> None:
    services = services_of(client.application)
    report = seed(services, 60, units=3)
    assert report.cases == 60 and len(report.units) == 3 and report.units[0] == "unit-a"
    kasi_seen, _ = _walk(client, staff["kasi_a"], 7)
    kasi_body = client.get("/api/tasks", headers=staff["kasi_a"].headers).json
    assert len(kasi_seen) == len(set(kasi_seen)) == kasi_body["total"] > 0
    assert client.get("/api/tasks", headers=staff["kasi_b"].headers).json["total"] == 0  # unit B is not seeded
    with services.db.reading() as session:
        lanes = {lane for (lane,) in session.execute(select(Task.lane).where(Task.id.in_(kasi_seen)))}
    assert lanes == {"Kasi"}


def test_the_web_list_pages_by_cursor_and_shows_capped_totals_in_indonesian(
        app: Any, staff: dict[str, Any], review: dict[str, Any]) -> None:
    from support.helpers import PASSWORD
    from support.web import csrf_of

    seed(services_of(app), 4_500, units=1)  # a quarter are Kasi tasks of unit A: more than the cap
    web = app.test_client()
    web.post("/login", data={"username": "kasi.a", "password": PASSWORD, "csrf_token": csrf_of(web.get("/login").text)})
    first = web.get("/tasks")
    assert first.status_code == 200
    assert "1.000+ tugas ditemukan" in first.text and "<strong>1.000+</strong>" in first.text
    found = re.search(r'href="(/tasks\?[^"]*cursor=[^"]+)"[^>]*rel="next"', first.text)
    assert found, "no link to the next page"
    second = web.get(html.unescape(found.group(1)))
    assert second.status_code == 200 and "Halaman pertama" in second.text
    ids = [re.findall(r'data-task-id="([^"]+)"', page.text) for page in (first, second)]
    assert len(ids[0]) == len(ids[1]) == 25 and not set(ids[0]) & set(ids[1])
    assert web.get("/tasks", query_string={"cursor": "rusak"}).status_code in (400, 422)
