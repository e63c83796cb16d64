"""The database handle: engine, sessions and the one-transaction-per-command rule.

A database that does not answer (server down, connection lost, SQLite file locked or unreadable)
surfaces as :class:`~service.errors.ServiceUnavailable` (503 with ``Retry-After``), never as a
driver error: every command runs in :meth:`Database.transaction` or :meth:`Database.reading`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from service.errors import Conflict, ServiceUnavailable

#: seconds a client is asked to wait (``Retry-After``) when the database does not answer
RETRY_AFTER_SECONDS = 30
#: seconds to wait for a PostgreSQL connection before the request gets its 503
CONNECT_TIMEOUT_SECONDS = 5
#: SQLite errors that mean "not now" rather than a bug in a statement
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database file", "disk i/o error",
                       "database or disk is full")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Sessions in UTC: timestamps are stored and compared in UTC, and a session in a zone east of it
    # would hand back a due date of 9999-12-31T23:00Z as year 10000, which Python cannot represent.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         connect_args={"options": "-c timezone=UTC", "connect_timeout": CONNECT_TIMEOUT_SECONDS})


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot serve now (down, unreachable, lost, busy).

    On PostgreSQL psycopg's ``OperationalError`` and ``InterfaceError`` are exactly that (connection
    failures, administrator shutdown, cancelled statements, serialization failures); on SQLite the
    same class also covers mistakes in a statement, so only the messages of a busy or unreadable
    file count.
    """
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    if type(exc.orig).__module__.startswith("sqlite3"):
        return any(text in str(exc.orig).lower() for text in _SQLITE_UNAVAILABLE)
    return True


def _unavailable_error() -> ServiceUnavailable:
    return ServiceUnavailable("The database does not answer; nothing was saved. Try again shortly.",
                              retry_after=RETRY_AFTER_SECONDS)


def _close(session: Session) -> None:
    """Close ``session``; closing rolls back its open transaction, which fails too when the server went
    away after the last statement (a 500 before: the ``finally`` escaped the translation above)."""
    try:
        session.close()
    except (DBAPIError, PoolTimeout) as exc:
        if unavailable(exc):
            raise _unavailable_error() from exc
        raise


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One command, one transaction: commit on success, roll back on any error.

        A concurrent change of the same case (optimistic lock) surfaces as :class:`Conflict`.
        """
        session = self._sessions()
        try:
            with session.begin():
                yield session
        except StaleDataError as exc:
            raise Conflict("The case was changed by someone else at the same time; reload and retry") from exc
        except (DBAPIError, PoolTimeout) as exc:
            if unavailable(exc):
                raise _unavailable_error() from exc
            raise
        finally:
            _close(session)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads; closing it ends its transaction and keeps loaded objects usable."""
        session = self._sessions()
        try:
            yield session
        except (DBAPIError, PoolTimeout) as exc:
            if unavailable(exc):
                raise _unavailable_error() from exc
            raise
        finally:
            _close(session)

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except (DBAPIError, PoolTimeout) as exc:
            if unavailable(exc) or isinstance(exc, OperationalError):
                return False
            raise
        return True

    def dispose(self) -> None:
        self.engine.dispose()
