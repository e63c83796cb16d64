"""The web tests' setup: DUMAS deployed, sign-in, CSRF tokens, a live server, Chromium, axe-core.

The fixtures are re-exported by ``tests/web/conftest.py``; the helpers are imported from here, never
from a ``conftest`` (every conftest module of the suite is named ``conftest``, so such imports collide).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from service.catalogue import BUNDLED_OFFICES, SUB_UNITS
from service.commands import accounts
from service.commands.accounts import actor_by_id
from service.commands.cases import StartRequest, start_case

ROOT = Path(__file__).resolve().parents[2]
FORMS_DIR = ROOT / "forms"
DUMAS = ROOT / "bpmn" / "dumas-inspektorat-katingan.bpmn"
KEY = "dumas-inspektorat-katingan"
UNIT = "inspektorat-katingan"
OTHER_UNIT = "dinsos-kukar"
PASSWORD = "rahasia-uji-123"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: where the walks save their screenshots: a build folder, so a test run changes no tracked file;
#: ALUR_UPDATE_SCREENSHOTS=1 refreshes the copies in docs/screenshots/ that the README shows
SCREENSHOTS = ROOT / ("docs" if os.environ.get("ALUR_UPDATE_SCREENSHOTS") == "1" else "build") / "screenshots"
#: lane → username of its user in the DUMAS unit (the Eselon II: of the unit kerja ESELON_UNIT)
LANES = {"Pelapor": "pelapor", "Inspektorat": "inspektorat", "Inspektur": "inspektur",
         "Sekretariat Inspektorat": "sekretariat", "Eselon II": "eselon2", "Instansi Lain": "instansi"}
#: the unit kerja (a sub-unit of the Inspektorat's office) whose Eselon II the DUMAS tests route reports to
ESELON_UNIT = "katingan-dpmd"
ESELON_UNIT_NAME = "Dinas Pemberdayaan Masyarakat dan Desa Kabupaten Katingan"
#: what the Inspektur adds when a report is not berkadar pengawasan (langkah 3 → langkah 6)
TIDAK_BERKADAR = {"kategori_telaah": "tidak berkadar pengawasan atau tidak logis", "unit_kerja_terlapor": ESELON_UNIT,
                  "alasan_kategori": "Pungutan di desa ditindaklanjuti secara intern oleh Dinas PMD."}
PENGADUAN = {"nama": "Siti Rahmah", "nik": "6206011203850001", "alamat": "Jl. Tjilik Riwut 1",
             "telepon": "081234567890",
             "pekerjaan": "Guru", "kategori_terlapor": "Kepala Desa", "jenis_laporan": "penyalahgunaan wewenang",
             "saluran": "langsung", "uraian": "Pungutan liar pada pelayanan surat keterangan desa",
             "lokasi_kasus": "Desa Tumbang Samba"}
XSS = "<script>window.__xss=1</script><img src=x onerror=\"window.__xss=1\">"
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


@pytest.fixture
def forms_dir() -> Path:
    return FORMS_DIR


@dataclass
class Dumas:
    app: Any
    users: dict[str, int]  # username → id

    @property
    def services(self) -> Any:
        return self.app.extensions["alur.services"]

    def start(self, business_key: str = "DUMAS/001/X/2025", **data: Any) -> str:
        """A new DUMAS case filed by the Pelapor (the reporter's intake is not a staff page); its id."""
        reporter = actor_by_id(self.services, self.users["pelapor"])
        case = start_case(self.services, reporter, StartRequest(KEY, business_key=business_key,
                                                                data={**PENGADUAN, **data}))
        return str(case.id)


@pytest.fixture
def dumas(app: Any) -> Dumas:
    """The bundled offices and their sub-units, the DUMAS SOP deployed, one user per lane (the Eselon II in
    the unit kerja :data:`ESELON_UNIT`), one user of another unit."""
    services = app.extensions["alur.services"]
    for office in BUNDLED_OFFICES:
        accounts.create_unit(services, office.code, office.name, office.timezone)
        for sub in SUB_UNITS.get(office.code, ()):
            accounts.create_unit(services, sub.code, sub.name, sub.timezone, parent=office.code)
    users = {"admin": accounts.create_user(services, "admin", PASSWORD, [], is_admin=True).id}
    for lane, username in LANES.items():
        unit = ESELON_UNIT if lane == "Eselon II" else UNIT
        users[username] = accounts.create_user(services, username, PASSWORD, [f"{lane}@{unit}"]).id
    users["luar"] = accounts.create_user(services, "luar", PASSWORD, [f"Kasi@{OTHER_UNIT}"]).id
    client = app.test_client()
    token = client.post("/api/auth/token", json={"username": "admin", "password": PASSWORD}).json["token"]
    with DUMAS.open("rb") as handle:
        response = client.post("/api/definitions", headers={"Authorization": f"Bearer {token}"},
                               data={"bpmn": (handle, DUMAS.name), "unit": UNIT}, content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    return Dumas(app, users)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@pytest.fixture
def sign_in(app: Any) -> Callable[[str], Any]:
    """A test client signed in as ``username`` through the login form."""

    def make(username: str, password: str = PASSWORD) -> Any:
        client = app.test_client()
        page = client.get("/login")
        response = client.post("/login", data={"username": username, "password": password,
                                               "csrf_token": csrf_of(page.text)})
        assert response.status_code == 302, response.text
        return client

    return make


# --- the browser -------------------------------------------------------------------------------------

@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.shutdown()
        thread.join(10)


@pytest.fixture
def browser(chromium: Any) -> Any:
    """The session's Chromium (``tests/support/browser.py``)."""
    return chromium


@pytest.fixture
def new_page(browser: Any, live_server: str) -> Callable[[], Any]:
    """A page in a fresh context (own cookies) that reaches only the live server."""
    contexts: list[Any] = []

    def make(bypass_csp: bool = False) -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=live_server,
                                      bypass_csp=bypass_csp)
        context.set_default_timeout(15_000)
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(live_server)
                      else route.abort())
        contexts.append(context)
        page = context.new_page()
        page.console_errors = []
        page.on("pageerror", lambda error: page.console_errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()


def browser_login(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/tasks")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core (from node_modules) on the page: the serious or critical violations.

    The script is injected inline, so the page must come from a context made with ``bypass_csp``.
    """
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result if v["impact"] in ("serious", "critical")]


def open_follow_up(page: Any, code: str, secret: str) -> None:
    """The reporter opens their report on the follow-up page with its code and secret."""
    page.goto("/lapor/tindak-lanjut")
    page.fill("#code", code)
    page.fill("#secret", secret)
    page.get_by_role("button", name="Buka laporan saya").click()
    page.locator("#status-text").wait_for()
    # the report's page is in the DOM before its stylesheets are applied; inner_text() reads the layout
    # (a reply's line breaks are kept by the stylesheet's pre-wrap), so wait for the page's load event
    page.wait_for_load_state("load")
