"""DMN decision tables (issue 15, item 2): deployed with the BPMN, versioned and checksummed with it,
checked and evaluated by the same safe expression rules as gateway conditions.

The bundled SOP 004 (``dumas-inspektorat-katingan``) routes the Inspektur's kategori hasil penelaahan
through the decision ``tujuan_penyaluran_dumas`` (``bpmn/tujuan_penyaluran_dumas.dmn``). Here the app's
decisions directory is empty, so the decision table the tests use is the one uploaded in the field ``dmn``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from support.sop_driver import BPMN_DIR, FORMS_DIR, Sop, form, ready

from service.app import create_app
from service.catalogue import BUNDLED_OFFICES, SUB_UNITS
from service.commands import accounts, drafts
from service.commands.export import export
from service.config import Settings

KEY = "dumas-inspektorat-katingan"
UNIT = "inspektorat-katingan"
BPMN = (BPMN_DIR / f"{KEY}.bpmn").read_bytes()
DECISION = "tujuan_penyaluran_dumas"
DMN = (BPMN_DIR / f"{DECISION}.dmn").read_bytes()
DPMD = "katingan-dpmd"
TIDAK_BERKADAR = "tidak berkadar pengawasan atau tidak logis"
PENGADUAN = form("dumas-pengaduan", nama="Siti Rahmah", pekerjaan="Guru", jenis_laporan="penyalahgunaan wewenang",
                 uraian="Pungutan liar pada pelayanan surat keterangan desa", lokasi_kasus="Desa Tumbang Samba",
                 email="siti@contoh.id")
#: kategori_telaah → the task the table's tujuan_penyaluran routes to, and its lane
BRANCHES = {
    "berkadar pengawasan": ("Task_penyaluran", "Sekretariat Inspektorat"),
    TIDAK_BERKADAR: ("Task_tindak_lanjut_eselon2", "Eselon II"),
    "bukan kewenangan": ("Task_instansi_lain", "Inspektur"),
}


@pytest.fixture
def forms_dir() -> Path:
    return FORMS_DIR


@pytest.fixture
def app(settings: Settings, tmp_path: Path) -> Iterator[Any]:
    """The app with an empty decisions directory: a decision comes from the deploy or not at all."""
    empty = tmp_path / "decisions"
    empty.mkdir()
    flask_app = create_app({"database_url": settings.database_url, "secret_key": settings.secret_key,
                            "forms_dir": settings.forms_dir, "data_dir": settings.data_dir,
                            "decisions_dir": empty, "testing": True})
    yield flask_app
    flask_app.extensions["alur.services"].db.dispose()


@pytest.fixture
def sop(app: Any, make_persona: Callable[..., Any]) -> Sop:
    services = app.extensions["alur.services"]
    office = next(office for office in BUNDLED_OFFICES if office.code == UNIT)
    accounts.create_unit(services, office.code, office.name, office.timezone)
    for unit in SUB_UNITS[UNIT]:
        accounts.create_unit(services, unit.code, unit.name, unit.timezone, parent=UNIT)
    return Sop(app, None, make_persona, make_persona("admin", admin=True))


def _deploy(sop: Sop, bpmn: bytes = BPMN, *dmn: tuple[bytes, str]) -> Any:
    files = [(io.BytesIO(data), name) for data, name in dmn]
    response = sop.client.post("/api/definitions", headers=sop.admin.headers,
                               data={"bpmn": (io.BytesIO(bpmn), f"{KEY}.bpmn"), "unit": UNIT, "dmn": files},
                               content_type="multipart/form-data")
    if response.status_code in (200, 201):
        sop.deployed[KEY] = dict(response.json)
    return response


def _at_telaah(sop: Sop) -> dict[str, Any]:
    case = sop.start(KEY, PENGADUAN)
    case = sop.work(case, "Task_verifikasi", "Inspektorat",
                    form("dumas-verifikasi", hasil_verifikasi="lengkap", nomor_registrasi="DUMAS/001/X/2025"))
    assert ready(case) == ["Task_penelaahan"]
    return case


def _telaah(sop: Sop, case: dict[str, Any], kategori: str) -> dict[str, Any]:
    extra = {"unit_kerja_terlapor": DPMD, "alasan_kategori": "Ditangani secara intern oleh Dinas PMD."} \
        if kategori == TIDAK_BERKADAR else {}
    return sop.work(case, "Task_penelaahan", "Inspektur", form("dumas-penelaahan", kategori_telaah=kategori, **extra))


def _edited(old: str, new: str) -> bytes:
    text = DMN.decode()
    assert text.count(old) == 1, old
    return text.replace(old, new).encode()


def test_each_branch_of_the_decision_table_through_the_rest_api(sop: Sop) -> None:
    deployed = _deploy(sop, BPMN, (DMN, f"{DECISION}.dmn"))
    assert deployed.status_code == 201, deployed.json
    assert deployed.json["decisions"] == [DECISION]
    for kategori, (task, lane) in BRANCHES.items():
        case = _telaah(sop, _at_telaah(sop), kategori)
        assert ready(case) == [task], (kategori, ready(case))
        assert case["tasks"][0]["lane"] == lane
        if task == "Task_tindak_lanjut_eselon2":
            assert case["tasks"][0]["unit"] == DPMD


def test_a_diagram_whose_decision_is_missing_is_refused_naming_the_task(sop: Sop) -> None:
    refused = _deploy(sop)
    assert refused.status_code == 422, refused.json
    errors = [e for e in refused.json["errors"] if e.get("element_id") == "Task_tujuan_penyaluran"]
    assert errors and DECISION in errors[0]["message"], refused.json
    assert sop.client.get(f"/api/definitions/{KEY}/versions", headers=sop.admin.headers).status_code == 404


def test_an_edited_decision_table_is_a_new_revision_and_running_cases_keep_theirs(sop: Sop) -> None:
    first = _deploy(sop, BPMN, (DMN, f"{DECISION}.dmn"))
    assert first.status_code == 201, first.json
    again = _deploy(sop, BPMN, (DMN, "renamed.dmn"))
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    old_case = _at_telaah(sop)

    edited = _edited('<text>"instansi_lain"</text>', '<text>"inspektorat"</text>')
    second = _deploy(sop, BPMN, (edited, f"{DECISION}.dmn"))
    assert second.status_code == 201, second.json
    assert second.json["version"] == 2 and second.json["checksum"] != first.json["checksum"]
    assert _deploy(sop, BPMN, (edited, f"{DECISION}.dmn")).json["version"] == 2
    new_case = _at_telaah(sop)
    assert (old_case["version"], new_case["version"]) == (1, 2)

    sop.services.specs.clear()  # each revision is compiled again from what it stored
    old_case = _telaah(sop, old_case, "bukan kewenangan")
    assert ready(old_case) == ["Task_instansi_lain"]
    new_case = _telaah(sop, new_case, "bukan kewenangan")
    assert ready(new_case) == ["Task_penyaluran"]


def test_unary_tests_with_an_operator_or_the_input_mark_run_in_the_restricted_engine(sop: Sop) -> None:
    """``>= "x"`` reads ``kategori_telaah >= "x"``; ``?`` stands for the input's value; a word operator
    without ``?`` (SpiffWorkflow would glue it to the input: ``kategori_telaahin [...]``) is refused."""
    glued = _edited('<text>"bukan kewenangan"</text>', '<text>in ["bukan kewenangan"]</text>')
    refused = _deploy(sop, BPMN, (glued, f"{DECISION}.dmn"))
    assert refused.status_code == 422 and "input mark" in refused.json["errors"][0]["message"]
    table = _edited('<text>"bukan kewenangan"</text>', '<text>? in ["bukan kewenangan", "di luar wewenang"]</text>')
    table = table.replace(b'<text>"berkadar pengawasan"</text>',
                          f'<text>? != "bukan kewenangan" and ? != "{TIDAK_BERKADAR}"</text>'.encode())
    table = table.replace(f'<text>"{TIDAK_BERKADAR}"</text>'.encode(), b'<text>&gt;= "tidak"</text>')
    assert _deploy(sop, BPMN, (table, f"{DECISION}.dmn")).status_code == 201
    for kategori in (TIDAK_BERKADAR, "bukan kewenangan", "berkadar pengawasan"):
        assert ready(_telaah(sop, _at_telaah(sop), kategori)) == [BRANCHES[kategori][0]]


HOSTILE = {
    "input expression": ("<text>kategori_telaah</text>", "<text>__import__('os').system('id')</text>",
                         "input 1"),
    "input entry": ('<text>"bukan kewenangan"</text>', "<text>().__class__.__bases__</text>",
                    "rule 3 ('Rule_bukan_kewenangan'), input entry 1"),
    "output entry": ('<text>"eselon_ii"</text>', "<text>open('/etc/passwd').read()</text>",
                     "rule 2 ('Rule_tidak_berkadar_pengawasan'), output entry 1"),
    "dunder name": ('<text>"inspektorat"</text>', "<text>__builtins__</text>",
                    "rule 1 ('Rule_berkadar_pengawasan'), output entry 1"),
    "comprehension": ('<text>"berkadar pengawasan"</text>', "<text>[c for c in kategori_telaah]</text>",
                      "rule 1 ('Rule_berkadar_pengawasan'), input entry 1"),
}


@pytest.mark.parametrize("where", sorted(HOSTILE))
def test_a_hostile_dmn_expression_is_refused_like_a_hostile_condition(sop: Sop, where: str) -> None:
    old, new, named = HOSTILE[where]
    refused = _deploy(sop, BPMN, (_edited(old, new), f"{DECISION}.dmn"))
    assert refused.status_code == 422, refused.json
    assert refused.json["code"] == "invalid_diagram"
    messages = [e["message"] for e in refused.json["errors"]]
    assert any(f"Decision '{DECISION}', {named}" in message for message in messages), messages
    # the same expression as a gateway condition is refused by the same checker
    condition = BPMN.replace(b'tujuan_penyaluran == "eselon_ii"',
                             new.removeprefix("<text>").removesuffix("</text>").replace("'", '"').encode())
    assert _deploy(sop, condition, (DMN, f"{DECISION}.dmn")).status_code == 422
    assert sop.client.get(f"/api/definitions/{KEY}/versions", headers=sop.admin.headers).status_code == 404


@pytest.mark.parametrize(("old", "new", "said"), [
    ('<?xml version="1.0" encoding="UTF-8"?>',
     '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
     "DOCTYPE"),
    ('hitPolicy="UNIQUE"', 'hitPolicy="ANY"', "hit policy ANY"),
    ('name="tujuan_penyaluran"', 'name="__class__"', "must be a case variable"),
    ("<text>kategori_telaah</text>", "<text></text>", "input expression is empty"),
    ('<decision id="tujuan_penyaluran_dumas"', '<decision id="../../etc/passwd"', "decision id"),
])
def test_a_malformed_or_hostile_dmn_file_is_refused(sop: Sop, old: str, new: str, said: str) -> None:
    refused = _deploy(sop, BPMN, (_edited(old, new), f"{DECISION}.dmn"))
    assert refused.status_code == 422, refused.json
    assert said in refused.json["message"] + " ".join(e["message"] for e in refused.json["errors"])


def test_a_bpmn_file_in_the_dmn_field_is_refused(sop: Sop) -> None:
    refused = _deploy(sop, BPMN, (DMN, f"{DECISION}.dmn"), (BPMN, "not-a-decision.dmn"))
    assert refused.status_code == 422
    assert "not-a-decision.dmn" in refused.json["message"]



def test_alur_export_writes_the_table_where_deploys_find_it(sop: Sop, tmp_path: Path) -> None:
    """``alur export`` writes the revision's table as ``<decision id>.dmn`` next to its BPMN; deploying the
    exported files again finds the same revision."""
    edited = _edited('<text>"instansi_lain"</text>', '<text>"inspektorat"</text>')
    first = _deploy(sop, BPMN, (edited, "any-name.dmn"))
    assert first.status_code == 201, first.json
    done = export(sop.services, KEY, tmp_path / "bpmn", tmp_path / "forms")
    assert [path.name for path in done.decisions] == [f"{DECISION}.dmn"]
    assert done.decisions[0].read_bytes() == edited
    again = _deploy(sop, done.bpmn.read_bytes(), *[(path.read_bytes(), path.name) for path in done.decisions])
    assert again.status_code == 200 and again.json["id"] == first.json["id"]


def test_a_revisions_decision_table_is_readable_by_its_unit_only(sop: Sop, make_persona: Callable[..., Any]) -> None:
    assert _deploy(sop, BPMN, (DMN, "t.dmn")).status_code == 201
    url = f"/api/definitions/{KEY}/versions/1/decisions/{DECISION}"
    found = sop.client.get(url, headers=sop.admin.headers)
    assert found.status_code == 200 and found.mimetype == "application/xml" and found.data == DMN
    assert sop.client.get(url + "x", headers=sop.admin.headers).status_code == 404
    accounts.create_unit(sop.services, "unit-lain", "Unit lain", "Asia/Jakarta")
    outsider = make_persona("kasi.lain", "Kasi@unit-lain")
    assert sop.client.get(url, headers=outsider.headers).status_code == 404


def test_a_draft_saved_in_the_modeler_keeps_its_base_revisions_table(sop: Sop) -> None:
    """The modeler sends only the BPMN: the new draft (and a draft saved again in place) keeps the tables."""
    edited = _edited('<text>"instansi_lain"</text>', '<text>"inspektorat"</text>')
    first = _deploy(sop, BPMN, (edited, f"{DECISION}.dmn"))
    assert first.status_code == 201, first.json
    admin = accounts.actor_from_token(sop.services, sop.admin.token)
    renamed = BPMN.replace(b'name="Tujuan penyaluran?"', b'name="Tujuan penyaluran hasil telaah?"')
    saved = drafts.save(sop.services, admin, KEY, 1, renamed)
    assert (saved.outcome, saved.definition.version, saved.definition.status) == ("created", 2, "draft")
    assert saved.definition.decisions == {DECISION: edited.decode()}
    again = drafts.save(sop.services, admin, KEY, 2, renamed.replace(b"hasil telaah?", b"hasil penelaahan?"))
    assert again.outcome == "updated" and again.definition.decisions == {DECISION: edited.decode()}
    assert drafts.check(sop.services, admin, KEY, 2, renamed) == []
