"""The public report and follow-up pages and the staff's reporter box, with Flask's test client (both
databases), plus axe-core on the public pages in Chromium (SQLite)."""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import select
from support.helpers import sql_statements
from support.web import PASSWORD, ROOT, UNIT, XSS, Dumas, axe_violations, csrf_of, sqlite_only

from service.cli import _request_handler
from service.commands import accounts
from service.commands.definitions import startable
from service.commands.public import reporting_sops
from service.errors import InvalidInput
from service.store.models import Attachment, Case, Definition
from service.web.public import _field_errors

REPORT = {"kategori_terlapor": "Kepala Desa", "jenis_laporan": "penyimpangan", "saluran": "tertulis",
          "uraian": "Pungutan liar pada pengurusan surat keterangan", "lokasi_kasus": "Desa Tumbang Samba"}
IDENTITY = {"nama": "Siti Rahmah", "nik": "6206011203850001", "alamat": "Jl. Tjilik Riwut 3, Kasongan",
            "telepon": "081234567890", "email": "siti.rahmah@contoh.id", "pekerjaan": "Pedagang"}
#: 004 takes no anonymous report and requires these (``identitas_wajib``); the email is optional
REQUIRED = {"nama", "nik", "alamat", "email", "telepon", "pekerjaan"}  # 004: "Alamat/Email" = alamat|email
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
WBS_LAMANDAU = ROOT / "bpmn" / "wbs-dpmptsp-lamandau.bpmn"
KEBUMEN = ROOT / "bpmn" / "wbs-disperindagkop-kebumen.bpmn"
CONFIG = re.compile(r'<script type="application/json" id="report-form-config">(.*?)</script>', re.S)


def _token(client: Any) -> str:
    return csrf_of(client.get("/lapor").text)


def _submit(client: Any, mode: str = "rahasia", identity: dict[str, str] | None = None, token: str | None = None,
            **data: Any) -> Any:
    headers = {"X-CSRFToken": token or _token(client)}
    return client.post("/lapor/kirim", headers=headers, json={
        "unit": UNIT, "definition_key": "dumas-inspektorat-katingan", "mode": mode,
        "data": {**REPORT, **data}, "identity": IDENTITY if identity is None and mode != "anonim" else identity})


def _sign_in(client: Any, code: str, secret: str) -> Any:
    page = client.get("/lapor/tindak-lanjut")
    return client.post("/lapor/tindak-lanjut", data={"code": code, "secret": secret, "csrf_token": csrf_of(page.text)})


def _session(app: Any, client: Any) -> dict[str, Any]:
    cookie = client.get_cookie("alur_session")
    if cookie is None:
        return {}
    found: dict[str, Any] = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    return found


def _without_tokens(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)


def _case_id(dumas: Dumas) -> str:
    with dumas.services.db.reading() as session:
        return str(session.scalars(select(Case.id).order_by(Case.created_at.desc())).first())


def test_report_page_offers_the_reporting_sops_and_the_intake_form_without_identity(dumas: Dumas) -> None:
    client = dumas.app.test_client()
    page = client.get("/lapor")
    assert page.status_code == 200
    assert '<html lang="id">' in page.text and "<h1>Sampaikan laporan</h1>" in page.text
    found = CONFIG.search(page.text)
    assert found, "the report island's config is on the page"
    config = json.loads(found.group(1))
    assert config["unit"] == UNIT and config["definitionKey"] == "dumas-inspektorat-katingan"
    properties = config["schema"]["properties"]
    assert "uraian" in properties and "lampiran" in properties
    assert not {"nama", "nik", "alamat", "telepon", "email", "pekerjaan"} & set(properties)
    assert "nik" not in config["ui"].get("ui:order", [])
    assert [m["value"] for m in config["modes"]] == ["rahasia", "biasa"]  # 004 takes no anonymous report
    assert all(m["help"] for m in config["modes"])
    assert {f["name"] for f in config["identityFields"] if f["required"]} == REQUIRED
    assert page.headers["Cache-Control"] == "no-store"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


def test_kebumen_asks_nip_and_unit_kerja_with_the_identity_not_in_the_report(dumas: Dumas) -> None:
    client = dumas.app.test_client()
    token = client.post("/api/auth/token", json={"username": "admin", "password": PASSWORD}).json["token"]
    with KEBUMEN.open("rb") as handle:
        deployed = client.post("/api/definitions", headers={"Authorization": f"Bearer {token}"},
                               data={"bpmn": (handle, KEBUMEN.name), "unit": "disperindagkop-kebumen"},
                               content_type="multipart/form-data")
    assert deployed.status_code == 201, deployed.json
    page = client.get(f"/lapor?sop=disperindagkop-kebumen/{KEBUMEN.stem}")
    found = CONFIG.search(page.text)
    assert found
    config = json.loads(found.group(1))
    assert not {"nip", "unit_kerja", "nama"} & set(config["schema"]["properties"])
    assert not {"nip", "unit_kerja"} & set(config["ui"]) and "nip" not in config["ui"]["ui:order"]
    fields = {f["name"]: f for f in config["identityFields"]}
    assert (fields["nip"]["label"], fields["nip"]["help"]) == ("NIP", "18 digit angka (bagi ASN).")
    assert fields["unit_kerja"]["label"] == "Unit kerja"
    assert [m["value"] for m in config["modes"]] == ["rahasia", "biasa"]


def test_the_reporting_sops_are_one_statement_however_many_sops_there_are(dumas: Dumas) -> None:
    """Each page's navigation asks which SOPs take reports (the counter link) and the report page lists
    them: the revision each SOP starts on is read for every key in one statement, where each key cost
    one of its own (a page of a province with fifty SOPs sent fifty-one). The SOPs are the ones
    ``startable`` gives key by key."""
    client = dumas.app.test_client()
    token = client.post("/api/auth/token", json={"username": "admin", "password": PASSWORD}).json["token"]

    def deploy(path: Any, unit: str) -> None:
        with path.open("rb") as handle:
            deployed = client.post("/api/definitions", headers={"Authorization": f"Bearer {token}"},
                                   data={"bpmn": (handle, path.name), "unit": unit},
                                   content_type="multipart/form-data")
        assert deployed.status_code == 201, deployed.json

    def statements_of_the_page() -> int:
        client.get("/lapor")  # the compiled SOPs and revisions are in the process's memo after the first
        with sql_statements(dumas.services.db.engine) as seen:
            assert client.get("/lapor").status_code == 200
        return len(seen)

    one_sop = statements_of_the_page()
    deploy(KEBUMEN, "disperindagkop-kebumen")
    deploy(WBS_LAMANDAU, "dpmptsp-lamandau")
    assert statements_of_the_page() == one_sop
    with sql_statements(dumas.services.db.engine) as seen:
        listed = reporting_sops(dumas.services)
    assert len(seen) == 1, seen
    with dumas.services.db.reading() as session:
        keys = session.scalars(select(Definition.key).distinct()).all()
        one_by_one = {key: startable(dumas.services, session, key, None).id for key in keys}
    assert len(one_by_one) == 3 and {sop.definition_key for sop in listed} <= set(one_by_one)
    assert {sop.definition_key for sop in listed} >= {"dumas-inspektorat-katingan", KEBUMEN.stem, WBS_LAMANDAU.stem}


def test_a_missing_alternative_names_both_fields_in_indonesian(dumas: Dumas) -> None:
    refused = InvalidInput("x", [{"field": "identity.alamat", "message": "one of 'alamat', 'email' is required",
                                  "alternatives": ["alamat", "email"]}])
    with dumas.app.test_request_context("/lapor/kirim"):
        errors = _field_errors(refused, [], {"alamat": "Alamat", "email": "Email"})
    assert errors == [{"field": "identity.alamat", "message": "Isi paling sedikit salah satu dari: Alamat, Email."}]


def test_bad_nik_is_named_next_to_identity_nik_in_indonesian(dumas: Dumas) -> None:
    response = _submit(dumas.app.test_client(), "rahasia", {**IDENTITY, "nik": "12345"})
    assert response.status_code == 422
    assert response.json["errors"] == [{"field": "identity.nik", "message": "NIK terdiri atas 16 angka, sesuai KTP."}]


def test_dumas_refuses_an_anonymous_report_and_a_missing_nik_in_indonesian(dumas: Dumas) -> None:
    client = dumas.app.test_client()
    response = _submit(client, "anonim")
    assert response.status_code == 422
    assert response.json["errors"] == [{"field": "mode", "message": (
        "Prosedur ini tidak menerima laporan dengan cara ini. Pilih salah satu cara yang tersedia.")}]
    response = _submit(client, "biasa", {k: v for k, v in IDENTITY.items() if k != "nik"})
    assert response.status_code == 422
    assert response.json["errors"] == [{"field": "identity.nik", "message": "Isian ini wajib diisi."}]


def test_missing_fields_and_a_fake_image_are_named_in_indonesian(dumas: Dumas) -> None:
    client = dumas.app.test_client()
    fake = "data:image/png;name=bukti.png;base64," + base64.b64encode(b"not a png at all").decode()
    response = _submit(client, uraian=None, lampiran=[fake])
    assert response.status_code == 422
    errors = {e["field"]: e["message"] for e in response.json["errors"]}
    assert "uraian" in errors
    response = _submit(client, lampiran=[fake])
    assert response.status_code == 422
    assert response.json["errors"] == [{"field": "lampiran", "message": (
        "Hanya berkas PDF, PNG atau JPEG paling besar 2 MB yang diterima (diperiksa dari isinya).")}]


def test_a_post_without_the_csrf_token_is_refused(dumas: Dumas) -> None:
    client = dumas.app.test_client()
    client.get("/lapor")
    response = client.post("/lapor/kirim", json={"unit": UNIT, "definition_key": "dumas-inspektorat-katingan",
                                                 "mode": "anonim", "data": REPORT})
    assert response.status_code == 400
    assert client.post("/lapor/tindak-lanjut", data={"code": "1", "secret": "2"}).status_code == 400


def test_submissions_are_rate_limited_like_the_api(dumas: Dumas) -> None:
    dumas.app.config["ALUR_PUBLIC_RATE_LIMIT"] = "2 per minute"
    client = dumas.app.test_client()
    token = _token(client)
    statuses = [_submit(client, token=token, uraian=None).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]


def test_wrong_secret_and_unknown_code_render_the_same_page(dumas: Dumas) -> None:
    client = dumas.app.test_client()
    receipt = _submit(client).json
    wrong = _sign_in(client, receipt["tracking_code"], "0000000000000000")
    unknown = _sign_in(client, "1234567812345678", receipt["secret"])
    assert wrong.status_code == unknown.status_code == 404
    assert _without_tokens(wrong.text) == _without_tokens(unknown.text)  # CSRF tokens carry a timestamp
    assert "Tidak ada laporan dengan kode dan kata sandi ini" in wrong.text


def test_a_locked_code_says_so_in_indonesian_with_429(dumas: Dumas) -> None:
    client = dumas.app.test_client()
    receipt = _submit(client).json
    for _ in range(20):
        assert _sign_in(client, receipt["tracking_code"], "9999999999999999").status_code == 404
    locked = _sign_in(client, receipt["tracking_code"], receipt["secret"])
    assert locked.status_code == 429
    assert "terkunci" in locked.text


def test_the_secret_appears_only_in_the_answer_to_the_submission(dumas: Dumas) -> None:
    app = dumas.app
    client = app.test_client()
    png = "data:image/png;name=bukti.png;base64," + base64.b64encode(PNG).decode()
    response = _submit(client, "rahasia", IDENTITY, lampiran=[png])
    assert response.status_code == 201, response.json
    assert response.headers["Cache-Control"] == "no-store"
    code, secret = response.json["tracking_code"], response.json["secret"]
    assert response.json["mailed"] is True
    assert secret not in json.dumps(_session(app, client))
    grouped = " ".join(secret[i:i + 4] for i in range(0, 16, 4))
    signed_in = _sign_in(client, " ".join(code[i:i + 4] for i in range(0, 16, 4)), grouped)  # as shown
    assert signed_in.status_code == 302
    pages = [client.get("/lapor"), client.get("/lapor/tindak-lanjut")]
    assert pages[1].status_code == 200 and "sedang ditindaklanjuti" in pages[1].text
    for page in pages:
        assert secret not in page.text and grouped not in page.text
    stored = _session(app, client)
    assert secret not in json.dumps(stored) and stored["public_case"] == _case_id(dumas)
    # the evidence is stored as an attachment; the case keeps its reference, not the base64
    with dumas.services.db.reading() as session:
        case = session.get(Case, _case_id(dumas))
        assert case is not None
        files = session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all()
        assert [(f.filename, f.content_type) for f in files] == [("bukti.png", "image/png")]
        assert case.data["lampiran"] == [f"attachment:{files[0].id}"]
        assert IDENTITY["nik"] not in json.dumps(case.data)
    # "keluar" forgets the case; a session past its expiry is forgotten too
    page = client.get("/lapor/tindak-lanjut")
    client.post("/lapor/tindak-lanjut/keluar", data={"csrf_token": csrf_of(page.text)})
    assert "public_case" not in _session(app, client)
    assert 'name="secret"' in client.get("/lapor/tindak-lanjut").text
    _sign_in(client, code, secret)
    with client.session_transaction() as session_data:
        session_data["public_until"] = int(time.time()) - 1
    assert 'name="secret"' in client.get("/lapor/tindak-lanjut").text


def _staff_message(sign_in: Callable[[str], Any], case_id: str, text: str) -> Any:
    staff = sign_in("inspektorat")
    page = staff.get(f"/cases/{case_id}")
    response = staff.post(f"/cases/{case_id}/pelapor/pesan", data={"text": text, "csrf_token": csrf_of(page.text)})
    assert response.status_code == 302, response.text
    return staff


def test_xss_in_every_text_field_stays_escaped_on_the_follow_up_and_case_pages(
        dumas: Dumas, sign_in: Callable[[str], Any]) -> None:
    client = dumas.app.test_client()
    receipt = _submit(client, **{k: XSS for k in ("uraian", "lokasi_kasus")}).json
    case_id = _case_id(dumas)
    staff = _staff_message(sign_in, case_id, XSS)
    # the verification asks the reporter for more, with the payload as the question
    task = staff.get("/tasks").text
    task_id = re.search(r'data-task-id="([^"]+)"', task)
    assert task_id
    done = staff.post(f"/tasks/{task_id.group(1)}/complete", headers={"X-CSRFToken": csrf_of(task)}, json={"data": {
        "nomor_registrasi": XSS, "laporan_hasil_verifikasi": XSS, "hasil_verifikasi": "tidak lengkap",
        "kekurangan_laporan": XSS}})
    assert done.status_code == 200, done.json
    assert _sign_in(client, receipt["tracking_code"], receipt["secret"]).status_code == 302
    page = client.get("/lapor/tindak-lanjut")
    sent = client.post("/lapor/tindak-lanjut/pesan", data={"text": XSS, "csrf_token": csrf_of(page.text)})
    assert sent.status_code == 302
    follow_up = client.get("/lapor/tindak-lanjut").text
    case_page = staff.get(f"/cases/{case_id}").text
    for html in (follow_up, case_page):
        assert XSS not in html
        assert "<script>window.__xss" not in html and "<img src=x" not in html
    assert follow_up.count(str(escape(XSS))) >= 3  # officer's message, the request, own message
    assert case_page.count(str(escape(XSS))) >= 2  # the thread, both ways


def test_staff_reveal_needs_the_role_and_a_reason_and_is_in_the_timeline(
        dumas: Dumas, sign_in: Callable[[str], Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert _submit(dumas.app.test_client(), "rahasia", IDENTITY).status_code == 201
    case_id = _case_id(dumas)
    inspektur = sign_in("inspektur")
    page = inspektur.get(f"/cases/{case_id}").text
    assert 'id="pelapor"' in page and "reveal-reason" not in page  # the box, without the reveal
    denied = inspektur.post(f"/cases/{case_id}/pelapor/identitas",
                            data={"reason": "Ingin tahu siapa pelapornya", "csrf_token": csrf_of(page)})
    assert denied.status_code == 403
    verifier = sign_in("inspektorat")
    page = verifier.get(f"/cases/{case_id}").text
    assert "reveal-reason" in page and IDENTITY["nama"] not in page
    short = verifier.post(f"/cases/{case_id}/pelapor/identitas", data={"reason": "cek", "csrf_token": csrf_of(page)})
    assert short.status_code == 422 and IDENTITY["nama"] not in short.text
    shown = verifier.post(f"/cases/{case_id}/pelapor/identitas",
                          data={"reason": "Konfirmasi kronologi kepada pelapor", "csrf_token": csrf_of(page)})
    assert shown.status_code == 200 and IDENTITY["nik"] in shown.text
    assert shown.headers["Cache-Control"] == "no-store"
    timeline = verifier.get(f"/cases/{case_id}").text
    assert timeline.count("Identitas pelapor dibuka") == 1 and IDENTITY["nik"] not in timeline
    assert IDENTITY["nik"] not in caplog.text and IDENTITY["nama"] not in caplog.text


def test_anonymous_case_page_has_no_reveal_and_a_plain_case_has_no_reporter_box(
        dumas: Dumas, sign_in: Callable[[str], Any]) -> None:
    client = dumas.app.test_client()
    token = client.post("/api/auth/token", json={"username": "admin", "password": PASSWORD}).json["token"]
    with WBS_LAMANDAU.open("rb") as handle:  # an SOP that takes anonymous reports, unlike 004
        deployed = client.post("/api/definitions", headers={"Authorization": f"Bearer {token}"},
                               data={"bpmn": (handle, WBS_LAMANDAU.name), "unit": "dpmptsp-lamandau"},
                               content_type="multipart/form-data")
    assert deployed.status_code == 201, deployed.json
    accounts.create_user(dumas.services, "sekretariat.lamandau", PASSWORD, ["Sekretariat@dpmptsp-lamandau"])
    filed = client.post("/lapor/kirim", headers={"X-CSRFToken": _token(client)}, json={
        "unit": "dpmptsp-lamandau", "definition_key": WBS_LAMANDAU.stem, "mode": "anonim",
        "data": {"saluran": "kotak saran", "uraian": "Pungutan pada layanan izin"}})
    assert filed.status_code == 201, filed.json
    page = sign_in("sekretariat.lamandau").get(f"/cases/{_case_id(dumas)}").text
    assert 'id="pelapor"' in page and "reveal-reason" not in page
    staff = sign_in("inspektorat")
    plain = dumas.start("DUMAS/030/X/2025")
    assert 'id="pelapor"' not in staff.get(f"/cases/{plain}").text


def test_serve_logs_no_client_address(caplog: pytest.LogCaptureFixture) -> None:
    handler = _request_handler().__new__(_request_handler())
    handler.client_address = ("203.0.113.9", 5555)
    handler.requestline = "GET /lapor HTTP/1.1"
    caplog.set_level(logging.INFO, logger="werkzeug")
    handler.log("info", '"%s" %s %s', "GET /lapor HTTP/1.1", "200", "-")
    assert "203.0.113.9" not in caplog.text and "GET /lapor" in caplog.text
    assert handler.address_string() == "203.0.113.9"  # REMOTE_ADDR stays, for the limiter's salted hash


@sqlite_only
def test_public_pages_have_no_serious_accessibility_violations(dumas: Dumas, new_page: Callable[..., Any]) -> None:
    page = new_page(bypass_csp=True)  # axe is injected as an inline script
    page.goto("/lapor")
    page.locator("form.rjsf").wait_for()
    page.get_by_label("Rahasia").check()
    page.locator("#identity_nama").wait_for()
    assert axe_violations(page) == [], "report page"
    # 004: no anonymous report; the identity fields it requires are marked
    assert page.locator("input[name=mode]").count() == 2 and page.get_by_label("Anonim").count() == 0
    assert page.locator("label[for=identity_nik]").inner_text().endswith("*")
    assert page.locator("label[for=identity_email]").inner_text().endswith("*")  # alamat or email
    page.fill("#identity_nik", "123")
    page.get_by_role("button", name="Kirim laporan").click()
    page.locator(".error-detail").first.wait_for()
    assert page.locator("#identity_nik-error").inner_text() == "NIK terdiri atas 16 angka, sesuai KTP."
    assert page.locator("#identity_pekerjaan-error").inner_text() == "Isian ini wajib diisi."
    assert axe_violations(page) == [], "report page with errors"
    for name, value in IDENTITY.items():
        page.fill(f"#identity_{name}", value)
    page.fill("#root_uraian", "Pungutan liar")
    page.fill("#root_lokasi_kasus", "Kasongan")
    for name in ("Kepala Desa", "penyimpangan", "tertulis"):
        page.get_by_label(name, exact=True).check()
    page.get_by_role("button", name="Kirim laporan").click()
    page.locator("#secret").wait_for()
    assert axe_violations(page) == [], "receipt"
    code, secret = page.locator("#tracking-code").inner_text(), page.locator("#secret").inner_text()
    page.goto("/lapor/tindak-lanjut")
    assert axe_violations(page) == [], "follow-up sign-in"
    page.fill("#code", "0000")
    page.fill("#secret", "0000")
    page.get_by_role("button", name="Buka laporan saya").click()
    page.locator("#sign-in-error").wait_for()
    assert axe_violations(page) == [], "follow-up sign-in with an error"
    page.fill("#code", code)
    page.fill("#secret", secret)
    page.get_by_role("button", name="Buka laporan saya").click()
    page.locator("#status-text").wait_for()
    assert axe_violations(page) == [], "follow-up"


def test_the_reporter_completes_their_task_with_a_file_kept_as_an_attachment(
        dumas: Dumas, sign_in: Callable[[str], Any]) -> None:
    client = dumas.app.test_client()
    receipt = _submit(client).json
    staff = sign_in("inspektorat")
    tasks = staff.get("/tasks").text
    task_id = re.search(r'data-task-id="([^"]+)"', tasks)
    assert task_id
    assert staff.post(f"/tasks/{task_id.group(1)}/complete", headers={"X-CSRFToken": csrf_of(tasks)}, json={"data": {
        "nomor_registrasi": "002/DUMAS/2026", "laporan_hasil_verifikasi": "Bukti belum ada",
        "hasil_verifikasi": "tidak lengkap", "kekurangan_laporan": "Lampirkan kuitansi"}}).status_code == 200
    assert client.post("/lapor/tindak-lanjut/tugas/x", json={"data": {}},
                       headers={"X-CSRFToken": _token(client)}).status_code == 401  # not signed in with the code
    _sign_in(client, receipt["tracking_code"], receipt["secret"])
    page = client.get("/lapor/tindak-lanjut").text
    config = json.loads(re.search(r'id="task-form-config">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    url, token = config["submitUrl"], csrf_of(page)
    missing = client.post(url, json={"data": {}}, headers={"X-CSRFToken": token})
    assert missing.status_code == 422
    assert missing.json["errors"] == [{"field": "uraian_tambahan", "message": "Isian ini wajib diisi."}]
    pdf = "data:application/pdf;name=kuitansi.pdf;base64," + base64.b64encode(b"%PDF-1.4\n%%EOF\n").decode()
    done = client.post(url, json={"data": {"uraian_tambahan": "Kuitansi terlampir", "lampiran_tambahan": [pdf]}},
                       headers={"X-CSRFToken": token})
    assert done.status_code == 200 and done.json == {"redirect": "/lapor/tindak-lanjut"}, done.json
    with dumas.services.db.reading() as session:
        case = session.get(Case, _case_id(dumas))
        assert case is not None
        [found] = session.scalars(select(Attachment).where(Attachment.case_id == case.id)).all()
        assert (found.filename, found.task_id is not None) == ("kuitansi.pdf", True)
        assert case.data["lampiran_tambahan"] == [f"attachment:{found.id}"]
    assert "Kantor meminta Anda" not in client.get("/lapor/tindak-lanjut").text
