"""Acceptance 1 of issue 5 in headless Chromium: the DUMAS diagram edited in the modeler.

A process owner renames a task and shortens an SLA timer through the properties panel and saves a
draft (version 2); breaking a gateway condition puts Alur's deploy-check error on that sequence
flow, the fix clears it and saves the same draft again; the approver approves it, the
administrator activates it. New cases run on version 2; the case started before stays on 1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from support.web import KEY, PASSWORD, SCREENSHOTS, UNIT, XSS, Dumas, axe_violations, browser_login, sqlite_only

from service.commands import accounts
from service.store.models import Case, Definition

TASK = "Task_tindak_lanjut_eselon2"
TIMER = "Timer_Task_tindak_lanjut_eselon2"
FLOW = "Flow_Gateway_kategori_Task_tindak_lanjut_eselon2"
CONDITION = 'tujuan_penyaluran == "eselon_ii"'
NEW_NAME = "Menindaklanjuti pengaduan tidak berkadar pengawasan (Eselon II)"


@pytest.fixture
def editors(dumas: Dumas) -> Dumas:
    accounts.create_user(dumas.services, "pemilik", PASSWORD, [f"process_owner@{UNIT}"],
                         display_name="Pemilik Proses")
    accounts.create_user(dumas.services, "pengesah", PASSWORD, [f"approver@{UNIT}"],
                         display_name="Drs. Pengesah, M.Si")
    return dumas


def revisions(dumas: Dumas) -> dict[int, Definition]:
    with dumas.services.db.reading() as session:
        return {row.version: row for row in session.scalars(select(Definition).where(Definition.key == KEY))}


def version_of_case(dumas: Dumas, case_id: str) -> int:
    with dumas.services.db.reading() as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.definition.version


def open_modeler(page: Any, username: str, version: int) -> None:
    browser_login(page, username)
    page.goto(f"/modeler/{KEY}/{version}")
    page.locator("#canvas[data-rendered=true]").wait_for()
    page.locator("#check-summary[data-count='0']").wait_for()  # Alur's checks ran once on load


def select_element(page: Any, element_id: str) -> None:
    """bpmn-js's search pad (Ctrl+F on the canvas), as a keyboard user would."""
    page.locator("#canvas .djs-container > svg[tabindex]").focus()  # the canvas is keyboard reachable
    page.keyboard.press("Control+f")
    page.locator(".djs-search-container input").press_sequentially(element_id)  # the pad searches on keyup
    page.locator(".djs-search-container .djs-search-result").first.wait_for()
    page.keyboard.press("Enter")
    page.locator(f"#canvas .djs-element.selected[data-element-id='{element_id}']").wait_for()


def set_field(page: Any, selector: str, value: str) -> None:
    field = page.locator(f"#properties {selector}")
    if not field.is_visible():  # its group is collapsed
        group = page.locator("#properties .bio-properties-panel-group", has=page.locator(selector))
        group.locator(".bio-properties-panel-group-header").click()
    field.fill(value)
    field.press("Tab")


@sqlite_only
def test_edit_lint_save_approve_activate_dumas(editors: Dumas, new_page: Callable[..., Any]) -> None:
    dumas = editors
    before = dumas.start("DUMAS/101/X/2025")
    assert version_of_case(dumas, before) == 1

    # The process owner edits v1 (active): rename a task, 14 → 10 hari kerja, save as a draft
    owner = new_page()
    open_modeler(owner, "pemilik", 1)
    assert owner.locator("#approve").count() == 0 and owner.locator("#activate").count() == 0
    assert owner.locator(".bjsl-button").count() == 1  # bpmnlint's summary on the canvas
    select_element(owner, TASK)
    set_field(owner, "#bio-properties-panel-name", NEW_NAME)
    select_element(owner, TIMER)
    set_field(owner, "#bio-properties-panel-timerEventDefinitionValue", "hari_kerja(10)")
    owner.locator("#save-draft").click()
    owner.wait_for_url(f"**/modeler/{KEY}/2")
    owner.locator("#canvas[data-rendered=true]").wait_for()
    found = revisions(dumas)
    assert (found[1].status, found[2].status) == ("active", "draft")
    assert "hari_kerja(10)" in found[2].bpmn_xml and NEW_NAME in found[2].bpmn_xml
    assert "hari_kerja(14)" in found[1].bpmn_xml, "the active revision is untouched"
    draft_checksum = found[2].checksum

    # A broken gateway condition: Alur's check marks the sequence flow, saving is refused
    select_element(owner, FLOW)
    set_field(owner, "#bio-properties-panel-conditionExpression", "tujuan_penyaluran ==")
    overlay = owner.locator(f"#canvas .alur-check-overlay[data-element-id='{FLOW}']")
    overlay.wait_for(state="visible")
    assert owner.locator(f"#canvas g.djs-element.alur-check-error[data-element-id='{FLOW}']").count() == 1
    assert "Kesalahan sintaks" in owner.locator("#check-list").inner_text()  # in Indonesian (issue 14)
    owner.screenshot(path=str(SCREENSHOTS / "modeler.png"))
    owner.locator("#save-draft").click()
    owner.locator("#modeler-status[data-kind='error']").wait_for()
    assert revisions(dumas)[2].checksum == draft_checksum, "nothing saved"

    # ... and one that reads attributes: refused too
    set_field(owner, "#bio-properties-panel-conditionExpression", "().__class__")
    owner.locator("#check-list", has_text="Attribute access").wait_for()
    assert overlay.is_visible()

    # Fixed: the marker goes, the same draft is saved again (no version 3)
    set_field(owner, "#bio-properties-panel-conditionExpression", CONDITION)
    overlay.wait_for(state="detached")
    owner.locator("#check-summary[data-count='0']").wait_for()
    owner.locator("#save-draft").click()
    owner.locator("body[data-saved]").wait_for(state="attached")
    found = revisions(dumas)
    assert sorted(found) == [1, 2] and found[2].status == "draft" and found[2].checksum != draft_checksum
    assert CONDITION.replace('"', "&quot;") in found[2].bpmn_xml or CONDITION in found[2].bpmn_xml
    assert not owner.console_errors

    # The approver approves version 2 (Disahkan oleh); a process owner could not
    approver = new_page()
    open_modeler(approver, "pengesah", 2)
    assert approver.locator("#save-draft").count() == 0
    approver.locator("#approve").click()
    approver.locator("#confirm-approve-ok").click()  # the confirmation dialog (issue 14)
    approver.locator("h1 .badge.status-approved").wait_for()
    found = revisions(dumas)
    assert found[2].status == "approved" and found[2].approved_by == "Drs. Pengesah, M.Si"

    # The administrator activates it
    admin = new_page()
    open_modeler(admin, "admin", 2)
    admin.locator("#activate").click()
    admin.locator("#confirm-activate-ok").click()
    admin.locator("h1 .badge.status-active").wait_for()
    assert (revisions(dumas)[1].status, revisions(dumas)[2].status) == ("retired", "active")

    # Version n+1 runs new cases; the case started before stays on version n
    after = dumas.start("DUMAS/102/X/2025")
    assert version_of_case(dumas, after) == 2
    assert version_of_case(dumas, before) == 1
    assert not approver.console_errors and not admin.console_errors


@sqlite_only
def test_diff_colours_the_changed_elements_side_by_side(editors: Dumas, new_page: Callable[..., Any]) -> None:
    page = new_page()
    open_modeler(page, "pemilik", 1)
    select_element(page, TIMER)
    set_field(page, "#bio-properties-panel-timerEventDefinitionValue", "hari_kerja(10)")
    page.locator("#save-draft").click()
    page.wait_for_url(f"**/modeler/{KEY}/2")
    page.locator("#canvas[data-rendered=true]").wait_for()
    page.locator("#diff-show").click()
    page.locator("#diff[data-shown='1-2']").wait_for()
    for side in ("left", "right"):
        marked = page.locator(f"#diff-{side} g.djs-element.alur-diff-changed[data-element-id='{TIMER}']")
        assert marked.count() == 1, side
    assert "hari_kerja(14)" in page.locator("#diff-list").inner_text()
    page.locator("#diff").screenshot(path=str(SCREENSHOTS / "modeler-diff.png"))
    assert not page.console_errors


@sqlite_only
def test_form_picker_sets_the_form_key_of_the_selected_user_task(editors: Dumas,
                                                                  new_page: Callable[..., Any]) -> None:
    page = new_page()
    open_modeler(page, "pemilik", 1)
    picker = page.locator("#properties #bio-properties-panel-alur-formulir")  # the panel's "Formulir" group
    assert picker.count() == 0  # nothing with a form is selected
    select_element(page, TASK)
    assert picker.input_value() == "dumas-tindak-lanjut-eselon2"
    assert picker.locator("option[value='dumas-laporan-berkala']").count() == 1
    picker.select_option("dumas-melengkapi")
    page.locator("#check-summary[data-count='0']").wait_for()
    page.locator("#save-draft").click()
    page.wait_for_url(f"**/modeler/{KEY}/2")
    assert 'camunda:formKey="dumas-melengkapi"' in revisions(editors)[2].bpmn_xml.split(f'id="{TASK}"')[1][:300]


@sqlite_only
def test_bpmnlint_marks_a_rule_violation(editors: Dumas, new_page: Callable[..., Any]) -> None:
    """A sequence flow out of a gateway without its condition: bpmnlint's conditional-flows rule."""
    page = new_page()
    open_modeler(page, "pemilik", 1)
    select_element(page, FLOW)
    group = page.locator("#properties [data-group-id='group-CamundaPlatform__Condition']")
    if not page.locator("#bio-properties-panel-conditionType").is_visible():
        group.locator(".bio-properties-panel-group-header").click()
    page.locator("#bio-properties-panel-conditionType").select_option("")
    page.locator(f"#canvas .bjsl-overlay[data-container-id='{FLOW}'], "
                 f"#canvas .djs-overlays[data-container-id='{FLOW}'] .bjsl-overlay").first.wait_for()
    assert not page.console_errors


@sqlite_only
def test_modeler_page_has_no_serious_accessibility_violations(editors: Dumas, new_page: Callable[..., Any]) -> None:
    page = new_page(bypass_csp=True)  # axe-core is injected inline
    open_modeler(page, "pemilik", 1)
    select_element(page, TASK)
    assert axe_violations(page) == []


@sqlite_only
def test_error_text_from_the_diagram_stays_inert(editors: Dumas, new_page: Callable[..., Any]) -> None:
    """A condition holding markup comes back in Alur's error list and overlay as text, CSP bypassed."""
    page = new_page(bypass_csp=True)
    open_modeler(page, "pemilik", 1)
    select_element(page, FLOW)
    set_field(page, "#bio-properties-panel-conditionExpression", XSS)
    page.locator(f"#canvas .alur-check-overlay[data-element-id='{FLOW}']").wait_for()
    assert "<script>" in page.locator("#check-list").inner_text()
    assert page.evaluate("() => window.__xss === undefined")
