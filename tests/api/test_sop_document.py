"""The SOP AP document generated from each bundled diagram: HTML, PDF, and the PDF rendered to PNG
(issue 11, item 6 and acceptance 4).

The PDF's text (pypdf) must show the identity table with *Disahkan oleh* (jabatan, nama, NIP), the
six boxes with the seed's Dasar Hukum (``shared/seeds/``), one Pelaksana column per lane, and Mutu
Baku Waktu taken from the timers; its HTML draws the flowchart with terminators, process boxes,
decision diamonds and arrows; its pages rendered to PNG (pypdfium2) carry that drawing; a timer
changed in a new revision changes the printed Waktu.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from lxml import etree
from PIL import Image, ImageFilter
from pypdf import PdfReader
from support.helpers import ENGINE_DATA, Persona, deploy_bytes, deploy_file
from support.sop_driver import BPMN_DIR, FORMS_DIR, deploy, unit_of

from service.catalogue import BUNDLED_OFFICES
from service.commands import accounts
from service.documents.sop import COLUMNS, LANES_WIDTH
from service.documents.waktu import waktu
from service.engine import outline
from service.engine.compiler import steps
from service.engine.deploy_checks import NS

#: the seed's Dasar Hukum (shared/seeds/000–004), as printed; seed 004 prints none
DASAR_HUKUM = {
    "wbs-dpmptsp-kukar": ["Nomor 32 Tahun 2004 tentang Pemerintah Daerah",
                          "Nomor 25 Tahun 2009 tentang Pelayanan Publik", "PER/05/M.PAN/4/2009", "No. 57 Tahun 2012",
                          "No. 33 Tahun 2014", "No. 62 Tahun 2016"],
    "wbs-dpmptsp-lamandau": ["Nomor 28 Tahun 1999", "Nomor 31 Tahun 1999", "Nomor 20 Tahun 2001", "Nomor 14 Tahun 2008",
                             "Nomor 5 Tahun 2015 tentang Aparatur Sipil Negara", "Nomor 60 Tahun 2012"],
    "wbs-disperindagkop-kebumen": ["Nomor 28 Tahun 1999", "Nomor 31 Tahun 1999", "Nomor 14 Tahun 2008",
                                   "Nomor 25 Tahun 2009", "Nomor 23 Tahun 2014", "Nomor 30 Tahun 2014",
                                   "Nomor 68 Tahun 1999", "Nomor 60 Tahun 2008", "Nomor 53 Tahun 2010",
                                   "Nomor 12 Tahun 2017", "Nomor 119 Tahun 2021"],
    "pengaduan-langsung-dinsos-kukar": ["Nomor 25 Tahun 2009 tentang Pelayanan Publik", "Nomor 76 Tahun 2013",
                                        "Nomor 15 Tahun 2014", "No. 22 Tahun 2021"],
    "pengaduan-online-dinsos-kukar": ["Nomor 25 tentang Pelayanan Publik", "Nomor 76 Tahun 2013", "Nomor 15 Tahun 2014",
                                      "No. 22 Tahun 2021"],
    "pengaduan-online-dinsos-kukar-laporan-berkala": ["Nomor 76 Tahun 2013", "No. 22 Tahun 2021"],
    "dumas-inspektorat-katingan": [],
    "dumas-inspektorat-katingan-laporan-berkala": [],
}
#: Disahkan oleh as the seed prints it (jabatan, nama, NIP); 003 has only the stamp legible
SIGNATORY = {
    "wbs-dpmptsp-kukar": ["Kepala Dinas", "Dr. H. Bambang Arwanto, AP, M.Si", "NIP. 19740111 199311 1 002"],
    "wbs-dpmptsp-lamandau": ["Kepala Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Lamandau",
                             "MUL'ATMIDY, S.Sos., M.A.P.", "NIP. 19790402 200502 1 004"],
    "wbs-disperindagkop-kebumen": ["HARYONO WAHYUDI, ST, MT.", "NIP. 197401261999031004"],
    "pengaduan-langsung-dinsos-kukar": ["Kepala Dinas Sosial Kabupaten Kutai Kartanegara"],
}
BOXES = ("Dasar Hukum", "Kualifikasi Pelaksana", "Keterkaitan", "Peralatan/Perlengkapan", "Peringatan",
         "Pencatatan dan Pendataan")
CALLERS_OF_SURAT_KELUAR = ("wbs-dpmptsp-kukar",)
KEY = "dumas-inspektorat-katingan"


@pytest.fixture
def db_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: the document does not depend on the database, rendering PDFs takes a while."""
    target = tmp_path / "alur.db"
    target.write_bytes(sqlite_template.read_bytes())
    return f"sqlite:///{target}"


@pytest.fixture
def forms_dir() -> Path:
    return FORMS_DIR


@pytest.fixture
def app(app: Any) -> Any:
    """The app with the bundled offices and unit-a."""
    services = app.extensions["alur.services"]
    for office in BUNDLED_OFFICES:
        accounts.create_unit(services, office.code, office.name, office.timezone)
    accounts.create_unit(services, "unit-a", "Unit A", "Asia/Jakarta")
    return app


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def _filled_marks(page: Image.Image, scale: float) -> tuple[int, int]:
    """In the Pelaksana columns of a flowchart page: (dark pixels, pixels inside solid dark shapes —
    the arrowheads; lines, borders and text are thinner than the 5-pixel erosion)."""
    mm = scale * 72 / 25.4
    left = (10 + COLUMNS["no"] + COLUMNS["kegiatan"]) * mm
    box = (int(left + 2), int(page.height * 0.2), int(left + LANES_WIDTH * mm - 2), int(page.height * 0.92))
    dark = page.convert("L").crop(box).point(lambda value: 0 if value < 100 else 255)
    solid = dark.filter(ImageFilter.MaxFilter(5))  # erosion of the dark pixels
    return dark.histogram()[0], solid.histogram()[0]


def _branches(bpmn: bytes) -> bool:
    """Does the diagram decide somewhere: an exclusive gateway with two ways out (not a merge)?"""
    root = etree.fromstring(bpmn)
    return any(len(gateway.xpath("./bpmn:outgoing", namespaces=NS)) > 1
               for gateway in root.xpath("//bpmn:exclusiveGateway", namespaces=NS))


def _sop_pdf(client: Any, persona: Persona, key: str, version: int) -> bytes:
    response = client.get(f"/api/definitions/{key}/versions/{version}/sop.pdf", headers=persona.headers)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
    return bytes(response.data)


@pytest.mark.parametrize("name", sorted(DASAR_HUKUM))
def test_sop_pdf_of_each_bundled_sop_is_the_official_layout(
        app: Any, make_persona: Callable[..., Persona], name: str, tmp_path: Path) -> None:
    client = app.test_client()
    admin = make_persona("admin", admin=True)
    if name.startswith(CALLERS_OF_SURAT_KELUAR):
        assert deploy(client, admin, BPMN_DIR / "surat-keluar.bpmn").status_code == 201
    path = BPMN_DIR / f"{name}.bpmn"
    deployed = deploy(client, admin, path)
    assert deployed.status_code == 201, deployed.json
    key, version = deployed.json["key"], deployed.json["version"]
    pdf = _sop_pdf(client, admin, key, version)

    text = _text(pdf)
    for label in ("Nomor SOP", "Tanggal Pembuatan", "Tanggal Revisi", "Tanggal Efektif", "Disahkan oleh", *BOXES,
                  "Pelaksana", "Mutu Baku", "Kelengkapan", "Waktu", "Output"):
        assert label in text, label
    for entry in DASAR_HUKUM[name]:
        assert entry in text, entry
    for part in SIGNATORY.get(name, []):
        assert part in text, part
    lanes = list(outline(path.read_bytes()).lanes)
    table = text[text.index("Kegiatan Pelaksana"):]
    header = table[:table.index("Kelengkapan")]
    positions = [header.find(lane) for lane in lanes]
    assert -1 not in positions and positions == sorted(positions), (lanes, header)  # one column per lane, in order
    packed = "".join(text.split())  # table cells wrap anywhere
    for step in steps(path.read_bytes()):
        if step.sla_timer and (expected := waktu(step.sla_timer)):  # Waktu is the running timer
            assert expected in text, (step.element_id, expected)
        for fact in ("kelengkapan", "output"):  # Kelengkapan and Output are the diagram's
            assert "".join(step.properties.get(fact, "").split()) in packed, (step.element_id, fact)

    html = client.get(f"/api/definitions/{key}/versions/{version}/sop.html", headers=admin.headers)
    assert html.status_code == 200 and html.mimetype == "text/html"
    page = html.data.decode()
    rows = page.count("<tr style=")
    assert page.count("<svg") == rows >= 1  # one drawing per row, over the Pelaksana columns
    assert 'class="symbol terminator"' in page
    assert page.count('class="arrow"') >= rows - 1  # every step is reached by an arrow
    assert ('<polygon class="symbol decision"' in page) == _branches(path.read_bytes())

    document = pypdfium2.PdfDocument(pdf)
    scale = 2.5
    images = [document[number].render(scale=scale).to_pil() for number in range(len(document))]
    for number, image in enumerate(images):
        image.save(tmp_path / f"{name}-{number + 1}.png")
        assert image.width > image.height  # A4 landscape, like the printed SOPs
        assert image.convert("L").getextrema()[0] < 64  # there is ink on the page
    dark, solid = _filled_marks(images[1], scale)  # the flowchart starts on page 2
    assert dark > 300, dark  # symbols and connectors, not an empty column
    assert solid > 0 or rows == 1, solid  # arrowheads are drawn


def _row(html: str, element_id: str) -> str:
    return html.split(f'data-element="{element_id}"')[1].split("</tr>")[0]


def test_waktu_follows_the_timer_of_the_revision(app: Any, make_persona: Callable[..., Persona]) -> None:
    """The issue's case: step 6 of DUMAS (Eselon II, 14 hari kerja) gets a 10-working-day timer in
    version 2; version 1's document keeps 14."""
    client = app.test_client()
    admin = make_persona("admin", admin=True)
    path, task = BPMN_DIR / "dumas-inspektorat-katingan.bpmn", "Task_tindak_lanjut_eselon2"
    original = path.read_text(encoding="utf-8")
    timer = re.search(rf'attachedToRef="{task}">.*?</bpmn:boundaryEvent>', original, re.DOTALL)
    assert timer and "hari_kerja(14)" in timer.group()
    changed = original.replace(timer.group(), timer.group().replace("hari_kerja(14)", "hari_kerja(10)"))
    assert deploy(client, admin, path).json["version"] == 1
    second = deploy_bytes(client, admin, changed.encode(), path.name, unit=unit_of(path))
    assert second.status_code == 201 and second.json["version"] == 2, second.json

    pages = [client.get(f"/api/definitions/{KEY}/versions/{n}/sop.html", headers=admin.headers).data.decode()
             for n in (1, 2)]
    assert ">14 hari kerja<" in _row(pages[0], task) and ">10 hari kerja<" in _row(pages[1], task)
    before, after = (_text(_sop_pdf(client, admin, KEY, n)) for n in (1, 2))
    assert "10 hari kerja" not in before and "10 hari kerja" in after


def test_sop_html_shows_the_draft_metadata_escaped(app: Any, make_persona: Callable[..., Persona]) -> None:
    client = app.test_client()
    owner = make_persona("owner.a", "process_owner@unit-a")
    stranger = make_persona("kasi.kukar", "Kasi@dpmptsp-kukar")
    assert deploy_file(client, owner, ENGINE_DATA / "revision_v1.bpmn").json["status"] == "draft"
    put = client.put("/api/definitions/revisi_uji/versions/1/metadata", headers=owner.headers, json={
        "tanggal_pembuatan": "2020-01-07", "nomor_sop": "P. 20.2/UJI",
        "disahkan_oleh": {"jabatan": "Kepala Dinas", "nama": "Dr. Pengesah", "nip": "19740111 199311 1 002"},
        "dasar_hukum": ["UU 25/2009 Pelayanan Publik", "<script>alert(1)</script>"],
        "peringatan": ["Jika SOP tidak dilaksanakan maka layanan tidak berjalan dengan baik"]})
    assert put.status_code == 200, put.json
    page = client.get("/api/definitions/revisi_uji/versions/1/sop.html", headers=owner.headers).data.decode()
    assert "07 Januari 2020" in page and "P. 20.2/UJI" in page and "Kepala Dinas" in page
    assert "Dr. Pengesah" in page and "NIP. 19740111 199311 1 002" in page
    assert "UU 25/2009 Pelayanan Publik" in page and "(DRAFT)" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    rows = page.split("<tbody>")[1]
    assert rows.index("Terima pengaduan") < rows.index("Telaah awal") < rows.index("Arsipkan berkas")
    assert client.get("/api/definitions/revisi_uji/versions/1/sop.pdf", headers=stranger.headers).status_code == 404
    assert client.get("/api/definitions/revisi_uji/versions/2/sop.html", headers=owner.headers).status_code == 404
    assert client.get("/api/definitions/revisi_uji/versions/1/sop.pdf").status_code == 401
