"""Anyone may check a case's tamper-evident history: the API, the ``alur history verify`` command and
the audit-log export of a unit (issue 15, item 6). Tampering is done the way an insider would: one SQL
statement on the history table, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, text, update
from support.helpers import PASSWORD, ROOT

from service.commands import audit
from service.commands.context import Actor
from service.store.models import Case, HistoryEntry

ALUR = (sys.executable, "-m", "service.cli")


def _finished_case(client: Any, staff: dict[str, Any], start_review: Any) -> dict[str, Any]:
    case = start_review(data={"judul": "=HYPERLINK(\"http://x\")", "uraian": "pungli"})
    moved = client.post(f"/api/tasks/{case['tasks'][0]['id']}/complete", headers=staff["kasi_a"].headers,
                        json={"data": {"hasil": "lengkap"}}).json
    client.post(f"/api/tasks/{moved['tasks'][0]['id']}/complete", headers=staff["kabid_a"].headers, json={"data": {}})
    return case


def _rows(app: Any, case_id: str) -> list[HistoryEntry]:
    with app.extensions["alur.services"].db.reading() as session:
        return list(session.scalars(select(HistoryEntry).where(HistoryEntry.case_id == case_id)
                                    .order_by(HistoryEntry.id)))


def _sql(app: Any, statement: Any, **params: Any) -> None:
    with app.extensions["alur.services"].db.transaction() as session:
        session.execute(statement, params)


def _verify(client: Any, persona: Any, case_id: str) -> Any:
    return client.get(f"/api/cases/{case_id}/history/verify", headers=persona.headers)


def _cli(app: Any, *args: str) -> subprocess.CompletedProcess[str]:
    settings = app.extensions["alur.services"].settings
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
    env.update(ALUR_DATABASE_URL=settings.database_url, ALUR_INSTANCE_DIR=str(settings.data_dir),
               ALUR_FORMS_DIR=str(settings.forms_dir))
    done = subprocess.run([*ALUR, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def test_an_untouched_history_verifies_by_api_and_command(app: Any, client: Any, staff: dict[str, Any],
                                                          start_review: Any) -> None:
    case = _finished_case(client, staff, start_review)
    start_review()  # a second case: the command checks every case
    answer = _verify(client, staff["kasi_a"], case["id"])
    assert answer.status_code == 200, answer.json
    assert answer.json == {"case_id": case["id"], "intact": True, "rows": len(_rows(app, case["id"])),
                           "first_broken": None}
    done = _cli(app, "history", "verify")
    assert done.returncode == 0, done.stderr
    assert "history intact: 2 case(s)" in done.stdout
    assert _cli(app, "history", "verify", case["id"]).returncode == 0


def test_one_altered_row_is_named_by_the_command_and_the_api(app: Any, client: Any, staff: dict[str, Any],
                                                             start_review: Any) -> None:
    case = _finished_case(client, staff, start_review)
    other = start_review()
    rows = _rows(app, case["id"])
    victim = rows[3]
    _sql(app, update(HistoryEntry).where(HistoryEntry.id == victim.id).values(actor="orang.lain"))

    answer = _verify(client, staff["kasi_a"], case["id"]).json
    assert answer["intact"] is False
    assert answer["first_broken"]["id"] == victim.id and answer["first_broken"]["position"] == 4
    assert answer["first_broken"]["reason"] == "altered" and answer["first_broken"]["action"] == victim.action
    assert _verify(client, staff["kasi_a"], other["id"]).json["intact"] is True

    done = _cli(app, "history", "verify")
    assert done.returncode == 1
    assert f"case {case['id']}: broken at row {victim.id} (#4, {victim.action}" in done.stderr
    assert "content does not match its hash" in done.stderr
    assert other["id"] not in done.stderr
    assert _cli(app, "history", "verify", other["id"]).returncode == 0


def test_a_re_hashed_row_breaks_the_link_of_the_next_one(app: Any, client: Any, staff: dict[str, Any],
                                                         start_review: Any) -> None:
    """An insider who also recomputes the altered row's own hash is caught at the row after it."""
    case = _finished_case(client, staff, start_review)
    rows = _rows(app, case["id"])
    _sql(app, update(HistoryEntry).where(HistoryEntry.id == rows[2].id).values(hash="f" * 64))
    broken = _verify(client, staff["kasi_a"], case["id"]).json["first_broken"]
    assert (broken["id"], broken["reason"]) == (rows[2].id, "altered")
    # the same with the row removed: the next row no longer links
    _sql(app, update(HistoryEntry).where(HistoryEntry.id == rows[2].id).values(hash=rows[2].hash))
    _sql(app, text("DELETE FROM history WHERE id = :id"), id=rows[2].id)
    broken = _verify(client, staff["kasi_a"], case["id"]).json["first_broken"]
    assert (broken["id"], broken["position"], broken["reason"]) == (rows[3].id, 3, "link")


def test_a_removed_last_row_is_caught_by_the_case_head(app: Any, client: Any, staff: dict[str, Any],
                                                       start_review: Any) -> None:
    case = _finished_case(client, staff, start_review)
    rows = _rows(app, case["id"])
    _sql(app, text("DELETE FROM history WHERE id = :id"), id=rows[-1].id)
    answer = _verify(client, staff["kasi_a"], case["id"]).json
    assert answer["rows"] == len(rows) - 1
    assert answer["first_broken"] == {"id": None, "position": len(rows), "action": None, "at": None,
                                      "reason": "head"}
    done = _cli(app, "history", "verify", case["id"])
    assert done.returncode == 1 and f"after row #{len(rows) - 1}" in done.stderr


def test_verifying_needs_sight_of_the_case(client: Any, staff: dict[str, Any], start_review: Any) -> None:
    case = start_review()
    assert _verify(client, staff["kasi_b"], case["id"]).status_code == 404
    assert _verify(client, staff["kasi_a"], "no-such-case").status_code == 404
    assert client.get(f"/api/cases/{case['id']}/history/verify").status_code == 401
    assert "history intact" not in _cli(client.application, "history", "verify", "no-such-case").stdout


def _export(client: Any, persona: Any, **query: Any) -> Any:
    return client.get("/api/audit-log", headers=persona.headers, query_string=query)


def test_the_audit_log_of_a_unit_and_period(app: Any, client: Any, staff: dict[str, Any], start_review: Any,
                                            review_b: Any) -> None:
    case = _finished_case(client, staff, start_review)
    start_review(staff["pelapor_b"], definition_key="review_b")  # unit B: never in unit A's log
    today = date.today()
    period = {"unit": "unit-a", "from": (today - timedelta(days=1)).isoformat(),
              "to": (today + timedelta(days=1)).isoformat()}

    answer = _export(client, staff["admin_a"], **period)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert "audit-unit-a-" in answer.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    history = [row for row in table if row["source"] == "case"]
    stored = _rows(app, case["id"])
    assert [row["hash"] for row in history if row["case_id"] == case["id"]] == [e.hash for e in stored]
    assert {row["case_id"] for row in history} == {case["id"]}
    assert any(row["source"] == "revision" and row["subject"] == "review v1" for row in table)
    assert any(row["source"] == "account" and row["subject"] == "kasi.a" for row in table)
    assert all(json.loads(row["data"]) is not None for row in table)  # each row's data whole, as JSON
    assert all(not cell.startswith(("=", "+", "@")) for row in table for cell in row.values() if cell)

    lines = _export(client, staff["admin_a"], format="jsonl", **period)
    assert lines.status_code == 200 and lines.mimetype == "application/x-ndjson"
    objects = [json.loads(line) for line in lines.get_data(as_text=True).splitlines()]
    assert len(objects) == len(table) and set(objects[0]) == set(audit.AUDIT_FIELDS)
    assert [o["hash"] for o in objects if o["case_id"] == case["id"]] == [e.hash for e in stored]

    before = {"unit": "unit-a", "from": "2020-01-01", "to": "2020-12-31"}
    assert _export(client, staff["admin_a"], **before).get_data(as_text=True).count("\n") == 1  # the header only


def test_the_audit_log_is_for_admins_and_pengawas_and_checks_its_input(app: Any, client: Any, staff: dict[str, Any],
                                                                       make_persona: Any) -> None:
    today = date.today().isoformat()
    period = {"unit": "unit-a", "from": today, "to": today}
    assert _export(client, staff["kasi_a"], **period).status_code == 403
    assert _export(client, staff["admin_a"], **{**period, "unit": "unit-b"}).status_code == 403
    assert _export(client, make_persona("pengawas.a", "pengawas@unit-a"), **period).status_code == 200
    assert _export(client, staff["admin_a"], **{**period, "unit": "nowhere"}).status_code == 404
    bad = _export(client, staff["admin_a"], **{**period, "to": "2000-01-01"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "to"
    long = _export(client, staff["admin_a"], **{**period, "from": "2020-01-01"})
    assert long.status_code == 422 and "400 days" in long.json["message"]
    assert _export(client, staff["admin_a"], **{**period, "from": "kemarin"}).status_code == 422
    assert _export(client, staff["admin_a"], **{**period, "format": "xml"}).status_code == 422


def test_the_command_exports_what_the_api_does(app: Any, client: Any, staff: dict[str, Any],
                                               start_review: Any) -> None:
    case = _finished_case(client, staff, start_review)
    today = date.today()
    first, last = (today - timedelta(days=1)).isoformat(), (today + timedelta(days=1)).isoformat()
    done = _cli(app, "audit", "export", "--unit", "unit-a", "--from", first, "--to", last, "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    objects = [json.loads(line) for line in done.stdout.splitlines()]
    assert [o["hash"] for o in objects if o["case_id"] == case["id"]] == [e.hash for e in _rows(app, case["id"])]
    wrong = _cli(app, "audit", "export", "--unit", "unit-a", "--from", first, "--to", "2000-01-01")
    assert wrong.returncode != 0 and "ends before it starts" in wrong.stderr


def test_verify_all_walks_cases_in_batches(app: Any, client: Any, staff: dict[str, Any], start_review: Any) -> None:
    ids = {start_review()["id"] for _ in range(5)}
    services = app.extensions["alur.services"]
    with services.db.transaction() as session:  # a case whose head was never kept (written before 0011)
        session.execute(update(Case).where(Case.id == sorted(ids)[0]).values(history_head=None))
    checks = list(audit.verify_all(services, batch=2))
    assert {c.case_id for c in checks} == ids and all(c.intact for c in checks)
    assert audit.verify_case(services, Actor(0, "system", True, {}), sorted(ids)[1]).intact


def test_the_case_page_says_whether_the_history_is_intact_and_offers_the_archive(
        app: Any, client: Any, staff: dict[str, Any], start_review: Any) -> None:
    case = _finished_case(client, staff, start_review)
    web = app.test_client()
    form = web.get("/login").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    signed_in = web.post("/login", data={"username": "admin.a", "password": PASSWORD, "csrf_token": token})
    assert signed_in.status_code == 302
    page = web.get(f"/cases/{case['id']}").text
    assert "Riwayat utuh" in page and "Riwayat diubah" not in page
    archive = web.get(f"/cases/{case['id']}/arsip.zip")
    assert archive.status_code == 200 and archive.mimetype == "application/zip"
    assert archive.headers["Content-Disposition"].startswith("attachment")
    rows = _rows(app, case["id"])
    _sql(app, update(HistoryEntry).where(HistoryEntry.id == rows[1].id).values(actor="orang.lain"))
    page = web.get(f"/cases/{case['id']}").text
    assert "Riwayat diubah" in page and "mulai baris 2" in page and "Riwayat utuh" not in page
    running = start_review()
    page = web.get(f"/cases/{running['id']}").text
    assert "Riwayat utuh" in page and "arsip.zip" not in page  # no archive before completion
