"""Wrong answers of issue #12: inputs that gave a 500 (or a case that could never start) get a 4xx
naming what was wrong, and a task due at the end of time lists like any other. SQLite and PostgreSQL.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from support.diagrams import diagram, user_task
from support.helpers import ENGINE_DATA, deploy_bytes, review_variant

from service.store.models import Case, ClosedDay, Definition, HistoryEntry, Task, Unit


def count(app: Any, model: Any) -> int:
    with app.extensions["alur.services"].db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def names_field(response: Any, field: str, status: int = 422) -> None:
    assert response.status_code == status, (response.status_code, response.json)
    assert set(response.json) == {"code", "message", "errors"} and response.json["message"]
    fields = {error.get("field") for error in response.json["errors"]}
    assert field in fields, response.json


# --- request bodies --------------------------------------------------------------------------------------

DEEP = "[" * 100_000 + "]" * 100_000
BODIES = {
    "deep": ('{"definition_key": "review", "data": {"judul": "x", "lampiran": ' + DEEP + "}}", "body"),
    "deep-but-parseable": ('{"definition_key": "review", "data": {"judul": "x", "a": '
                           + "[" * 40 + "]" * 40 + "}}", "data.a" + "[0]" * 31),
    "lone-surrogate": ('{"definition_key": "review", "data": {"judul": "\\ud800"}}', "data.judul"),
    "lone-surrogate-key": ('{"definition_key": "review", "data": {"judul": "x", "\\udfff": 1}}', "data.\\udfff"),
    "huge-integer": ('{"definition_key": "review", "data": {"judul": "x", "n": ' + "9" * 5000 + "}}", "data.n"),
    "big-integer": ('{"definition_key": "review", "data": {"judul": "x", "n": ' + "9" * 40 + "}}", "data.n"),
    "version-past-int32": ('{"definition_key": "review", "version": 3000000000, "data": {"judul": "x"}}',
                           "version"),
    "version-past-int64": ('{"definition_key": "review", "version": ' + "9" * 30 + ', "data": {"judul": "x"}}',
                           "version"),
    "nan": ('{"definition_key": "review", "data": {"judul": "x", "n": NaN}}', "data.n"),
    "infinity": ('{"definition_key": "review", "data": {"judul": "x", "n": 1e999}}', "data.n"),
}


@pytest.mark.parametrize("name", list(BODIES))
def test_hostile_json_body_is_a_4xx_naming_the_field_and_writes_nothing(app: Any, client: Any, review: Any,
                                                                        staff: Any, name: str) -> None:
    body, field = BODIES[name]
    response = client.post("/api/cases", headers={**staff["pelapor_a"].headers, "Content-Type": "application/json"},
                           data=body)
    names_field(response, field)
    assert (count(app, Case), count(app, Task), count(app, HistoryEntry)) == (0, 0, 0)


def test_hostile_json_in_task_completion_is_refused(app: Any, client: Any, start_review: Any, staff: Any) -> None:
    case = start_review()
    task_id = case["tasks"][0]["id"]
    response = client.post(f"/api/tasks/{task_id}/complete",
                           headers={**staff["kasi_a"].headers, "Content-Type": "application/json"},
                           data='{"data": {"hasil": "lengkap", "catatan": "\\ud83d"}}')
    names_field(response, "data.catatan")
    assert client.get(f"/api/cases/{case['id']}", headers=staff["kasi_a"].headers).json["tasks"] == case["tasks"]


@pytest.mark.parametrize(("forms", "field"), [
    (b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "forms"),
    (b'{"uji-pengaduan": {"schema": {"type": "object", "title": "\\udc00"}}}', "forms.uji-pengaduan.schema.title"),
    (b'{"x": ' + b"1" * 5000 + b"}", "forms.x"),
])
def test_hostile_forms_file_is_refused(app: Any, client: Any, admin: Any, forms: bytes, field: str) -> None:
    response = client.post("/api/definitions", headers=admin.headers, content_type="multipart/form-data",
                           data={"bpmn": (io.BytesIO((ENGINE_DATA / "review.bpmn").read_bytes()), "r.bpmn"),
                                 "forms": (io.BytesIO(forms), "forms.json"), "unit": "unit-a"})
    names_field(response, field)
    assert count(app, Definition) == 0


@pytest.mark.parametrize("path", ["/api/definitions/review/versions/99999999999",
                                  "/api/definitions/review/versions/99999999999999999999999/bpmn"])
def test_version_past_the_column_in_a_url_is_not_found(client: Any, review: Any, admin: Any, path: str) -> None:
    assert client.get(path, headers=admin.headers).status_code == 404


# --- diagrams --------------------------------------------------------------------------------------------

def test_process_without_an_id_is_refused(app: Any, client: Any, admin: Any) -> None:
    xml = (ENGINE_DATA / "review.bpmn").read_text().replace('<bpmn:process id="review" ', "<bpmn:process ")
    response = deploy_bytes(client, admin, xml.replace(' processRef="review"', "").encode())
    assert response.status_code == 422, response.json
    assert "no id" in response.json["message"] and response.json["errors"][0]["line"]
    assert count(app, Definition) == 0


LONG = "x" * 250


@pytest.mark.parametrize(("xml", "element"), [
    (diagram("uji", user_task(), lane="L" * 150), "Lane_1"),
    (diagram("k" * 250, user_task()), "k" * 250),
    (diagram("uji", user_task(task_id="t" * 250)), "t" * 250),
    (diagram("uji", user_task('camunda:candidateGroups="Kasi,' + "G" * 150 + '"')), "kerja"),
    (diagram("uji", user_task().replace('name="Kerja"', f'name="{LONG * 2}"')), "kerja"),
    (diagram("uji", user_task()).replace(b'name="kabar"', f'name="{LONG}"'.encode()), "Msg_kabar"),
    (diagram("uji", user_task(), process_name=LONG * 2), "uji"),
    (diagram("uji", user_task() + '<bpmn:boundaryEvent id="sla" attachedToRef="kerja" cancelActivity="false">'
             '<bpmn:extensionElements><camunda:properties><camunda:property name="eskalasi_ke" value="'
             + "E" * 150 + '" /></camunda:properties></bpmn:extensionElements><bpmn:timerEventDefinition id="td">'
             '<bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>'), "sla"),
], ids=["lane", "key", "task-id", "candidate-group", "task-name", "message", "process-name", "escalation-role"])
def test_text_longer_than_its_column_is_refused_at_deploy_naming_the_element(
        app: Any, client: Any, admin: Any, staff: Any, xml: bytes, element: str) -> None:
    """PostgreSQL refused these at deploy with a 500, or deployed them and failed every start."""
    response = deploy_bytes(client, admin, xml)
    assert response.status_code == 422, response.json
    assert element in {error.get("element_id") for error in response.json["errors"]}, response.json
    assert count(app, Definition) == 0


def test_sop_details_longer_than_their_column_are_refused_naming_the_field(app: Any, client: Any,
                                                                         admin: Any) -> None:
    xml = review_variant("review", ('<camunda:property name="nomor_sop" value="UJI/001" />',
                                    f'<camunda:property name="nomor_sop" value="{LONG}" />'))
    response = deploy_bytes(client, admin, xml)
    names_field(response, "sop_number")
    assert count(app, Definition) == 0
    names_field(deploy_bytes(client, admin, review_variant("review"), title="T" * 400), "title")


@pytest.mark.parametrize(("due", "status"), [("9999-12-31T23:59:59Z", 201), ("9999-12-31T23:00:00-05:00", 422),
                                             ("P999999999Y", 422), ("besok", 201), ("0001-01-01T00:00:00+07:00", 422)])
def test_bad_due_dates_are_refused_at_deploy_or_start(app: Any, client: Any, admin: Any, staff: Any,
                                                      due: str, status: int) -> None:
    xml = review_variant("review", ('camunda:formKey="uji-verifikasi">',
                                    f'camunda:formKey="uji-verifikasi" camunda:dueDate="{due}">'))
    response = deploy_bytes(client, admin, xml)
    assert response.status_code == status, response.json
    if status == 201 and due == "besok":  # an expression over case data: refused when the task is made
        started = client.post("/api/cases", headers=staff["pelapor_a"].headers,
                              json={"definition_key": "review", "data": {"judul": "x"}})
        assert started.status_code == 422 and started.json["errors"][0]["element_id"] == "verifikasi"
        assert count(app, Case) == 0


# --- the end of time in the task list --------------------------------------------------------------------

def test_task_due_at_the_end_of_year_9999_lists_everywhere(app: Any, client: Any, admin: Any, staff: Any,
                                                           db_url: str) -> None:
    """On PostgreSQL in an Indonesian session zone the list was a 500 (year 10000 in WIB)."""
    if db_url.startswith("postgresql"):
        engine = create_engine(db_url)
        with engine.begin() as connection:
            name = connection.execute(text("SELECT current_database()")).scalar()
            connection.execute(text(f'ALTER DATABASE "{name}" SET timezone TO \'Asia/Jayapura\''))
        engine.dispose()
        app.extensions["alur.services"].db.engine.dispose()
    xml = review_variant("review", ('camunda:formKey="uji-verifikasi">',
                                    'camunda:formKey="uji-verifikasi" camunda:dueDate="9999-12-31T23:59:59Z">'))
    assert deploy_bytes(client, admin, xml).status_code == 201
    started = client.post("/api/cases", headers=staff["pelapor_a"].headers,
                          json={"definition_key": "review", "data": {"judul": "x"}})
    assert started.status_code == 201, started.json
    listed = client.get("/api/tasks", headers=staff["kasi_a"].headers)
    assert listed.status_code == 200, listed.json
    assert [item["due_at"] for item in listed.json["items"]] == ["9999-12-31T23:59:59+00:00"]
    assert client.get("/api/tasks?overdue=true", headers=staff["kasi_a"].headers).json["total"] == 0

    from service.web.helpers import local_time

    with app.test_request_context():
        assert "9999" in local_time(datetime(9999, 12, 31, 23, 59, tzinfo=UTC), "Asia/Jayapura")


# --- office hours and closed days ------------------------------------------------------------------------

@pytest.mark.parametrize(("hours", "field"), [
    ({"0": ["08:00:30", "08:00:59"]}, "hours.0"),
    ({"1": ["16:00", "08:00"]}, "hours.1"),
    ({"2": ["08:00", "08:20"]}, "hours.2"),
    ({"9": ["08:00", "16:00"]}, "hours.9"),
    ({"senin": ["08:00", "16:00"]}, "hours.senin"),
    ({"0": ["08:00", "24:30"]}, "hours.0"),
    ({str(day): ["08:00", "16:00"] for day in range(7)} | {"07": ["08:00", "16:00"]}, "hours"),
])
def test_bad_working_hours_are_a_422_naming_the_field(app: Any, client: Any, admin: Any,
                                                      hours: dict[str, Any], field: str) -> None:
    response = client.put("/api/units/unit-a/working-hours", headers=admin.headers, json={"hours": hours})
    names_field(response, field)
    with app.extensions["alur.services"].db.reading() as session:
        assert session.scalar(select(Unit.working_hours).where(Unit.code == "unit-a")) is None


@pytest.mark.parametrize("day", ["2026-02-30", "kemarin", "99999-01-01", "2026-1-1x"])
def test_bad_closed_day_dates_are_a_4xx_naming_the_day(app: Any, client: Any, admin: Any, day: str) -> None:
    names_field(client.post("/api/units/unit-a/closed-days", headers=admin.headers, json={"day": day}), "day")
    names_field(client.delete(f"/api/units/unit-a/closed-days/{day}", headers=admin.headers), "day")
    assert count(app, ClosedDay) == 0
