"""Acceptance 5 of issue 14: the modeler for process owners, in Indonesian.

A process owner opens the DUMAS SOP, selects langkah 6 (Eselon II, 14 hari kerja), sees Alur's
panel (Pelaksana, Formulir, Mutu Baku) without Camunda's engine groups, sets Waktu to 10 hari kerja
with the picker (the Mutu Baku text and the SLA timer both follow), sees the Indonesian check list
name the step when it has a problem, and saves a draft; the approver approves and the administrator
activates, each after a confirmation dialog; version 1 shows as no longer in force ("tidak berlaku"),
the case started on it stays on it, and the SOP document of version 2 says 10 hari kerja.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from support.web import DUMAS, KEY, PASSWORD, SCREENSHOTS, UNIT, Dumas, browser_login, csrf_of, sqlite_only

from service.commands import accounts
from service.store.models import Case, Definition

TASK = "Task_tindak_lanjut_eselon2"
TASK_NAME = "Menindaklanjuti pengaduan tidak berkadar pengawasan"
TIMER = "Timer_Task_tindak_lanjut_eselon2"
ORIGINAL = DUMAS.read_text(encoding="utf-8")
#: what the picker writes for 10 hari kerja, as a file (the test-client variant)
EDITED = (ORIGINAL.replace("hari_kerja(14)</bpmn:timeDuration>\n      </bpmn:timerEventDefinition>\n    "
                           "</bpmn:boundaryEvent>\n    <bpmn:intermediateThrowEvent id=\"Event_tembusan\"",
                           "hari_kerja(10)</bpmn:timeDuration>\n      </bpmn:timerEventDefinition>\n    "
                           "</bpmn:boundaryEvent>\n    <bpmn:intermediateThrowEvent id=\"Event_tembusan\"")
          .replace('name="Batas waktu 14 hari kerja"', 'name="Batas waktu 10 hari kerja"'))
ENGINE_GROUPS = ("Asynchronous continuations", "Job execution", "Extension properties", "Execution listeners",
                 "Inputs", "Outputs")


@pytest.fixture
def owners(dumas: Dumas) -> Dumas:
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


def task_facts(xml: str) -> tuple[str, str, str]:
    """(the step's waktu property, its SLA timer, the timer's name) in a stored diagram."""
    task = xml.split(f'<bpmn:userTask id="{TASK}"')[1].split("</bpmn:userTask>")[0]
    timer = xml.split(f'<bpmn:boundaryEvent id="{TIMER}"')[1].split("</bpmn:boundaryEvent>")[0]
    waktu = re.search(r'name="waktu" value="([^"]*)"', task)
    duration = re.search(r"<bpmn:timeDuration[^>]*>([^<]*)<", timer)
    name = re.search(r'name="([^"]*)"', timer)
    assert waktu and duration and name
    return waktu.group(1), duration.group(1), name.group(1)


def sop_pdf_text(dumas: Dumas, version: int) -> str:
    client = dumas.app.test_client()
    token = client.post("/api/auth/token", json={"username": "admin", "password": PASSWORD}).json["token"]
    response = client.get(f"/api/definitions/{KEY}/versions/{version}/sop.pdf",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return " ".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(response.data)).pages)


def open_modeler(page: Any, username: str, version: int) -> None:
    browser_login(page, username)
    page.goto(f"/modeler/{KEY}/{version}")
    page.locator("#canvas[data-rendered=true]").wait_for(timeout=60_000)  # 1.7 MB of script on a shared machine
    page.locator("#check-summary[data-count='0']").wait_for(timeout=60_000)  # Alur's checks ran once on load


def select_element(page: Any, element_id: str) -> None:
    """bpmn-js's search pad (Ctrl+F on the canvas), as a keyboard user would."""
    page.locator("#canvas .djs-container > svg[tabindex]").focus()
    page.keyboard.press("Control+f")
    page.locator(".djs-search-container input").press_sequentially(element_id)
    page.locator(".djs-search-container .djs-search-result").first.wait_for()
    page.keyboard.press("Enter")
    page.locator(f"#canvas .djs-element.selected[data-element-id='{element_id}']").wait_for()


def group(page: Any, group_id: str) -> Any:
    """A group of the properties panel, opened."""
    found = page.locator(f"#properties [data-group-id='group-{group_id}']")
    if not found.locator(".bio-properties-panel-group-entries.open").count():
        found.locator(".bio-properties-panel-group-header").click()
    return found


def undo(page: Any) -> None:
    page.locator("#canvas .djs-container > svg[tabindex]").focus()
    page.keyboard.press("Control+z")


@sqlite_only
def test_owner_sets_waktu_with_the_picker_and_the_revision_goes_live(owners: Dumas,
                                                                     new_page: Callable[..., Any]) -> None:
    dumas = owners
    before = dumas.start("DUMAS/201/XI/2026")

    owner = new_page()
    open_modeler(owner, "pemilik", 1)
    select_element(owner, TASK)
    panel = owner.locator("#properties")
    headers = panel.locator(".bio-properties-panel-group-header-title").all_inner_texts()
    assert {"Pelaksana", "Formulir", "Mutu Baku"} <= set(headers), headers
    assert not [title for title in headers if title in ENGINE_GROUPS], headers
    assert panel.locator("[data-group-id^='group-CamundaPlatform__AsynchronousContinuations'],"
                         "[data-group-id^='group-CamundaPlatform__JobExecution'],"
                         "[data-group-id^='group-CamundaPlatform__ExtensionProperties']").count() == 0
    assert "Eselon II" in group(owner, "alur-pelaksana").inner_text()
    assert group(owner, "alur-formulir").locator("select").input_value() == "dumas-tindak-lanjut-eselon2"

    # Mutu Baku: Waktu 14 hari kerja read from the SLA timer; the picker sets 10
    standard = group(owner, "alur-mutu-baku")
    amount = standard.locator("#bio-properties-panel-alur-waktu-jumlah")
    unit = standard.locator("#bio-properties-panel-alur-waktu-satuan")
    assert amount.input_value() == "14" and unit.input_value() == "hari_kerja"
    assert unit.locator("option").all_inner_texts() == ["menit kerja", "jam kerja", "hari kerja", "hari (kalender)"]
    amount.fill("10")
    amount.press("Tab")
    standard.get_by_text("10 hari kerja").first.wait_for()
    assert "hari_kerja(10)" in standard.inner_text()
    owner.locator("#check-summary[data-count='0']").wait_for()

    # A deliberate problem (an engine setting, behind "advanced"): the Indonesian check list names the step
    owner.locator("#advanced-properties").check()
    group(owner, "CamundaPlatform__UserAssignment")
    due = panel.locator("#bio-properties-panel-dueDate")
    due.fill("hari_kerja(")
    due.press("Tab")
    item = owner.locator(f"#check-list li[data-source='alur'][data-element-id='{TASK}']")
    item.wait_for()
    text = item.inner_text()
    assert f"“{TASK_NAME}” (lajur Eselon II)" in text and "Tanggal jatuh tempo" in text, text
    assert "Kesalahan sintaks" in text and TASK not in text, text
    assert owner.locator("#check-summary").inner_text().startswith("1 masalah")
    owner.screenshot(path=str(SCREENSHOTS / "modeler-owner.png"), full_page=True)
    badge = owner.locator(".bjsl-button")
    assert "Tidak ada masalah" not in badge.inner_text() and "1 galat" in badge.inner_text(), badge.inner_text()
    owner.locator("#canvas").click(position={"x": 5, "y": 5})  # deselect, then the item selects the step again
    item.locator("button").click()
    owner.locator(f"#canvas .djs-element.selected[data-element-id='{TASK}']").wait_for()
    undo(owner)
    item.wait_for(state="detached")
    owner.locator("#check-summary[data-count='0']").wait_for()
    owner.locator("#advanced-properties").uncheck()

    # bpmnlint's reports join the same list, in Indonesian, naming the lane of a step without a name
    select_element(owner, TASK)
    name = group(owner, "general").locator("#bio-properties-panel-name")
    name.fill("")
    name.press("Tab")
    lint = owner.locator(f"#check-list li[data-source='lint'][data-rule='label-required'][data-element-id='{TASK}']")
    lint.wait_for()
    assert "Tugas (lajur Eselon II): Elemen belum bernama." in lint.inner_text(), lint.inner_text()
    undo(owner)
    lint.wait_for(state="detached")
    assert owner.locator("#check-list li").count() == 0
    assert "Tidak ada masalah" in owner.locator(".bjsl-button").inner_text()

    owner.locator("#save-draft").click()
    owner.wait_for_url(f"**/modeler/{KEY}/2", timeout=60_000)
    found = revisions(dumas)
    assert (found[1].status, found[2].status) == ("active", "draft")
    assert task_facts(found[2].bpmn_xml) == ("10 hari kerja", "hari_kerja(10)", "Batas waktu 10 hari kerja")
    assert task_facts(found[1].bpmn_xml) == ("14 hari kerja", "hari_kerja(14)", "Batas waktu 14 hari kerja")
    assert 'name="dueDate"' not in found[2].bpmn_xml and "camunda:dueDate" not in found[2].bpmn_xml
    assert not owner.console_errors

    # The approver approves after a confirmation (Batal first: nothing happens)
    approver = new_page()
    open_modeler(approver, "pengesah", 2)
    approver.locator("#approve").click()
    dialog = approver.locator("#confirm-approve")
    dialog.wait_for(state="visible")
    assert dialog.get_by_role("heading").inner_text() == "Sahkan versi 2?"
    approver.locator("#confirm-approve-cancel").click()
    dialog.wait_for(state="hidden")
    assert revisions(dumas)[2].status == "draft"
    approver.locator("#approve").click()
    approver.locator("#confirm-approve-ok").click()
    approver.locator("h1 .badge.status-approved").wait_for()
    assert revisions(dumas)[2].status == "approved"

    # The administrator activates after a confirmation; version 1 is shown as no longer in force
    admin = new_page()
    open_modeler(admin, "admin", 2)
    admin.locator("#activate").click()
    admin.locator("#confirm-activate").wait_for(state="visible")
    assert admin.locator("#confirm-activate-date").inner_text() == "hari ini (di unit)"
    admin.locator("#confirm-activate-ok").click()
    admin.locator("h1 .badge.status-active").wait_for()
    old = admin.locator("dl.facts li", has=admin.locator("a", has_text="v1"))
    assert old.locator(".badge.status-retired").inner_text() == "tidak berlaku"
    found = revisions(dumas)
    assert (found[1].status, found[2].status) == ("retired", "active")
    assert not approver.console_errors and not admin.console_errors

    # The case started before stays on version 1; new ones run on 2; the SOP document says 10 hari kerja
    assert version_of_case(dumas, before) == 1
    assert version_of_case(dumas, dumas.start("DUMAS/202/XI/2026")) == 2
    assert "10 hari kerja" in sop_pdf_text(dumas, 2)
    assert "14 hari kerja" in sop_pdf_text(dumas, 1)


@sqlite_only
def test_the_modeler_fits_a_phone(owners: Dumas, new_page: Callable[..., Any]) -> None:
    page = new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    open_modeler(page, "pemilik", 1)
    select_element(page, TASK)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390


# --- the revision part through the test client, on SQLite and PostgreSQL -----------------------------------

def post(client: Any, path: str, body: dict[str, Any], page: str) -> Any:
    token = csrf_of(client.get(page).text)
    return client.post(path, json=body, headers={"X-CSRFToken": token, "Accept": "application/json"})


def test_activation_retires_the_revision_it_supersedes(owners: Dumas, sign_in: Callable[[str], Any]) -> None:
    dumas = owners
    before = dumas.start("DUMAS/301/XI/2026")
    first = f"/modeler/{KEY}/1"
    saved = post(sign_in("pemilik"), f"{first}/drafts", {"xml": EDITED}, first)
    assert saved.status_code == 201 and saved.json["version"] == 2
    draft = f"/modeler/{KEY}/2"
    assert post(sign_in("pengesah"), f"{draft}/approve", {}, draft).json["status"] == "approved"
    admin = sign_in("admin")
    assert 'id="confirm-activate"' in admin.get(draft).text  # the dialog the button opens
    assert post(admin, f"{draft}/activate", {}, draft).json["status"] == "active"

    found = revisions(dumas)
    assert (found[1].status, found[2].status) == ("retired", "active")
    page = admin.get(first).text
    assert '<span class="badge status-retired">tidak berlaku</span>' in page
    assert "dinyatakan tidak berlaku" in page  # the revision's history says it
    assert version_of_case(dumas, before) == 1  # the running case stays on its revision …
    token = admin.post("/api/auth/token", json={"username": "admin", "password": PASSWORD}).json["token"]
    shown = admin.get(f"/api/cases/{before}", headers={"Authorization": f"Bearer {token}"})
    assert shown.status_code == 200 and shown.json["version"] == 1  # … and still opens
    assert version_of_case(dumas, dumas.start("DUMAS/302/XI/2026")) == 2
    assert "10 hari kerja" in sop_pdf_text(dumas, 2)

    # Withdrawing version 2 puts the one it replaced back in force
    retired = admin.post(f"/api/definitions/{KEY}/versions/2/retire", headers={"Authorization": f"Bearer {token}"})
    assert retired.status_code == 200 and retired.json["status"] == "retired"
    found = revisions(dumas)
    assert (found[1].status, found[2].status) == ("active", "retired")
    assert "berlaku kembali" in admin.get(first).text
    assert version_of_case(dumas, dumas.start("DUMAS/304/XI/2026")) == 1


def test_a_revision_effective_later_leaves_the_one_in_force_active(owners: Dumas,
                                                                   sign_in: Callable[[str], Any]) -> None:
    first = f"/modeler/{KEY}/1"
    post(sign_in("pemilik"), f"{first}/drafts", {"xml": EDITED}, first)
    draft = f"/modeler/{KEY}/2"
    post(sign_in("pengesah"), f"{draft}/approve", {}, draft)
    activated = post(sign_in("admin"), f"{draft}/activate", {"effective_on": "2099-01-01"}, draft)
    assert activated.status_code == 200
    found = revisions(owners)
    assert (found[1].status, found[2].status) == ("active", "active")
    assert version_of_case(owners, owners.start("DUMAS/303/XI/2026")) == 1


def test_the_check_speaks_indonesian_and_keeps_the_api_message(owners: Dumas, sign_in: Callable[[str], Any]) -> None:
    broken = ORIGINAL.replace('tujuan_penyaluran == "instansi_lain"', "().__class__")
    page = f"/modeler/{KEY}/1"
    client = sign_in("pemilik")
    checked = post(client, f"{page}/check", {"xml": broken}, page)
    assert checked.status_code == 200
    [problem] = checked.json["errors"]
    assert problem["message"].startswith("Condition: Attribute access (a.b) is not allowed")
    assert problem["text"].startswith("Kondisi: Tidak diizinkan dalam ekspresi"), problem["text"]
    refused = post(client, f"{page}/drafts", {"xml": broken}, page)
    assert refused.status_code == 422 and refused.json["errors"] == checked.json["errors"]
    config = client.get(page).text
    assert '"hari_kerja"' in config and "{n} hari kerja" in config  # the picker's rule, from the server


def test_the_panel_and_check_list_switch_to_english(owners: Dumas, sign_in: Callable[[str], Any]) -> None:
    client = sign_in("pemilik")
    page = f"/modeler/{KEY}/1"
    switched = client.post("/language", data={"lang": "en", "next": page, "csrf_token": csrf_of(client.get(page).text)})
    assert switched.status_code in (302, 303)
    html = client.get(page).text
    compact = re.sub(r'":\s+', '":', html)  # the page's JSON, however it is spaced
    assert '"groupStandard":"Service standard"' in compact and '"label":"working days"' in compact
    broken = ORIGINAL.replace('tujuan_penyaluran == "instansi_lain"', "().__class__")
    [problem] = post(client, f"{page}/check", {"xml": broken}, page).json["errors"]
    assert problem["text"].startswith("Condition: Not allowed in the expression"), problem["text"]

