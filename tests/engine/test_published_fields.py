"""Issue 10: a thrown message to the Pelapor carries the fields its event publishes (``tampilkan``), from an
intermediate throw event and from a message end event alike; the state goes through JSON between steps."""

from __future__ import annotations

import json

from support.helpers import TESTS

from service.engine import CaseRun, Notification, WorkCalendar, compile_definition

COMPILED = compile_definition((TESTS / "data" / "published_outcome.bpmn").read_bytes(),
                              {"uji-laporan", "uji-tanggapan", "uji-melengkapi"}.__contains__)
CALENDAR = WorkCalendar("Asia/Jakarta")


def _decided(data: dict[str, object]) -> list[Notification]:
    run = CaseRun.start(COMPILED, {"judul": "Pungli"}, CALENDAR)
    run = CaseRun.restore(COMPILED, json.loads(json.dumps(run.dump())), CALENDAR)
    (task,) = run.ready_tasks()
    run.complete(task.id, data)
    assert run.completed
    return run.take_notifications()


def test_a_throw_event_names_the_fields_it_publishes_to_the_reporter() -> None:
    (note,) = _decided({"keputusan": "dijawab", "tanggapan": "Sudah ditindak"})
    assert (note.name, note.element_id, note.recipient, note.published) == (
        "notifikasi_pelapor", "notif_tanggapan", "Pelapor", ("tanggapan", "surat_balasan"))


def test_a_message_end_event_publishes_too() -> None:
    (note,) = _decided({"keputusan": "ditolak", "alasan": "Tidak lengkap"})
    assert (note.element_id, note.element_name, note.recipient, note.published) == (
        "end_ditolak", "Laporan tidak dapat diproses (notifikasi ke Pelapor)", "Pelapor", ("alasan",))
