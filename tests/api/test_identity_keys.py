"""Rotating the identity key: re-encrypted identities open with the new key alone."""

from __future__ import annotations

from typing import Any

from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import select
from support.helpers import ROOT, deploy_file

from service.cli import main
from service.commands.identity import IdentityVault
from service.store.models import Reporter

IDENTITY = {"nama": "Dewi Lestari", "nik": "6206014506880003", "alamat": "Jl. Tingang 4, Kasongan",
            "telepon": "085249900118", "pekerjaan": "Petani"}  # what 004 requires (identitas_wajib)


def test_rotation_reencrypts_identities_for_the_new_key(app: Any, admin: Any, make_persona: Any,
                                                        monkeypatch: Any) -> None:
    services = app.extensions["alur.services"]
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    services.settings = services.settings.with_overrides({"forms_dir": ROOT / "forms", "identity_keys": (old_key,)})
    client = app.test_client()
    assert deploy_file(client, admin, ROOT / "bpmn" / "dumas-inspektorat-katingan.bpmn").status_code == 201
    filed = client.post("/api/public/reports", json={
        "unit": "unit-a", "definition_key": "dumas-inspektorat-katingan", "mode": "rahasia", "identity": IDENTITY,
        "data": {"kategori_terlapor": "Kepala Desa", "jenis_laporan": "penyalahgunaan wewenang",
                 "saluran": "langsung", "uraian": "Dana desa", "lokasi_kasus": "Desa Baun Bango"}})
    assert filed.status_code == 201

    monkeypatch.setenv("ALUR_DATABASE_URL", services.settings.database_url)
    monkeypatch.setenv("ALUR_IDENTITY_KEYS", f"{new_key},{old_key}")
    result = CliRunner().invoke(main, ["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 identities" in result.output

    with services.db.reading() as session:
        ciphertext = session.scalars(select(Reporter.identity_ciphertext)).one()
    assert ciphertext is not None
    assert IdentityVault((new_key,)).open(ciphertext) == IDENTITY
    services.settings = services.settings.with_overrides({"identity_keys": (new_key,)})
    verifier = make_persona("verifikator", "Inspektorat@unit-a")
    case_id = client.get("/api/cases", headers=verifier.headers).json["items"][0]["id"]
    revealed = client.post(f"/api/cases/{case_id}/identity", headers=verifier.headers,
                           json={"reason": "Klarifikasi langsung kepada pelapor"})
    assert revealed.status_code == 200 and revealed.json["identity"] == IDENTITY
