"""SQL statements per request on the hot path (issue #13): counted, so the path cannot silently regrow.

Every statement the request sends through the app's engine counts, authentication included (the
signed-in-user cache is warm, as it is for a client that keeps working). The model is small and
typical: a start, a Pelapor task and a Kasi task with a working-day SLA timer, two JSON-schema forms.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from support.consistency import check_cases
from support.helpers import Persona, case_moved_before, deploy_file, listening, sql_statements

from service.commands.context import Services
from service.store.models import Case

HOT_PATH = Path(__file__).resolve().parent.parent / "data" / "hot_path.bpmn"

#: the budgets of issue #13; the counts reached are asserted exactly below, per backend
MAX_COMPLETE = 3
MAX_GET_TASK = 2
MAX_LIST_TASKS = 2
MAX_CREATE = 6


class Counter:
    """The statements the app's engine runs inside :meth:`counting`."""

    def __init__(self, app: Any) -> None:
        self.engine = app.extensions["alur.services"].db.engine

    def counting(self) -> AbstractContextManager[list[str]]:
        return sql_statements(self.engine)


@pytest.fixture
def hot_path(client: Any, admin: Persona, make_persona: Callable[..., Persona]) -> dict[str, Persona]:
    response = deploy_file(client, admin, HOT_PATH)
    assert response.status_code == 201, response.json
    pelapor = make_persona("pelapor.hp", "Pelapor@unit-a")
    kasi = make_persona("kasi.hp", "Kasi@unit-a")
    return {"pelapor": pelapor, "kasi": kasi}


@pytest.fixture
def services_of_app(app: Any) -> Services:
    found: Services = app.extensions["alur.services"]
    return found


def _count(app: Any, call: Callable[[], Any]) -> tuple[Any, list[str]]:
    with Counter(app).counting() as seen:
        response = call()
    return response, seen


def _warm(client: Any, people: dict[str, Persona]) -> None:
    """One complaint through, so caches (signed-in users, compiled spec, revision, calendar) are warm."""
    case = client.post("/api/cases", headers=people["pelapor"].headers,
                       json={"definition_key": "hot_path", "data": {"judul": "pemanasan"}}).json
    task = case["tasks"][0]["id"]
    client.get(f"/api/tasks/{task}", headers=people["pelapor"].headers)
    done = client.post(f"/api/tasks/{task}/complete", headers=people["pelapor"].headers,
                       json={"data": {"judul": "pemanasan", "uraian": "lengkap"}}).json
    kasi_task = done["tasks"][0]["id"]
    client.get("/api/tasks", headers=people["kasi"].headers)
    client.post(f"/api/tasks/{kasi_task}/complete", headers=people["kasi"].headers, json={"data": {"hasil": "lengkap"}})


#: statements reached per request kind. A command writes in one statement: data-modifying CTEs on
#: PostgreSQL, an INSERT into a TEMP table whose trigger writes the rows on SQLite (one_statement.py).
#: SQLite has no notices: a process reads the credential row on every request.
#: A create takes one more than before issue #14: the unit's Nomor registrasi counter (one
#: INSERT … ON CONFLICT DO UPDATE … RETURNING, its number is needed in the case row it precedes);
#: the unit's closed days are read along with the revision (definitions.startable_with_days).
#: A server process on PostgreSQL listens for changes of accounts and revisions and keeps its users'
#: credential rows and the startable revisions (migration 0032): one statement less per request, two less
#: for a create ("postgres, listening"), the figures of production.
REACHED = {
    "postgres": {"create": 4, "list": 2, "get": 2, "complete": 3, "case": 4, "complete_last": 3},
    "postgres, listening": {"create": 2, "list": 1, "get": 1, "complete": 2, "case": 3, "complete_last": 2},
    "sqlite": {"create": 4, "list": 2, "get": 2, "complete": 3, "case": 4, "complete_last": 3},
}


@pytest.mark.parametrize("listens", [False, True], ids=["reads-credentials", "listens"])
def test_statements_per_request_of_one_complaint(app: Any, client: Any, hot_path: dict[str, Persona],
                                                 db_url: str, listens: bool) -> None:
    backend = "postgres" if db_url.startswith("postgresql") else "sqlite"
    if listens:
        if backend == "sqlite":
            pytest.skip("SQLite has no notices: a process reads the credential row on every request")
        listening(app)
        backend = "postgres, listening"
    pelapor, kasi = hot_path["pelapor"], hot_path["kasi"]
    _warm(client, hot_path)

    created, create_sql = _count(app, lambda: client.post(
        "/api/cases", headers=pelapor.headers, json={"definition_key": "hot_path", "data": {"judul": "Pungli"}}))
    assert created.status_code == 201, created.json
    task_id = created.json["tasks"][0]["id"]

    listed, list_sql = _count(app, lambda: client.get("/api/tasks", headers=pelapor.headers))
    assert listed.status_code == 200 and task_id in [item["id"] for item in listed.json["items"]]

    read, get_sql = _count(app, lambda: client.get(f"/api/tasks/{task_id}", headers=pelapor.headers))
    assert read.status_code == 200 and read.json["form"]["schema"]["title"] == "Pengaduan (uji)"

    done, complete_sql = _count(app, lambda: client.post(
        f"/api/tasks/{task_id}/complete", headers=pelapor.headers,
        json={"data": {"judul": "Pungli", "uraian": "di loket"}}))
    assert done.status_code == 200, done.json
    kasi_task = done.json["tasks"][0]["id"]

    case, case_sql = _count(app, lambda: client.get(f"/api/cases/{created.json['id']}", headers=pelapor.headers))
    assert case.status_code == 200

    kasi_list, kasi_list_sql = _count(app, lambda: client.get("/api/tasks", headers=kasi.headers))
    assert kasi_task in [item["id"] for item in kasi_list.json["items"]]
    kasi_read, kasi_get_sql = _count(app, lambda: client.get(f"/api/tasks/{kasi_task}", headers=kasi.headers))
    assert kasi_read.status_code == 200
    finished, last_sql = _count(app, lambda: client.post(
        f"/api/tasks/{kasi_task}/complete", headers=kasi.headers, json={"data": {"hasil": "lengkap"}}))
    assert finished.status_code == 200 and finished.json["status"] == "completed", finished.json

    assert len(list_sql) <= MAX_LIST_TASKS and len(kasi_list_sql) <= MAX_LIST_TASKS
    assert len(get_sql) <= MAX_GET_TASK and len(kasi_get_sql) <= MAX_GET_TASK
    assert len(complete_sql) <= MAX_COMPLETE and len(last_sql) <= MAX_COMPLETE
    assert len(create_sql) <= MAX_CREATE
    counts = {"create": len(create_sql), "list": len(list_sql), "get": len(get_sql), "complete": len(complete_sql),
              "case": len(case_sql), "complete_last": len(last_sql)}
    assert counts == REACHED[backend], "\n\n".join([*create_sql, "--", *complete_sql])


def test_answers_built_without_reading_back_equal_a_fresh_read(client: Any, hot_path: dict[str, Persona],
                                                               services_of_app: Services) -> None:
    """Create and complete answer from what the command wrote; a GET of the case right after says the same,
    and the history chain (its head kept on the case row) verifies."""
    pelapor, kasi = hot_path["pelapor"], hot_path["kasi"]
    created = client.post("/api/cases", headers=pelapor.headers,
                          json={"definition_key": "hot_path", "data": {"judul": "Pungli"}})
    assert created.status_code == 201
    case_id = created.json["id"]
    assert created.json == client.get(f"/api/cases/{case_id}", headers=pelapor.headers).json
    done = client.post(f"/api/tasks/{created.json['tasks'][0]['id']}/complete", headers=pelapor.headers,
                       json={"data": {"judul": "Pungli", "uraian": "di loket"}})
    assert done.status_code == 200
    assert done.json == client.get(f"/api/cases/{case_id}", headers=pelapor.headers).json
    assert [entry["action"] for entry in done.json["history"]] == [
        "case_started", "task_created", "task_completed", "task_created"]
    finished = client.post(f"/api/tasks/{done.json['tasks'][0]['id']}/complete", headers=kasi.headers,
                           json={"data": {"hasil": "lengkap"}})
    assert finished.json == client.get(f"/api/cases/{case_id}", headers=kasi.headers).json
    checked = check_cases(services_of_app, [case_id])
    assert checked.problems == [] and checked.history_entries == 6
    with services_of_app.db.reading() as session:
        head = session.scalar(select(Case.history_head).where(Case.id == case_id))
    assert head == finished.json["history"][-1]["hash"]


def test_a_stale_completion_is_a_409_and_writes_nothing(client: Any, hot_path: dict[str, Persona],
                                                        services_of_app: Services) -> None:
    """The optimistic lock of the case row: the case changed after the command read it (SQLite; on
    PostgreSQL the command holds the row from its read on, so a concurrent change waits for it)."""
    if services_of_app.db.is_postgres:
        pytest.skip("the read locks the case row (FOR UPDATE OF cases): test_concurrency races it")
    pelapor = hot_path["pelapor"]
    created = client.post("/api/cases", headers=pelapor.headers,
                          json={"definition_key": "hot_path", "data": {"judul": "Pungli"}}).json
    before = client.get(f"/api/cases/{created['id']}", headers=pelapor.headers).json
    # the completion's one write (one_statement.py) is next: another command moves the case meanwhile
    with case_moved_before(services_of_app.db.engine, "INSERT INTO alur_write_", created["id"]) as bumped:
        response = client.post(f"/api/tasks/{created['tasks'][0]['id']}/complete", headers=pelapor.headers,
                               json={"data": {"judul": "Pungli"}})
    assert bumped and response.status_code == 409, response.json
    after = client.get(f"/api/cases/{created['id']}", headers=pelapor.headers).json
    assert after["history"] == before["history"] and after["tasks"] == before["tasks"]
