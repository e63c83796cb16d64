"""The SOP driver: form payloads from the JSON Schemas, working-day deadlines, lane-checked task work.

Used by ``tests/sops``: ``Sop`` walks a bundled diagram through the REST API step by step. Payloads
fill every required field, and the reasons and sub-units an ``if``/``then`` rule requires for the
chosen values; a task routed to a sub-unit (``tujuan_unit``) is done by the lane's user of that
sub-unit; ``Sop.expire`` lets a reporter's time limit pass; ``Sop.published`` reads what the
notifications published to the reporter.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from jsonschema import Draft202012Validator, FormatChecker
from sqlalchemy import select

from service.catalogue import BUNDLED_OFFICES, SUB_UNITS
from service.store.models import OutboxItem
from service.worker.loop import run_once

ROOT = Path(__file__).resolve().parents[2]
BPMN_DIR = ROOT / "bpmn"
#: The kinds of flow node the bundled diagrams use.
FLOW_NODES = (
    "startEvent",
    "endEvent",
    "userTask",
    "businessRuleTask",
    "callActivity",
    "exclusiveGateway",
    "intermediateThrowEvent",
    "boundaryEvent",
)
FORMS_DIR = ROOT / "forms"
OFFICES = {office.code: office for office in BUNDLED_OFFICES}
#: sub-unit code → its office's code
PARENT = {unit.code: office for office, units in SUB_UNITS.items() for unit in units}
#: Monday 6 October 2025, 09:00 WITA = 08:00 WIB (no public holiday in the weeks after it).
START = datetime(2025, 10, 6, 1, 0, tzinfo=UTC)
_UNIT = re.compile(r'<camunda:property name="unit" value="([^"]+)"')

#: Run a test on SQLite only (``db_url`` is parametrized over both backends in ``tests/conftest.py``).
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def _deploy_order(path: Path) -> tuple[int, str]:
    """Called processes first: a diagram's call activities resolve against what is deployed."""
    return (0 if "<bpmn:callActivity" not in path.read_text(encoding="utf-8") else 1, path.name)


DIAGRAMS = sorted(BPMN_DIR.glob("*.bpmn"), key=_deploy_order)


def unit_of(path: Path) -> str:
    found = _UNIT.search(path.read_text(encoding="utf-8"))
    assert found, f"{path.name} names no unit"
    return found.group(1)


# --- form data -------------------------------------------------------------------------------------

_PATTERN_SAMPLES = {
    "^[0-9]{16}$": "6206011203850001",
    "^[0-9]{18}$": "198503122010011002",
    "^(\\+62|0)[0-9]{8,13}$": "081234567890",
}
_FORMAT_SAMPLES = {"date": "2025-10-06", "email": "pelapor@contoh.id", "uri": "https://contoh.id/aduan/1"}


@cache
def _schema(form_key: str) -> dict[str, Any]:
    return dict(json.loads((FORMS_DIR / f"{form_key}.schema.json").read_text(encoding="utf-8")))


def _sample(name: str, prop: Mapping[str, Any]) -> Any:
    if "const" in prop:
        return prop["const"]
    if "enum" in prop:
        return prop["enum"][0]
    kind = prop.get("type")
    if kind == "boolean":
        return True
    if kind == "integer":
        return max(int(prop.get("minimum", 0)), 1)
    if kind == "array":  # a list of choices (e.g. the bidang of a parallel disposition): the first it needs
        items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        return list(items.get("enum", [])[: int(prop.get("minItems", 0))])
    if prop.get("format") in _FORMAT_SAMPLES:
        return _FORMAT_SAMPLES[prop["format"]]
    if "pattern" in prop:
        return _PATTERN_SAMPLES[prop["pattern"]]
    return f"{name.replace('_', ' ')} (uji)".ljust(int(prop.get("minLength", 0)), ".")


def conditionally_required(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[str]:
    """The fields the schema's ``if``/``then`` rules (in ``allOf``) require for ``data``, in order."""
    found: list[str] = []
    for rule in schema.get("allOf", []):
        if "if" in rule and Draft202012Validator(rule["if"]).is_valid(data):
            found += [name for name in rule.get("then", {}).get("required", []) if name not in found]
    return found


def form(form_key: str, **values: Any) -> dict[str, Any]:
    """A valid payload for ``forms/<form_key>``: every required field, overridden by ``values``.

    Fields an ``if``/``then`` rule requires for the chosen values (a reason, a sub-unit) are filled
    too: a reason with a sample text, a sub-unit with the first code of its enum.
    """
    schema = _schema(form_key)
    data = {name: _sample(name, schema["properties"][name]) for name in schema.get("required", [])}
    data.update(values)
    for name in conditionally_required(schema, data):
        data.setdefault(name, _sample(name, schema["properties"][name]))
    errors = [e.message for e in Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(data)]
    assert not errors, f"test payload for {form_key} is invalid: {errors}"
    return data


def without(data: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """``data`` without the fields ``names`` (to send a form with its reason left out)."""
    return {key: value for key, value in data.items() if key not in names}


def pdf(filename: str) -> str:
    """A small PDF as the data-url a form's file field sends."""
    content = base64.b64encode(b"%PDF-1.4\n% uji\n").decode()
    return f"data:application/pdf;name={filename};base64,{content}"


def enum(form_key: str, name: str) -> list[Any]:
    """The allowed values of a form field (a gateway's decision field)."""
    return list(_schema(form_key)["properties"][name]["enum"])


# --- working days, computed independently of service.engine.calendar --------------------------------

def working_days_due(start: datetime, days: int, timezone: str, closing: time = time(16, 0)) -> datetime:
    """Closing time (16:00 local) of the ``days``-th working day (Mon-Fri, no national holiday) after
    the local day of ``start``."""
    zone = ZoneInfo(timezone)
    day: date = start.astimezone(zone).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in holidays.country_holidays("ID", years=day.year):
            counted += 1
    return datetime.combine(day, closing, tzinfo=zone).astimezone(UTC)


def instant(text: str | None) -> datetime:
    assert text, "no instant"
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def deploy(client: Any, persona: Any, path: Path) -> Any:
    with path.open("rb") as handle:
        return client.post("/api/definitions", headers=persona.headers,
                           data={"bpmn": (handle, path.name), "unit": unit_of(path)},
                           content_type="multipart/form-data")


# --- the API driver --------------------------------------------------------------------------------

@dataclass
class Staff:
    """A signed-in user holding one lane (role) in one unit."""

    persona: Any  # tests/conftest.py's Persona
    lane: str
    unit: str

    @property
    def headers(self) -> dict[str, str]:
        return self.persona.headers


def ready(case: Mapping[str, Any]) -> list[str]:
    return [task["element_id"] for task in case["tasks"]]


def completed(case: Mapping[str, Any]) -> list[str]:
    """Element ids of the completed tasks, in the order they were completed."""
    return [h["element_id"] for h in case["history"] if h["action"] == "task_completed"]


def actions(case: Mapping[str, Any], action: str) -> list[dict[str, Any]]:
    return [h for h in case["history"] if h["action"] == action]


def _my_task(client: Any, staff: Staff, case_id: str, element_id: str) -> dict[str, Any]:
    """The ready task ``element_id`` of a case in ``staff``'s task list (their role, their unit, their lane)."""
    listed = client.get("/api/tasks", headers=staff.headers, query_string={"per_page": 200})
    assert listed.status_code == 200, listed.json
    mine = [t for t in listed.json["items"] if t["case_id"] == case_id and t["element_id"] == element_id]
    assert len(mine) == 1, (element_id, staff.lane, staff.unit, [t["element_id"] for t in listed.json["items"]])
    task = dict(mine[0])
    assert task["lane"] == staff.lane and task["roles"] == [staff.lane] and task["unit"] == staff.unit, task
    return task


def work(client: Any, staff: Staff, case_id: str, element_id: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Complete the ready task ``element_id`` of a case as ``staff``; return the case.

    The task must be in the caller's task list (their role, their unit) and lie in their lane.
    """
    task = _my_task(client, staff, case_id, element_id)
    done = client.post(f"/api/tasks/{task['id']}/complete", headers=staff.headers, json={"data": dict(data)})
    assert done.status_code == 200, done.json
    return dict(done.json)


def refused(client: Any, staff: Staff, case_id: str, element_id: str, data: Mapping[str, Any]) -> list[str]:
    """Send ``data`` for the ready task ``element_id``, expect 422; the fields the errors name."""
    task = _my_task(client, staff, case_id, element_id)
    done = client.post(f"/api/tasks/{task['id']}/complete", headers=staff.headers, json={"data": dict(data)})
    assert done.status_code == 422, done.json
    return [error["field"] for error in done.json["errors"]]


@dataclass
class Sop:
    """One test's view of the service: its client, clock, staff per lane and the bundled SOPs."""

    app: Any
    clock: Any
    make_persona: Callable[..., Any]
    admin: Any
    deployed: dict[str, dict[str, Any]] = field(default_factory=dict)
    _staff: dict[tuple[str, str], Staff] = field(default_factory=dict)

    @property
    def client(self) -> Any:
        return self.app.test_client()

    @property
    def services(self) -> Any:
        return self.app.extensions["alur.services"]

    def staff(self, lane: str, unit: str) -> Staff:
        if (lane, unit) not in self._staff:
            username = f"{re.sub(r'[^a-z0-9]+', '.', lane.lower())}@{unit}"
            self._staff[lane, unit] = Staff(self.make_persona(username, f"{lane}@{unit}"), lane, unit)
        return self._staff[lane, unit]

    def start(self, key: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Start a case of ``key`` as the reporter (lane Pelapor of the SOP's unit)."""
        reporter = self.staff("Pelapor", self.deployed[key]["unit"])
        started = self.client.post("/api/cases", headers=reporter.headers,
                                   json={"definition_key": key, "data": dict(data)})
        assert started.status_code == 201, started.json
        return dict(started.json)

    def holder(self, case: Mapping[str, Any], element_id: str, lane: str) -> Staff:
        """The ``lane`` user who gets the ready task ``element_id``: of the sub-unit it is routed to
        (``tujuan_unit``), else of the case's office."""
        task = next((t for t in case["tasks"] if t["element_id"] == element_id), None)
        unit = task["unit"] if task and task.get("unit") else case["unit"]
        assert unit == case["unit"] or PARENT.get(unit) == case["unit"], (element_id, unit)
        return self.staff(lane, unit)

    def work(self, case: Mapping[str, Any], element_id: str, lane: str, data: Mapping[str, Any]) -> dict[str, Any]:
        return work(self.client, self.holder(case, element_id, lane), case["id"], element_id, data)

    def refused(self, case: Mapping[str, Any], element_id: str, lane: str, data: Mapping[str, Any]) -> list[str]:
        """The fields a 422 names when the lane's user sends ``data`` for ``element_id``; the case is unchanged."""
        fields = refused(self.client, self.holder(case, element_id, lane), case["id"], element_id, data)
        assert element_id in ready(self.case(case["id"]))
        return fields

    def case(self, case_id: str) -> dict[str, Any]:
        found = self.client.get(f"/api/cases/{case_id}", headers=self.admin.headers)
        assert found.status_code == 200, found.json
        return dict(found.json)

    def tasks(self, lane: str, unit: str, **query: Any) -> list[dict[str, Any]]:
        listed = self.client.get("/api/tasks", headers=self.staff(lane, unit).headers,
                                 query_string={"per_page": 200, **query})
        assert listed.status_code == 200, listed.json
        return list(listed.json["items"])

    def outbox(self, case_id: str, kind: str) -> list[OutboxItem]:
        with self.services.db.reading() as session:
            return list(session.scalars(select(OutboxItem).where(OutboxItem.case_id == case_id,
                                                                 OutboxItem.kind == kind)
                                        .order_by(OutboxItem.id)))

    def breach(self, case: Mapping[str, Any], element_id: str, escalate_to: str, due: datetime) -> dict[str, Any]:
        """Move the clock just past the SLA of the ready task ``element_id`` and run the worker once.

        Asserts the task's ``due_at``, the ``timer_fired`` history entry of its boundary timer, the
        escalation to ``escalate_to`` in the outbox, and that the task is still ready and now overdue.
        """
        task = next(t for t in case["tasks"] if t["element_id"] == element_id)
        unit = task.get("unit") or case["unit"]  # a task routed to a sub-unit is listed there
        assert instant(task["due_at"]) == due, (element_id, task["due_at"], due)
        assert all(t["id"] != task["id"] for t in self.tasks(task["lane"], unit, overdue="true"))
        self.clock.move_to(due + timedelta(seconds=1))
        assert run_once(self.services) is True
        after = self.case(case["id"])
        fired = actions(after, "timer_fired")
        assert fired and fired[-1]["element_id"] == f"Timer_{element_id}", fired
        assert fired[-1]["data"]["attached_to"] == element_id
        escalations = self.outbox(case["id"], "escalation")
        assert escalations and escalations[-1].recipient_role == escalate_to
        assert escalations[-1].payload["element_id"] == element_id
        assert task["id"] in [t["id"] for t in after["tasks"]], "the timer must not interrupt the task"
        overdue = self.tasks(task["lane"], unit, overdue="true")
        assert task["id"] in [t["id"] for t in overdue]
        assert run_once(self.services) is False, "a non-interrupting SLA timer fires once"
        return after

    def due(self, sla: timedelta | int, unit: str) -> datetime:
        """When a task created now is due: now + a duration, or the close of the n-th working day."""
        now = datetime.now(UTC)  # the frozen clock
        if isinstance(sla, timedelta):
            return now + sla
        return working_days_due(now, sla, OFFICES[unit].timezone)

    def notifications(self, case_id: str) -> list[tuple[str | None, str]]:
        return [(row.recipient_role, row.payload["message"]) for row in self.outbox(case_id, "notification")]

    def published(self, case_id: str) -> list[tuple[str | None, dict[str, Any]]]:
        """Per notification to the reporter: the element that threw it and the fields it published
        (name → value)."""
        return [(row.payload.get("element_name"), {f["name"]: f["value"] for f in row.payload.get("fields", [])})
                for row in self.outbox(case_id, "notification") if row.recipient_role == "Pelapor"]

    def expire(self, case: Mapping[str, Any], element_id: str, days: int = 14) -> dict[str, Any]:
        """Let the reporter's time limit (``days`` hari kerja) on the Pelapor task ``element_id`` pass and
        run the worker once; the task is cancelled and the case has moved on. Returns the case."""
        task = next(t for t in case["tasks"] if t["element_id"] == element_id)
        assert task["lane"] == "Pelapor"
        due = working_days_due(instant(task["created_at"]), days, OFFICES[case["unit"]].timezone)
        assert instant(task["due_at"]) == due, (element_id, task["due_at"], due)
        self.clock.move_to(due - timedelta(seconds=1))
        assert run_once(self.services) is False, "the reporter's time has not run out yet"
        self.clock.move_to(due + timedelta(seconds=1))
        assert run_once(self.services) is True
        after = self.case(case["id"])
        fired = actions(after, "timer_fired")
        assert fired and fired[-1]["element_id"] == f"Deadline_{element_id}", fired
        assert task["id"] not in [t["id"] for t in after["tasks"]], "the deadline interrupts the reporter's task"
        assert [h for h in actions(after, "task_cancelled") if h["task_id"] == task["id"]]
        return after


@dataclass(frozen=True)
class Step:
    """One user task of a path: who does it, with what data, and its SLA (if the diagram has one)."""

    element_id: str
    lane: str
    data: Mapping[str, Any]
    sla: timedelta | int | None = None  # a duration, or a number of hari kerja (also a Pelapor's time limit)
    escalate_to: str | None = None  # None for a Pelapor's time limit: it does not escalate, it moves the case on


def walk(sop: Sop, case: dict[str, Any], steps: list[Step], breach: bool = False) -> dict[str, Any]:
    """Complete ``steps`` in order; with ``breach``, first let the SLA of each step run out."""
    for step in steps:
        assert step.element_id in ready(case), (step.element_id, ready(case))
        task = next(t for t in case["tasks"] if t["element_id"] == step.element_id)
        assert task["lane"] == step.lane
        if step.sla is None:
            assert task["due_at"] is None, task
        elif not breach:
            assert instant(task["due_at"]) == sop.due(step.sla, case["unit"]), (step.element_id, task["due_at"])
        else:
            assert step.escalate_to
            case = sop.breach(case, step.element_id, step.escalate_to, sop.due(step.sla, case["unit"]))
        case = sop.work(case, step.element_id, step.lane, step.data)
    return case


def assert_data(case: Mapping[str, Any], *payloads: Mapping[str, Any]) -> None:
    """The case data holds every field sent, with the value sent last."""
    expected: dict[str, Any] = {}
    for payload in payloads:
        expected.update(payload)
    assert {name: case["data"].get(name) for name in expected} == expected


# --- fixtures --------------------------------------------------------------------------------------
