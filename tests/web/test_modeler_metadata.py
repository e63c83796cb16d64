"""The modeler's "Metadata SOP" panel: a draft's SOP metadata edited beside the diagram and written
into the draft's diagram; approved and active revisions show it read-only (issue 11, item 5)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from support.web import DUMAS, KEY, PASSWORD, UNIT, Dumas, browser_login, csrf_of, sqlite_only

from service.commands import accounts, revisions
from service.commands.accounts import actor_by_id
from service.engine import sop_metadata

DRAFT = f"/modeler/{KEY}/2"
EDITED = DUMAS.read_text(encoding="utf-8").replace("hari_kerja(14)", "hari_kerja(10)")
FORM = {
    "judul": "SOP Penanganan Pengaduan Masyarakat (DUMAS)",
    "nomor_sop": "700/123/INSP/2026",
    "tanggal_pembuatan": "2026-01-05", "tanggal_revisi": "", "tanggal_efektif": "2026-02-02",
    "disahkan_oleh_jabatan": "Inspektur Kabupaten Katingan", "disahkan_oleh": "Drs. Pengesah, M.Si",
    "disahkan_oleh_nip": "19700101 199003 1 001",
    "dasar_hukum": "Peraturan Menteri PANRB Nomor 62 Tahun 2018\r\n"
                   "Undang-Undang Nomor 25 Tahun 2009, tentang Pelayanan Publik",
    "kualifikasi_pelaksana": "", "keterkaitan": "", "peralatan": "Komputer\nPrinter", "peringatan": "",
    "pencatatan": "Buku register pengaduan",
}


@pytest.fixture
def staff(dumas: Dumas, sign_in: Callable[[str], Any]) -> Dumas:
    """A process owner and an approver of the Inspektorat; the owner has saved draft version 2."""
    accounts.create_user(dumas.services, "pemilik", PASSWORD, [f"process_owner@{UNIT}"])
    accounts.create_user(dumas.services, "pengesah", PASSWORD, [f"approver@{UNIT}"])
    owner = sign_in("pemilik")
    token = csrf_of(owner.get(f"/modeler/{KEY}/1").text)
    saved = owner.post(f"/modeler/{KEY}/1/drafts", json={"xml": EDITED},
                       headers={"X-CSRFToken": token, "Accept": "application/json"})
    assert saved.status_code == 201, saved.json
    return dumas


def _metadata(dumas: Dumas, version: int) -> sop_metadata.SopMetadata:
    admin = actor_by_id(dumas.services, dumas.users["admin"])
    return revisions.metadata(dumas.services, admin, KEY, version)


def _submit(client: Any, path: str, form: dict[str, str]) -> Any:
    page = client.get(path)
    return client.post(f"{path}/metadata", data={**form, "csrf_token": csrf_of(page.text)})


def test_the_owner_edits_the_draft_metadata_beside_the_diagram(staff: Dumas, sign_in: Callable[[str], Any]) -> None:
    owner = sign_in("pemilik")
    page = owner.get(DRAFT).text
    assert 'id="metadata"' in page and 'id="save-metadata"' in page and 'name="disahkan_oleh_nip"' in page
    response = _submit(owner, DRAFT, FORM)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{DRAFT}#metadata")
    saved = _metadata(staff, 2)
    assert (saved.nomor_sop, saved.disahkan_oleh.jabatan, saved.disahkan_oleh.nip) == (
        "700/123/INSP/2026", "Inspektur Kabupaten Katingan", "19700101 199003 1 001")
    assert saved.section("dasar_hukum") == ("Peraturan Menteri PANRB Nomor 62 Tahun 2018",
                                            "Undang-Undang Nomor 25 Tahun 2009, tentang Pelayanan Publik")
    assert saved.section("peralatan") == ("Komputer", "Printer") and saved.tanggal_revisi is None
    diagram = owner.get(f"{DRAFT}/diagram.bpmn").data
    assert sop_metadata.read(diagram) == saved  # the diagram the modeler loads carries it
    page = owner.get(DRAFT).text
    assert 'value="700/123/INSP/2026"' in page and "Peraturan Menteri PANRB Nomor 62 Tahun 2018\nUndang" in page


def test_a_bad_value_shows_on_its_field_and_saves_nothing(staff: Dumas, sign_in: Callable[[str], Any]) -> None:
    owner = sign_in("pemilik")
    for field, value in (("disahkan_oleh_nip", "1970-01-01"), ("tanggal_efektif", "02/02/2026")):
        response = _submit(owner, DRAFT, {**FORM, field: value})
        assert response.status_code == 422
        assert f'id="meta-{field}" name="{field}"' in response.text
        assert f'aria-describedby="meta-{field}-error"' in response.text and 'role="alert"' in response.text
        assert value in response.text  # what was typed stays in the form
    assert _metadata(staff, 2).nomor_sop == ""


def test_active_and_approved_revisions_show_their_metadata_read_only(staff: Dumas,
                                                                     sign_in: Callable[[str], Any]) -> None:
    owner = sign_in("pemilik")
    page = owner.get(f"/modeler/{KEY}/1").text
    assert 'id="metadata"' in page and 'id="save-metadata"' not in page and "<fieldset disabled>" in page
    assert _submit(owner, f"/modeler/{KEY}/1", FORM).status_code == 409
    approver = sign_in("pengesah")
    assert 'id="save-metadata"' not in approver.get(DRAFT).text
    assert _submit(approver, DRAFT, FORM).status_code == 403
    assert _metadata(staff, 2).nomor_sop == ""


@sqlite_only
def test_metadata_panel_in_the_browser(staff: Dumas, new_page: Callable[[], Any]) -> None:
    page = new_page()
    browser_login(page, "pemilik")
    page.goto(DRAFT)
    page.locator("#canvas[data-rendered=true]").wait_for()
    page.locator("#metadata summary").click()
    page.get_by_label("Nomor SOP").fill("700/9/INSP/2026")
    page.get_by_label("Disahkan oleh — NIP").fill("19700101 199003 1 001")
    page.get_by_label("Dasar Hukum").fill("UU 25/2009 Pelayanan Publik\nPerpres 76/2013")
    page.locator("#save-metadata").click()
    page.wait_for_url(f"**{DRAFT}#metadata")
    page.locator("#canvas[data-rendered=true]").wait_for()  # the diagram reloads with its new metadata
    assert page.get_by_label("Nomor SOP").input_value() == "700/9/INSP/2026"
    saved = _metadata(staff, 2)
    assert saved.section("dasar_hukum") == ("UU 25/2009 Pelayanan Publik", "Perpres 76/2013")
    assert saved.disahkan_oleh.nip == "19700101 199003 1 001"
    # bpmn-js writes the diagram back with the metadata in it: saving the draft keeps every entry
    page.locator("#save-draft").click()
    page.locator("body[data-saved]").wait_for(state="attached")
    assert _metadata(staff, 2) == saved
    assert not page.console_errors
