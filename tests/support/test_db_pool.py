"""The pool of PostgreSQL test databases hands each test an empty, migrated database, and never a changed one.

Each test here has a pool of its own on the session's server and template, so the suite's shared pool
is not disturbed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from support.db_pool import DatabasePool

from service.commands import accounts
from service.commands.context import Services
from service.config import Settings
from service.store.db import Database

pytestmark = pytest.mark.postgres


@pytest.fixture
def pool(postgres_server: str) -> DatabasePool:
    return DatabasePool(postgres_server, "alur_template", prefix="pool_test")


def _services(url: str, tmp_path: Path) -> Services:
    return Services(db=Database(url), settings=Settings(database_url=url, secret_key="k", data_dir=tmp_path,
                                                        forms_dir=tmp_path, testing=True))


def test_a_released_database_comes_back_empty_with_its_sequences_reset(pool: DatabasePool, tmp_path: Path) -> None:
    url = pool.acquire()
    services = _services(url, tmp_path)
    first = accounts.create_unit(services, "unit-a", "Unit A")
    accounts.create_unit(services, "unit-b", "Unit B")
    services.db.dispose()
    pool.release(url)

    assert pool.acquire() == url and pool.created == 1  # the same database, not a new copy
    services = _services(url, tmp_path)
    try:
        with services.db.reading() as session:
            assert session.execute(text("SELECT count(*) FROM units")).scalar_one() == 0
        assert accounts.create_unit(services, "unit-c", "Unit C").id == first.id  # ids start again
    finally:
        services.db.dispose()
        pool.release(url)


def test_sessions_left_open_do_not_block_the_release(pool: DatabasePool) -> None:
    url = pool.acquire()
    engine = create_engine(url)
    leftover = engine.connect()  # a test that forgot to close: an open transaction holding a lock
    leftover.execute(text("LOCK TABLE units IN ACCESS EXCLUSIVE MODE"))
    try:
        pool.release(url)
    finally:
        leftover.invalidate()
        engine.dispose()
    assert pool.acquire() == url and pool.dropped == 0


def test_a_database_whose_schema_changed_is_dropped_not_reused(pool: DatabasePool) -> None:
    url = pool.acquire()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE units ADD COLUMN leaked integer"))
    engine.dispose()
    pool.release(url)

    assert pool.dropped == 1
    fresh = pool.acquire()
    assert fresh != url and pool.created == 2
    pool.release(fresh)
