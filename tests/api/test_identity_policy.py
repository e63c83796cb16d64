"""The identity policy an SOP declares: accepted modes, required identity fields, identifying fields.

The diagrams are ``review.bpmn`` with process properties added (``mode_pelapor``, ``identitas_wajib``,
``data_identitas``) and, for identifying fields, the start form ``uji-pengaduan-asn`` (``nip``,
``unit_kerja``); both databases.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet
from sqlalchemy import func, select
from support.helpers import Persona, all_rows_as_text, deploy_bytes, review_variant

from service.commands.identity import IdentityVault
from service.engine.properties import IDENTIFYING_FIELDS, REPORTING_MODES, REQUIRED_IDENTITY
from service.store.models import Attachment, Case, Reporter

NIP, UNIT_KERJA = "198503122010011002", "Bidang Koperasi dan UKM"
IDENTITY = {"nama": "Dwi Lestari", "nik": "3305015203850002", "alamat": "Jl. Pemuda 12, Kebumen",
            "telepon": "081234567890", "pekerjaan": "ASN"}
PNG = "data:image/png;name=bukti.png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 32).decode()
ASN = {IDENTIFYING_FIELDS: "nip,unit_kerja", REQUIRED_IDENTITY: "nama,nip,unit_kerja"}


def _deploy(client: Any, admin: Persona, key: str, properties: dict[str, str], asn_form: bool = False) -> Any:
    entries = "".join(f'<camunda:property name="{name}" value="{value}" />' for name, value in properties.items())
    replacements = [('<camunda:property name="nomor_sop" value="UJI/001" />',
                     f'<camunda:property name="nomor_sop" value="UJI/001" />{entries}')]
    if asn_form:
        replacements.append(('camunda:formKey="uji-pengaduan"', 'camunda:formKey="uji-pengaduan-asn"'))
    return deploy_bytes(client, admin, review_variant(key, *replacements))


def _deployed(client: Any, admin: Persona, key: str, properties: dict[str, str], asn_form: bool = False) -> None:
    response = _deploy(client, admin, key, properties, asn_form)
    assert response.status_code == 201, response.json


def _file(client: Any, key: str, mode: str, identity: dict[str, Any] | None = None, path: str = "/api/public/reports",
          headers: dict[str, str] | None = None, **data: Any) -> Any:
    return client.post(path, headers=headers or {}, json={
        "unit": "unit-a", "definition_key": key, "mode": mode, "identity": identity,
        "data": {"judul": "Pungutan pada layanan izin", **data}})


def _fields(response: Any) -> list[str]:
    assert response.status_code == 422, response.json
    return [error["field"] for error in response.json["errors"]]


def _counts(services: Any) -> tuple[int, int, int]:
    with services.db.reading() as session:
        return (session.scalar(select(func.count()).select_from(Case)) or 0,
                session.scalar(select(func.count()).select_from(Reporter)) or 0,
                session.scalar(select(func.count()).select_from(Attachment)) or 0)


def test_a_mode_the_sop_does_not_accept_is_refused_and_writes_nothing(
        app: Any, admin: Persona, make_persona: Callable[..., Persona]) -> None:
    client, services = app.test_client(), app.extensions["alur.services"]
    _deployed(client, admin, "wbs_uji", {REPORTING_MODES: "rahasia, biasa", **ASN}, asn_form=True)
    assert _fields(_file(client, "wbs_uji", "anonim", lampiran=[PNG])) == ["mode"]
    petugas = make_persona("petugas", "Kasi@unit-a")
    assert _fields(_file(client, "wbs_uji", "anonim", path="/api/intake", headers=petugas.headers)) == ["mode"]
    # a refusal for a missing identity field writes nothing either, evidence included
    missing = _file(client, "wbs_uji", "rahasia", {"nik": IDENTITY["nik"]}, lampiran=[PNG])
    assert _fields(missing) == ["identity.nama", "identity.nip", "identity.unit_kerja"]
    assert _counts(services) == (0, 0, 0)
    stored = Path(services.settings.data_dir) / "attachments"
    assert not stored.exists() or not [p for p in stored.rglob("*") if p.is_file()]
    accepted = _file(client, "wbs_uji", "rahasia", {"nama": "Dwi", "nip": NIP, "unit_kerja": UNIT_KERJA},
                     lampiran=[PNG])
    assert accepted.status_code == 201, accepted.json
    assert _counts(services) == (1, 1, 1)


def test_required_identity_fields_are_named_an_alternative_by_its_first(app: Any, admin: Persona) -> None:
    client = app.test_client()
    _deployed(client, admin, "dumas_uji", {REPORTING_MODES: "rahasia,biasa",
                                           REQUIRED_IDENTITY: "nama,nik,alamat|email,telepon,pekerjaan"})
    without_nik = {k: v for k, v in IDENTITY.items() if k != "nik"}
    assert _fields(_file(client, "dumas_uji", "biasa", without_nik)) == ["identity.nik"]
    neither = {k: v for k, v in IDENTITY.items() if k != "alamat"}
    refused = _file(client, "dumas_uji", "rahasia", neither)
    assert _fields(refused) == ["identity.alamat"]
    assert refused.json["errors"][0]["alternatives"] == ["alamat", "email"]
    assert _fields(_file(client, "dumas_uji", "rahasia", {})) == [
        "identity.nama", "identity.nik", "identity.alamat", "identity.telepon", "identity.pekerjaan"]
    assert _file(client, "dumas_uji", "rahasia", {**neither, "email": "dwi@contoh.id"}).status_code == 201
    assert _file(client, "dumas_uji", "biasa", IDENTITY).status_code == 201


def test_without_properties_every_mode_is_accepted_and_only_the_name_required(app: Any, admin: Persona) -> None:
    client = app.test_client()
    _deployed(client, admin, "lama_uji", {})
    assert _file(client, "lama_uji", "anonim").status_code == 201
    assert _fields(_file(client, "lama_uji", "biasa", {"telepon": IDENTITY["telepon"]})) == ["identity.nama"]
    assert _file(client, "lama_uji", "biasa", {"nama": "Dwi"}).status_code == 201
    # a field the SOP does not declare identifying is no identity field of it
    assert _fields(_file(client, "lama_uji", "rahasia", {"nama": "Dwi", "nip": NIP})) == ["identity.nip"]


def test_identifying_fields_are_sealed_with_the_identity_never_in_plain_text(
        app: Any, admin: Persona, make_persona: Callable[..., Persona]) -> None:
    client, services = app.test_client(), app.extensions["alur.services"]
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    services.settings = services.settings.with_overrides({"identity_keys": (old_key,)})
    _deployed(client, admin, "wbs_asn", ASN, asn_form=True)
    # nip as a start-form field in data (moved), unit_kerja in identity; both end up sealed
    filed = _file(client, "wbs_asn", "rahasia", {"nama": IDENTITY["nama"], "unit_kerja": UNIT_KERJA}, nip=NIP,
                  uraian="Dana hibah tidak disalurkan seluruhnya")
    assert filed.status_code == 201, filed.json
    dump = all_rows_as_text(services)
    for value in (NIP, UNIT_KERJA, IDENTITY["nama"]):
        assert value not in dump
    with services.db.reading() as session:
        case = session.scalars(select(Case)).one()
        case_id = case.id
        assert "nip" not in case.data and "unit_kerja" not in case.data
        assert case.data["uraian"] == "Dana hibah tidak disalurkan seluruhnya"
    if services.db.url.startswith("sqlite"):
        path = services.db.url.split("///", 1)[1]
        raw = b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if Path(p).exists())
        assert NIP.encode() not in raw and UNIT_KERJA.encode() not in raw

    with services.db.transaction() as session:  # alur keys rotate
        assert IdentityVault((new_key, old_key)).rotate(session) == 1
    services.settings = services.settings.with_overrides({"identity_keys": (new_key,)})
    kasi = make_persona("kasi", "Kasi@unit-a")  # the intake desk: the lane of the first task
    revealed = client.post(f"/api/cases/{case_id}/identity", headers=kasi.headers,
                           json={"reason": "Konfirmasi awal kepada pelapor"})
    assert revealed.status_code == 200, revealed.json
    assert revealed.json["identity"] == {"nama": IDENTITY["nama"], "nip": NIP, "unit_kerja": UNIT_KERJA}


def test_identifying_fields_follow_the_start_form_rules_and_stay_out_of_anonim_reports(
        app: Any, admin: Persona) -> None:
    client, services = app.test_client(), app.extensions["alur.services"]
    _deployed(client, admin, "wbs_asn", ASN, asn_form=True)
    assert _fields(_file(client, "wbs_asn", "biasa", {"nama": "Dwi", "nip": "123", "unit_kerja": UNIT_KERJA})) == [
        "identity.nip"]
    assert _fields(_file(client, "wbs_asn", "biasa", {"nama": "Dwi", "nip": NIP})) == ["identity.unit_kerja"]
    conflicting = _file(client, "wbs_asn", "biasa", {"nama": "Dwi", "nip": NIP, "unit_kerja": UNIT_KERJA},
                        nip="198503122010011999")
    assert _fields(conflicting) == ["identity.nip"]
    # anonim: no identity is kept, so an identifying value is refused wherever it was sent
    assert _fields(_file(client, "wbs_asn", "anonim", nip=NIP)) == ["identity.nip"]
    assert _fields(_file(client, "wbs_asn", "anonim", {"unit_kerja": UNIT_KERJA})) == ["identity"]
    assert _counts(services) == (0, 0, 0)
    # the start form required nip and unit_kerja; as identity they are not asked of an anonymous report
    assert _file(client, "wbs_asn", "anonim").status_code == 201
    with services.db.reading() as session:
        assert session.scalars(select(Reporter.identity_ciphertext)).one() is None


def test_deploy_refuses_a_policy_naming_unknown_modes_or_fields(app: Any, admin: Persona) -> None:
    client = app.test_client()
    modes = _deploy(client, admin, "salah_uji", {REPORTING_MODES: "anonym,rahasia"}, asn_form=True)
    assert modes.status_code == 422 and "'anonym'" in modes.json["errors"][0]["message"], modes.json
    refused = _deploy(client, admin, "salah_uji", {IDENTIFYING_FIELDS: "npwp",
                                                   REQUIRED_IDENTITY: "nama,alamat|kantor"}, asn_form=True)
    assert refused.status_code == 422, refused.json
    messages = " ".join(error["message"] for error in refused.json["errors"])
    assert all(word in messages for word in ("'npwp'", "'kantor'")), messages
    assert {error["element_id"] for error in [*modes.json["errors"], *refused.json["errors"]]} == {"salah_uji"}


def test_a_case_started_through_the_cases_api_seals_identifying_fields_too(
        app: Any, admin: Persona, make_persona: Callable[..., Persona]) -> None:
    """One rule for every way in: a reporter account's ``POST /api/cases`` keeps no NIP in plain text."""
    client, services = app.test_client(), app.extensions["alur.services"]
    _deployed(client, admin, "wbs_asn", ASN, asn_form=True)
    reporter = make_persona("pelapor.asn", "Pelapor@unit-a")
    started = client.post("/api/cases", headers=reporter.headers, json={"definition_key": "wbs_asn", "data": {
        "judul": "Pungutan pada layanan izin", "nip": NIP, "unit_kerja": UNIT_KERJA}})
    assert started.status_code == 201, started.json
    assert "nip" not in started.json["data"] and "unit_kerja" not in started.json["data"]
    dump = all_rows_as_text(services)
    assert NIP not in dump and UNIT_KERJA not in dump
    kasi = make_persona("kasi", "Kasi@unit-a")
    revealed = client.post(f"/api/cases/{started.json['id']}/identity", headers=kasi.headers,
                           json={"reason": "Konfirmasi awal kepada pelapor"})
    assert revealed.status_code == 200 and revealed.json["identity"] == {"nip": NIP, "unit_kerja": UNIT_KERJA}
