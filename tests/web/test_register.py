"""Perkara (the case register) and the office's Nomor registrasi, on SQLite and PostgreSQL.

The head of the Inspektorat (the Inspektur, a ``pengawas`` of the DUMAS SOP) finds a closed case by a
word of its uraian and by its Nomor registrasi, opens it and exports the register (XLSX read back with
openpyxl, CSV); another unit's user and another reporter see none of it; numbers run per unit and year
in the unit's timezone and restart on 1 January (time-machine); concurrent creations on PostgreSQL get
distinct numbers; hostile input is an Indonesian 400, never a 500; the export escapes formulas; the
page fits 390 px and axe-core finds no serious violation. The migration numbers and indexes the cases
stored before it.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import create_engine, text
from support.postgres import create_database
from support.web import (
    KEY,
    PASSWORD,
    PENGADUAN,
    SCREENSHOTS,
    TIDAK_BERKADAR,
    Dumas,
    axe_violations,
    browser_login,
)

from service.commands import accounts, comments, register
from service.commands.accounts import actor_by_id
from service.commands.cases import StartRequest, start_case
from service.commands.registration import next_registration_number
from service.commands.task_list import TaskQuery, list_tasks
from service.commands.tasks import complete
from service.store.migrate import upgrade
from service.store.models import Case, Unit

#: Tuesday 3 November 2026, 10:00 WIB (the Inspektorat of Katingan keeps Asia/Jakarta)
NOVEMBER = datetime(2026, 11, 3, 3, 0, tzinfo=UTC)
CLOSED_WORD = "jembatangantung"
OPEN_WORD = "pasarterapung"
OTHER_REPORTER_WORD = "sumurbor"
CLOSED = {"nomor_registrasi": "R-1", "laporan_hasil_verifikasi": "Bukan pengaduan yang dapat ditangani",
          "hasil_verifikasi": "tidak dapat diproses",
          "alasan_tidak_dapat_diproses": "Laporan tidak memuat identitas terlapor maupun waktu kejadian."}
FORMULA = '=HYPERLINK("http://evil.example","klik")'
PHONE = {"width": 390, "height": 844}


def _task_of(dumas: Dumas, username: str, case_id: str) -> str:
    found, _ = list_tasks(dumas.services, actor_by_id(dumas.services, dumas.users[username]), TaskQuery())
    return next(str(task.id) for task in found if task.case_id == case_id)


def _number(dumas: Dumas, case_id: str) -> str:
    with dumas.services.db.reading() as session:
        case = session.get(Case, case_id)
        assert case is not None and case.registration_number
        return case.registration_number


def _start_as(dumas: Dumas, username: str, **data: Any) -> str:
    actor = actor_by_id(dumas.services, dumas.users[username])
    return str(start_case(dumas.services, actor, StartRequest(KEY, data={**PENGADUAN, **data})).id)


class World:
    def __init__(self, dumas: Dumas) -> None:
        self.dumas = dumas
        dumas.users["pelapor2"] = accounts.create_user(dumas.services, "pelapor2", PASSWORD,
                                                       ["Pelapor@inspektorat-katingan"]).id
        with time_machine.travel(NOVEMBER, tick=False) as clock:
            self.closed = dumas.start(uraian=f"Jembatan rusak: {CLOSED_WORD} di desa tidak diperbaiki")
            clock.shift(60)
            self.open = dumas.start(uraian=f"Pungutan liar di {OPEN_WORD}")
            clock.shift(60)
            self.other = _start_as(dumas, "pelapor2", uraian=f"Dana {OTHER_REPORTER_WORD} desa diselewengkan")
            complete(dumas.services, actor_by_id(dumas.services, dumas.users["inspektorat"]),
                     _task_of(dumas, "inspektorat", self.closed), CLOSED)
        with dumas.services.db.transaction() as session:  # a value a spreadsheet would run (legacy data)
            case = session.get(Case, self.open)
            assert case is not None
            case.data = {**case.data, "saluran": FORMULA}


@pytest.fixture
def world(dumas: Dumas) -> World:
    return World(dumas)


def _rows(client: Any, **args: str) -> list[str]:
    response = client.get("/perkara", query_string=args)
    assert response.status_code == 200, response.text
    return re.findall(r'class="register-number" href="[^"]*">([^<]*)</a>', response.text)


def test_numbers_in_creation_order_and_search_by_word_and_number(world: World, sign_in: Callable[[str], Any]) -> None:
    dumas = world.dumas
    assert [_number(dumas, case) for case in (world.closed, world.open, world.other)] == [
        "001/DUMAS/XI/2026", "002/DUMAS/XI/2026", "003/DUMAS/XI/2026"]
    head = sign_in("inspektur")
    assert _rows(head) == ["003/DUMAS/XI/2026", "002/DUMAS/XI/2026", "001/DUMAS/XI/2026"]
    assert _rows(head, q=CLOSED_WORD) == ["001/DUMAS/XI/2026"]
    assert _rows(head, q=CLOSED_WORD[:7].upper()) == ["001/DUMAS/XI/2026"]  # a prefix, any case
    assert _rows(head, q="001/DUMAS/XI/2026") == ["001/DUMAS/XI/2026"]
    assert _rows(head, q=f"{CLOSED_WORD} {OPEN_WORD}") == []  # every word must match
    assert _rows(head, status="completed") == ["001/DUMAS/XI/2026"]
    assert _rows(head, status="running", sort="number") == ["002/DUMAS/XI/2026", "003/DUMAS/XI/2026"]
    assert _rows(head, sort="oldest") == ["001/DUMAS/XI/2026", "002/DUMAS/XI/2026", "003/DUMAS/XI/2026"]
    assert _rows(head, channel="langsung") == ["003/DUMAS/XI/2026", "001/DUMAS/XI/2026"]
    assert _rows(head, mode="biasa", **{"from": "2026-11-03", "to": "2026-11-03"}) == [
        "003/DUMAS/XI/2026", "002/DUMAS/XI/2026", "001/DUMAS/XI/2026"]
    assert _rows(head, **{"from": "2026-11-04"}) == []
    assert _rows(head, mode="anonim") == []
    assert _rows(head, late="1") == []
    # the history is searched too: the verifier's reason, and a staff note
    assert _rows(head, q="identitas terlapor") == ["001/DUMAS/XI/2026"]
    comments.add_comment(dumas.services, actor_by_id(dumas.services, dumas.users["inspektur"]), world.open,
                         "Perlu klarifikasi camat kecamatan")
    assert _rows(head, q="klarifikasi camat") == ["002/DUMAS/XI/2026"]

    # the REST API answers the number with the case
    token = head.post("/api/auth/token", json={"username": "inspektur", "password": PASSWORD}).json["token"]
    answer = head.get(f"/api/cases/{world.closed}", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.json["registration_number"] == "001/DUMAS/XI/2026"


def test_the_rest_api_searches_the_same_way(world: World, app: Any) -> None:
    client = app.test_client()

    def search(username: str, **args: str) -> Any:
        token = client.post("/api/auth/token", json={"username": username, "password": PASSWORD}).json["token"]
        return client.get("/api/cases", query_string=args, headers={"Authorization": f"Bearer {token}"})

    found = search("inspektur", q=CLOSED_WORD)
    assert found.status_code == 200 and [item["id"] for item in found.json["items"]] == [world.closed]
    assert found.json["items"][0]["registration_number"] == "001/DUMAS/XI/2026"
    assert [item["id"] for item in search("inspektur", q="002/DUMAS/XI/2026").json["items"]] == [world.open]
    assert search("luar", q=CLOSED_WORD).json["items"] == []
    assert search("pelapor", q=OTHER_REPORTER_WORD).json["items"] == []
    for bad in ("x" * 201, "a\x00b", "baris\nbaru"):
        assert search("inspektur", q=bad).status_code == 422
    assert search("inspektur", q='NEAR( "').status_code == 200


def test_other_units_and_other_reporters_see_nothing(world: World, sign_in: Callable[[str], Any]) -> None:
    outsider = sign_in("luar")
    assert _rows(outsider) == []
    assert _rows(outsider, q="001/DUMAS/XI/2026") == []
    assert _rows(outsider, q=CLOSED_WORD) == []
    reporter = sign_in("pelapor")
    assert _rows(reporter) == ["002/DUMAS/XI/2026", "001/DUMAS/XI/2026"]
    assert _rows(reporter, q=OTHER_REPORTER_WORD) == []
    assert _rows(reporter, q="003/DUMAS/XI/2026") == []
    export = reporter.get("/perkara/ekspor.csv")
    assert export.status_code == 200
    assert OTHER_REPORTER_WORD not in export.text and "003/DUMAS/XI/2026" not in export.text


def test_a_need_to_know_viewer_finds_no_case_by_the_fields_it_may_not_read(
        dumas: Dumas, sign_in: Callable[[str], Any]) -> None:
    case_id = dumas.start(uraian="Pungutan di kantor desa")
    services = dumas.services
    complete(services, actor_by_id(services, dumas.users["inspektorat"]), _task_of(dumas, "inspektorat", case_id),
             {"nomor_registrasi": "R-2", "laporan_hasil_verifikasi": "Lengkap", "hasil_verifikasi": "lengkap"})
    complete(services, actor_by_id(services, dumas.users["inspektur"]), _task_of(dumas, "inspektur", case_id),
             {"inti_masalah": "Pungutan liar", "memo_kepala_inspektorat": "Salurkan", **TIDAK_BERKADAR})
    number = _number(dumas, case_id)
    eselon = sign_in("eselon2")
    assert _rows(eselon) == [number]
    assert _rows(eselon, q="kantor desa") == []  # the uraian is shown to it, but search reads whole cases only
    assert _rows(eselon, q="Rahmah") == []  # the reporter's name: never to this viewer
    assert _rows(eselon, q=number) == [number]
    assert "Siti" not in eselon.get("/perkara/ekspor.csv").text


def test_hostile_input_is_an_indonesian_400_never_a_500(world: World, sign_in: Callable[[str], Any]) -> None:
    head = sign_in("inspektur")
    for q in ('"', "NEAR(", 'a" OR "b', "*", "AND", "-", "^x", "({[", "' OR 1=1 --", ":*&|!"):
        response = head.get("/perkara", query_string={"q": q})
        assert response.status_code == 200, (q, response.status_code)
    long = head.get("/perkara", query_string={"q": "x" * 201})
    assert long.status_code == 400 and "Pencarian: paling banyak 200 karakter." in long.text
    cases = {("from", "2026-13-45"): "Dibuat sejak", ("to", "kemarin"): "Dibuat sampai", ("sort", "DROP"): "Urutkan",
             ("status", "x"): "Status", ("mode", "y"): "Cara melapor", ("late", "2"): "Terlambat",
             ("page", "0"): "Halaman", ("page", "-1"): "Halaman", ("page", "\u00b2"): "Halaman"}
    for (name, value), label in cases.items():
        response = head.get("/perkara", query_string={name: value})
        assert response.status_code == 400, (name, value)
        assert label in response.text and 'id="register-problem"' in response.text, (name, value)
        assert head.get("/perkara/ekspor.xlsx", query_string={name: value}).status_code == 400
    for name, value in (("q", "\x00"), ("sop", "a\x00b"), ("channel", "\x00")):  # refused for every route
        for path in ("/perkara", "/perkara/ekspor.xlsx"):
            response = head.get(path, query_string={name: value})
            assert response.status_code == 422 and "Beberapa isian tidak valid." in response.text, (path, name)
    backwards = head.get("/perkara", query_string={"from": "2026-11-05", "to": "2026-11-01"})
    assert backwards.status_code == 400 and "sebelum tanggal awal" in backwards.text
    escaped = head.get("/perkara", query_string={"q": "<script>alert(1)</script>"})
    assert escaped.status_code == 200 and "<script>alert(1)" not in escaped.text
    assert head.get("/perkara/ekspor.pdf").status_code == 404


def test_formulas_are_escaped_in_both_exports(world: World, sign_in: Callable[[str], Any]) -> None:
    head = sign_in("inspektur")
    rows = list(csv.reader(io.StringIO(head.get("/perkara/ekspor.csv").text.lstrip("\ufeff"))))
    assert rows[0][0] == "Nomor registrasi"
    found = {row[0]: row for row in rows[1:]}
    assert found["002/DUMAS/XI/2026"][5] == "'" + FORMULA
    book = load_workbook(io.BytesIO(head.get("/perkara/ekspor.xlsx").data))
    sheet = book.active
    assert sheet is not None
    cells = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert cells["002/DUMAS/XI/2026"][5] == "'" + FORMULA
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_numbers_per_unit_and_year_restart_on_the_first_of_january_in_the_units_timezone(dumas: Dumas) -> None:
    services = dumas.services
    # 31 December 2026, 23:30 WIB; then 1 January 2027, 00:10 WIB — still 31 December in UTC
    with time_machine.travel(datetime(2026, 12, 31, 16, 30, tzinfo=UTC), tick=False) as clock:
        december = [dumas.start(), dumas.start()]
        clock.move_to(datetime(2026, 12, 31, 17, 10, tzinfo=UTC))
        january = [dumas.start(), dumas.start()]
    assert [_number(dumas, case) for case in december] == ["001/DUMAS/XII/2026", "002/DUMAS/XII/2026"]
    assert [_number(dumas, case) for case in january] == ["001/DUMAS/I/2027", "002/DUMAS/I/2027"]
    with services.db.transaction() as session:  # another unit counts on its own, with its own code
        other = session.query(Unit).filter_by(code="dinsos-kukar").one()
        other.registration_code = "ADU"
        assert other.timezone == "Asia/Makassar"
        at = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # already 1 January 2027, 00:30 WITA
        assert next_registration_number(session, other, at) == "001/ADU/I/2027"
        assert next_registration_number(session, other, at) == "002/ADU/I/2027"
    with services.db.transaction() as session:
        counters = dict(((unit, year), last) for unit, year, last in session.execute(
            text("SELECT unit_id, year, last_number FROM registration_counters")))
    assert sorted(counters.values()) == [2, 2, 2]
    with services.db.transaction() as session:  # past 999 the number grows a digit
        unit = session.query(Unit).filter_by(code="inspektorat-katingan").one()
        session.execute(text("UPDATE registration_counters SET last_number = 999 WHERE unit_id = :u AND year = 2027"),
                        {"u": unit.id})
        assert next_registration_number(session, unit, datetime(2027, 3, 1, 3, tzinfo=UTC)) == "1000/DUMAS/III/2027"


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_concurrent_creations_get_distinct_numbers_on_postgres(dumas: Dumas) -> None:
    numbers: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def file() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                numbers.append(_number(dumas, dumas.start()))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=file) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    year = datetime.now(UTC).year  # the numbers' year only; nothing is asserted about the clock
    assert len(numbers) == 18 and len(set(numbers)) == 18
    assert sorted(int(number.split("/")[0]) for number in numbers) == list(range(1, 19))
    assert all(number.endswith(f"/{year}") or number.endswith(f"/{year + 1}") for number in numbers)


def test_in_chromium_the_head_finds_opens_and_exports_a_closed_case(world: World, new_page: Callable[..., Any],
                                                                     tmp_path: Path) -> None:
    page = new_page()
    browser_login(page, "inspektur")
    page.get_by_role("link", name="Perkara").click()
    page.fill("#q", CLOSED_WORD)
    page.get_by_role("button", name="Cari").click()
    page.wait_for_url(f"**q={CLOSED_WORD}**")
    links = page.locator(".register-table tbody a")
    assert links.all_inner_texts() == ["001/DUMAS/XI/2026"]
    assert "selesai" in page.locator(".register-table tbody tr").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "register.png"), full_page=True)
    page.fill("#q", "001/DUMAS/XI/2026")
    page.get_by_role("button", name="Cari").click()
    page.wait_for_url("**q=001**")
    assert links.all_inner_texts() == ["001/DUMAS/XI/2026"]
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Excel (XLSX)").click()
    target = tmp_path / "perkara.xlsx"
    download_info.value.save_as(target)
    sheet = load_workbook(target).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("Nomor registrasi", "SOP", "Kunci SOP", "Unit", "Status")
    assert [row[0] for row in rows[1:]] == ["001/DUMAS/XI/2026"]
    assert rows[1][4] == "selesai" and rows[1][2] == "dumas-inspektorat-katingan"
    assert rows[1][7] == datetime(2026, 11, 3, 10, 0)  # created, in the office's time
    with page.expect_download() as download_info:
        page.get_by_role("link", name="CSV").click()
    csv_path = tmp_path / "perkara.csv"
    download_info.value.save_as(csv_path)
    csv_rows = list(csv.reader(io.StringIO(csv_path.read_text(encoding="utf-8-sig"))))
    assert [row[0] for row in csv_rows[1:]] == ["001/DUMAS/XI/2026"]
    links.first.click()
    page.wait_for_url(f"**/cases/{world.closed}")
    assert page.console_errors == []


def test_in_chromium_the_register_fits_390_px_and_axe_finds_nothing_serious(
        world: World, new_page: Callable[..., Any]) -> None:
    page = new_page(bypass_csp=True)
    page.set_viewport_size(PHONE)
    browser_login(page, "inspektur")
    for path in ("/perkara", "/perkara?sort=oldest", "/perkara?from=bukan-tanggal"):
        page.goto(path)
        if path == "/perkara":
            page.screenshot(path=str(SCREENSHOTS / "register-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        assert axe_violations(page) == [], path
    page.set_viewport_size({"width": 1366, "height": 900})
    page.goto("/perkara")
    assert axe_violations(page) == []


# --- the migration: cases stored before it ---------------------------------------------------------

def _migrated_to_0013(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        url = create_database(request.getfixturevalue("postgres_server"), f"reg_{uuid.uuid4().hex[:12]}")
    upgrade(url, "0013")
    return url


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migration_0014_numbers_and_indexes_the_stored_cases(backend: str, request: pytest.FixtureRequest,
                                                              tmp_path: Path) -> None:
    url = _migrated_to_0013(backend, request, tmp_path)
    engine = create_engine(url)
    stamp = "2026-01-01 00:00:00+00:00"
    with engine.begin() as connection:
        for unit_id, code, zone in ((1, "a", "Asia/Jakarta"), (2, "b", "Asia/Makassar")):
            connection.execute(text("INSERT INTO units (id, code, name, timezone, registration_code, created_at) "
                                    "VALUES (:id, :code, :code, :zone, 'DUMAS', :at)"),
                               {"id": unit_id, "code": code, "zone": zone, "at": stamp})
            connection.execute(text(
                "INSERT INTO definitions (id, key, version, unit_id, title, bpmn_xml, checksum, forms, dependencies, "
                "sop_metadata, status, deployed_at) VALUES (:id, :key, 1, :id, 't', '<x/>', 'c', '{}', '[]', '{}', "
                "'active', :at)"), {"id": unit_id, "key": f"sop-{code}", "at": stamp})
        # unit a: 31 Dec 2025 20:00 WIB, 1 Jan 2026 07:30 WIB (still 2025 in UTC), 2 Feb 2026; unit b: one
        for case_id, unit_id, created, uraian in (
                ("c2", 1, "2026-01-01 00:30:00+00:00", "kedua"), ("c1", 1, "2025-12-31 13:00:00+00:00", "pertama"),
                ("c3", 1, "2026-02-02 02:00:00+00:00", "ketiga"), ("b1", 2, "2026-03-01 02:00:00+00:00", "lain")):
            connection.execute(text(
                "INSERT INTO cases (id, definition_id, unit_id, status, state, data, lock_version, created_at, "
                "updated_at, timer_failures) VALUES (:id, :unit, :unit, 'completed', '{}', :data, 1, :at, :at, 0)"),
                {"id": case_id, "unit": unit_id, "at": created, "data": f'{{"uraian": "laporan {uraian}"}}'})
        connection.execute(text("INSERT INTO history (case_id, actor, action, at, data, prev_hash, hash) VALUES "
                                "('c3', 'x', 'task_completed', :at, '{\"data\": {\"catatan\": \"Tembakau\"}}', "
                                "'0', '1')"), {"at": stamp})
    engine.dispose()
    upgrade(url, "0014")  # 0021 makes the SQLite table contentless: tests/store/test_case_search.py
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            numbers = dict(connection.execute(text("SELECT id, registration_number FROM cases")).all())
            counters = sorted(connection.execute(
                text("SELECT unit_id, year, last_number FROM registration_counters")).all())
            assert numbers == {"c1": "001/DUMAS/XII/2025", "c2": "001/DUMAS/I/2026", "c3": "002/DUMAS/II/2026",
                               "b1": "001/DUMAS/III/2026"}
            assert counters == [(1, 2025, 1), (1, 2026, 2), (2, 2026, 1)]
            if backend == "sqlite":
                found = connection.execute(text("SELECT DISTINCT case_id FROM case_search WHERE case_search MATCH "
                                                "'\"tembakau\"*'")).scalars().all()
                assert found == ["c3"]
                connection.execute(text("INSERT INTO comments (case_id, author, body, created_at) "
                                        "VALUES ('b1', 'x', 'Catatan rahasia kopi', :at)"), {"at": stamp})
                assert connection.execute(text("SELECT case_id FROM case_search WHERE case_search MATCH 'kopi'")
                                          ).scalars().all() == ["b1"]
            else:
                indexes = set(connection.execute(text(
                    "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'ix_%_search'")).scalars().all())
                assert indexes == {"ix_cases_search", "ix_history_search", "ix_comments_search",
                                   "ix_conversation_search"}
    finally:
        engine.dispose()


def test_register_words_ignore_query_syntax() -> None:
    assert register.words('"NEAR( a* b:* ) & c|d !e') == ["near", "a", "b", "c", "d", "e"]
    assert register.words("001/DUMAS/XI/2026") == ["001", "dumas", "xi", "2026"]
    assert len(register.words("x " * 100)) == register.MAX_WORDS

