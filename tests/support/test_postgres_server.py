"""The test PostgreSQL server of ``support.postgres`` works and cleans up after itself."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support.postgres import create_database, running_postgres

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_postgres(tmp_path_factory.mktemp("pg")) as url:
        yield url


def _scalar(url: str, statement: str) -> object:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(statement)).scalar_one()
    finally:
        engine.dispose()


def test_server_starts_on_loopback_with_expected_url(server_url: str) -> None:
    url = make_url(server_url)
    assert url.drivername == "postgresql+psycopg"
    assert url.username == "alur"
    assert url.host == "127.0.0.1"
    assert url.database == "alur"
    assert url.port is not None and url.port > 0
    assert _scalar(server_url, "SELECT current_database()") == "alur"
    assert _scalar(server_url, "SHOW fsync") == "off"
    assert _scalar(server_url, "SHOW listen_addresses") == "127.0.0.1"


def test_table_can_be_created_and_queried(server_url: str) -> None:
    url = create_database(server_url, "roundtrip")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE item (id serial PRIMARY KEY, name text NOT NULL)"))
            conn.execute(text("INSERT INTO item (name) VALUES ('a'), ('b')"))
        with engine.connect() as conn:
            names = conn.execute(text("SELECT name FROM item ORDER BY id")).scalars().all()
    finally:
        engine.dispose()
    assert names == ["a", "b"]


def test_databases_are_independent(server_url: str) -> None:
    first = create_database(server_url, "independent_one")
    second = create_database(server_url, "independent_two")
    assert make_url(first).database == "independent_one"
    assert make_url(second).database == "independent_two"
    assert make_url(first).port == make_url(second).port == make_url(server_url).port

    engine = create_engine(first)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE only_in_first (x int)"))
    finally:
        engine.dispose()

    query = "SELECT count(*) FROM information_schema.tables WHERE table_name = 'only_in_first'"
    assert _scalar(first, query) == 1
    assert _scalar(second, query) == 0


def test_create_database_starts_clean_when_name_reused(server_url: str) -> None:
    url = create_database(server_url, "reused")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE leftover (x int)"))
    finally:
        engine.dispose()
    url = create_database(server_url, "reused")
    assert _scalar(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == 0


def test_create_database_rejects_odd_names(server_url: str) -> None:
    with pytest.raises(ValueError):
        create_database(server_url, 'x"; DROP DATABASE alur; --')


def test_server_is_gone_after_context_exit(tmp_path: Path) -> None:
    with running_postgres(tmp_path) as url:
        port = make_url(url).port
        assert port is not None
        assert _scalar(url, "SELECT 1") == 1
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    assert not (tmp_path / "pg" / "data").exists()


def test_server_is_stopped_when_body_raises(tmp_path: Path) -> None:
    port: int | None = None
    with pytest.raises(RuntimeError, match="boom"), running_postgres(tmp_path) as url:
        port = make_url(url).port
        raise RuntimeError("boom")
    assert port is not None
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
