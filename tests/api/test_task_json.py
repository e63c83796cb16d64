"""The task list and the task read answer with JSON built by plain functions (``task_json``,
``detail_json``, ``list_json``: issue 13, marshmallow cost a fifth of a list request); the marshmallow
schemas stay the OpenAPI contract. Here both give the same JSON for the same tasks (ready and claimed
ones, one lane or several candidate roles, with and without a form and a due date) and cases (``case_json``).
And the rate limiter's per-request hook, taken off, still leaves limited views limited.
"""

from __future__ import annotations

from typing import Any

from support.helpers import services_of

from service.api.cases import CaseSchema, case_json
from service.api.schemas import TaskSchema
from service.api.tasks import TaskDetailSchema, TaskListSchema
from service.commands import cases as case_commands
from service.commands import task_list
from service.commands import tasks as task_commands
from service.commands.accounts import actor_from_token
from service.commands.tasks import TaskView


class _SchemaDetail:
    """What ``TaskDetailSchema`` dumped before: the task's attributes plus the read's form and case data."""

    def __init__(self, view: TaskView) -> None:
        self.form, self.case_data, self.case_status, self._task = (view.form, view.case_data, view.case_status,
                                                                   view.task)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._task, name)


def _schema_detail(app: Any, token: str, task_id: str) -> bytes:
    services = services_of(app)
    view = task_commands.get_task(services, actor_from_token(services, token), task_id)
    return bytes(app.json.response(TaskDetailSchema().dump(_SchemaDetail(view))).get_data())


def _schema_list(app: Any, token: str, query: dict[str, Any]) -> bytes:
    """The list as ``TaskListSchema`` dumps it, each task read with its candidates (``get_task``)."""
    services = services_of(app)
    actor = actor_from_token(services, token)
    found = task_list.page_tasks(services, actor, task_list.TaskQuery(**query))
    items = [task_commands.get_task(services, actor, task.id).task for task in found.items]
    body = {"items": items, "total": found.total, "total_capped": found.total_capped,
            "next_cursor": found.next_cursor, "page": query.get("page", 1), "per_page": query.get("per_page", 20)}
    return bytes(app.json.response(TaskListSchema().dump(body)).get_data())


def _complete(client: Any, persona: Any, task_id: str, data: Any) -> Any:
    response = client.post(f"/api/tasks/{task_id}/complete", headers=persona.headers, json={"data": data})
    assert response.status_code == 200, response.json
    return response.json


def test_task_list_and_read_give_the_schemas_json(app: Any, client: Any, staff: dict[str, Any], admin: Any,
                                                  start_review: Any) -> None:
    at_kasi = start_review()["tasks"][0]["id"]
    claimed = start_review()["tasks"][0]["id"]
    assert client.post(f"/api/tasks/{claimed}/claim", headers=staff["kasi_a"].headers).status_code == 200
    second = start_review()["tasks"][0]["id"]
    at_kabid = _complete(client, staff["kasi_a"], second, {"hasil": "lengkap"})["tasks"][0]["id"]

    for persona, query, expected in (
        (staff["kasi_a"], {}, {at_kasi, claimed}),
        (staff["kasi_a"], {"mine": True}, {claimed}),
        (staff["kasi_a"], {"per_page": 1, "sort": "-created_at"}, {claimed}),
        (staff["kabid_a"], {}, {at_kabid}),
        (admin, {}, {at_kasi, claimed, at_kabid}),
    ):
        response = client.get("/api/tasks", headers=persona.headers,
                              query_string={k: str(v).lower() if isinstance(v, bool) else v for k, v in query.items()})
        assert response.status_code == 200, response.json
        assert {item["id"] for item in response.json["items"]} == expected
        assert response.get_data() == _schema_list(app, persona.token, query)

    listed = {item["id"]: item for item in client.get("/api/tasks", headers=admin.headers).json["items"]}
    assert listed[at_kabid]["roles"] == ["Kabid", "Tim Audit"] and listed[at_kabid]["form_key"] is None
    assert listed[claimed]["claimed_by"] is not None and listed[at_kasi]["claimed_by"] is None
    assert listed[at_kasi]["due_at"] and listed[at_kasi]["roles"] == ["Kasi"]

    for persona, task_id in ((staff["kasi_a"], at_kasi), (staff["kasi_a"], claimed), (staff["kabid_a"], at_kabid),
                             (staff["audit_a"], at_kabid), (admin, at_kasi)):
        response = client.get(f"/api/tasks/{task_id}", headers=persona.headers)
        assert response.status_code == 200, response.json
        assert response.get_data() == _schema_detail(app, persona.token, task_id)
    detail = client.get(f"/api/tasks/{at_kasi}", headers=staff["kasi_a"].headers).json
    assert detail["form"] and detail["case_data"]["judul"] == "Pungli di loket" and detail["case_status"] == "running"
    assert client.get(f"/api/tasks/{at_kabid}", headers=staff["kabid_a"].headers).json["form"] is None


def test_one_task_dumped_by_the_schema_and_by_task_json_alike(app: Any, client: Any, staff: dict[str, Any],
                                                              start_review: Any) -> None:
    from service.api.schemas import task_json

    second = start_review()["tasks"][0]["id"]
    at_kabid = _complete(client, staff["kasi_a"], second, {"hasil": "lengkap"})["tasks"][0]["id"]
    services = services_of(app)
    view = task_commands.get_task(services, actor_from_token(services, staff["kabid_a"].token), at_kabid)
    assert task_json(view.task) == TaskSchema().dump(view.task)
    assert task_json(view.task, ["Kabid", "Tim Audit"]) == TaskSchema().dump(view.task)


def _same_case_json(app: Any, view: case_commands.CaseView) -> bytes:
    schema = bytes(app.json.response(CaseSchema().dump(view)).get_data())
    assert bytes(app.json.response(case_json(view)).get_data()) == schema
    return schema


def test_a_case_dumped_by_the_schema_and_by_case_json_alike(app: Any, client: Any, staff: dict[str, Any],
                                                            start_review: Any) -> None:
    """Running and finished cases, seen by their reporter, the lanes' holders and an office administrator, with
    ready tasks of one and of two roles; the API's answers (start, read, completion) are that JSON."""
    services = services_of(app)
    kasi = actor_from_token(services, staff["kasi_a"].token)
    started = case_commands.start_case_view(services, actor_from_token(services, staff["pelapor_a"].token),
                                            case_commands.StartRequest(definition_key="review",
                                                                       data={"judul": "Pungli di loket"}))
    assert started.tasks and started.history
    _same_case_json(app, started)
    done = task_commands.complete_view(services, kasi, started.tasks[0].id, {"hasil": "lengkap"})
    assert [task.name for task in done.tasks] == ["Tindak lanjut"] and len(done.tasks[0].candidates) == 2
    _same_case_json(app, done)
    for persona in ("kasi_a", "kabid_a", "audit_a", "pelapor_a", "admin_a"):
        view = case_commands.get_case(services, actor_from_token(services, staff[persona].token), started.case.id,
                                      lean=True)
        read = client.get(f"/api/cases/{started.case.id}", headers=staff[persona].headers)
        assert read.status_code == 200 and read.get_data() == _same_case_json(app, view)
    finished = _complete(client, staff["kabid_a"], done.tasks[0].id, {})
    assert finished["status"] == "completed" and finished["tasks"] == [] and finished["completed_at"]
    view = case_commands.get_case(services, kasi, started.case.id, lean=True)
    assert client.get(f"/api/cases/{started.case.id}", headers=staff["kasi_a"].headers).get_data() == (
        _same_case_json(app, view))
    created = client.post("/api/cases", headers=staff["pelapor_a"].headers,
                          json={"definition_key": "review", "data": {"judul": "Kedua"}, "business_key": "B-2"})
    assert created.status_code == 201 and created.json["business_key"] == "B-2"
    view = case_commands.get_case(services, actor_from_token(services, staff["pelapor_a"].token), created.json["id"],
                                  lean=True)
    assert created.json == {**case_json(view), "history": created.json["history"]}


def test_limited_views_stay_limited_without_the_per_request_hook(app: Any, client: Any) -> None:
    from service.api.limits import limiter

    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])
    statuses = [client.get("/api/public/reports/AAAAAAAAAAAA", environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code
                for _ in range(125)]
    assert statuses[0] != 429 and statuses[-1] == 429, statuses
