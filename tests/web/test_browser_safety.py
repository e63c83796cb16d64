"""In Chromium: an XSS payload stays inert; a task is completed with the keyboard alone; axe-core
finds no serious or critical violation on the login, task list, task, and case pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from support.web import XSS, Dumas, axe_violations, browser_login, csrf_of, sqlite_only

from service.commands.display import case_label
from service.store.models import Case


def _xss_ran(page: Any) -> bool:
    return bool(page.evaluate("() => window.__xss !== undefined"))


@sqlite_only
def test_xss_payload_is_inert_on_the_task_list_case_page_and_timeline(dumas: Dumas, new_page: Callable[..., Any]
                                                                      ) -> None:
    """Typed into every text field of the task form and the comment; the CSP is bypassed here on
    purpose, so escaping alone must keep the payload inert."""
    case_id = dumas.start(XSS, nama=XSS, uraian=XSS, alamat=XSS, pekerjaan=XSS, lokasi_kasus=XSS)
    with dumas.services.db.reading() as session:
        shown = case_label(session.get(Case, case_id))  # the Nomor registrasi, else the business key (XSS)
    page = new_page(bypass_csp=True)
    browser_login(page, "inspektorat")
    assert page.locator("tr[data-task-id] .case-key").inner_text() == shown  # shown as text
    assert not _xss_ran(page)
    page.locator("tr[data-task-id] .task-name").click()
    page.locator("form.rjsf").wait_for()
    for field in ("#root_nomor_registrasi", "#root_laporan_hasil_verifikasi", "#root_kekurangan_laporan"):
        page.fill(field, XSS)
    page.get_by_label("lengkap", exact=True).check()
    page.fill("#comment-body", XSS)  # a comment of the task page, submitted after the form
    page.get_by_role("button", name="Selesaikan tugas").click()
    page.wait_for_url(f"**/cases/{case_id}**")
    page.fill("#comment-body", XSS)
    page.get_by_role("button", name="Tambah komentar").click()
    page.wait_for_url(f"**/cases/{case_id}**")
    assert page.locator("h1 .case-key").inner_text() == shown
    assert page.locator("tr.event-task_completed dd", has_text=XSS).count() == 3  # the timeline
    assert page.locator(".comment-body").inner_text() == XSS
    assert page.locator("script:not([src]):not([type='application/json'])").count() == 0
    assert page.locator("img[src=x]").count() == 0
    assert not _xss_ran(page)
    browser_login(new_page(bypass_csp=True), "inspektur")
    inspektur = new_page(bypass_csp=True)
    browser_login(inspektur, "inspektur")
    inspektur.locator("tr[data-task-id] .task-name").click()
    inspektur.locator("form.rjsf").wait_for()
    assert inspektur.locator(".data dd", has_text=XSS).count() >= 5  # the case data on the task page
    assert not _xss_ran(inspektur)


def _tab_to(page: Any, predicate: str, limit: int = 60) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!el && ({predicate}); }}"):
            return
    raise AssertionError(f"Tab never reached {predicate}")


@sqlite_only
def test_a_task_can_be_completed_with_the_keyboard_alone(dumas: Dumas, new_page: Callable[..., Any]) -> None:
    case_id = dumas.start("DUMAS/021/X/2025")
    page = new_page()
    page.goto("/login")
    _tab_to(page, "el.id === 'username'")
    page.keyboard.type("inspektorat")
    page.keyboard.press("Tab")
    page.keyboard.type("rahasia-uji-123")
    page.keyboard.press("Enter")
    page.wait_for_url("**/tasks")
    _tab_to(page, "el.classList.contains('task-name')")
    page.keyboard.press("Enter")
    page.locator("form.rjsf").wait_for()
    _tab_to(page, "el.id === 'root_nomor_registrasi'")
    page.keyboard.type("DUMAS/021/X/2025")
    page.keyboard.press("Tab")
    page.keyboard.type("Lengkap")
    _tab_to(page, "el.type === 'radio'")
    page.keyboard.press("Space")
    assert page.evaluate("() => document.activeElement.checked && document.activeElement.value") is not None
    _tab_to(page, "el.type === 'submit'")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/cases/{case_id}**")
    assert page.locator("tr.event-task_completed").count() == 1


@sqlite_only
def test_pages_have_no_serious_accessibility_violations(dumas: Dumas, new_page: Callable[..., Any], app: Any) -> None:
    case_id = dumas.start("DUMAS/022/X/2025")
    page = new_page(bypass_csp=True)  # axe is injected as an inline script
    page.goto("/login")
    assert axe_violations(page) == [], "login"
    browser_login(page, "inspektorat")
    page.locator("tr[data-task-id]").wait_for()
    assert axe_violations(page) == [], "task list"
    page.locator("tr[data-task-id] .task-name").click()
    page.locator("form.rjsf").wait_for()
    assert axe_violations(page) == [], "task page"
    page.get_by_role("button", name="Selesaikan tugas").click()  # with the server's errors shown
    page.locator(".error-detail").first.wait_for()
    assert axe_violations(page) == [], "task page with errors"
    page.goto(f"/cases/{case_id}")
    page.wait_for_selector("#diagram[data-rendered=true]")
    assert axe_violations(page) == [], "case page"
    assert csrf_of(page.content())
