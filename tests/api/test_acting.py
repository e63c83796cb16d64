"""Acting officials, Plt. and Plh. (issue 15, item 4), on SQLite and PostgreSQL: an administrator grants a
user a unit's role on behalf of its holder for some days; the tasks follow for those days only, history
names both people, escalations reach the acting official, and the grant ends by itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import select
from support.helpers import PASSWORD, Persona, signed_in_now
from support.web import csrf_of

from service.commands import accounts, acting
from service.commands.accounts import role_holders
from service.store.models import HistoryEntry, Unit, UserEvent

#: a Monday in unit A's timezone (Asia/Jakarta)
MONDAY = date(2026, 12, 7)


def _at(day: date, hour: int) -> datetime:
    """``hour`` o'clock WIB on ``day``, in UTC."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - timedelta(hours=7)


def _web(app: Any, username: str) -> Any:
    client = app.test_client()
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, answer.text
    return client


def _grant_form(client: Any, **fields: str) -> Any:
    token = csrf_of(client.get("/admin/plt").text)
    form = {"username": "citra", "for_username": "kabid.a", "role": "Kabid", "unit": "unit-a", "kind": "Plt",
            "starts_on": (MONDAY + timedelta(days=1)).isoformat(), "ends_on": (MONDAY + timedelta(days=3)).isoformat(),
            "csrf_token": token, **fields}
    return client.post("/admin/plt", data=form)


def _kabid_tasks(client: Any, persona: Persona) -> list[dict[str, Any]]:
    answer = client.get("/api/tasks", headers=persona.headers)
    assert answer.status_code == 200, answer.json
    return [task for task in answer.json["items"] if task["lane"] == "Kabid"]


def test_a_plt_works_the_holders_lane_for_the_granted_days_only(
        app: Any, client: Any, staff: dict[str, Persona], start_review: Any,
        make_persona: Callable[..., Persona]) -> None:
    services = app.extensions["alur.services"]
    make_persona("citra", "Kasi@unit-a")
    unit_a = _unit_id(services, "unit-a")
    with time_machine.travel(_at(MONDAY, 9), tick=False):
        pelapor, kasi, citra = (signed_in_now(client, p) for p in (staff["pelapor_a"], staff["kasi_a"],
                                                                     Persona("citra", "")))
        case = start_review(pelapor)
        moved = client.post(f"/api/tasks/{case['tasks'][0]['id']}/complete", headers=kasi.headers,
                            json={"data": {"hasil": "lengkap"}})
        assert moved.status_code == 200
        admin = _web(app, "admin.a")
        assert _grant_form(admin).status_code == 302
        listed = admin.get("/admin/plt").text
        assert "Plt. Kabid a.n. kabid.a" in listed and "tidak berlaku" in listed
        assert _kabid_tasks(client, citra) == []  # not yet: the grant starts tomorrow
        assert _holders(services, unit_a, "Kabid") == {"kabid.a"}

    with time_machine.travel(_at(MONDAY + timedelta(days=1), 0) + timedelta(seconds=1), tick=False):
        pelapor, citra = signed_in_now(client, staff["pelapor_a"]), signed_in_now(client, Persona("citra", ""))
        services.actors.forget(_user_id(services, "citra"))  # ten seconds later: the cache read the roles again
        (task,) = _kabid_tasks(client, citra)
        assert _holders(services, unit_a, "Kabid") == {"kabid.a", "citra"}  # escalations reach the Plt. too
        assert "berlaku" in _web(app, "admin.a").get("/admin/plt").text
        done = client.post(f"/api/tasks/{task['id']}/complete", headers=citra.headers, json={"data": {}})
        assert done.status_code == 200 and done.json["status"] == "completed", done.json
        with services.db.reading() as session:
            entry = session.scalar(select(HistoryEntry).where(HistoryEntry.case_id == case["id"],
                                                              HistoryEntry.action == "task_completed",
                                                              HistoryEntry.task_id == task["id"]))
        assert entry is not None and entry.actor == "citra (Plt. Kabid a.n. kabid.a)"
        # her own lane stays hers, under her own name
        second = start_review(pelapor)
        mine = client.post(f"/api/tasks/{second['tasks'][0]['id']}/complete", headers=citra.headers,
                           json={"data": {"hasil": "lengkap"}})
        assert mine.status_code == 200
        assert [h["actor"] for h in mine.json["history"] if h["action"] == "task_completed"] == ["citra"]

    # the day after the last day: the grant ended by itself
    with time_machine.travel(_at(MONDAY + timedelta(days=4), 0) + timedelta(seconds=1), tick=False):
        citra = signed_in_now(client, Persona("citra", ""))
        services.actors.forget(_user_id(services, "citra"))
        assert _kabid_tasks(client, citra) == []
        assert _holders(services, unit_a, "Kabid") == {"kabid.a"}
        later = client.get(f"/api/tasks/{mine.json['tasks'][0]['id']}", headers=citra.headers)
        assert later.status_code in (403, 404)
    with services.db.reading() as session:
        events = [e.action for e in session.scalars(select(UserEvent).where(
            UserEvent.user_id == _user_id(services, "citra")))]
    assert "acting_granted" in events


def test_an_admin_ends_a_grant_early_and_bad_grants_are_refused(app: Any, staff: dict[str, Persona],
                                                               make_persona: Callable[..., Persona]) -> None:
    services = app.extensions["alur.services"]
    make_persona("citra", "Kasi@unit-a")
    admin = _web(app, "admin.a")
    today = datetime.now(UTC).date()
    cases = {
        "username": ({"username": "nobody"}, "Tidak ada pengguna"),
        "for_username": ({"for_username": "kasi.a"}, "tidak memegang peran"),
        "role": ({"role": "admin", "for_username": "admin.a"}, "bukan admin"),
        "ends_on": ({"ends_on": "2000-01-01"}, "hari terakhir"),
        "starts_on": ({"starts_on": "besok"}, "tanggal"),
    }
    for field, (change, words) in cases.items():
        answer = _grant_form(admin, **change)
        assert answer.status_code in (404, 422), field
        assert words in answer.text, (field, answer.text[:3000])
    assert acting.grants_of(services, accounts.actor_by_id(services, _user_id(services, "admin.a"))) == []
    assert _grant_form(admin, starts_on=today.isoformat(), ends_on=(today + timedelta(days=5)).isoformat()
                       ).status_code == 302
    overlap = _grant_form(admin, starts_on=(today + timedelta(days=2)).isoformat(),
                          ends_on=(today + timedelta(days=9)).isoformat())
    assert overlap.status_code == 422 and "sebagian periode" in overlap.text
    (grant,) = acting.grants_of(services, accounts.actor_by_id(services, _user_id(services, "admin.a")))
    assert grant.in_force and _holders(services, _unit_id(services, "unit-a"), "Kabid") == {"kabid.a", "citra"}
    token = csrf_of(admin.get("/admin/plt").text)
    assert admin.post(f"/admin/plt/{grant.id}/akhiri", data={"csrf_token": token}).status_code == 302
    assert _holders(services, _unit_id(services, "unit-a"), "Kabid") == {"kabid.a"}
    assert "diakhiri lebih awal" in admin.get("/admin/plt").text
    with services.db.reading() as session:
        assert "acting_revoked" in {e.action for e in session.scalars(select(UserEvent))}
    # only administrators of the unit
    kasi = _web(app, "kasi.a")
    assert kasi.get("/admin/plt").status_code == 403
    other = _web(app, "kasi.b")
    assert other.post(f"/admin/plt/{grant.id}/akhiri", data={"csrf_token": csrf_of(other.get("/tasks").text)}
                      ).status_code in (403, 404)
    assert _holders(services, _unit_id(services, "unit-a"), "Kabid") == {"kabid.a"}
    assert admin.post(f"/admin/plt/{grant.id}/akhiri", data={}).status_code == 400  # the CSRF token


def _user_id(services: Any, username: str) -> int:
    with services.db.reading() as session:
        user = session.scalar(select(accounts.User).where(accounts.User.username == username))
        assert user is not None
        return user.id


def _unit_id(services: Any, code: str) -> int:
    with services.db.reading() as session:
        unit = session.scalar(select(Unit).where(Unit.code == code))
        assert unit is not None
        return unit.id


def _holders(services: Any, unit_id: int, role: str) -> set[str]:
    with services.db.reading() as session:
        ids = set(session.scalars(role_holders(unit_id, role)))
        return set(session.scalars(select(accounts.User.username).where(accounts.User.id.in_(ids))))
