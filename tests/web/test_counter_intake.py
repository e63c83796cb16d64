"""Pengaduan langsung: the counter registers a walk-in (phone, SMS, letter, e-mail, kotak saran) report, prints
the receipt, and the citizen follows the report up online (issue 14, acceptance 3).

SOP 003a (pengaduan-langsung-dinsos-kukar) is deployed beside DUMAS; its intake desk is the Petugas lane
(the lane of its first user task, "Petugas loket mencatat pengaduan").
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from support.web import (
    PASSWORD,
    ROOT,
    SCREENSHOTS,
    XSS,
    Dumas,
    axe_violations,
    browser_login,
    csrf_of,
    open_follow_up,
)

from service.commands import accounts
from service.commands import public as commands
from service.commands.identity import IdentityVault
from service.store.models import Attachment, Case, Reporter, Unit

LANGSUNG = ROOT / "bpmn" / "pengaduan-langsung-dinsos-kukar.bpmn"
LANGSUNG_KEY = "pengaduan-langsung-dinsos-kukar"
DINSOS = "dinsos-kukar"
SOP = f"{DINSOS}/{LANGSUNG_KEY}"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
MATERI = "Bantuan sembako untuk lansia di RT 05 belum diterima sejak tiga bulan"
IDENTITY = {"nama": "Rahmawati", "nik": "6402014107800002", "telepon": "081350001111"}


@dataclass
class Counter:
    dumas: Dumas
    petugas: int
    kabid: int

    @property
    def app(self) -> Any:
        return self.dumas.app

    @property
    def services(self) -> Any:
        return self.dumas.services


@pytest.fixture
def counter(dumas: Dumas) -> Counter:
    """DUMAS (from ``dumas``) and SOP 003a deployed; a Petugas (the intake desk) and a Kabid of Dinsos Kukar."""
    client = dumas.app.test_client()
    token = client.post("/api/auth/token", json={"username": "admin", "password": PASSWORD}).json["token"]
    with LANGSUNG.open("rb") as handle:
        deployed = client.post("/api/definitions", headers={"Authorization": f"Bearer {token}"},
                               data={"bpmn": (handle, LANGSUNG.name), "unit": DINSOS},
                               content_type="multipart/form-data")
    assert deployed.status_code == 201, deployed.json
    petugas = accounts.create_user(dumas.services, "petugas", PASSWORD, [f"Petugas@{DINSOS}"]).id
    kabid = accounts.create_user(dumas.services, "kabid", PASSWORD, [f"Kabid@{DINSOS}"]).id
    return Counter(dumas, petugas, kabid)


def _counts(services: Any) -> tuple[int, int, int]:
    with services.db.reading() as session:
        return (session.scalar(select(func.count()).select_from(Case)) or 0,
                session.scalar(select(func.count()).select_from(Reporter)) or 0,
                session.scalar(select(func.count()).select_from(Attachment)) or 0)


def _form(client: Any, sop: str = SOP) -> str:
    page = client.get(f"/pengaduan-langsung?sop={sop}")
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def _register(client: Any, **fields: Any) -> Any:
    body = {"csrf_token": _form(client, fields.get("sop", SOP)), "sop": SOP, "channel": "langsung",
            "mode": "anonim", "materi_aduan": MATERI, **fields}
    return client.post("/pengaduan-langsung", data=body, content_type="multipart/form-data")


def _error(html: str, element_id: str) -> str:
    found = re.search(rf'id="{re.escape(element_id)}-error">([^<]*)<', html)
    assert found, f"no error next to {element_id}"
    return found.group(1)


# --- who may register ------------------------------------------------------------------------------

def test_only_the_intake_desk_registers_reports_others_get_403_and_no_link(counter: Counter, sign_in: Any) -> None:
    petugas = sign_in("petugas")
    tasks = petugas.get("/tasks").text
    assert 'id="nav-counter"' in tasks
    page = petugas.get("/pengaduan-langsung")
    assert page.status_code == 200
    assert "Pengaduan langsung" in page.text  # Indonesian by default
    assert "dumas-inspektorat-katingan" not in page.text  # another office's SOP is not offered

    for username in ("kabid", "luar"):  # Kabid of the same office; a Kasi of it (no lane of 003a)
        other = sign_in(username)
        assert 'id="nav-counter"' not in other.get("/tasks").text
        assert other.get("/pengaduan-langsung").status_code == 403
        token = csrf_of(other.get("/tasks").text)
        refused = other.post("/pengaduan-langsung", data={"csrf_token": token, "sop": SOP, "channel": "langsung",
                                                          "mode": "anonim", "materi_aduan": MATERI})
        assert refused.status_code == 403
        assert other.get("/pengaduan-langsung/tanda-terima/none").status_code in (403, 404)
    # the API's intake obeys the same rule (commands.public.may_register)
    client = counter.app.test_client()
    kabid_token = client.post("/api/auth/token", json={"username": "kabid", "password": PASSWORD}).json["token"]
    body = {"unit": DINSOS, "definition_key": LANGSUNG_KEY, "mode": "anonim", "data": {"materi_aduan": MATERI},
            "channel": "telepon"}
    assert client.post("/api/intake", headers={"Authorization": f"Bearer {kabid_token}"},
                       json=body).status_code == 403
    assert _counts(counter.services) == (0, 0, 0)


def test_registering_needs_the_csrf_token(counter: Counter, sign_in: Any) -> None:
    petugas = sign_in("petugas")
    refused = petugas.post("/pengaduan-langsung", data={"sop": SOP, "channel": "langsung", "mode": "anonim",
                                                        "materi_aduan": MATERI})
    assert refused.status_code == 400
    assert _counts(counter.services) == (0, 0, 0)


# --- bad input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("fields", "element_id", "message"), [
    ({"materi_aduan": ""}, "field-materi_aduan", "Isian ini wajib diisi."),
    ({"materi_aduan": "x" * 5001}, "field-materi_aduan", "Teks ini terlalu panjang."),
    ({"channel": "merpati"}, "channel", "Pilih"),
    ({"mode": ""}, "mode", "Pilih"),
    ({"mode": "rahasia", "identity.nik": "12345"}, "identity-nama", "Isian ini wajib diisi."),
    ({"mode": "biasa", "identity.nama": "Rahmawati", "identity.nik": "12345"}, "identity-nik", "16"),
    ({"lampiran": (b"MZ this is no picture", "bukti.png", "image/png")}, "field-lampiran", ""),
], ids=["missing-uraian", "too-long", "unknown-channel", "no-mode", "missing-name", "bad-nik", "bad-attachment"])
def test_bad_input_saves_nothing_and_shows_the_form_again_with_the_typed_values(
        counter: Counter, sign_in: Any, fields: dict[str, Any], element_id: str, message: str) -> None:
    petugas = sign_in("petugas")
    if "lampiran" in fields:  # a fresh stream per run: the test client closes the one it sends
        content, name, kind = fields["lampiran"]
        fields = {**fields, "lampiran": (io.BytesIO(content), name, kind)}
    typed = "Nomor rumah 12 <b>" + XSS
    answer = _register(petugas, **{"identity.alamat": typed} if fields.get("mode") in ("rahasia", "biasa") else {},
                       **fields)
    assert answer.status_code == 422, answer.text
    assert message in _error(answer.text, element_id)
    assert 'id="counter-errors"' in answer.text
    assert XSS not in answer.text  # escaped
    if "materi_aduan" not in fields:
        assert MATERI in answer.text  # what was typed is kept
    if fields.get("mode") in ("rahasia", "biasa"):
        assert 'value="Nomor rumah 12 &lt;b&gt;&lt;script&gt;' in answer.text
    assert _counts(counter.services) == (0, 0, 0)


# --- registering -------------------------------------------------------------------------------------

def test_an_anonymous_phone_report_keeps_no_identity_and_records_its_channel(counter: Counter, sign_in: Any) -> None:
    petugas = sign_in("petugas")
    answer = _register(petugas, channel="telepon",
                       lampiran=[(io.BytesIO(PNG), "foto.png", "image/png"),
                                 (io.BytesIO(PNG), "foto2.png", "image/png")])
    assert answer.status_code == 303, answer.text
    with counter.services.db.reading() as session:
        case = session.scalars(select(Case)).one()
        reporter = session.scalars(select(Reporter)).one()
        assert reporter.mode == "anonim" and reporter.channel == "telepon"
        assert reporter.identity_ciphertext is None
        assert case.data["saluran_pengaduan"] == "telepon"
        assert case.data["materi_aduan"] == MATERI
        assert case.started_by == counter.petugas
        assert [name for name in ("nama", "nik", "telepon") if name in case.data] == []
        assert [a.filename for a in session.scalars(select(Attachment).order_by(Attachment.filename))] == [
            "foto.png", "foto2.png"]


def test_a_regular_report_seals_the_identity_out_of_the_case_data(counter: Counter, sign_in: Any) -> None:
    petugas = sign_in("petugas")
    answer = _register(petugas, mode="biasa", channel="surat",
                       **{f"identity.{name}": value for name, value in IDENTITY.items()})
    assert answer.status_code == 303, answer.text
    with counter.services.db.reading() as session:
        case = session.scalars(select(Case)).one()
        reporter = session.scalars(select(Reporter)).one()
        assert reporter.channel == "surat" and reporter.mode == "biasa"
        assert IdentityVault.of(counter.services.settings).open(reporter.identity_ciphertext or "") == IDENTITY
        assert not set(IDENTITY) & set(case.data)
        assert IDENTITY["nama"] not in str(case.data)


def test_the_sop_channel_field_takes_the_counter_channel(counter: Counter, sign_in: Any) -> None:
    """DUMAS asks "Disampaikan secara" (langsung, tertulis, surat elektronik): the counter fills it when the
    channel is one of them; its intake desk is the Inspektorat lane."""
    inspektorat = sign_in("inspektorat")
    sop = "inspektorat-katingan/dumas-inspektorat-katingan"
    body = {"csrf_token": _form(inspektorat, sop), "sop": sop, "channel": "langsung", "mode": "rahasia",
            "identity.nama": "Siti Rahmah", "identity.nik": "6206011203850001", "identity.alamat": "Jl. Tjilik Riwut 1",
            "identity.telepon": "081234567890", "identity.pekerjaan": "Guru", "kategori_terlapor": "Kepala Desa",
            "jenis_laporan": "penyalahgunaan wewenang", "uraian": "Pungutan liar pada pelayanan surat keterangan",
            "lokasi_kasus": "Desa Tumbang Samba"}
    answer = inspektorat.post("/pengaduan-langsung", data=body, content_type="multipart/form-data")
    assert answer.status_code == 303, answer.text
    with counter.services.db.reading() as session:
        case = session.scalars(select(Case)).one()
        assert case.data["saluran"] == "langsung" and case.data["saluran_pengaduan"] == "langsung"


def test_the_receipt_shows_the_secret_once_and_a_reload_registers_nothing(counter: Counter, sign_in: Any) -> None:
    with counter.services.db.transaction() as session:
        session.scalars(select(Unit).where(Unit.code == DINSOS)).one().contact_phone = "0541-661234"
    petugas = sign_in("petugas")
    answer = _register(petugas, channel="kotak_saran")
    assert answer.status_code == 303
    receipt_url = answer.headers["Location"]
    # the secret waits in the session cookie encrypted, never as it is
    cookie = petugas.get_cookie("alur_session").value
    saved = counter.app.session_interface.get_signing_serializer(counter.app).loads(cookie)["counter_receipt"]
    first = petugas.get(receipt_url)
    assert first.status_code == 200
    code = re.search(r'id="tracking-code">([\d ]+)<', first.text).group(1).replace(" ", "")
    secret = re.search(r'id="secret">([\d ]+)<', first.text).group(1).replace(" ", "")
    assert secret not in cookie and secret not in str(saved)
    assert commands.verify(counter.services, code, secret)  # the printed pair opens the report
    assert "Kotak saran" in first.text and "Dinas Sosial" in first.text
    assert re.search(r'id="receipt-follow-up"><span class="receipt-url">http://[^<]+/lapor/tindak-lanjut<', first.text)
    assert re.search(r'id="receipt-number">\d{3}/DUMAS/[IVX]+/\d{4}<', first.text)  # the office's Nomor registrasi
    assert re.search(r'id="receipt-expected">dalam \d+ [a-z ]+ \(waktu baku SOP\)<', first.text)
    assert "0541-661234" in first.text  # the office's contact
    again = petugas.get(receipt_url)
    assert again.status_code == 200 and 'id="secret"' not in again.text and 'id="secret-gone"' in again.text
    assert code in again.text.replace(" ", "")
    assert _counts(counter.services)[:2] == (1, 1)
    # another officer who may not see the case gets no receipt
    assert sign_in("kabid").get(receipt_url).status_code in (403, 404)


# --- in the browser: register, print, follow up ------------------------------------------------------

def _no_overflow(page: Any) -> None:
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.url
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_walk_in_report_is_registered_printed_and_followed_up_online(
        counter: Counter, new_page: Callable[..., Any], tmp_path: Path) -> None:
    page = new_page(bypass_csp=True)  # axe-core is injected inline
    browser_login(page, "petugas")
    page.click("#nav-counter")
    page.wait_for_url("**/pengaduan-langsung")
    assert axe_violations(page) == [], "counter form"
    _no_overflow(page)
    assert page.locator("#channel").input_value() == "langsung"
    page.check("#mode-anonim")
    identity_off = "document.getElementById('counter-identity').disabled"
    assert page.evaluate(identity_off)  # a disabled fieldset: no identity leaves the browser
    page.check("#mode-rahasia")
    assert not page.evaluate(identity_off)
    page.check("#mode-anonim")
    page.click("button[type=submit].primary")  # nothing typed: the errors, next to the fields
    page.locator("#field-materi_aduan-error").wait_for()
    assert axe_violations(page) == [], "counter form with errors"
    _no_overflow(page)
    page.fill("#field-materi_aduan", MATERI)
    page.set_input_files("#field-lampiran", files=[{"name": "bukti.png", "mimeType": "image/png", "buffer": PNG}])
    page.click("button[type=submit].primary")
    page.wait_for_url("**/pengaduan-langsung/tanda-terima/*")
    code = page.locator("#tracking-code").inner_text().replace(" ", "")
    secret = page.locator("#secret").inner_text().replace(" ", "")
    assert len(code) == 16 and len(secret) == 16
    assert page.locator("#receipt-channel").inner_text() == "Langsung (datang ke kantor)"
    assert page.locator("#print-receipt").is_visible()  # the Print button (counter.js)
    assert page.console_errors == []
    assert axe_violations(page) == [], "receipt"
    _no_overflow(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "counter-receipt.png"), full_page=True)

    page.emulate_media(media="print")  # the print stylesheet: the receipt only
    assert page.locator("#counter-receipt").is_visible()
    assert not page.locator("header.top").is_visible() and not page.locator("#nav-counter").is_visible()
    assert not page.locator("#print-receipt").is_visible()
    pdf = tmp_path / "tanda-terima.pdf"
    page.pdf(path=str(pdf), format="A4")
    text = "".join(p.extract_text() for p in PdfReader(pdf).pages)
    assert code in re.sub(r"\D", "", text) and "Pengaduan langsung" not in text  # no navigation printed
    page.emulate_media(media="screen")

    page.reload()  # the secret is shown once; the reload registers nothing
    page.locator("#secret-gone").wait_for()
    assert page.locator("#secret").count() == 0
    assert _counts(counter.services) == (1, 1, 1)

    citizen = new_page()  # a fresh browser: the citizen at home
    open_follow_up(citizen, code, secret)
    assert "Laporan Anda sedang ditindaklanjuti" in citizen.locator("#status-text").inner_text()
    assert MATERI in citizen.content()
    with counter.services.db.reading() as session:
        reporter = session.scalars(select(Reporter)).one()
        assert (reporter.channel, reporter.mode, reporter.identity_ciphertext) == ("langsung", "anonim", None)

