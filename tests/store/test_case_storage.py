"""Storage settings of migration 0023 (bytes per completed case "as grown", issue 13).

PostgreSQL: ``cases.state`` and ``cases.data`` are compressed with lz4 when the server has it, and a
state large enough to be compressed reads back byte for byte and still runs. SQLite: the database has
pages of ``SQLITE_PAGE_SIZE`` bytes after migrating, a downgrade and an upgrade rewrite it and keep its
journal mode, and a file that another connection holds in WAL mode is migrated with its pages as they
are.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text
from support import complaint_model
from support.complaint_model import FLOW, KEY
from support.helpers import Persona, migration_module

from service.engine.serialization import FORMAT_KEY, FULL_FORMAT, expand_state
from service.store.migrate import alembic_config, upgrade
from service.store.types import state_of

#: fixtures of the complaint model (found by pytest by name)
engine, forms_dir, lanes = complaint_model.engine, complaint_model.forms_dir, complaint_model.lanes


M0023 = migration_module("0023_case_storage.py")
ON_POSTGRES = pytest.mark.parametrize(
    "db_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)


def _start(client: Any, lanes: dict[str, Persona]) -> str:
    created = client.post("/api/cases", headers=lanes["Pelapor"].headers,
                          json={"definition_key": KEY, "data": FLOW["create"]})
    assert created.status_code == 201, created.json
    return str(created.json["id"])


def _complete(client: Any, lanes: dict[str, Persona], case_id: str, steps: list[Any]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for lane, element, data in steps:
        listed = client.get("/api/tasks", headers=lanes[lane].headers)
        (task,) = [t for t in listed.json["items"] if t["case_id"] == case_id and t["element_id"] == element]
        done = client.post(f"/api/tasks/{task['id']}/complete", headers=lanes[lane].headers, json={"data": data})
        assert done.status_code == 200, done.json
        body = done.json
    return body


@ON_POSTGRES
def test_postgres_storage_settings_are_applied(engine: Engine) -> None:
    with engine.connect() as conn:
        compression = {str(name): str(method) for name, method in conn.execute(text(
            "SELECT attname, attcompression FROM pg_attribute "
            "WHERE attrelid = 'cases'::regclass AND attname IN ('state', 'data')"))}
        assert compression == ({"state": "l", "data": "l"} if M0023.has_lz4(conn) else {"state": "", "data": ""})


@ON_POSTGRES
def test_a_compressed_state_reads_back_byte_identical_and_runs_on(
        client: Any, lanes: dict[str, Persona], engine: Engine) -> None:
    case_id = _start(client, lanes)
    with engine.begin() as conn:
        lz4 = M0023.has_lz4(conn)
        stored = state_of(conn.execute(text("SELECT state FROM cases WHERE id = :c"), {"c": case_id}).scalar_one())
        # format 1 (as written before migration 0020), as JSON text (as rows stored before migration 0025 are):
        # a row over PostgreSQL's ~2 kB, so its state is compressed
        wide = json.dumps(expand_state(stored), indent=1)
        assert json.loads(wide)[FORMAT_KEY] == FULL_FORMAT and len(wide) > 4_000
        conn.execute(text("UPDATE cases SET state = convert_to(:s, 'UTF8') WHERE id = :c"), {"s": wide, "c": case_id})
        back, method, size, length = conn.execute(text(
            "SELECT convert_from(state, 'UTF8'), pg_column_compression(state), pg_column_size(state), "
            "octet_length(state) FROM cases WHERE id = :c"), {"c": case_id}).one()
    assert back == wide  # byte for byte
    assert method == ("lz4" if lz4 else "pglz")
    assert size < length / 2, (size, length)
    body = _complete(client, lanes, case_id, FLOW["steps"])  # the service reads it and completes the case
    assert body["status"] == "completed"
    assert body["data"] == {**FLOW["steps"][0][2], **FLOW["steps"][1][2]}


def _sqlite(path: Path, pragma: str) -> Any:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"PRAGMA {pragma}").fetchone()[0]
    finally:
        conn.close()


def test_a_migrated_sqlite_database_has_the_bigger_pages(sqlite_template: Path) -> None:
    assert _sqlite(sqlite_template, "page_size") == M0023.SQLITE_PAGE_SIZE == 8192
    assert _sqlite(sqlite_template, "integrity_check") == "ok"


def test_sqlite_downgrade_and_upgrade_rewrite_the_pages_and_keep_wal(tmp_path: Path) -> None:
    path = tmp_path / "alur.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0023")
    assert _sqlite(path, "journal_mode = WAL") == "wal"  # as the service leaves it (service.store.db)
    command.downgrade(alembic_config(url), "0022")
    assert (_sqlite(path, "page_size"), _sqlite(path, "journal_mode")) == (M0023.SQLITE_DEFAULT_PAGE_SIZE, "wal")
    upgrade(url, "0023")
    assert (_sqlite(path, "page_size"), _sqlite(path, "journal_mode")) == (M0023.SQLITE_PAGE_SIZE, "wal")
    assert _sqlite(path, "integrity_check") == "ok"


def test_a_sqlite_file_held_open_in_wal_mode_migrates_with_its_pages(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "alur.db"
    url = f"sqlite:///{path}"
    upgrade(url, "0022")
    other = sqlite3.connect(path)
    try:
        assert other.execute("PRAGMA journal_mode = WAL").fetchone()[0] == "wal"
        other.execute("SELECT count(*) FROM cases").fetchone()
        with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
            upgrade(url, "0023")
    finally:
        other.close()
    assert _sqlite(path, "page_size") == M0023.SQLITE_DEFAULT_PAGE_SIZE
    assert "another connection holds the database in WAL mode" in caplog.text
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0023"
    finally:
        engine.dispose()
