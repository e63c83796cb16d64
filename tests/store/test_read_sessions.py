"""Read sessions (``Database.reading``): they never write, and on PostgreSQL they leave no transaction
behind, so psycopg keeps the connection's prepared statements (a ROLLBACK makes it drop them all).

These are counts and states, not times: what made every request plan its statements again was a
ROLLBACK at the end of each read, which cleared psycopg's prepared-statement cache.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from service.store.db import Database
from service.store.models import Unit


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
        with db.row_reading() as connection:
            assert connection.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one() >= 1
    finally:
        db.dispose()
