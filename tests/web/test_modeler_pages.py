"""The modeler's page and JSON calls through Flask's test client, on SQLite and PostgreSQL: who may
open, save, approve and activate (403/404), drafts saved in place, errors with element ids and
lines (never a 500), CSRF, escaping, the form picker and the diff."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from support.helpers import sql_statements
from support.web import DUMAS, KEY, PASSWORD, ROOT, UNIT, XSS, Dumas, csrf_of

from service.commands import accounts, revisions
from service.commands.accounts import actor_by_id
from service.commands.definitions import DeployRequest, deploy
from service.commands.specs import compiled_for
from service.errors import InvalidInput
from service.store.models import Definition

PAGE = f"/modeler/{KEY}/1"
ORIGINAL = DUMAS.read_text(encoding="utf-8")
EDITED = ORIGINAL.replace("hari_kerja(14)", "hari_kerja(10)")
FLOW_CONDITION = 'tujuan_penyaluran == "instansi_lain"'
BROKEN = ORIGINAL.replace(FLOW_CONDITION, "tujuan_penyaluran ==")
BROKEN_LINE = next(n for n, line in enumerate(ORIGINAL.splitlines(), 1) if FLOW_CONDITION in line)


@pytest.fixture
def staff(dumas: Dumas) -> Dumas:
    """The DUMAS unit's process owner and approver besides its lanes."""
    accounts.create_user(dumas.services, "pemilik", PASSWORD, [f"process_owner@{UNIT}"])
    accounts.create_user(dumas.services, "pengesah", PASSWORD, [f"approver@{UNIT}"], display_name="Pengesah SOP")
    return dumas


def post(client: Any, path: str, body: dict[str, Any] | None = None, page: str = PAGE) -> Any:
    token = csrf_of(client.get(page).text) if page else csrf_of(client.get("/tasks").text)
    return client.post(path, json=body or {}, headers={"X-CSRFToken": token, "Accept": "application/json"})


def rows(dumas: Dumas) -> dict[int, Definition]:
    with dumas.services.db.reading() as session:
        return {row.version: row for row in session.scalars(select(Definition).where(Definition.key == KEY))}


def test_the_modeler_needs_a_session(staff: Dumas, client: Any) -> None:
    for path in ("/modeler", PAGE, f"{PAGE}/diagram.bpmn", f"{PAGE}/forms", f"/modeler/{KEY}/diff?from=1&to=1"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path
    response = client.post(f"{PAGE}/drafts", json={"xml": EDITED}, headers={"Accept": "application/json"})
    assert response.status_code in (400, 401)


@pytest.mark.parametrize(("username", "status"), [("pemilik", 200), ("pengesah", 200), ("admin", 200),
                                                   ("inspektorat", 403), ("luar", 404)])
def test_who_may_open_the_modeler(staff: Dumas, sign_in: Callable[[str], Any], username: str, status: int) -> None:
    client = sign_in(username)
    page = client.get(PAGE)
    assert page.status_code == status
    assert client.get(f"{PAGE}/diagram.bpmn").status_code == status
    assert client.get(f"/modeler/{KEY}/99").status_code == 404
    if status == 200:
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert 'id="modeler-config"' in page.text and "dist/app/modeler.js" in page.text
        assert "Simpan" in page.text if username != "pengesah" else "Simpan" not in page.text
        assert KEY in client.get("/modeler").text


def test_the_index_lists_every_sop_and_revision_in_statements_that_do_not_grow_with_them(
        staff: Dumas, sign_in: Callable[[str], Any]) -> None:
    """The index read each SOP's revisions with a statement of its own, diagrams and forms included;
    now every revision's row is read at once, without them: as many statements for three SOPs, one
    with two revisions, as for one."""
    client = sign_in("pemilik")

    def index() -> tuple[str, int]:
        client.get("/modeler")
        with sql_statements(staff.services.db.engine) as seen:
            page = client.get("/modeler")
        assert page.status_code == 200
        return page.text, len(seen)

    _, one_sop = index()
    admin = actor_by_id(staff.services, staff.users["admin"])
    for other in ("wbs-dpmptsp-lamandau", "wbs-disperindagkop-kebumen"):
        deploy(staff.services, admin, DeployRequest((ROOT / "bpmn" / f"{other}.bpmn").read_bytes(), unit=UNIT,
                                                    status="draft"))
    assert post(client, f"{PAGE}/drafts", {"xml": EDITED}).status_code == 201
    text, three_sops = index()
    assert three_sops == one_sop
    for key, versions in ((KEY, (1, 2)), ("wbs-dpmptsp-lamandau", (1,)), ("wbs-disperindagkop-kebumen", (1,))):
        for version in versions:
            assert f'href="/modeler/{key}/{version}"' in text, (key, version)
    assert f'href="/modeler/{KEY}/3"' not in text


def test_saving_needs_the_csrf_token(staff: Dumas, sign_in: Callable[[str], Any]) -> None:
    client = sign_in("pemilik")
    response = client.post(f"{PAGE}/drafts", json={"xml": EDITED}, headers={"Accept": "application/json"})
    assert response.status_code == 400
    for path in (f"{PAGE}/check", f"{PAGE}/approve", f"{PAGE}/activate"):
        assert client.post(path, json={}, headers={"Accept": "application/json"}).status_code == 400, path
    assert sorted(rows(staff)) == [1]


@pytest.mark.parametrize("username", ["pemilik", "admin"])
def test_saving_an_active_revision_makes_a_new_draft(staff: Dumas, sign_in: Callable[[str], Any],
                                                     username: str) -> None:
    client = sign_in(username)
    response = post(client, f"{PAGE}/drafts", {"xml": EDITED})
    assert response.status_code == 201, response.json
    assert response.json["version"] == 2 and response.json["status"] == "draft"  # an admin's too
    assert response.json["outcome"] == "created" and response.json["url"] == f"/modeler/{KEY}/2"
    found = rows(staff)
    assert found[1].status == "active" and "hari_kerja(14)" in found[1].bpmn_xml
    assert found[2].status == "draft" and "hari_kerja(10)" in found[2].bpmn_xml
    again = post(client, f"{PAGE}/drafts", {"xml": ORIGINAL})
    assert again.status_code == 200 and again.json["outcome"] == "unchanged" and again.json["version"] == 1


def test_saving_a_draft_replaces_it_in_place_and_detects_a_stale_copy(staff: Dumas,
                                                                      sign_in: Callable[[str], Any]) -> None:
    client = sign_in("pemilik")
    created = post(client, f"{PAGE}/drafts", {"xml": EDITED}).json
    draft = f"/modeler/{KEY}/2"
    renamed = EDITED.replace('name="Melengkapi laporan"', 'name="Melengkapi berkas laporan"')
    saved = post(client, f"{draft}/drafts", {"xml": renamed, "checksum": created["checksum"]}, page=draft)
    assert saved.status_code == 200 and saved.json["outcome"] == "updated" and saved.json["version"] == 2
    assert sorted(rows(staff)) == [1, 2] and "Melengkapi berkas laporan" in rows(staff)[2].bpmn_xml
    stale = post(client, f"{draft}/drafts", {"xml": EDITED, "checksum": created["checksum"]}, page=draft)
    assert stale.status_code == 409 and "Melengkapi berkas laporan" in rows(staff)[2].bpmn_xml
    events = [event.action for event in revisions.events(
        staff.services, actor_by_id(staff.services, staff.users["admin"]), KEY, 2)]
    assert events == ["deployed", "draft_saved"]

    # Approved and activated, the revision runs the diagram saved last (not a stale compiled spec)
    assert post(sign_in("pengesah"), f"{draft}/approve", page=draft).status_code == 200
    assert post(sign_in("admin"), f"{draft}/activate", page=draft).status_code == 200
    with staff.services.db.reading() as session:
        row = session.scalar(select(Definition).where(Definition.key == KEY, Definition.version == 2))
        assert row is not None
        assert compiled_for(staff.services, session, row).spec.task_specs["Task_melengkapi"].bpmn_name \
            == "Melengkapi berkas laporan"


@pytest.mark.parametrize("username", ["pengesah", "inspektorat"])
def test_only_process_owners_and_administrators_save(staff: Dumas, sign_in: Callable[[str], Any],
                                                     username: str) -> None:
    client = sign_in(username)
    response = post(client, f"{PAGE}/drafts", {"xml": EDITED}, page="")
    assert response.status_code == 403 and sorted(rows(staff)) == [1]


def test_another_units_user_gets_404(staff: Dumas, sign_in: Callable[[str], Any]) -> None:
    client = sign_in("luar")
    for path in (f"{PAGE}/drafts", f"{PAGE}/check", f"{PAGE}/approve", f"{PAGE}/activate"):
        assert post(client, path, {"xml": EDITED}, page="").status_code == 404, path
    assert client.get(f"/modeler/{KEY}/diff?from=1&to=1", headers={"Accept": "application/json"}).status_code == 404
    assert KEY not in client.get("/modeler").text


@pytest.mark.parametrize(("xml", "element_id", "line"), [
    (BROKEN, "Flow_Gateway_kategori_Task_instansi_lain", BROKEN_LINE),
    (ORIGINAL.replace(FLOW_CONDITION, "().__class__"), "Flow_Gateway_kategori_Task_instansi_lain", BROKEN_LINE),
    ("<bpmn:definitions xmlns:bpmn='http://www.omg.org/spec/BPMN/20100524/MODEL'>\n<bpmn:process", None, 2),
    ('<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>', None, 2),
    (ORIGINAL.replace(f'<bpmn:process id="{KEY}"', '<bpmn:process id="lain"'), "lain", None),
    ("not xml at all", None, 1),
])
def test_an_invalid_diagram_is_refused_with_element_and_line(staff: Dumas, sign_in: Callable[[str], Any],
                                                             xml: str, element_id: str | None,
                                                             line: int | None) -> None:
    client = sign_in("pemilik")
    response = post(client, f"{PAGE}/drafts", {"xml": xml})
    assert response.status_code == 422, response.text
    errors = response.json["errors"]
    assert errors and response.json["message"] == "Diagram bermasalah; tidak ada yang disimpan."
    if element_id:
        assert errors[0]["element_id"] == element_id
    if line:
        assert errors[0]["line"] == line
    checked = post(client, f"{PAGE}/check", {"xml": xml})
    assert checked.status_code == 200 and checked.json["errors"] == errors
    assert sorted(rows(staff)) == [1]


@pytest.mark.parametrize("body", [{}, {"xml": ""}, {"xml": 5}, {"xml": ["x"]}])
def test_a_body_without_a_diagram_is_422(staff: Dumas, sign_in: Callable[[str], Any], body: dict[str, Any]) -> None:
    client = sign_in("pemilik")
    assert post(client, f"{PAGE}/drafts", body).status_code == 422
    assert post(client, f"{PAGE}/check", body).status_code == 422


def test_a_valid_diagram_checks_clean(staff: Dumas, sign_in: Callable[[str], Any]) -> None:
    response = post(sign_in("pengesah"), f"{PAGE}/check", {"xml": EDITED})
    assert response.status_code == 200 and response.json == {"errors": []}


def test_approve_and_activate_from_the_modeler(staff: Dumas, sign_in: Callable[[str], Any]) -> None:
    owner = sign_in("pemilik")
    post(owner, f"{PAGE}/drafts", {"xml": EDITED})
    draft = f"/modeler/{KEY}/2"
    assert post(owner, f"{draft}/approve", page=draft).status_code == 403
    assert post(sign_in("admin"), f"{draft}/activate", page=draft).status_code == 409  # not approved yet
    approver = sign_in("pengesah")
    page = approver.get(draft)
    assert 'id="approve"' in page.text and 'id="save-draft"' not in page.text
    approved = post(approver, f"{draft}/approve", page=draft)
    assert approved.status_code == 200 and approved.json["status"] == "approved"
    assert approved.json["approved_by"] == "Pengesah SOP"
    assert post(approver, f"{draft}/approve", page=draft).status_code == 409
    assert post(approver, f"{draft}/activate", page=draft).status_code == 403
    admin = sign_in("admin")
    assert 'id="activate"' in admin.get(draft).text
    assert post(admin, f"{draft}/activate", {"effective_on": "31-12-2025"}, page=draft).status_code == 422
    activated = post(admin, f"{draft}/activate", {}, page=draft)
    assert activated.status_code == 200 and activated.json["status"] == "active"
    assert post(owner, f"{draft}/drafts", {"xml": ORIGINAL}, page=draft).json["version"] == 1  # same as v1


def test_form_picker_lists_the_forms_directory(staff: Dumas, sign_in: Callable[[str], Any]) -> None:
    response = sign_in("pemilik").get(f"{PAGE}/forms")
    assert response.status_code == 200
    forms = {item["key"]: item["title"] for item in response.json["forms"]}
    assert forms["dumas-penelaahan"] == "Penelaahan Pengaduan"
    assert "wbs-kukar-arsip" in forms and all(not key.endswith(".json") for key in forms)


def test_diff_between_two_revisions(staff: Dumas, sign_in: Callable[[str], Any]) -> None:
    client = sign_in("pemilik")
    post(client, f"{PAGE}/drafts", {"xml": EDITED})
    response = client.get(f"/modeler/{KEY}/diff?from=1&to=2")
    assert response.status_code == 200
    changed = {item["id"]: item["changes"] for item in response.json["changed"]}
    assert changed["Timer_Task_tindak_lanjut_eselon2"]["timer"] == {"from": "hari_kerja(14)", "to": "hari_kerja(10)"}
    bad = client.get(f"/modeler/{KEY}/diff?from=x&to=2", headers={"Accept": "application/json"})
    assert bad.status_code == 422
    assert client.get(f"/modeler/{KEY}/diff?from=1&to=9", headers={"Accept": "application/json"}).status_code == 404


def test_the_page_escapes_what_users_wrote(staff: Dumas, sign_in: Callable[[str], Any]) -> None:
    owner = sign_in("pemilik")
    post(owner, f"{PAGE}/drafts", {"xml": EDITED})
    revisions.update_metadata(staff.services, actor_by_id(staff.services, staff.users["admin"]), KEY, 2,
                              {"title": XSS, "sop_number": XSS})
    page = owner.get(f"/modeler/{KEY}/2")
    assert page.status_code == 200 and XSS not in page.text and "<script>window" not in page.text
    assert XSS not in owner.get("/modeler").text


def test_deploy_keeps_an_administrators_revision_a_draft_when_asked(staff: Dumas) -> None:
    admin = actor_by_id(staff.services, staff.users["admin"])
    definition, created = deploy(staff.services, admin, DeployRequest(bpmn=EDITED.encode(), unit=UNIT, status="draft"))
    assert created and definition.status == "draft"
    with pytest.raises(InvalidInput):
        deploy(staff.services, admin, DeployRequest(bpmn=EDITED.encode(), unit=UNIT, status="active"))
