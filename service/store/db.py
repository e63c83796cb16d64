"""The database handle: engine, sessions and the one-transaction-per-command rule.

A database that does not answer (server down, connection lost, SQLite file locked or unreadable)
surfaces as :class:`~service.errors.ServiceUnavailable` (503 with ``Retry-After``), never as a
driver error: every command runs in :meth:`Database.transaction` or :meth:`Database.reading`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Select, create_engine, event, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from service.errors import Conflict, ServiceUnavailable
from service.store import driver, json_columns
from service.store.change_notices import ChangeWatch
from service.store.driver import DriverStatement

#: seconds a client is asked to wait (``Retry-After``) when the database does not answer
RETRY_AFTER_SECONDS = 30
#: seconds to wait for a PostgreSQL connection before the request gets its 503
CONNECT_TIMEOUT_SECONDS = 5
#: seconds a pooled PostgreSQL connection is used before it is replaced (idle connections cut by a
#: firewall or a server restart are found by the first statement on them: a 503, and the pool renews)
POOL_RECYCLE_SECONDS = 1800
#: statements :meth:`Database.driver_rows` keeps compiled: the token check's, the task read's and one per
#: shape of the task list (filters, sort, cursor, the actor's number of units and roles)
_DRIVER_READS_KEPT = 512
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
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10},
                               json_serializer=json_columns.dumps, json_deserializer=json_columns.loads)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Sessions in UTC: timestamps are stored and compared in UTC, and a session in a zone east of it
    # would hand back a due date of 9999-12-31T23:00Z as year 10000, which Python cannot represent.
    # No pre-ping: it was one more round trip per checkout, two or three per request. A connection
    # that died since its last use fails its first statement instead; that request gets the 503 every
    # other database failure gets (``unavailable``), and SQLAlchemy then renews the pool's older
    # connections, so a server restart costs each process one 503, not one per pooled connection.
    engine = create_engine(url, pool_size=10, max_overflow=20, pool_recycle=POOL_RECYCLE_SECONDS,
                           json_serializer=json_columns.dumps, json_deserializer=json_columns.loads,
                           connect_args={"options": "-c timezone=UTC", "connect_timeout": CONNECT_TIMEOUT_SECONDS})
    event.listen(engine, "connect", _uuid_as_text)
    return engine


def _uuid_as_text(dbapi_connection: Any, _record: Any) -> None:
    """psycopg hands ``uuid`` columns back as text, the form the code holds them in (:class:`EntityId`).

    Its own loader builds a :class:`uuid.UUID` of each, which SQLAlchemy then turned back into text with
    ``str()``: 1 % of an API worker's CPU under the complaint benchmark, for a value that arrives as
    canonical text (lower-case, hyphenated) already."""
    from psycopg.types.string import TextLoader

    dbapi_connection.adapters.register_loader("uuid", TextLoader)


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


def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    raise RuntimeError("A read session (Database.reading) does not write; use Database.transaction")


@contextmanager
def _unavailable_as_503() -> Iterator[None]:
    """A database that does not answer, raised as :class:`ServiceUnavailable`; other errors as they are."""
    try:
        yield
    except (DBAPIError, PoolTimeout) as exc:
        if unavailable(exc):
            raise _unavailable_error() from exc
        raise


def _close(session: Session) -> None:
    """Close ``session``; closing rolls back its open transaction, which fails too when the server went
    away after the last statement (a 500 before: the ``finally`` escaped the translation)."""
    with _unavailable_as_503():
        session.close()


class Database:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Reads run in autocommit on PostgreSQL. At READ COMMITTED every statement takes its own
        # snapshot anyway, so a read transaction gave no consistency across its statements; it cost
        # a BEGIN and a ROLLBACK, and psycopg drops every prepared statement of the connection at a
        # ROLLBACK, so no statement stayed prepared and each was planned again on every request.
        # A read session never writes: it does not autoflush, and a flush is refused (_refuse_flush).
        self._read_engine = (self.engine.execution_options(isolation_level="AUTOCOMMIT") if self.is_postgres
                             else self.engine)
        self._read_sessions = sessionmaker(self._read_engine, expire_on_commit=False, autoflush=False)
        # a read streamed through a server-side cursor (``yield_per``) needs its transaction
        self._streaming_sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        #: :meth:`driver_rows`' statements as the driver runs them, compiled once per statement
        self._driver_reads: dict[Select[*tuple[Any, ...]], DriverStatement] = {}
        for reads in (self._read_sessions, self._streaming_sessions):
            event.listen(reads, "before_flush", _refuse_flush)
        #: users' credential rows and the startable revisions, kept while a server process listens for their
        #: changes (the process starts it: service.serve.worker_app)
        self.changes = ChangeWatch(self.engine, CONNECT_TIMEOUT_SECONDS)

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
            with _unavailable_as_503(), session.begin():
                yield session
        except StaleDataError as exc:
            raise Conflict("The case was changed by someone else at the same time; reload and retry") from exc
        finally:
            _close(session)

    @contextmanager
    def reading(self, *, streaming: bool = False) -> Iterator[Session]:
        """A session for reads; closing it keeps loaded objects usable. It writes nothing: a change to a
        loaded object stays in memory (a flush is refused), and every statement stands alone.
        ``streaming`` when it reads rows in batches (``yield_per``): that runs in a transaction."""
        session = (self._streaming_sessions if streaming else self._read_sessions)()
        try:
            with _unavailable_as_503():
                yield session
        finally:
            _close(session)

    def first_row(self, statement: Select[*tuple[Any, ...]],
                  parameters: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row of :meth:`driver_rows`, or None."""
        rows = self.driver_rows(statement, parameters, first=True)
        return rows[0] if rows else None

    def driver_rows(self, statement: Select[*tuple[Any, ...]], parameters: Mapping[str, Any], *,
                    first: bool = False) -> list[tuple[Any, ...]]:
        """The rows of ``statement`` (a Core SELECT built once by its caller; only the first with ``first``).

        The cheapest read there is, for what runs on every request (the token's account check) and the
        hottest reads: the statement is compiled once per process and run straight through the driver
        (:mod:`service.store.driver`) on a pooled connection, in autocommit. A read through SQLAlchemy's
        ``Connection`` cost about 300 µs of client CPU, this one about 110 µs (PostgreSQL, measured
        in-process). A lost server is a 503, as for every other statement.
        """
        read = self._compiled(statement)
        with _unavailable_as_503():
            found = driver.read(self.engine, read, read.values(parameters), first=first)
        return [read.row(row) for row in found]

    def session_rows(self, session: Session, statement: Select[*tuple[Any, ...]], parameters: Mapping[str, Any],
                     *, first: bool = False) -> list[tuple[Any, ...]]:
        """:meth:`driver_rows` inside a command's transaction: on the session's own connection, so the read
        sees what the command wrote and takes the locks the statement asks for (``FOR UPDATE``). The
        session does not flush first: the caller reads before it changes anything."""
        return driver.run_in(session, self._compiled(statement), parameters, first=first)

    def _compiled(self, statement: Select[*tuple[Any, ...]]) -> DriverStatement:
        """``statement`` as the driver runs it, compiled once per process (up to :data:`_DRIVER_READS_KEPT`
        statements, the oldest out first: dicts keep their order)."""
        read = self._driver_reads.get(statement)
        if read is None:
            if len(self._driver_reads) >= _DRIVER_READS_KEPT:
                self._driver_reads.pop(next(iter(self._driver_reads)), None)
            read = self._driver_reads.setdefault(statement, DriverStatement.compile(
                statement, self.engine.dialect, [column.type for column in statement.selected_columns]))
        return read

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
        self.changes.stop()
        self.engine.dispose()
