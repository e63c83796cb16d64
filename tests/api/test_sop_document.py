"""The SOP AP document generated from each bundled diagram: HTML, PDF, and the PDF rendered to PNG.

The PDF's text (pypdf) must show the Pelaksana columns (one per lane) and the Mutu Baku of the seed
procedure (``shared/seeds/STEPS.md``); each page is rendered to PNG (pypdfium2) to prove it is a
readable document, not just bytes.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from pypdf import PdfReader
from support.helpers import ENGINE_DATA, Persona, deploy_file
from support.sop_driver import BPMN_DIR, FORMS_DIR, deploy

from service.catalogue import BUNDLED_OFFICES
from service.commands import accounts

#: diagram → (lanes in column order, Mutu Baku texts of its seed that the table must show)
EXPECTED: dict[str, tuple[list[str], list[str]]] = {
    "wbs-dpmptsp-kukar": (["Pelapor", "Kasi", "Kabid", "Bidang Terkait"],
                          ["10 Menit", "5 Menit", "3 Menit", "3 Jam", "40 Menit", "Form Pengaduan", "Arsip",
                           "Form Pengaduan, Surat Balasan"]),
    "wbs-dpmptsp-lamandau": (["Pelapor", "Sekretariat", "Tim Telaah", "Tim Audit", "Kepala Dinas"],
                             ["30 Menit", "1 Jam", "15 Menit", "Catatan Pengaduan WBS", "Tanggapan Pengaduan WBS"]),
    "wbs-disperindagkop-kebumen": (["Pelapor", "Tim Penerima Pengaduan", "Sekretariat Penanganan"],
                                   ["Form pengaduan", "Catatan penanganan pengaduan"]),
    "pengaduan-langsung-dinsos-kukar": (["Pelapor", "Petugas", "Kabid", "Sekretaris", "Kepala Dinas"],
                                        ["10 Menit", "2 hari kerja", "10 hari kerja", "Laporan"]),
    "pengaduan-online-dinsos-kukar": (["Pelapor", "Admin Media Sosial", "Kabid", "Sekretaris", "Kepala Dinas"],
                                      ["5 Menit", "10 Menit", "30 Menit", "Dokumen materi pengaduan"]),
    "dumas-inspektorat-katingan": (["Pelapor", "Inspektorat", "Inspektur", "Sekretariat Inspektorat", "Eselon II",
                                    "Instansi Lain"],
                                   ["60 Hari", "14 hari kerja", "Laporan Hasil verifikasi"]),
    "pengaduan-online-dinsos-kukar-laporan-berkala": (["Sekretaris", "Kepala Dinas"],
                                                      ["3 bulan/6 bulan", "Laporan Berkala"]),
    "dumas-inspektorat-katingan-laporan-berkala": (["Sekretariat Inspektorat", "Inspektur"], ["semesteran"]),
}


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


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sop_pdf_of_each_bundled_sop_has_lane_columns_and_mutu_baku(
        app: Any, make_persona: Callable[..., Persona], name: str, tmp_path: Path) -> None:
    client = app.test_client()
    admin = make_persona("admin", admin=True)
    if name.startswith("dumas-inspektorat-katingan") or name == "wbs-dpmptsp-kukar":
        assert deploy(client, admin, BPMN_DIR / "surat-keluar.bpmn").status_code == 201
    deployed = deploy(client, admin, BPMN_DIR / f"{name}.bpmn")
    assert deployed.status_code == 201, deployed.json
    key, version = deployed.json["key"], deployed.json["version"]
    response = client.get(f"/api/definitions/{key}/versions/{version}/sop.pdf", headers=admin.headers)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")

    document = pypdfium2.PdfDocument(response.data)
    for number in range(len(document)):
        image = document[number].render(scale=1.5).to_pil()
        image.save(tmp_path / f"{name}-{number + 1}.png")
        assert image.width > image.height  # A4 landscape, like the printed SOPs
        assert image.convert("L").getextrema()[0] < 64  # there is ink on the page
    text = _text(response.data)
    lanes, mutu_baku = EXPECTED[name]
    for label in ("Nomor SOP", "Tanggal Pembuatan", "Tanggal Revisi", "Tanggal Efektif", "Disahkan oleh",
                  "Dasar Hukum", "Kualifikasi Pelaksana", "Keterkaitan", "Peralatan/Perlengkapan", "Peringatan",
                  "Pencatatan dan Pendataan", "Pelaksana", "Mutu Baku", "Kelengkapan", "Waktu", "Output"):
        assert label in text, label
    header = text[text.index("Pelaksana"):text.index("Kelengkapan")]
    positions = [header.find(lane) for lane in lanes]
    assert -1 not in positions, (lanes, header)
    assert positions == sorted(positions), header  # one column per lane, in the diagram's order
    for value in mutu_baku:
        assert value in text, value
    html = client.get(f"/api/definitions/{key}/versions/{version}/sop.html", headers=admin.headers)
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert html.data.decode().count('class="mark"') >= 1


def test_sop_html_shows_the_draft_metadata_escaped(app: Any, make_persona: Callable[..., Persona]) -> None:
    client = app.test_client()
    owner = make_persona("owner.a", "process_owner@unit-a")
    stranger = make_persona("kasi.kukar", "Kasi@dpmptsp-kukar")
    assert deploy_file(client, owner, ENGINE_DATA / "revision_v1.bpmn").json["status"] == "draft"
    patch = client.patch("/api/definitions/revisi_uji/versions/1", headers=owner.headers, json={
        "created_on": "2020-01-07", "approved_by": "Kepala Dinas", "sop_number": "P. 20.2/UJI",
        "dasar_hukum": ["UU 25/2009 Pelayanan Publik", "<script>alert(1)</script>"],
        "peringatan": ["Jika SOP tidak dilaksanakan maka layanan tidak berjalan dengan baik"]})
    assert patch.status_code == 200, patch.json
    page = client.get("/api/definitions/revisi_uji/versions/1/sop.html", headers=owner.headers).data.decode()
    assert "07 Januari 2020" in page and "P. 20.2/UJI" in page and "Kepala Dinas" in page
    assert "UU 25/2009 Pelayanan Publik" in page and "(DRAFT)" in page
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    rows = page.split("<tbody>")[1]
    assert rows.index("Terima pengaduan") < rows.index("Telaah awal") < rows.index("Arsipkan berkas")
    assert client.get("/api/definitions/revisi_uji/versions/1/sop.pdf", headers=stranger.headers).status_code == 404
    assert client.get("/api/definitions/revisi_uji/versions/2/sop.html", headers=owner.headers).status_code == 404
    assert client.get("/api/definitions/revisi_uji/versions/1/sop.pdf").status_code == 401
