"""The task read and the task list page run straight through the driver (``Database.driver_rows``,
issue 13): their objects are built from plain columns, outside any session. Here: the task read still
finds its form when the process has not kept the revision's forms yet, and every value a kept page
statement binds comes by name with the request (``driver_rows`` takes nothing else), on both dialects.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.dialects import postgresql, sqlite
from support.helpers import services_of

from service.commands import task_list
from service.commands.context import Actor, Memo
from service.commands.task_list import TaskQuery

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
#: a staff user of two units (Pelapor in the second as well) and an administrator
ACTORS = (Actor(7, "kasi", False, {1: frozenset({"Kasi", "Kabid"}), 2: frozenset({"Kasi", "Pelapor"})}),
          Actor(1, "admin", True, {}))
QUERIES = (TaskQuery(), TaskQuery(mine=True), TaskQuery(lane="Kasi", unit="unit-a", definition_key="review"),
           TaskQuery(overdue=True, sort="-due_at"), TaskQuery(overdue=False, due_before=NOW, sort="created_at"),
           TaskQuery(search="pungli", unclaimed=True, sort="-created_at"), TaskQuery(page=3, per_page=5))
#: cursors: none, after a dated task, after one without a due date
AFTER = (None, (NOW, NOW, "a"), (None, NOW, "b"))


def test_a_task_read_reads_the_revisions_forms_when_the_process_has_not_kept_them(
        app: Any, client: Any, staff: dict[str, Any], start_review: Any) -> None:
    task_id = start_review()["tasks"][0]["id"]
    kept = client.get(f"/api/tasks/{task_id}", headers=staff["kasi_a"].headers)
    assert kept.status_code == 200 and kept.json["form"], kept.json
    services_of(app).memo = Memo()  # as in a process that has not read the revision yet
    fresh = client.get(f"/api/tasks/{task_id}", headers=staff["kasi_a"].headers)
    assert fresh.status_code == 200
    assert fresh.json == kept.json


@pytest.mark.parametrize("dialect", [postgresql.psycopg.dialect(), sqlite.dialect()], ids=["postgresql", "sqlite"])
def test_every_value_of_a_page_statement_is_bound_by_name(dialect: Any) -> None:
    shapes = 0
    for actor in ACTORS:
        for query in QUERIES:
            for after in AFTER if query.page == 1 else (None,):
                if after is not None and after[0] is None and not task_list.SORTS[query.sort].by_due:
                    continue
                statement, values = task_list._page_statement(actor, query, NOW, after)
                count = task_list._count_statement(task_list._filters(actor, query))
                for kept in (statement, count):
                    compiled = kept.compile(dialect=dialect)
                    names = set(compiled.positiontup or ()) if compiled.positional else set(compiled.binds)
                    assert names <= set(values), (query, after, names - set(values))
                    assert "POSTCOMPILE" not in compiled.string
                shapes += 1
    assert shapes == 2 * (4 * 3 + 2 * 2 + 1)  # per actor: 4 due-date sorts × 3 cursors, 2 others × 2, page 3


@pytest.mark.parametrize("task_id", ["a" * 400, "%E2%80%A8", "x'%20OR%20'1'='1", "%F0%9F%98%80"])
def test_a_read_of_a_task_id_no_task_has_is_a_404(client: Any, staff: dict[str, Any], task_id: str) -> None:
    response = client.get(f"/api/tasks/{task_id}", headers=staff["kasi_a"].headers)
    assert response.status_code == 404, response.json
