"""Hostile diagrams are refused with a clear error and leave nothing behind (issue #2, point 3)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select
from support.helpers import ENGINE_DATA, deploy_bytes, review_variant

from service.store.models import Definition

REVIEW = (ENGINE_DATA / "review.bpmn").read_bytes()
PROLOG = b'<?xml version="1.0" encoding="UTF-8"?>\n'

XXE = PROLOG + b"""<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
""" + REVIEW.split(b"\n", 1)[1].replace(b'name="Uji"', b'name="&xxe;"')

LOLS = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
BILLION_LAUGHS = PROLOG + f'<!DOCTYPE lolz [<!ENTITY lol0 "lol">{LOLS}]>\n'.encode() + REVIEW.split(b"\n", 1)[1]

SCRIPT_TASK = review_variant("review", (
    '<bpmn:sequenceFlow id="f4" sourceRef="tindak_lanjut" targetRef="notif" />',
    '<bpmn:sequenceFlow id="f4" sourceRef="tindak_lanjut" targetRef="skrip" />'
    '<bpmn:scriptTask id="skrip" scriptFormat="python"><bpmn:incoming>f4</bpmn:incoming>'
    '<bpmn:outgoing>f4b</bpmn:outgoing><bpmn:script>open("/etc/passwd").read()</bpmn:script></bpmn:scriptTask>'
    '<bpmn:sequenceFlow id="f4b" sourceRef="skrip" targetRef="notif" />',
))


def _condition(text: str) -> bytes:
    return review_variant("review", ('hasil == "ditolak"', text))


def _timer(text: str) -> bytes:
    return review_variant("review", ("<bpmn:timeDuration>PT10M</bpmn:timeDuration>",
                                     f"<bpmn:timeDuration>{text}</bpmn:timeDuration>"))


def stored_definitions(app: Any) -> int:
    with app.extensions["alur.services"].db.reading() as session:
        return int(session.scalar(select(func.count()).select_from(Definition)) or 0)


def assert_refused_and_nothing_written(app: Any, client: Any, admin: Any, response: Any, status: int = 422) -> None:
    assert response.status_code == status, (response.status_code, response.json)
    body = response.json
    assert set(body) == {"code", "message", "errors"} and body["message"]
    assert stored_definitions(app) == 0
    assert client.get("/api/definitions", headers=admin.headers).json == []


def test_malformed_xml_is_refused_with_its_line(app: Any, client: Any, admin: Any) -> None:
    broken = REVIEW.replace(b"</bpmn:process>", b"</bpmn:proces>")
    response = deploy_bytes(client, admin, broken)
    assert_refused_and_nothing_written(app, client, admin, response)
    assert response.json["errors"][0]["line"] == REVIEW[: REVIEW.index(b"</bpmn:process>")].count(b"\n") + 1


@pytest.mark.parametrize("data", [b"", b"not xml at all", b"<a><b></a>", b"\xff\xfe\x00<"],
                         ids=["empty", "text", "mismatched", "binary"])
def test_garbage_is_refused(app: Any, client: Any, admin: Any, data: bytes) -> None:
    assert_refused_and_nothing_written(app, client, admin, deploy_bytes(client, admin, data))


def test_external_entity_is_refused_and_nothing_is_read(app: Any, client: Any, admin: Any) -> None:
    response = deploy_bytes(client, admin, XXE)
    assert_refused_and_nothing_written(app, client, admin, response)
    assert response.json["errors"][0]["line"] == 2
    assert b"root:" not in response.data


def test_external_entity_in_utf16_is_refused(app: Any, client: Any, admin: Any) -> None:
    data = XXE.replace(b'encoding="UTF-8"', b'encoding="UTF-16"').decode().encode("utf-16")
    response = deploy_bytes(client, admin, data)
    assert_refused_and_nothing_written(app, client, admin, response)
    assert b"root:" not in response.data


@pytest.mark.parametrize("body", [REVIEW, BILLION_LAUGHS], ids=["plain", "billion-laughs"])
def test_diagram_in_utf16_is_refused_not_a_500(app: Any, client: Any, admin: Any, body: bytes) -> None:
    data = body.replace(b'encoding="UTF-8"', b'encoding="UTF-16"').decode().encode("utf-16")
    response = deploy_bytes(client, admin, data)
    assert_refused_and_nothing_written(app, client, admin, response)
    assert response.json["errors"][0]["line"] == 1


def test_billion_laughs_is_refused(app: Any, client: Any, admin: Any) -> None:
    assert_refused_and_nothing_written(app, client, admin, deploy_bytes(client, admin, BILLION_LAUGHS))


def test_upload_of_50_mb_is_refused_with_413(app: Any, client: Any, admin: Any) -> None:
    huge = REVIEW.replace(b"</bpmn:definitions>", b"<!--" + b"x" * (50 * 1024 * 1024) + b"--></bpmn:definitions>")
    response = client.post("/api/definitions", headers=admin.headers,
                           data={"bpmn": (io.BytesIO(huge), "besar.bpmn"), "unit": "unit-a"},
                           content_type="multipart/form-data")
    assert_refused_and_nothing_written(app, client, admin, response, status=413)


def test_script_task_is_refused_naming_it(app: Any, client: Any, admin: Any) -> None:
    response = deploy_bytes(client, admin, SCRIPT_TASK)
    assert_refused_and_nothing_written(app, client, admin, response)
    assert "skrip" in {e["element_id"] for e in response.json["errors"]}


@pytest.mark.parametrize("condition", [
    "().__class__.__base__.__subclasses__()",
    "9**9**9**9",
    "__import__('os').system('id')",
    "[x for x in range(10**9)]",
    "hasil == (lambda: 1)()",
], ids=["subclasses", "power", "import", "comprehension", "lambda"])
def test_unsafe_condition_is_refused_naming_the_flow(app: Any, client: Any, admin: Any, condition: str) -> None:
    response = deploy_bytes(client, admin, _condition(condition))
    assert_refused_and_nothing_written(app, client, admin, response)
    (error,) = response.json["errors"]
    assert error["element_id"] == "f_tolak" and error["line"] and error["message"]


@pytest.mark.parametrize("timer", ["open('/etc/passwd')", "hari_kerja(2).__class__", "PT10M + 'x' * 9**9"])
def test_unsafe_timer_is_refused_naming_the_event(app: Any, client: Any, admin: Any, timer: str) -> None:
    response = deploy_bytes(client, admin, _timer(timer))
    assert_refused_and_nothing_written(app, client, admin, response)
    (error,) = response.json["errors"]
    assert error["element_id"] == "sla_verifikasi" and error["message"]


def test_condition_failing_at_run_time_rolls_back_the_command(
    client: Any, admin: Any, staff: dict[str, Any]
) -> None:
    data = review_variant("review", ('hasil == "lengkap"', 'hasil == "lengkap" and skor &gt; 3'))
    assert deploy_bytes(client, admin, data).status_code == 201
    case = client.post("/api/cases", headers=staff["pelapor_a"].headers,
                       json={"definition_key": "review", "data": {"judul": "x"}}).json
    task_id = case["tasks"][0]["id"]
    before = client.get(f"/api/cases/{case['id']}", headers=admin.headers).json

    response = client.post(f"/api/tasks/{task_id}/complete", headers=staff["kasi_a"].headers,
                           json={"data": {"hasil": "lengkap"}})
    assert response.status_code == 422, response.json
    assert response.json["errors"][0]["element_id"] in ("gw_lengkap", "f3")
    assert "skor" in response.json["message"]

    after = client.get(f"/api/cases/{case['id']}", headers=admin.headers).json
    assert after["tasks"] == before["tasks"] and after["history"] == before["history"]
    assert after["data"] == before["data"] and after["status"] == "running"
    retry = client.post(f"/api/tasks/{task_id}/complete", headers=staff["kasi_a"].headers,
                        json={"data": {"hasil": "ditolak"}})
    assert retry.status_code == 200 and retry.json["status"] == "completed"
