"""Starting a case reads its revision and unit as one small row and keeps the rest per process
(``definitions.startable_with_days``): what an admin changes in another process reaches the next start.

"Another process" is a second app on the same database, with caches of its own (compiled specs, forms,
revisions, calendars): what it changes, the first app must see without being told.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from support.consistency import check_cases
from support.helpers import ENGINE_DATA, PASSWORD, Persona, app_on, deploy_file, signed_in_now

from service.commands import accounts
from service.commands.context import Services
from service.config import Settings

WIB = ZoneInfo("Asia/Jakarta")
BASE = "/api/definitions/revisi_uji"


@pytest.fixture
def other(settings: Settings) -> Iterator[Any]:
    """A second app on the database of ``app``: another process, with its own caches."""
    with app_on(settings) as flask_app:
        yield flask_app


@pytest.fixture
def people(app: Any, make_persona: Callable[..., Persona], admin: Persona) -> dict[str, Persona]:
    accounts.create_user(app.extensions["alur.services"], "approver.a", PASSWORD, ["approver@unit-a"])
    token = app.test_client().post("/api/auth/token", json={"username": "approver.a", "password": PASSWORD})
    return {"admin": admin, "owner": make_persona("owner.a", "process_owner@unit-a"),
            "approver": Persona("approver.a", token.json["token"])}


def _start(client: Any, persona: Persona, version: int | None = None) -> Any:
    body: dict[str, Any] = {"definition_key": "revisi_uji"}
    if version is not None:
        body["version"] = version
    return client.post("/api/cases", headers=persona.headers, json=body)


def _version(client: Any, persona: Persona) -> int:
    response = _start(client, persona)
    assert response.status_code == 201, response.json
    return int(response.json["version"])


def _post(client: Any, persona: Persona, path: str, body: dict[str, Any] | None = None) -> Any:
    response = client.post(f"{BASE}{path}", headers=persona.headers, json=body or {})
    assert response.status_code in (200, 201), response.json
    return response


def test_starts_follow_revision_changes_made_in_another_process(app: Any, other: Any, people: dict[str, Persona]
                                                                ) -> None:
    here, there = app.test_client(), other.test_client()
    admin = people["admin"]
    assert deploy_file(here, admin, ENGINE_DATA / "revision_v1.bpmn").status_code == 201
    first = _start(here, admin)
    assert first.status_code == 201 and first.json["version"] == 1  # this process keeps revision 1 now
    # the other process deploys revision 2, approves it and puts it in force today
    deployed = deploy_file(there, people["owner"], ENGINE_DATA / "revision_v2.bpmn")
    assert deployed.status_code == 201 and deployed.json["status"] == "draft"
    assert _start(here, admin, version=2).status_code == 409  # a draft runs no case
    _post(there, people["approver"], "/versions/2/approve")
    _post(there, admin, "/versions/2/activate")
    assert _version(here, admin) == 2
    # retiring it there puts revision 1 back in force here; retiring that too leaves nothing to start
    _post(there, admin, "/versions/2/retire")
    assert _version(here, admin) == 1
    refused = _start(here, admin, version=2)
    assert refused.status_code == 409 and "retired" in refused.json["message"]
    _post(there, admin, "/versions/1/retire")
    gone = _start(here, admin)
    assert gone.status_code == 404 and gone.json["errors"][0]["field"] == "definition_key"
    assert _start(here, admin, version=1).status_code == 409
    assert _start(here, admin, version=9).status_code == 404
    services: Services = app.extensions["alur.services"]
    checked = check_cases(services)
    assert checked.cases == 3 and not checked.problems, checked.problems


def test_a_revision_approved_elsewhere_starts_from_its_tanggal_efektif(app: Any, other: Any,
                                                                      people: dict[str, Persona]) -> None:
    here, there = app.test_client(), other.test_client()
    assert deploy_file(here, people["admin"], ENGINE_DATA / "revision_v1.bpmn").status_code == 201
    assert deploy_file(there, people["owner"], ENGINE_DATA / "revision_v2.bpmn").status_code == 201
    assert there.patch(f"{BASE}/versions/2", headers=people["owner"].headers,
                       json={"effective_on": "2027-03-01"}).status_code == 200
    with time_machine.travel(datetime(2027, 2, 28, 23, 30, tzinfo=WIB), tick=False):
        assert _version(here, signed_in_now(here, people["admin"])) == 1
        _post(there, signed_in_now(there, people["approver"]), "/versions/2/approve")
        assert _version(here, signed_in_now(here, people["admin"])) == 1  # approved, not yet in force
    # 00:30 WIB on the Tanggal Efektif is still 28 February in UTC: the unit's own date counts
    with time_machine.travel(datetime(2027, 3, 1, 0, 30, tzinfo=WIB), tick=False):
        assert _version(here, signed_in_now(here, people["admin"])) == 2


def test_closed_days_and_hours_changed_elsewhere_move_the_next_due_date(app: Any, other: Any,
                                                                       admin: Persona) -> None:
    here, there = app.test_client(), other.test_client()
    assert deploy_file(here, admin, ENGINE_DATA / "office_hours.bpmn").status_code == 201

    def due() -> datetime:
        with time_machine.travel(datetime(2026, 5, 8, 15, 55, tzinfo=WIB), tick=False):
            response = here.post("/api/cases", headers=signed_in_now(here, admin).headers,
                                 json={"definition_key": "office_hours"})
        assert response.status_code == 201, response.json
        return datetime.fromisoformat(response.json["tasks"][0]["due_at"])

    assert due() == datetime(2026, 5, 11, 8, 5, tzinfo=WIB)
    added = there.post("/api/units/unit-a/closed-days", headers=admin.headers,
                       json={"day": "2026-05-11", "kind": "libur_daerah", "note": "Hari jadi kabupaten"})
    assert added.status_code == 201, added.json
    assert due() == datetime(2026, 5, 12, 8, 5, tzinfo=WIB)
    # from 07:30 to 15:30: the Friday start at 15:55 is after closing, the ten minutes run from Monday 07:30
    hours = {str(day): ["07:30", "15:30"] for day in range(5)}
    assert there.put("/api/units/unit-a/working-hours", headers=admin.headers, json={"hours": hours}).status_code == 200
    assert due() == datetime(2026, 5, 12, 7, 40, tzinfo=WIB)
    assert there.delete("/api/units/unit-a/closed-days/2026-05-11", headers=admin.headers).status_code == 204
    assert due() == datetime(2026, 5, 11, 7, 40, tzinfo=WIB)


def test_a_process_that_never_saw_the_revision_loads_its_diagram_and_forms(app: Any, other: Any,
                                                                           people: dict[str, Persona]) -> None:
    """The other process starts with empty caches: the revision's diagram loads when its spec is compiled."""
    here, there = app.test_client(), other.test_client()
    assert deploy_file(here, people["admin"], ENGINE_DATA / "revision_v1.bpmn").status_code == 201
    created = _start(there, people["admin"])
    assert created.status_code == 201, created.json
    assert (created.json["version"], created.json["unit"]) == (1, "unit-a")
    assert created.json["registration_number"].startswith("001/")
    again = _start(there, people["admin"])
    assert again.status_code == 201 and again.json["registration_number"].startswith("002/")
