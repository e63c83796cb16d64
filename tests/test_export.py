"""``alur export`` round-trips a modeler edit into the repository's files, on SQLite and PostgreSQL.

A bundled SOP is deployed, edited and saved as a draft through the modeler's JSON call (as the page
does), approved and activated; ``alur export`` writes it to a temporary ``bpmn/`` and ``forms/``, and
``alur deploy`` of the exported file with those forms finds the edited revision again (same checksum:
"unchanged"). The commands run in-process through click's runner with the environment a shell gives
them (``ALUR_DATABASE_URL``, ``ALUR_FORMS_DIR``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select
from support.helpers import PASSWORD
from support.sop_driver import BPMN_DIR, FORMS_DIR, deploy
from support.web import csrf_of

from service.catalogue import BUNDLED_OFFICES
from service.cli import main
from service.commands import accounts
from service.store.models import Definition

KEY = "wbs-disperindagkop-kebumen"
UNIT = "disperindagkop-kebumen"
SOURCE = BPMN_DIR / f"{KEY}.bpmn"
TASK = re.compile(r'(<bpmn:userTask id="Task_penanganan" name=")[^"]*(")')
NEW_NAME = "Menangani laporan pengaduan (diubah)"


@pytest.fixture
def forms_dir() -> Path:
    return FORMS_DIR


@pytest.fixture
def office(app: Any, make_persona: Callable[..., Any]) -> Any:
    """The SOP's office with its process owner and approver; the SOP deployed (v1, active) by an admin."""
    services = app.extensions["alur.services"]
    office = next(o for o in BUNDLED_OFFICES if o.code == UNIT)
    accounts.create_unit(services, office.code, office.name, office.timezone)
    accounts.create_user(services, "pemilik", PASSWORD, [f"process_owner@{UNIT}"])
    accounts.create_user(services, "pengesah", PASSWORD, [f"approver@{UNIT}"], display_name="Pengesah SOP")
    admin = make_persona("admin", admin=True)
    response = deploy(app.test_client(), admin, SOURCE)
    assert response.status_code == 201 and response.json["version"] == 1, response.json
    return services


def signed_in(app: Any, username: str) -> Any:
    client = app.test_client()
    page = client.get("/login")
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": csrf_of(page.text)})
    assert response.status_code == 302, response.text
    return client


def modeler_post(client: Any, key: str, number: int, action: str, body: dict[str, Any]) -> Any:
    """A JSON call of the modeler page, with the page's CSRF token."""
    page = f"/modeler/{key}/{number}"
    token = csrf_of(client.get(page).text)
    response = client.post(f"{page}/{action}", json=body, headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert response.status_code in (200, 201), (action, response.status_code, response.json)
    return response.json


def alur(settings_url: str, forms_dir: Path, tmp_path: Path, *args: str) -> Result:
    env = {"ALUR_DATABASE_URL": settings_url, "ALUR_FORMS_DIR": str(forms_dir),
           "ALUR_INSTANCE_DIR": str(tmp_path / "instance"), "ALUR_SECRET_KEY": "export-test"}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def revision(services: Any, number: int) -> Definition:
    with services.db.reading() as session:
        found = session.scalar(select(Definition).where(Definition.key == KEY, Definition.version == number))
        assert found is not None
        session.expunge(found)
        return found


def test_a_modeler_edit_exports_to_files_that_deploy_to_the_same_checksum(
        app: Any, office: Any, db_url: str, tmp_path: Path) -> None:
    original = SOURCE.read_text(encoding="utf-8")
    edited = TASK.sub(rf"\g<1>{NEW_NAME}\g<2>", original, count=1).replace("hari_kerja(14)", "hari_kerja(10)", 1)
    assert edited.count(NEW_NAME) == 1 and "hari_kerja(10)" in edited

    saved = modeler_post(signed_in(app, "pemilik"), KEY, 1, "drafts", {"xml": edited})
    assert saved["version"] == 2 and saved["status"] == "draft"
    modeler_post(signed_in(app, "pengesah"), KEY, 2, "approve", {})
    modeler_post(signed_in(app, "admin"), KEY, 2, "activate", {})
    active = revision(office, 2)
    assert active.status == "active"

    out_bpmn, out_forms = tmp_path / "bpmn", tmp_path / "forms"
    done = alur(db_url, FORMS_DIR, tmp_path, "export", KEY, "--unit", UNIT,
                "--bpmn-dir", str(out_bpmn), "--forms-dir", str(out_forms))
    assert done.exit_code == 0, done.output
    assert f"{KEY} v2 (active" in done.output
    exported = (out_bpmn / f"{KEY}.bpmn").read_bytes()
    assert exported == active.bpmn_xml.encode("utf-8") == edited.encode("utf-8")
    # every form of the revision, written as forms/ holds them: the unchanged ones byte for byte
    assert sorted(active.forms)
    for form_key in active.forms:
        for suffix in (".schema.json", ".ui.json"):
            assert (out_forms / f"{form_key}{suffix}").read_bytes() == (FORMS_DIR / f"{form_key}{suffix}").read_bytes()

    again = alur(db_url, out_forms, tmp_path, "deploy", str(out_bpmn / f"{KEY}.bpmn"))
    assert again.exit_code == 0, again.output
    assert f"{KEY} v2 (unchanged)" in again.output
    assert revision(office, 1).checksum != active.checksum


def test_export_names_a_version_and_refuses_what_does_not_exist(
        app: Any, office: Any, db_url: str, tmp_path: Path) -> None:
    edited = SOURCE.read_text(encoding="utf-8").replace("hari_kerja(14)", "hari_kerja(12)", 1)
    modeler_post(signed_in(app, "pemilik"), KEY, 1, "drafts", {"xml": edited})
    out = tmp_path / "out"

    newest_active = alur(db_url, FORMS_DIR, tmp_path, "export", KEY, "--bpmn-dir", str(out), "--forms-dir", str(out))
    assert newest_active.exit_code == 0 and f"{KEY} v1 (active" in newest_active.output
    assert (out / f"{KEY}.bpmn").read_bytes() == SOURCE.read_bytes()

    draft = alur(db_url, FORMS_DIR, tmp_path, "export", KEY, "--version", "2", "--bpmn-dir", str(out),
                 "--forms-dir", str(out))
    assert draft.exit_code == 0 and f"{KEY} v2 (draft" in draft.output
    assert b"hari_kerja(12)" in (out / f"{KEY}.bpmn").read_bytes()

    for args, message in [(("tidak-ada",), "'tidak-ada' has no active revision"),
                          ((KEY, "--version", "9"), f"'{KEY}' has no version 9"),
                          ((KEY, "--unit", "dpmptsp-kukar"), "in unit dpmptsp-kukar")]:
        failed = alur(db_url, FORMS_DIR, tmp_path, "export", *args, "--bpmn-dir", str(out))
        assert failed.exit_code != 0 and message in failed.output, (args, failed.output)
