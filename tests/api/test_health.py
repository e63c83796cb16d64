"""Probes, metrics and the OpenAPI document need no token."""

from __future__ import annotations

from typing import Any

from support.helpers import ENGINE_DATA, deploy_file


def test_probes_answer_without_token(app: Any) -> None:
    client = app.test_client()
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}


def test_openapi_document_lists_the_contract(app: Any) -> None:
    spec = app.test_client().get("/api/openapi.json").json
    for path in ("/api/auth/token", "/api/definitions", "/api/definitions/{key}/versions/{number}/bpmn",
                 "/api/cases", "/api/cases/{case_id}/messages", "/api/cases/{case_id}/cancel", "/api/tasks",
                 "/api/tasks/{task_id}/claim", "/api/tasks/{task_id}/unclaim", "/api/tasks/{task_id}/complete"):
        assert path in spec["paths"], path
    page = app.test_client().get("/api/docs")
    assert page.status_code == 200 and b"/api/tasks/{task_id}/complete" in page.data


def test_metrics_count_cases_tasks_and_requests(app: Any, admin: Any, make_persona: Any) -> None:
    client = app.test_client()
    assert deploy_file(client, admin, ENGINE_DATA / "review.bpmn").status_code == 201
    started = client.post("/api/cases", headers=admin.headers, json={"definition_key": "review",
                                                                     "data": {"judul": "x"}})
    assert started.status_code == 201
    body = client.get("/metrics").get_data(as_text=True)
    assert 'alur_cases{status="running"} 1' in body
    assert "alur_tasks_ready 1" in body
    assert 'alur_http_requests_total{method="POST",endpoint="cases.Cases",status="201"} 1' in body
