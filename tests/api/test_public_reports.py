"""Public reports: filing, follow-up with code + secret, identity protection, abuse limits."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from support.helpers import ROOT, all_rows_as_text, deploy_file

from service.store.models import Reporter

DUMAS = "dumas-inspektorat-katingan"
KEBUMEN = "wbs-disperindagkop-kebumen"
IDENTITY = {"nama": "Siti Aminah Rahmawati", "nik": "6206011201900001", "alamat": "Jl. Tjilik Riwut 17",
            "telepon": "085377712049", "email": "siti.aminah@contoh.id", "pekerjaan": "Guru honorer"}
REPORT = {"kategori_terlapor": "Aparat Desa", "jenis_laporan": "penyimpangan", "saluran": "surat elektronik",
          "uraian": "Pungutan liar pada pengurusan surat keterangan", "lokasi_kasus": "Desa Tumbang Lahang"}


@pytest.fixture
def dumas(app: Any, admin: Any) -> Any:
    """DUMAS deployed in unit-a with the repository's forms."""
    services = app.extensions["alur.services"]
    services.settings = services.settings.with_overrides({"forms_dir": ROOT / "forms"})
    response = deploy_file(app.test_client(), admin, ROOT / "bpmn" / f"{DUMAS}.bpmn", unit="unit-a")
    assert response.status_code == 201, response.json
    return app


def _file(client: Any, mode: str, identity: dict[str, str] | None = None, **extra: Any) -> Any:
    return client.post("/api/public/reports", json={"unit": "unit-a", "definition_key": DUMAS, "mode": mode,
                                                    "data": REPORT, "identity": identity, **extra})


def _follow(client: Any, code: str, secret: str) -> Any:
    return client.get(f"/api/public/reports/{code}", headers={"X-Report-Secret": secret})


def test_report_gives_code_and_secret_and_keeps_only_the_secret_hash(dumas: Any, admin: Any) -> None:
    client = dumas.test_client()
    receipt = _file(client, "rahasia", IDENTITY)
    assert receipt.status_code == 201, receipt.json
    code, secret = receipt.json["tracking_code"], receipt.json["secret"]
    assert len(code) == 16 and code.isdigit() and len(secret) == 16
    status = _follow(client, code, secret)
    assert status.status_code == 200, status.json
    assert status.json["status"] == "running"
    assert status.json["steps"] == ["Menerima, mencatat dan memverifikasi laporan"]
    formatted = " ".join(code[i:i + 4] for i in range(0, 16, 4))
    assert _follow(client, formatted, secret).status_code == 200
    services = dumas.extensions["alur.services"]
    with services.db.reading() as session:
        reporter = session.scalars(select(Reporter)).one()
    assert reporter.mode == "rahasia" and reporter.identity_ciphertext is not None
    assert reporter.secret_hash and secret not in reporter.secret_hash


def test_dumas_refuses_an_anonymous_report_and_one_without_nik(dumas: Any) -> None:
    """004: "wajib mengisi … Nama lengkap, No. KTP, Alamat/Email, No. Hp dan Jenis Pekerjaan"."""
    client = dumas.test_client()
    anonymous = _file(client, "anonim")
    assert anonymous.status_code == 422 and [e["field"] for e in anonymous.json["errors"]] == ["mode"]
    without_nik = _file(client, "rahasia", {k: v for k, v in IDENTITY.items() if k != "nik"})
    assert without_nik.status_code == 422 and [e["field"] for e in without_nik.json["errors"]] == ["identity.nik"]
    services = dumas.extensions["alur.services"]
    with services.db.reading() as session:
        assert session.scalars(select(Reporter)).all() == []


def test_wrong_secret_and_unknown_code_look_the_same(dumas: Any) -> None:
    client = dumas.test_client()
    receipt = _file(client, "rahasia", IDENTITY).json
    wrong = _follow(client, receipt["tracking_code"], "0000000000000000")
    unknown = _follow(client, "1234567812345678", receipt["secret"])
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json == unknown.json
    assert client.get(f"/api/public/reports/{receipt['tracking_code']}").status_code == 404  # no header


def test_twenty_wrong_secrets_lock_the_code(dumas: Any) -> None:
    client = dumas.test_client()
    receipt = _file(client, "rahasia", IDENTITY).json
    for _ in range(20):
        assert _follow(client, receipt["tracking_code"], "9999999999999999").status_code == 404
    locked = _follow(client, receipt["tracking_code"], receipt["secret"])
    assert locked.status_code == 429 and locked.json["code"] == "too_many_requests"
    other = _file(client, "rahasia", IDENTITY).json
    assert _follow(client, other["tracking_code"], other["secret"]).status_code == 200


def test_rapid_submissions_are_throttled_without_blocking_others(dumas: Any) -> None:
    client = dumas.test_client()
    statuses = [
        client.post("/api/public/reports", json={"unit": "unit-a", "definition_key": DUMAS, "mode": "anonim",
                                                 "data": {}}, environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code
        for _ in range(1000)
    ]
    assert statuses.count(429) >= 990
    assert set(statuses) <= {422, 429}  # the few allowed ones fail validation (empty data): nothing started
    other = client.post("/api/public/reports", json={"unit": "unit-a", "definition_key": DUMAS, "mode": "rahasia",
                                                     "data": REPORT, "identity": IDENTITY},
                        environ_base={"REMOTE_ADDR": "198.51.100.4"})
    assert other.status_code == 201


def test_invalid_reports_name_the_field(dumas: Any) -> None:
    client = dumas.test_client()
    bad_nik = _file(client, "rahasia", {**IDENTITY, "nik": "12345"})
    assert bad_nik.status_code == 422 and bad_nik.json["errors"][0]["field"] == "identity.nik"
    no_name = _file(client, "biasa", {"nik": IDENTITY["nik"]})
    assert no_name.status_code == 422 and no_name.json["errors"][0]["field"] == "identity.nama"
    missing = client.post("/api/public/reports", json={"unit": "unit-a", "definition_key": DUMAS, "mode": "rahasia",
                                                       "data": {"uraian": "x"}, "identity": IDENTITY})
    assert missing.status_code == 422 and {e["field"] for e in missing.json["errors"]} >= {"lokasi_kasus"}
    bad_mode = _file(client, "rahasia-sekali", IDENTITY)
    assert bad_mode.status_code == 422 and bad_mode.json["errors"][0]["field"] == "mode"


def test_rahasia_identity_is_nowhere_in_plain_text_and_reveals_are_logged(
        dumas: Any, make_persona: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = dumas.test_client()
    receipt = _file(client, "rahasia", IDENTITY)
    assert receipt.status_code == 201
    services = dumas.extensions["alur.services"]
    dump = all_rows_as_text(services)
    for secret_value in (IDENTITY["nama"], IDENTITY["nik"], IDENTITY["telepon"], IDENTITY["email"]):
        assert secret_value not in dump
        assert secret_value not in caplog.text
    if services.db.url.startswith("sqlite"):
        path = services.db.url.split("///", 1)[1]
        raw = b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if Path(p).exists())
        assert IDENTITY["nik"].encode() not in raw and IDENTITY["email"].encode() not in raw

    inspektur = make_persona("inspektur", "Inspektur@unit-a")
    verifier = make_persona("verifikator", "Inspektorat@unit-a")
    case_id = client.get("/api/cases", headers=verifier.headers).json["items"][0]["id"]
    seen = client.get(f"/api/cases/{case_id}", headers=inspektur.headers).json
    assert IDENTITY["nama"] not in repr(seen) and seen["data"]["mode_pelapor"] == "rahasia"
    denied = client.post(f"/api/cases/{case_id}/identity", headers=inspektur.headers,
                         json={"reason": "Ingin tahu siapa pelapornya"})
    assert denied.status_code == 403
    short = client.post(f"/api/cases/{case_id}/identity", headers=verifier.headers, json={"reason": "cek"})
    assert short.status_code == 422
    revealed = client.post(f"/api/cases/{case_id}/identity", headers=verifier.headers,
                           json={"reason": "Konfirmasi awal kepada pelapor via telepon"})
    assert revealed.status_code == 200 and revealed.json["identity"] == IDENTITY
    history = client.get(f"/api/cases/{case_id}", headers=verifier.headers).json["history"]
    reveals = [h for h in history if h["action"] == "identity_revealed"]
    assert [(h["actor"], h["data"]["reason"]) for h in reveals] == [
        ("verifikator", "Konfirmasi awal kepada pelapor via telepon")]
    assert IDENTITY["nik"] not in caplog.text


def test_kebumen_nip_and_unit_kerja_are_sealed_with_the_identity_and_in_no_table(
        dumas: Any, admin: Any, make_persona: Any) -> None:
    """Kebumen's ``data_identitas`` (nip, unit_kerja) identify an ASN whistle-blower: never plain text."""
    client, services = dumas.test_client(), dumas.extensions["alur.services"]
    deployed = deploy_file(client, admin, ROOT / "bpmn" / f"{KEBUMEN}.bpmn", unit="unit-a")
    assert deployed.status_code == 201, deployed.json
    nip, unit_kerja = "198503122010011002", "Bidang Koperasi Kebumen"
    identity = {"nama": "Dwi Lestari", "telepon": "081327700114", "email": "dwi.lestari@contoh.id",
                "unit_kerja": unit_kerja}
    # nip as the start form has it (in data), unit_kerja with the identity: both are split off and sealed
    filed = client.post("/api/public/reports", json={
        "unit": "unit-a", "definition_key": KEBUMEN, "mode": "rahasia", "identity": identity,
        "data": {"nip": nip, "jenis_pelanggaran": "penyelewengan", "judul": "Dana hibah koperasi",
                 "uraian": "Dana hibah tidak disalurkan seluruhnya"}})
    assert filed.status_code == 201, filed.json
    dump = all_rows_as_text(services)
    assert nip not in dump and unit_kerja not in dump
    if services.db.url.startswith("sqlite"):
        path = services.db.url.split("///", 1)[1]
        raw = b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if Path(p).exists())
        assert nip.encode() not in raw and unit_kerja.encode() not in raw
    anonymous = client.post("/api/public/reports", json={
        "unit": "unit-a", "definition_key": KEBUMEN, "mode": "anonim", "data": {"nip": nip}})
    assert anonymous.status_code == 422 and [e["field"] for e in anonymous.json["errors"]] == ["mode"]

    tim = make_persona("penerima", "Tim Penerima Pengaduan@unit-a")
    with services.db.reading() as session:
        case_id = session.scalars(select(Reporter.case_id)).one()
    revealed = client.post(f"/api/cases/{case_id}/identity", headers=tim.headers,
                           json={"reason": "Konfirmasi awal kepada pelapor"})
    assert revealed.status_code == 200, revealed.json
    assert revealed.json["identity"] == {**identity, "nip": nip}


def test_handler_question_and_reporter_answer_travel_both_ways(dumas: Any, make_persona: Any) -> None:
    client = dumas.test_client()
    receipt = _file(client, "rahasia", IDENTITY).json
    verifier = make_persona("verifikator", "Inspektorat@unit-a")
    case_id = client.get("/api/cases", headers=verifier.headers).json["items"][0]["id"]
    asked = client.post(f"/api/cases/{case_id}/conversation", headers=verifier.headers,
                        json={"text": "Kapan kejadian itu terjadi?"})
    assert asked.status_code == 201
    secret = {"X-Report-Secret": receipt["secret"]}
    status = client.get(f"/api/public/reports/{receipt['tracking_code']}", headers=secret).json
    assert [(m["from"], m["text"]) for m in status["messages"]] == [("petugas", "Kapan kejadian itu terjadi?")]
    answer = client.post(f"/api/public/reports/{receipt['tracking_code']}/messages", headers=secret,
                         json={"text": "Pada tanggal 3 Maret 2026"})
    assert answer.status_code == 201 and answer.json == {"delivered": False}  # buffered: nothing waits for it
    thread = client.get(f"/api/cases/{case_id}/conversation", headers=verifier.headers).json
    assert [m["sender"] for m in thread] == ["petugas", "pelapor"]
    history = client.get(f"/api/cases/{case_id}", headers=verifier.headers).json["history"]
    assert "message_buffered" in [h["action"] for h in history]


def test_incomplete_report_goes_back_to_the_reporter_who_completes_it(dumas: Any, make_persona: Any) -> None:
    client = dumas.test_client()
    receipt = _file(client, "rahasia", IDENTITY).json
    verifier = make_persona("verifikator", "Inspektorat@unit-a")
    task = client.get("/api/tasks", headers=verifier.headers).json["items"][0]
    done = client.post(f"/api/tasks/{task['id']}/complete", headers=verifier.headers, json={"data": {
        "nomor_registrasi": "001/DUMAS/2026", "laporan_hasil_verifikasi": "Bukti belum ada",
        "hasil_verifikasi": "tidak lengkap", "kekurangan_laporan": "Mohon lampirkan foto bukti"}})
    assert done.status_code == 200, done.json
    secret = {"X-Report-Secret": receipt["secret"]}
    status = client.get(f"/api/public/reports/{receipt['tracking_code']}", headers=secret).json
    assert [t["name"] for t in status["tasks"]] == ["Melengkapi laporan"]
    reporter_task = status["tasks"][0]
    assert reporter_task["context"] == {"kekurangan_laporan": "Mohon lampirkan foto bukti"}
    schema = reporter_task["form"]["schema"]
    data = {name: "Foto terlampir" for name in schema.get("required", [])
            if schema["properties"][name].get("type") == "string"}
    completed = client.post(f"/api/public/reports/{receipt['tracking_code']}/tasks/{reporter_task['id']}/complete",
                            headers=secret, json={"data": data})
    assert completed.status_code == 200, completed.json
    assert completed.json["tasks"] == []
    assert completed.json["steps"] == ["Menerima, mencatat dan memverifikasi laporan"]
    other = client.post(f"/api/public/reports/{receipt['tracking_code']}/tasks/{task['id']}/complete",
                        headers=secret, json={"data": {}})
    assert other.status_code == 404  # a staff task is not the reporter's to complete


def test_staff_register_a_walk_in_report_with_its_channel(dumas: Any, make_persona: Any) -> None:
    client = dumas.test_client()
    petugas = make_persona("petugas", "Inspektorat@unit-a")
    outsider = make_persona("petugas-b", "Inspektorat@unit-b")
    body = {"unit": "unit-a", "definition_key": DUMAS, "mode": "biasa", "identity": IDENTITY, "data": REPORT,
            "channel": "langsung"}
    assert client.post("/api/intake", headers=outsider.headers, json=body).status_code == 403
    receipt = client.post("/api/intake", headers=petugas.headers, json=body)
    assert receipt.status_code == 201, receipt.json
    case = client.get("/api/cases", headers=petugas.headers).json["items"][0]
    detail = client.get(f"/api/cases/{case['id']}", headers=petugas.headers).json
    assert detail["data"]["saluran_pengaduan"] == "langsung"
    assert detail["history"][0]["actor"] == "petugas"
