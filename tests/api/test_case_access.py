"""Need-to-know: who may see a case, over every case-scoped endpoint of the API and the web pages.

The SOP (``tests/data/disposisi.bpmn``): a public report reaches the Kasi of unit A, who disposes it to
a sub-unit (``bidang_tujuan``, routed by ``tujuan_unit``); that bidang's Kabid reads only the fields
its task lists (``tampilkan``); the Kepala supervises every case (``pengawas``); a late Kasi step
escalates to the Sekretaris.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from support.helpers import PASSWORD, TESTS, Persona, deploy_file

from service.commands import accounts
from service.engine import utc_now
from service.worker.loop import run_once

PNG = "data:image/png;name=disposisi.png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 64).decode()
PDF = "data:application/pdf;name=internal.pdf;base64," + base64.b64encode(b"%PDF-1.4 internal").decode()
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def office(app: Any, make_persona: Callable[..., Persona], units: dict[str, str]) -> dict[str, Persona]:
    services = app.extensions["alur.services"]
    accounts.create_unit(services, "unit-a-bidang-1", "Bidang Satu", parent="unit-a")
    accounts.create_unit(services, "unit-a-bidang-2", "Bidang Dua", parent="unit-a")
    admin = make_persona("admin", admin=True)
    response = deploy_file(app.test_client(), admin, TESTS / "data" / "disposisi.bpmn")
    assert response.status_code == 201, response.json
    return {
        "admin": admin,
        "kasi": make_persona("kasi", "Kasi@unit-a"),
        "kabid_1": make_persona("kabid.1", "Kabid@unit-a-bidang-1"),
        "kabid_2": make_persona("kabid.2", "Kabid@unit-a-bidang-2"),
        "kabid_office": make_persona("kabid.kantor", "Kabid@unit-a"),
        "kepala": make_persona("kepala", "Kepala@unit-a"),
        "sekretaris": make_persona("sekretaris", "Sekretaris@unit-a"),
        "unit_admin": make_persona("admin.a", "admin@unit-a"),
        "kasi_b": make_persona("kasi.b", "Kasi@unit-b"),
        "admin_b": make_persona("admin.b", "admin@unit-b"),
        "reporter": make_persona("pelapor.lain", "Pelapor@unit-a"),
    }


def _report(client: Any) -> dict[str, Any]:
    receipt = client.post("/api/public/reports", json={
        "unit": "unit-a", "definition_key": "disposisi", "mode": "biasa",
        "data": {"judul": "Pungli di loket", "uraian": "Diminta uang tambahan"},
        "identity": {"nama": "Siti Aminah", "email": "siti@example.test"}})
    assert receipt.status_code == 201, receipt.json
    return dict(receipt.json)


@pytest.fixture
def case(client: Any, office: dict[str, Persona]) -> dict[str, Any]:
    """A report disposed to Bidang 1 and waiting for its Kabid; ids of the case, task and files."""
    _report(client)
    kasi = office["kasi"].headers
    (task,) = client.get("/api/tasks", headers=kasi).json["items"]
    done = client.post(f"/api/tasks/{task['id']}/complete", headers=kasi, json={"data": {
        "bidang_tujuan": "unit-a-bidang-1", "catatan_verifikator": "Catatan internal verifikator",
        "lampiran_disposisi": PNG, "lampiran_internal": PDF}})
    assert done.status_code == 200, done.json
    # the REST path stores files as the web and the reporter do: outside the case, referenced by id
    assert done.json["data"]["lampiran_internal"].startswith("attachment:") and "base64" not in repr(done.json)
    case_id = done.json["id"]
    assert client.post(f"/api/cases/{case_id}/messages", headers=kasi,
                       json={"name": "informasi_tambahan", "data": {}}).json["delivered"] is True
    assert client.post(f"/api/cases/{case_id}/comments", headers=kasi,
                       json={"body": "Catatan staf"}).status_code == 201
    files = {f["field"]: f["id"] for f in client.get(f"/api/cases/{case_id}/attachments", headers=kasi).json}
    (open_task,) = client.get("/api/tasks", headers=office["kabid_1"].headers).json["items"]
    return {"id": case_id, "task": open_task["id"], "shared": files["lampiran_disposisi"],
            "internal": files["lampiran_internal"]}


def _api_reads(client: Any, who: Persona, case: dict[str, Any]) -> dict[str, int]:
    cid, h = case["id"], who.headers
    return {
        "case": client.get(f"/api/cases/{cid}", headers=h).status_code,
        "task": client.get(f"/api/tasks/{case['task']}", headers=h).status_code,
        "comments": client.get(f"/api/cases/{cid}/comments", headers=h).status_code,
        "comment_post": client.post(f"/api/cases/{cid}/comments", headers=h, json={"body": "x"}).status_code,
        "attachments": client.get(f"/api/cases/{cid}/attachments", headers=h).status_code,
        "internal_file": client.get(f"/api/attachments/{case['internal']}", headers=h).status_code,
        "conversation": client.get(f"/api/cases/{cid}/conversation", headers=h).status_code,
        "conversation_post": client.post(f"/api/cases/{cid}/conversation", headers=h,
                                         json={"text": "Mohon info"}).status_code,
        "identity": client.post(f"/api/cases/{cid}/identity", headers=h,
                                json={"reason": "Konfirmasi kepada pelapor"}).status_code,
        "message": client.post(f"/api/cases/{cid}/messages", headers=h,
                               json={"name": "informasi_tambahan", "data": {}}).status_code,
        "retry": client.post(f"/api/cases/{cid}/retry", headers=h).status_code,
        "revert": client.post(f"/api/cases/{cid}/migration/revert", headers=h).status_code,
        "cancel": client.post(f"/api/cases/{cid}/cancel", headers=h, json={"reason": "uji"}).status_code
        if who.username not in ("admin", "admin.a") else 403,  # admins would really cancel: checked below
    }


def _listed(client: Any, who: Persona, case: dict[str, Any]) -> tuple[bool, bool]:
    cases = client.get("/api/cases?per_page=100", headers=who.headers).json["items"]
    tasks = client.get("/api/tasks?per_page=100", headers=who.headers).json["items"]
    return any(c["id"] == case["id"] for c in cases), any(t["case_id"] == case["id"] for t in tasks)


NOTHING = dict.fromkeys(("case", "task", "comments", "comment_post", "attachments", "internal_file", "conversation",
                         "conversation_post", "identity", "message", "retry", "revert", "cancel"), 404)
#: a staff user who sees the whole case but neither works the open task nor administers the unit
WHOLE_CASE = {**NOTHING, "case": 200, "task": 403, "comments": 200, "comment_post": 201, "attachments": 200,
              "internal_file": 200, "conversation": 200, "conversation_post": 201, "identity": 200,
              "message": 202, "retry": 403, "revert": 403, "cancel": 403}


@pytest.mark.parametrize("who", ["kasi_b", "admin_b", "kabid_2", "kabid_office", "sekretaris", "reporter"])
def test_who_has_no_business_in_the_case_gets_404_everywhere(client: Any, office: dict[str, Persona],
                                                                case: dict[str, Any], who: str) -> None:
    """Other unit, its admin, another bidang, the office's own Kabid, a not-yet-escalated role, another reporter."""
    assert _api_reads(client, office[who], case) == NOTHING
    assert _listed(client, office[who], case) == (False, False)


def test_the_case_handler_sees_everything_but_works_only_its_lane(client: Any, office: dict[str, Persona],
                                                                  case: dict[str, Any]) -> None:
    assert _api_reads(client, office["kasi"], case) == WHOLE_CASE
    assert _listed(client, office["kasi"], case) == (True, False)


def test_the_pengawas_sees_every_case_of_the_sop(client: Any, office: dict[str, Persona],
                                                 case: dict[str, Any]) -> None:
    assert _api_reads(client, office["kepala"], case) == WHOLE_CASE
    assert _listed(client, office["kepala"], case) == (True, False)


@pytest.mark.parametrize("who", ["admin", "unit_admin"])
def test_administrators_see_the_case_and_may_cancel_it(client: Any, office: dict[str, Persona],
                                                       case: dict[str, Any], who: str) -> None:
    seen = _api_reads(client, office[who], case)
    assert seen["case"] == seen["comments"] == seen["attachments"] == seen["conversation"] == 200
    assert seen["retry"] == seen["revert"] == 409  # seen and administered; nothing to retry or revert
    assert _listed(client, office[who], case)[0] is True
    cancelled = client.post(f"/api/cases/{case['id']}/cancel", headers=office[who].headers, json={"reason": "uji"})
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"


def test_the_routed_bidang_reads_only_what_its_task_shows(client: Any, office: dict[str, Persona],
                                                          case: dict[str, Any]) -> None:
    kabid = office["kabid_1"]
    seen = _api_reads(client, kabid, case)
    assert seen == {**NOTHING, "case": 200, "task": 200, "attachments": 200, "message": 202, "retry": 403,
                    "revert": 403, "cancel": 403}
    assert _listed(client, kabid, case) == (True, True)
    body = client.get(f"/api/cases/{case['id']}", headers=kabid.headers).json
    assert set(body["data"]) == {"judul", "bidang_tujuan", "lampiran_disposisi"}
    assert "Catatan internal verifikator" not in repr(body) and "Diminta uang" not in repr(body)
    task = client.get(f"/api/tasks/{case['task']}", headers=kabid.headers).json
    assert "Catatan internal verifikator" not in repr(task)
    files = client.get(f"/api/cases/{case['id']}/attachments", headers=kabid.headers).json
    assert [f["id"] for f in files] == [case["shared"]]
    assert client.get(f"/api/attachments/{case['shared']}", headers=kabid.headers).status_code == 200
    done = client.post(f"/api/tasks/{case['task']}/complete", headers=kabid.headers,
                       json={"data": {"hasil_tindak_lanjut": "Sudah ditindaklanjuti"}})
    assert done.status_code == 200, done.json
    assert set(done.json["data"]) <= {"judul", "bidang_tujuan", "lampiran_disposisi"}


def test_a_disposition_to_bidang_one_is_in_its_list_only(client: Any, office: dict[str, Persona],
                                                        case: dict[str, Any]) -> None:
    def listed(who: str) -> list[str]:
        return [t["id"] for t in client.get("/api/tasks", headers=office[who].headers).json["items"]]

    assert listed("kabid_1") == [case["task"]]
    assert listed("kabid_2") == listed("kabid_office") == []
    assert client.post(f"/api/tasks/{case['task']}/claim", headers=office["kabid_2"].headers).status_code == 404


def test_a_disposition_to_another_office_is_refused_and_changes_nothing(client: Any, office: dict[str, Persona]
                                                                       ) -> None:
    _report(client)
    kasi = office["kasi"].headers
    (task,) = client.get("/api/tasks", headers=kasi).json["items"]
    done = client.post(f"/api/tasks/{task['id']}/complete", headers=kasi, json={"data": {"bidang_tujuan": "unit-b"}})
    assert done.status_code == 200, done.json  # the message catch comes first: the task is routed on delivery
    before = client.get(f"/api/cases/{done.json['id']}", headers=kasi).json
    refused = client.post(f"/api/cases/{done.json['id']}/messages", headers=kasi,
                          json={"name": "informasi_tambahan", "data": {}})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "bidang_tujuan"
    assert client.get(f"/api/cases/{done.json['id']}", headers=kasi).json == before


def test_an_escalation_gives_its_target_the_case(client: Any, office: dict[str, Persona]) -> None:
    _report(client)
    services = client.application.extensions["alur.services"]
    sekretaris = office["sekretaris"]
    case_id = client.get("/api/cases", headers=office["kasi"].headers).json["items"][0]["id"]
    assert client.get(f"/api/cases/{case_id}", headers=sekretaris.headers).status_code == 404
    with time_machine.travel(utc_now().timestamp() + 2 * 3600, tick=False):
        assert run_once(services) is not None
    assert client.get(f"/api/cases/{case_id}", headers=sekretaris.headers).status_code == 200
    assert _listed(client, sekretaris, {"id": case_id})[0] is True


# --- the web pages ---------------------------------------------------------------------------------

def _signed_in(app: Any, username: str) -> Any:
    web = app.test_client()
    page = web.get("/login")
    token = _CSRF.search(page.text)
    assert token is not None
    assert web.post("/login", data={"username": username, "password": PASSWORD,
                                    "csrf_token": token.group(1)}).status_code == 302
    return web


def _web_reads(app: Any, username: str, case: dict[str, Any]) -> dict[str, int]:
    web = _signed_in(app, username)
    token = _CSRF.search(web.get("/tasks").text)
    csrf = token.group(1) if token else ""
    cid = case["id"]
    return {
        "case": web.get(f"/cases/{cid}").status_code,
        "diagram": web.get(f"/cases/{cid}/diagram.bpmn").status_code,
        "task": web.get(f"/tasks/{case['task']}").status_code,
        "internal_file": web.get(f"/attachments/{case['internal']}").status_code,
        "comment": web.post(f"/cases/{cid}/comments", data={"body": "x", "csrf_token": csrf}).status_code,
        "reporter_message": web.post(f"/cases/{cid}/pelapor/pesan",
                                     data={"text": "Mohon info", "csrf_token": csrf}).status_code,
        "identity": web.post(f"/cases/{cid}/pelapor/identitas",
                             data={"reason": "Konfirmasi kepada pelapor", "csrf_token": csrf}).status_code,
    }


@pytest.mark.parametrize("username", ["kasi.b", "kabid.2", "kabid.kantor", "sekretaris", "pelapor.lain"])
def test_web_pages_of_a_case_are_404_without_business_in_it(app: Any, office: dict[str, Persona],
                                                            case: dict[str, Any], username: str) -> None:
    assert _web_reads(app, username, case) == dict.fromkeys(
        ("case", "diagram", "task", "internal_file", "comment", "reporter_message", "identity"), 404)


def test_web_pages_for_the_handler_and_the_routed_bidang(app: Any, office: dict[str, Persona],
                                                         case: dict[str, Any]) -> None:
    assert _web_reads(app, "kasi", case) == {"case": 200, "diagram": 200, "task": 403, "internal_file": 200,
                                             "comment": 302, "reporter_message": 302, "identity": 200}
    assert _web_reads(app, "kabid.1", case) == {"case": 200, "diagram": 200, "task": 200, "internal_file": 404,
                                                "comment": 404, "reporter_message": 404, "identity": 404}
    page = _signed_in(app, "kabid.1").get(f"/cases/{case['id']}").text
    assert "Catatan internal verifikator" not in page and "Siti Aminah" not in page


def test_sub_units_through_the_api(client: Any, office: dict[str, Persona]) -> None:
    made = client.post("/api/units", headers=office["unit_admin"].headers,
                       json={"code": "unit-a-bidang-3", "name": "Bidang Tiga", "parent": "unit-a"})
    assert made.status_code == 201 and made.json["timezone"] == "Asia/Jakarta"
    listed = client.get("/api/units/unit-a/sub-units", headers=office["kasi"].headers).json
    assert [u["code"] for u in listed] == ["unit-a-bidang-1", "unit-a-bidang-2", "unit-a-bidang-3"]
    refusals = [
        (office["unit_admin"], {"code": "unit-c", "name": "Kantor C"}, 403),  # an office: global admins only
        (office["admin_b"], {"code": "unit-a-x", "name": "X", "parent": "unit-a"}, 403),  # not its office
        (office["kasi"], {"code": "unit-a-x", "name": "X", "parent": "unit-a"}, 403),
        (office["admin"], {"code": "unit-a-bidang-1", "name": "Lagi", "parent": "unit-a"}, 409),
        (office["admin"], {"code": "X Y", "name": "Spasi"}, 422),
        (office["admin"], {"code": "unit-a-1-x", "name": "Cucu", "parent": "unit-a-bidang-1"}, 422),
        (office["admin"], {"code": "unit-z", "name": "Z", "timezone": "Mars/Olympus"}, 422),
        (office["admin"], {"code": "unit-z", "name": "Z", "parent": "tidak-ada"}, 404),
    ]
    for who, body, status in refusals:
        response = client.post("/api/units", headers=who.headers, json=body)
        assert response.status_code == status, (body, response.json)
    assert client.get("/api/units/unit-a/sub-units", headers=office["kasi_b"].headers).status_code == 404
