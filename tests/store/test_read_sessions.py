"""Read sessions (``Database.reading``): they never write, and on PostgreSQL they leave no transaction
behind, so psycopg keeps the connection's prepared statements (a ROLLBACK makes it drop them all).

These are counts and states, not times: what made every request plan its statements again was a
ROLLBACK at the end of each read, which cleared psycopg's prepared-statement cache.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import bindparam, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool
from support.helpers import sql_statements

from service.store.db import Database
from service.store.models import Unit, User


def test_a_read_session_refuses_to_write_and_writes_nothing(db_url: str) -> None:
    db = Database(db_url)
    try:
        with pytest.raises(RuntimeError, match="does not write"), db.reading() as session:
            session.add(Unit(code="tidak-tersimpan", name="Tidak tersimpan", timezone="Asia/Jakarta"))
            session.flush()
        with db.reading() as session:
            assert session.scalar(select(func.count()).select_from(Unit).where(Unit.code == "tidak-tersimpan")) == 0
    finally:
        db.dispose()


def test_a_read_session_does_not_autoflush_a_changed_object(db_url: str) -> None:
    db = Database(db_url)
    try:
        with db.transaction() as session:
            session.add(Unit(code="unit-baca", name="Nama asli", timezone="Asia/Jakarta"))
        with db.reading() as session:
            unit = session.scalars(select(Unit).where(Unit.code == "unit-baca")).one()
            unit.name = "Diubah untuk tampilan"  # e.g. a page shaping what it shows
            assert session.scalar(select(Unit.name).where(Unit.code == "unit-baca")) == "Nama asli"
        with db.reading() as session:
            assert session.scalar(select(Unit.name).where(Unit.code == "unit-baca")) == "Nama asli"
    finally:
        db.dispose()


@pytest.mark.postgres
def test_postgresql_reads_run_outside_a_transaction_and_keep_prepared_statements(postgres_db: str) -> None:
    import psycopg

    db = Database(postgres_db)
    statement = select(Unit.id).where(Unit.code == "tidak-ada")
    try:
        for _ in range(8):  # psycopg prepares a statement at its fifth execution on a connection
            with db.reading() as session:
                session.execute(statement).all()
                dbapi = session.connection().connection.dbapi_connection
                assert dbapi is not None
                assert dbapi.info.transaction_status == psycopg.pq.TransactionStatus.IDLE  # no BEGIN was sent
        with db.reading() as session:
            prepared = session.scalar(text("SELECT count(*) FROM pg_prepared_statements"))
        assert prepared is not None and prepared >= 1, "the read's statement did not stay prepared"
        row = db.first_row(_PREPARED, {})
        assert row is not None and row[0] >= 1
    finally:
        db.dispose()


#: a statement built once, as every caller of ``Database.driver_rows`` builds its own
_PREPARED = select(func.count()).select_from(text("pg_prepared_statements"))
_USER = select(User.id, User.username, User.active, User.is_admin, User.locked_until, User.created_at,
               User.credential_version).where(User.username == bindparam("name"))


def _add_user(db: Database, name: str, **values: Any) -> None:
    with db.transaction() as session:
        session.add(User(username=name, password_hash="x", **values))


def test_a_driver_read_answers_what_sqlalchemy_answers(db_url: str) -> None:
    """Booleans (SQLite stores 0/1), UTC datetimes (SQLite stores text) and NULLs come back as
    SQLAlchemy's own execution gives them; the engine's listeners see the statement (the counts)."""
    db = Database(db_url)
    try:
        _add_user(db, "pembaca", active=False, locked_until=datetime(2026, 12, 1, 7, 30, tzinfo=UTC))
        _add_user(db, "kedua")
        for name in ("pembaca", "kedua", "tidak-ada"):
            with db.reading() as session:
                expected = [tuple(row) for row in session.execute(_USER, {"name": name})]
            with sql_statements(db.engine) as seen:
                assert db.driver_rows(_USER, {"name": name}) == expected
            assert len(seen) == 1 and "users" in seen[0]
        row = db.first_row(_USER, {"name": "pembaca"})
        assert row is not None and row[2] is False and row[4] == datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
        assert db.first_row(_USER, {"name": "tidak-ada"}) is None
    finally:
        db.dispose()


def test_a_driver_read_leaves_the_pooled_connection_as_it_found_it(db_url: str) -> None:
    """On PostgreSQL it runs in autocommit: the connection goes back transactional, so the next
    command on it still rolls back as a whole. A failing statement gives the connection back too."""
    db = Database(db_url)
    try:
        for _ in range(3):
            assert db.first_row(_USER, {"name": "tidak-ada"}) is None
            with pytest.raises(DBAPIError):  # a mistake in a statement: not a 503
                db.driver_rows(_NO_SUCH_TABLE, {})
        with pytest.raises(RuntimeError, match="rolled back"), db.transaction() as session:
            session.add(User(username="batal", password_hash="x"))
            session.flush()
            raise RuntimeError("rolled back")
        assert db.first_row(_USER, {"name": "batal"}) is None
        assert isinstance(db.engine.pool, QueuePool) and db.engine.pool.checkedout() == 0
    finally:
        db.dispose()


_NO_SUCH_TABLE = select(func.count()).select_from(text("tabel_yang_tidak_ada"))



def test_a_driver_read_in_a_transaction_sees_its_writes_and_rolls_back_with_it(db_url: str) -> None:
    """``session_rows`` runs on the command's own connection: it sees the rows the command flushed, is
    counted like any statement, and what the command wrote goes away with its rollback."""
    db = Database(db_url)
    try:
        with pytest.raises(RuntimeError, match="rolled back"), db.transaction() as session:
            session.add(User(username="dalam-transaksi", password_hash="x"))
            session.flush()
            with sql_statements(db.engine) as seen:
                rows = db.session_rows(session, _USER, {"name": "dalam-transaksi"})
            assert [row[1] for row in rows] == ["dalam-transaksi"] and len(seen) == 1
            assert db.session_rows(session, _USER, {"name": "tidak-ada"}, first=True) == []
            raise RuntimeError("rolled back")
        assert db.first_row(_USER, {"name": "dalam-transaksi"}) is None
        assert isinstance(db.engine.pool, QueuePool) and db.engine.pool.checkedout() == 0
    finally:
        db.dispose()
