"""Every bundled diagram deploys cleanly, on SQLite and PostgreSQL, and deploys idempotently."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from support.sop_driver import DIAGRAMS, deploy, unit_of

_FORM_KEY = re.compile(r'camunda:formKey="([^"]+)"')
_PROPERTY = re.compile(r'<camunda:property name="(nomor_sop|tanggal_efektif|disahkan_oleh)" value="([^"]*)"')


def test_every_bundled_diagram_deploys_without_errors_then_again_as_the_same_revision(
    app: Any, offices: dict[str, str], make_persona: Callable[..., Any]
) -> None:
    client = app.test_client()
    admin = make_persona("admin", admin=True)
    assert len(DIAGRAMS) == 9 and DIAGRAMS.index(next(p for p in DIAGRAMS if p.stem == "surat-keluar")) < \
        DIAGRAMS.index(next(p for p in DIAGRAMS if p.stem == "wbs-dpmptsp-kukar"))
    first: dict[str, dict[str, Any]] = {}
    for path in DIAGRAMS:
        response = deploy(client, admin, path)
        assert response.status_code == 201, (path.name, response.json)
        body = response.json
        assert not body.get("errors") and not body.get("warnings"), (path.name, body)
        text = path.read_text(encoding="utf-8")
        assert (body["key"], body["version"], body["status"]) == (path.stem, 1, "active")
        assert body["unit"] == unit_of(path)
        assert body["forms"] == sorted(set(_FORM_KEY.findall(text)))
        meta = dict(_PROPERTY.findall(text))
        # the SOP's metadata travels with the deployed revision
        assert (body["sop_number"] or "") == meta["nomor_sop"]
        assert (body["effective_on"] or "") == meta["tanggal_efektif"]
        assert (body["approved_by"] or "") == meta["disahkan_oleh"]
        first[path.stem] = body

    for path in DIAGRAMS:
        again = deploy(client, admin, path)
        assert again.status_code == 200, (path.name, again.json)
        same = first[path.stem]
        assert (again.json["id"], again.json["version"], again.json["checksum"]) == (
            same["id"], same["version"], same["checksum"])

    listed = client.get("/api/definitions", headers=admin.headers)
    assert listed.status_code == 200
    assert {(d["key"], d["version"]) for d in listed.json} == {(p.stem, 1) for p in DIAGRAMS}
