"""Issue 15: the decision tables of a revision, edited in the browser with dmn-js next to the modeler.

The process owner opens SOP 004's table ``tujuan_penyaluran_dumas`` from the modeler page; dmn-js
renders it; one output entry is changed and saved, which makes draft version 2 whose stored table
holds the change (read back through the REST API). A hostile output entry is refused with 422 and the
Indonesian check text on the page, and nothing is written. The page fits a phone; a user of the unit
without a modeler role gets 403, an approver may look but not save.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from support.web import KEY, PASSWORD, SCREENSHOTS, UNIT, Dumas, browser_login, csrf_of, sqlite_only

from service.commands import accounts
from service.store.models import Definition

DECISION = "tujuan_penyaluran_dumas"
ENTRY = "OutputEntry_tidak_berkadar_pengawasan"
PAGE = f"/modeler/{KEY}/1/keputusan/{DECISION}"


@pytest.fixture
def editors(dumas: Dumas) -> Dumas:
    accounts.create_user(dumas.services, "pemilik", PASSWORD, [f"process_owner@{UNIT}"])
    accounts.create_user(dumas.services, "pengesah", PASSWORD, [f"approver@{UNIT}"])
    return dumas


def _versions(dumas: Dumas) -> dict[int, str]:
    with dumas.services.db.reading() as session:
        return {row.version: row.checksum for row in session.scalars(select(Definition).where(Definition.key == KEY))}


def _stored_table(dumas: Dumas, version: int) -> str:
    client = dumas.app.test_client()
    token = client.post("/api/auth/token", json={"username": "pemilik", "password": PASSWORD}).json["token"]
    response = client.get(f"/api/definitions/{KEY}/versions/{version}/decisions/{DECISION}",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return str(response.text)


def _open_from_modeler(page: Any) -> None:
    browser_login(page, "pemilik")
    page.goto(f"/modeler/{KEY}/1")
    page.locator("#decision-tables a", has_text=DECISION).click()
    page.wait_for_url(f"**{PAGE}")
    page.locator("#decision-table[data-rendered=true]").wait_for()


def _edit_output(page: Any, text: str) -> None:
    """Change the output entry ``ENTRY`` through dmn-js's modeling API (the instance the page exposes)."""
    page.evaluate("""([id, text]) => {
        const viewer = document.getElementById('decision-table').alurModeler.getActiveViewer();
        const cell = viewer.get('elementRegistry').get(id);
        viewer.get('modeling').editCell(cell.businessObject, text);
    }""", [ENTRY, text])


@sqlite_only
def test_the_owner_edits_an_output_cell_and_saves_a_draft(editors: Dumas, new_page: Callable[..., Any]) -> None:
    page = new_page()
    _open_from_modeler(page)
    cells = page.locator("#decision-table td")
    assert cells.filter(has_text='"eselon_ii"').count() == 1  # the table's cells are rendered
    assert cells.filter(has_text='"inspektorat"').count() == 1
    _edit_output(page, '"sekretariat"')
    assert page.locator("#decision-table td", has_text='"sekretariat"').count() == 1
    page.click("#save-decision")
    page.wait_for_url(f"**/modeler/{KEY}/2/keputusan/{DECISION}")
    page.locator("#decision-table[data-rendered=true]").wait_for()
    assert page.locator("#decision-table td", has_text='"sekretariat"').count() == 1
    assert page.console_errors == []
    assert '"sekretariat"' in _stored_table(editors, 2)
    assert '"eselon_ii"' not in _stored_table(editors, 2)
    assert '"eselon_ii"' in _stored_table(editors, 1)  # version 1 is as it was
    with editors.services.db.reading() as session:
        draft = session.scalars(select(Definition).where(Definition.key == KEY, Definition.version == 2)).one()
        assert draft.status == "draft"
    # saving again from the draft replaces it in place: no version 3
    _edit_output(page, '"inspektorat"')
    page.click("#save-decision")
    page.locator("#decision-status[data-kind=ok]").wait_for()
    assert sorted(_versions(editors)) == [1, 2]
    assert '"eselon_ii"' not in _stored_table(editors, 2) and _stored_table(editors, 2).count('"inspektorat"') == 2


@sqlite_only
def test_a_hostile_output_entry_is_refused_with_the_check_text(editors: Dumas, new_page: Callable[..., Any]) -> None:
    before = _versions(editors)
    page = new_page()
    _open_from_modeler(page)
    _edit_output(page, "__import__('os')")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("#save-decision")
    assert answer.value.status == 422
    page.locator("#decision-status[data-kind=error]").wait_for()
    status = page.locator("#decision-status").inner_text()
    assert "Tabel keputusan bermasalah" in status, status
    problems = page.locator("#decision-problems li").all_inner_texts()
    assert len(problems) == 1 and problems[0].startswith("Pemeriksaan Alur: "), problems
    assert f"Decision '{DECISION}', rule 2" in problems[0] and "output entry 1" in problems[0], problems
    assert _versions(editors) == before  # nothing written
    assert page.url.endswith(PAGE)


@sqlite_only
def test_the_editor_fits_a_phone(editors: Dumas, new_page: Callable[..., Any]) -> None:
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    _open_from_modeler(page)
    wide = page.evaluate("() => [document.documentElement.scrollWidth, document.body.scrollWidth]")
    assert max(wide) <= 390, wide
    (SCREENSHOTS / "phone").mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "phone" / "decision-editor.png"), full_page=True)


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_who_may_open_and_save_the_table(editors: Dumas, sign_in: Callable[[str], Any]) -> None:
    stranger = sign_in("inspektorat")  # a user of the unit without a modeler role
    assert stranger.get(PAGE).status_code == 403
    approver = sign_in("pengesah")  # may look, may not save
    shown = approver.get(PAGE)
    assert shown.status_code == 200 and 'id="save-decision"' not in shown.text
    token = csrf_of(shown.text)
    refused = approver.post(PAGE, json={"xml": _stored_table(editors, 1)},
                            headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert refused.status_code == 403
    owner = sign_in("pemilik")
    assert owner.get(f"/modeler/{KEY}/1/keputusan/tidak_ada").status_code == 404
    assert _versions(editors).keys() == {1}


@pytest.mark.parametrize("db_url", ["sqlite", "postgres"], indirect=True)
def test_saving_a_table_through_the_route_makes_then_replaces_one_draft(editors: Dumas,
                                                                      sign_in: Callable[[str], Any]) -> None:
    owner = sign_in("pemilik")
    token = csrf_of(owner.get(PAGE).text)
    headers = {"X-CSRFToken": token, "Accept": "application/json"}
    table = _stored_table(editors, 1)
    hostile = owner.post(PAGE, json={"xml": table.replace('"eselon_ii"', "__import__('os')")}, headers=headers)
    assert hostile.status_code == 422
    assert hostile.json["message"] == "Tabel keputusan bermasalah; tidak ada yang disimpan."
    renamed = owner.post(PAGE, json={"xml": table.replace(f'id="{DECISION}"', 'id="lain"')}, headers=headers)
    assert renamed.status_code == 422  # the table keeps its decision id
    assert _versions(editors).keys() == {1}
    created = owner.post(PAGE, json={"xml": table.replace('"eselon_ii"', '"sekretariat"')}, headers=headers)
    assert created.status_code == 201 and created.json["version"] == 2, created.json
    assert created.json["decision_url"] == f"/modeler/{KEY}/2/keputusan/{DECISION}"
    draft = f"/modeler/{KEY}/2/keputusan/{DECISION}"
    again = owner.post(draft, json={"xml": table.replace('"eselon_ii"', '"instansi_lain"'),
                                    "checksum": created.json["checksum"]}, headers=headers)
    assert again.status_code == 200 and again.json["outcome"] == "updated", again.json
    stale = owner.post(draft, json={"xml": table, "checksum": created.json["checksum"]}, headers=headers)
    assert stale.status_code == 409
    assert _versions(editors).keys() == {1, 2}
    assert '"instansi_lain"' in _stored_table(editors, 2) and '"eselon_ii"' in _stored_table(editors, 1)
