"""``review.bpmn`` through every path, the state passed through JSON between every step.

The clock is moved with time_machine: WIB is UTC+7, so Monday 2 February 2026 02:00 UTC is 09:00
in the office; ``hari_kerja(2)`` from then is Wednesday 16:00 WIB (09:00 UTC).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from support.helpers import ENGINE_DATA, review_variant

from service.engine import CaseRun, FiredTimer, WorkCalendar, compile_definition
from service.errors import Conflict, ExpressionError, NotFound

FORMS = {"uji-pengaduan", "uji-verifikasi"}.__contains__
COMPILED = compile_definition((ENGINE_DATA / "review.bpmn").read_bytes(), FORMS)
CALENDAR = WorkCalendar("Asia/Jakarta")
MONDAY = datetime(2026, 2, 2, 2, 0, tzinfo=UTC)
WEDNESDAY_CLOSING = datetime(2026, 2, 4, 9, 0, tzinfo=UTC)


def through_json(run: CaseRun) -> CaseRun:
    """What the store does between two commands."""
    return CaseRun.restore(run.compiled, json.loads(json.dumps(run.dump())), run.calendar)


def ready(run: CaseRun) -> list[str]:
    return [task.element_id for task in run.ready_tasks()]


def started(data: dict[str, object] | None = None) -> CaseRun:
    with time_machine.travel(MONDAY, tick=False):
        return through_json(CaseRun.start(COMPILED, data or {"judul": "Pungli"}, CALENDAR))


def complete(run: CaseRun, element_id: str, data: dict[str, object]) -> CaseRun:
    (task,) = [t for t in run.ready_tasks() if t.element_id == element_id]
    run.complete(task.id, data)
    return run


def test_complete_path_reaches_the_end_and_notifies_the_reporter() -> None:
    run = started()
    (task,) = run.ready_tasks()
    assert (task.element_id, task.lane, task.roles, task.form_key) == ("verifikasi", "Kasi", ("Kasi",),
                                                                       "uji-verifikasi")
    assert task.due_at == MONDAY + timedelta(minutes=10) == run.next_timer_at()
    assert task.properties["waktu"] == "10 Menit"

    with time_machine.travel(MONDAY + timedelta(minutes=5), tick=False):
        run = through_json(complete(run, "verifikasi", {"hasil": "lengkap"}))
    (follow,) = run.ready_tasks()
    assert (follow.element_id, follow.lane, follow.roles) == ("tindak_lanjut", "Kabid", ("Kabid", "Tim Audit"))
    assert follow.due_at == WEDNESDAY_CLOSING == run.next_timer_at()

    run = complete(run, "tindak_lanjut", {"keterangan": "selesai"})
    notes = run.take_notifications()
    assert [n.name for n in notes] == ["notifikasi_pelapor"]
    run = through_json(run)
    assert run.completed and ready(run) == [] and run.next_timer_at() is None


def test_rejected_path_ends_without_notification() -> None:
    run = through_json(complete(started(), "verifikasi", {"hasil": "ditolak"}))
    assert run.completed and ready(run) == []
    assert run.take_notifications() == []


def test_incomplete_path_waits_for_the_message_then_loops_back() -> None:
    run = through_json(complete(started(), "verifikasi", {"hasil": "kurang"}))
    assert ready(run) == [] and not run.completed
    assert run.deliver_message("pesan_lain", {"x": 1}) is False
    run = through_json(run)
    assert run.deliver_message("informasi_tambahan", {"lampiran": "ktp.pdf"}) is True
    run = through_json(run)
    assert ready(run) == ["verifikasi"]
    assert run.deliver_message("informasi_tambahan", {}) is False  # nothing waits for it any more
    run = through_json(complete(run, "verifikasi", {"hasil": "lengkap"}))
    assert ready(run) == ["tindak_lanjut"]


def test_message_before_the_catch_event_is_not_delivered() -> None:
    run = started()
    assert run.deliver_message("informasi_tambahan", {"a": 1}) is False
    assert ready(through_json(run)) == ["verifikasi"]


def test_sla_timer_fires_once_escalates_and_leaves_the_task_open() -> None:
    run = started()
    with time_machine.travel(MONDAY + timedelta(minutes=9), tick=False):
        assert run.fire_due_timers() == []
        run = through_json(run)
    with time_machine.travel(MONDAY + timedelta(minutes=11), tick=False):
        fired = through_json(run).fire_due_timers()
        run = through_json(run)
        assert run.fire_due_timers() == fired == [
            FiredTimer("sla_verifikasi", "10 menit", attached_to="verifikasi", escalate_to="Kabid")]
        run = through_json(run)
        assert run.fire_due_timers() == []
    (task,) = run.ready_tasks()
    assert task.element_id == "verifikasi" and task.due_at == MONDAY + timedelta(minutes=10)
    assert run.next_timer_at() is None
    assert ready(through_json(complete(run, "verifikasi", {"hasil": "lengkap"}))) == ["tindak_lanjut"]


def test_working_day_timer_fires_at_the_close_of_the_second_working_day() -> None:
    with time_machine.travel(MONDAY, tick=False):
        run = through_json(complete(started(), "verifikasi", {"hasil": "lengkap"}))
    with time_machine.travel(WEDNESDAY_CLOSING - timedelta(minutes=1), tick=False):
        assert run.fire_due_timers() == []
        run = through_json(run)
    with time_machine.travel(WEDNESDAY_CLOSING + timedelta(minutes=1), tick=False):
        assert [t.element_id for t in run.fire_due_timers()] == ["sla_tindak_lanjut"]
    assert ready(through_json(run)) == ["tindak_lanjut"]


def test_only_a_ready_task_of_this_case_can_be_completed() -> None:
    run = started()
    (task,) = run.ready_tasks()
    run = through_json(complete(run, "verifikasi", {"hasil": "lengkap"}))
    with pytest.raises(Conflict):
        run.complete(task.id, {"hasil": "lengkap"})
    for unknown in ("00000000-0000-0000-0000-000000000000", "bukan-uuid"):
        with pytest.raises(NotFound):
            run.complete(unknown, {})
    assert ready(run) == ["tindak_lanjut"]


def test_condition_failing_at_run_time_names_the_element() -> None:
    compiled = compile_definition(review_variant("review", ('hasil == "lengkap"', "skor > 3")), FORMS)
    with time_machine.travel(MONDAY, tick=False):
        run = through_json(CaseRun.start(compiled, {"judul": "x"}, CALENDAR))
    with pytest.raises(ExpressionError) as raised:
        complete(run, "verifikasi", {"hasil": "lengkap"})
    assert "skor" in raised.value.message and raised.value.details[0]["element_id"]


def test_timer_naming_an_unknown_variable_fails_when_reached() -> None:
    compiled = compile_definition(review_variant("review", ("<bpmn:timeDuration>PT10M</bpmn:timeDuration>",
                                                            "<bpmn:timeDuration>tenggat</bpmn:timeDuration>")),
                                  FORMS)
    with pytest.raises(ExpressionError) as raised:
        CaseRun.start(compiled, {"judul": "x"}, CALENDAR)
    assert raised.value.details[0]["element_id"] in ("sla_verifikasi", "verifikasi")
    with time_machine.travel(MONDAY, tick=False):
        run = CaseRun.start(compiled, {"judul": "x", "tenggat": "PT1H"}, CALENDAR)
    assert run.next_timer_at() == MONDAY + timedelta(hours=1)


def test_cancel_leaves_nothing_to_do() -> None:
    run = started()
    run.cancel()
    run = through_json(run)
    assert ready(run) == [] and run.next_timer_at() is None
