"""The web pages through Flask's test client: sign-in, lockout, CSRF, language, and each page's 4xx."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from support.helpers import sql_statements
from support.web import OTHER_UNIT, PASSWORD, TIDAK_BERKADAR, UNIT, XSS, Dumas, csrf_of

from service.commands import task_list
from service.commands.accounts import actor_by_id
from service.commands.display import case_label
from service.commands.task_list import TaskQuery
from service.store.models import Case

PDF = b"%PDF-1.4\n% uji\n"
FILES = "berkas_laporan_tindak_lanjut"  # the Eselon II's laporan, a file field of its form


def _task_id(dumas: Dumas, username: str) -> str:
    found, _ = task_list.list_tasks(dumas.services, actor_by_id(dumas.services, dumas.users[username]), TaskQuery())
    assert len(found) == 1
    return str(found[0].id)


def _complete(client: Any, task_id: str, data: dict[str, Any], page: str | None = None) -> Any:
    token = csrf_of(client.get(page or f"/tasks/{task_id}").text)
    return client.post(f"/tasks/{task_id}/complete", json={"data": data}, headers={"X-CSRFToken": token})


def test_pages_need_a_session(dumas: Dumas, client: Any) -> None:
    for path in ("/tasks", "/tasks/x", "/cases/x", "/attachments/x"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path
    response = client.post("/tasks/x/complete", json={"data": {}}, headers={"Accept": "application/json"})
    assert response.status_code in (400, 401)  # no CSRF token, or no session: never 500


def test_login_sets_a_hardened_session_cookie_and_logout_ends_it(dumas: Dumas, client: Any) -> None:
    page = client.get("/login")
    assert page.status_code == 200 and "Masuk" in page.text  # Indonesian by default
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    response = client.post("/login", data={"username": "inspektorat", "password": PASSWORD,
                                           "csrf_token": csrf_of(page.text), "next": "https://evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/tasks"  # no open redirect
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    tasks = client.get("/tasks")
    assert tasks.status_code == 200 and "inspektorat" in tasks.text
    assert client.post("/logout", data={"csrf_token": csrf_of(tasks.text)}).status_code == 302
    assert client.get("/tasks").status_code == 302


def test_wrong_password_is_refused(dumas: Dumas, client: Any) -> None:
    page = client.get("/login")
    response = client.post("/login", data={"username": "inspektorat", "password": "salah-salah",
                                           "csrf_token": csrf_of(page.text)})
    assert response.status_code == 401 and "Nama pengguna atau kata sandi salah." in response.text
    unknown = client.post("/login", data={"username": "tidak-ada", "password": "x", "csrf_token": csrf_of(page.text)})
    assert unknown.status_code == 401


def test_five_wrong_passwords_hold_the_username_for_a_second_not_15_minutes(dumas: Dumas, client: Any) -> None:
    token = csrf_of(client.get("/login").text)
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(5):  # each one heard and judged
            assert client.post("/login", data={"username": "inspektur", "password": "salah-salah",
                                               "csrf_token": token}).status_code == 401
        held = client.post("/login", data={"username": "inspektur", "password": PASSWORD, "csrf_token": token})
        assert held.status_code == 429, "the right password is not heard during the hold"
        assert "dikunci sementara" in held.text and "1 detik" in held.text and held.headers["Retry-After"] == "1"
        clock.move_to(start + timedelta(seconds=1))
        assert client.post("/login", data={"username": "inspektur", "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302


def test_a_successful_sign_in_resets_the_failure_count(dumas: Dumas, client: Any, sign_in: Any) -> None:
    token = csrf_of(client.get("/login").text)
    for _ in range(4):
        client.post("/login", data={"username": "eselon2", "password": "salah-salah", "csrf_token": token})
    sign_in("eselon2")
    for _ in range(4):
        assert client.post("/login", data={"username": "eselon2", "password": "salah-salah",
                                           "csrf_token": token}).status_code == 401


def test_every_form_post_needs_the_csrf_token(dumas: Dumas, client: Any, sign_in: Any) -> None:
    assert client.post("/login", data={"username": "inspektorat", "password": PASSWORD}).status_code == 400
    dumas.start()
    signed = sign_in("inspektorat")
    task_id = _task_id(dumas, "inspektorat")
    assert signed.post(f"/tasks/{task_id}/claim").status_code == 400
    assert signed.post(f"/tasks/{task_id}/complete", json={"data": {}}).status_code == 400
    assert signed.post("/logout").status_code == 400
    assert signed.post(f"/tasks/{task_id}/claim", data={"csrf_token": "forged"}).status_code == 400
    # the REST API keeps bearer tokens and no CSRF check
    token = signed.post("/api/auth/token", json={"username": "inspektorat", "password": PASSWORD})
    assert token.status_code == 200


def test_english_can_be_chosen(dumas: Dumas, sign_in: Any) -> None:
    client = sign_in("inspektorat")
    page = client.get("/tasks")
    assert "Tugas saya" in page.text
    client.post("/language", data={"lang": "en", "next": "/tasks", "csrf_token": csrf_of(page.text)})
    assert "My tasks" in client.get("/tasks").text


def test_task_list_shows_the_lane_its_tasks_with_filters_and_claims(dumas: Dumas, sign_in: Any) -> None:
    case_id = dumas.start("DUMAS/007/X/2025")
    dumas.start("DUMAS/008/X/2025")
    inspektorat = sign_in("inspektorat")
    listed = inspektorat.get("/tasks")
    with dumas.services.db.reading() as session:
        shown = case_label(session.get(Case, case_id))  # the Nomor registrasi (tests/web/test_case_pages.py)
    assert listed.text.count("data-task-id=") == 2 and f'class="case-key">{shown}</a>' in listed.text
    assert "dumas-inspektorat-katingan</span> <strong>2</strong>" in listed.text  # count per SOP
    searched = inspektorat.get("/tasks", query_string={"q": "007"}, headers={"HX-Request": "true"})
    assert searched.text.count("data-task-id=") == 1 and "<html" not in searched.text  # htmx partial
    assert inspektorat.get("/tasks", query_string={"q": case_id[:8]}).text.count("data-task-id=") == 1
    assert inspektorat.get("/tasks", query_string={"overdue": "1"}).text.count("data-task-id=") == 0
    assert inspektorat.get("/tasks", query_string={"q": "100%_"}).text.count("data-task-id=") == 0
    for other in ("inspektur", "sekretariat", "eselon2", "luar"):
        assert sign_in(other).get("/tasks").text.count("data-task-id=") == 0, other

    task_id = _task_id_of_case(dumas, case_id)
    page = inspektorat.get("/tasks")
    claimed = inspektorat.post(f"/tasks/{task_id}/claim", data={"csrf_token": csrf_of(page.text), "status": "mine"},
                               headers={"HX-Request": "true"})
    assert claimed.status_code == 200 and claimed.text.count("data-task-id=") == 1 and "Lepaskan" in claimed.text
    released = inspektorat.post(f"/tasks/{task_id}/unclaim", data={"csrf_token": csrf_of(page.text)})
    assert released.status_code == 302


def _task_id_of_case(dumas: Dumas, case_id: str) -> str:
    found, _ = task_list.list_tasks(dumas.services, actor_by_id(dumas.services, dumas.users["admin"]),
                                        TaskQuery(search=case_id))
    return str(found[0].id)


def test_claimed_by_someone_else_is_a_conflict_page(dumas: Dumas, app: Any, sign_in: Any) -> None:
    from service.commands.accounts import create_user

    create_user(dumas.services, "inspektorat2", PASSWORD, [f"Inspektorat@{UNIT}"])
    case_id = dumas.start()
    task_id = _task_id_of_case(dumas, case_id)
    first, second = sign_in("inspektorat"), sign_in("inspektorat2")
    claimed = first.post(f"/tasks/{task_id}/claim", data={"csrf_token": csrf_of(first.get("/tasks").text)})
    assert claimed.status_code == 302
    response = second.post(f"/tasks/{task_id}/claim", data={"csrf_token": csrf_of(second.get("/tasks").text)})
    assert response.status_code == 409


def test_task_and_case_pages_refuse_other_lanes_and_units(dumas: Dumas, sign_in: Any) -> None:
    case_id = dumas.start()
    task_id = _task_id(dumas, "inspektorat")
    assert sign_in("inspektorat").get(f"/tasks/{task_id}").status_code == 200
    inspektur = sign_in("inspektur")
    assert inspektur.get(f"/tasks/{task_id}").status_code == 403
    assert _complete(inspektur, task_id, {}, page="/tasks").status_code == 403
    outsider = sign_in("luar")
    assert outsider.get(f"/tasks/{task_id}").status_code == 404
    assert outsider.get(f"/cases/{case_id}").status_code == 404
    assert outsider.get(f"/cases/{case_id}/diagram.bpmn").status_code == 404
    assert outsider.post(f"/cases/{case_id}/comments", data={"body": "x", "csrf_token": csrf_of(
        outsider.get("/tasks").text)}).status_code == 404
    assert inspektur.get(f"/cases/{case_id}").status_code == 200  # same unit: may read the case
    assert inspektur.get("/tasks/nope").status_code == 404
    assert inspektur.get("/cases/nope").status_code == 404
    assert inspektur.get("/attachments/nope").status_code == 404
    assert OTHER_UNIT


def test_the_case_and_task_pages_decide_once_whether_their_viewer_sees_the_case(dumas: Dumas,
                                                                                sign_in: Any) -> None:
    """The pages' parts of the case (the case, its files, the reporter box, the notes) are read in one
    session after one decision: the case is read once, where each part read it and its access rows again
    (18 statements a case page before, 12 now; a task page 15, now 11)."""
    case_id = dumas.start()
    task_id = _task_id(dumas, "inspektorat")
    for username, path in (("inspektur", f"/cases/{case_id}"), ("inspektorat", f"/tasks/{task_id}")):
        client = sign_in(username)
        client.get(path)
        with sql_statements(dumas.services.db.engine) as seen:
            page = client.get(path)
        assert page.status_code == 200 and 'id="comments"' in page.text, path  # the whole case: its notes too
        reads_of_the_case = [sql for sql in seen if sql.lstrip().upper().startswith("SELECT CASES.ID")]
        assert len(reads_of_the_case) == 1, (path, reads_of_the_case)


def test_a_page_checks_its_signed_in_user_as_the_api_checks_a_token(dumas: Dumas, sign_in: Any) -> None:
    """One read of the account per page (active, credential version), the roles from the process's actor
    cache, as for an API token: the user, memberships and acting grants were three statements a page."""
    client = sign_in("inspektorat")
    client.get("/tasks")
    with sql_statements(dumas.services.db.engine) as seen:
        assert client.get("/tasks").status_code == 200
    account = [sql for sql in seen if "FROM users" in sql and "WHERE users.id" in sql]
    assert len(account) == 1 and "credential_version" in account[0], account
    assert not [sql for sql in seen if "FROM memberships" in sql or "FROM acting_grants" in sql], seen


def test_server_side_errors_name_the_field(dumas: Dumas, sign_in: Any) -> None:
    dumas.start()
    client = sign_in("inspektorat")
    task_id = _task_id(dumas, "inspektorat")
    response = _complete(client, task_id, {"hasil_verifikasi": "lengkap", "laporan_hasil_verifikasi": "ok"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json["errors"]] == ["nomor_registrasi"]
    bad = _complete(client, task_id, {"hasil_verifikasi": "mungkin", "nomor_registrasi": "1",
                                      "laporan_hasil_verifikasi": "ok"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "hasil_verifikasi"


def test_attachments_are_stored_outside_the_db_with_sha256(dumas: Dumas, sign_in: Any, settings: Any) -> None:
    case_id = dumas.start()
    for lane_user, data in (
        ("inspektorat", {"nomor_registrasi": "R-1", "laporan_hasil_verifikasi": "ok", "hasil_verifikasi": "lengkap"}),
        ("inspektur", {"inti_masalah": "x", "memo_kepala_inspektorat": "y", **TIDAK_BERKADAR}),
    ):
        client = sign_in(lane_user)
        assert _complete(client, _task_id(dumas, lane_user), data).status_code == 200
    eselon = sign_in("eselon2")
    task_id = _task_id(dumas, "eselon2")
    data_url = "data:application/pdf;name=laporan%20audit.pdf;base64," + base64.b64encode(PDF).decode()
    fake = "data:application/pdf;name=x.pdf;base64," + base64.b64encode(b"MZ not a pdf").decode()
    report = {"laporan_tindak_lanjut": "a", "kesimpulan": "b"}
    wrong = _complete(eselon, task_id, {**report, FILES: [fake]})
    assert wrong.status_code == 422 and wrong.json["errors"][0]["field"] == f"{FILES}.0"
    exe = "data:application/x-msdownload;name=x.exe;base64," + base64.b64encode(b"MZ").decode()
    assert _complete(eselon, task_id, {**report, FILES: [exe]}).status_code == 422
    huge = "data:text/plain;name=big.txt;base64," + base64.b64encode(b"a" * (2 * 1024 * 1024 + 1)).decode()
    assert _complete(eselon, task_id, {**report, FILES: [huge]}).status_code in (413, 422)
    done = _complete(eselon, task_id, {**report, FILES: [data_url]})
    assert done.status_code == 200, done.json

    page = eselon.get(f"/cases/{case_id}")
    assert "laporan audit.pdf" in page.text and "selesai" in page.text
    digest = hashlib.sha256(PDF).hexdigest()
    stored = settings.data_dir / "attachments" / digest[:2] / digest
    assert stored.read_bytes() == PDF
    from service.store.models import Attachment, Case

    with dumas.services.db.reading() as session:
        attachment = session.query(Attachment).one()
        case = session.get(Case, case_id)
        assert attachment.sha256 == digest and attachment.size == len(PDF)
        assert case is not None and case.data[FILES] == [f"attachment:{attachment.id}"]  # no base64 in the DB
    download = eselon.get(f"/attachments/{attachment.id}")
    assert download.status_code == 200 and download.data == PDF
    assert "attachment" in download.headers["Content-Disposition"]
    assert sign_in("luar").get(f"/attachments/{attachment.id}").status_code == 404


def test_user_text_is_escaped_on_every_page(dumas: Dumas, sign_in: Any) -> None:
    case_id = dumas.start(XSS, uraian=XSS, nama=XSS)
    client = sign_in("inspektorat")
    listed = client.get("/tasks").text
    assert XSS not in listed  # the list names the case by its Nomor registrasi (tests/web/test_case_pages.py)
    comment = client.post(f"/cases/{case_id}/comments", data={"body": XSS, "csrf_token": csrf_of(listed)})
    assert comment.status_code == 302
    for page in (client.get(f"/cases/{case_id}").text, client.get(f"/tasks/{_task_id(dumas, 'inspektorat')}").text):
        assert XSS not in page and "&lt;img src=x onerror=" in page
    task_page = client.get(f"/tasks/{_task_id(dumas, 'inspektorat')}").text
    assert "<script>window" not in task_page  # the form's JSON is escaped too (|tojson)


def test_comments_must_not_be_empty(dumas: Dumas, sign_in: Any) -> None:
    case_id = dumas.start()
    client = sign_in("inspektorat")
    response = client.post(f"/cases/{case_id}/comments", data={"body": "  ", "csrf_token": csrf_of(
        client.get("/tasks").text)})
    assert response.status_code == 422


def test_the_compiled_catalogs_match_their_po_files() -> None:
    """The .mo files are committed (no build step at run time); they must say what the .po says."""
    from pathlib import Path

    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[2] / "service" / "translations"
    for language in ("id", "en"):
        folder = root / language / "LC_MESSAGES"
        with (folder / "messages.po").open("rb") as po, (folder / "messages.mo").open("rb") as mo:
            source, compiled = read_po(po), read_mo(mo)
        expected = {m.id: m.string for m in source if m.id and m.string and not m.fuzzy}
        assert {m.id: m.string for m in compiled if m.id} == expected, language
    with (root / "id" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        assert all(m.string for m in read_po(po) if m.id), "every message has an Indonesian translation"
