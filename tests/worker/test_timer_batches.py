"""Due timers are fired in batches (one claim, one commit); a failing case does not hold back the others."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from sqlalchemy import event, select
from support.helpers import ENGINE_DATA, deploy_file, signed_in_now

from service.commands.timers import FIRE_BATCH, backoff, fire_batch, fire_due_timers
from service.store.models import Case, HistoryEntry

START = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def _start(client: Any, admin: Any, key: str) -> str:
    answer = client.post("/api/cases", headers=signed_in_now(client, admin).headers, json={"definition_key": key})
    assert answer.status_code == 201, answer.json
    return str(answer.json["id"])


def test_a_failing_case_rolls_its_batch_back_and_only_it_is_counted(app: Any, admin: Any) -> None:
    client = app.test_client()
    services = app.extensions["alur.services"]
    for diagram in ("wait_timer.bpmn", "failing_timer.bpmn"):
        assert deploy_file(client, admin, ENGINE_DATA / diagram).status_code == 201
    with time_machine.travel(START, tick=False):
        waiting = [_start(client, admin, "wait_timer") for _ in range(3)]
        failing = _start(client, admin, "failing_timer")
    moment = START + timedelta(minutes=2)
    commits = Counter[str]()
    event.listen(services.db.engine, "commit", lambda _connection: commits.update(["commit"]))
    with time_machine.travel(moment, tick=False):
        assert fire_batch(services, moment, FIRE_BATCH) == (4, 3)  # 4 claimed together, 3 fired
        # the batch was rolled back, then one transaction per case: 3 fires and the failure's count
        assert commits["commit"] == 4
        assert fire_batch(services, moment, FIRE_BATCH) == (0, 0)  # nothing is due any more
    with services.db.reading() as session:
        cases = {case.id: case for case in session.scalars(select(Case))}
        actions = Counter((entry.case_id, entry.action) for entry in session.scalars(select(HistoryEntry)))
    assert all(cases[case_id].status == "completed" and actions[case_id, "timer_fired"] == 1 for case_id in waiting)
    assert cases[failing].status == "running" and cases[failing].timer_failures == 1
    assert cases[failing].next_timer_at == moment + backoff(1)
    assert actions[failing, "timer_failed"] == 1 and actions[failing, "timer_fired"] == 0


def test_a_backlog_is_fired_in_growing_batches_each_case_once(app: Any, admin: Any) -> None:
    client = app.test_client()
    services = app.extensions["alur.services"]
    assert deploy_file(client, admin, ENGINE_DATA / "wait_timer.bpmn").status_code == 201
    with time_machine.travel(START, tick=False):
        started = [_start(client, admin, "wait_timer") for _ in range(25)]
    moment = START + timedelta(minutes=2)
    commits = Counter[str]()
    event.listen(services.db.engine, "commit", lambda _connection: commits.update(["commit"]))
    with time_machine.travel(moment, tick=False):
        assert fire_due_timers(services, moment, limit=100) == 25
    # batches of 1, 2, 4 and 8 cases, then one of the 10 left (16 wanted: nothing more is due, no other claim)
    assert FIRE_BATCH >= 16 and commits["commit"] == 5
    with services.db.reading() as session:
        fired = Counter(session.scalars(select(HistoryEntry.case_id).where(HistoryEntry.action == "timer_fired")))
    assert fired == Counter(dict.fromkeys(started, 1))
