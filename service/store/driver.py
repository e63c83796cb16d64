"""Statements run straight through the DB-API driver, for the few that run on every request or write.

SQLAlchemy's ``Connection.execute`` costs 150–300 µs of client CPU per statement before the driver
sees it (execution context, result metadata, events); for the hottest statements that was more than
the database's own work. A :class:`DriverStatement` is compiled once by SQLAlchemy for the dialect
and then sent as the driver's own text: on PostgreSQL in psycopg's raw form (``$1``, ``$2``…,
through a ``RawCursor``), so psycopg does not parse placeholders on every execution either (it
re-parsed statements of more than 50 parameters each time); on SQLite with its ``?``.

What SQLAlchemy would do is kept: the engine's ``before_cursor_execute`` listeners see every
statement (the statement counts of the tests and benchmarks), values and results go through their
types' processors (JSON, UTC timestamps, SQLite's booleans), driver errors become SQLAlchemy's
``DBAPIError`` classes, and a lost server invalidates the connection and the pool's older ones, so
the caller's 503 and the pool's renewal work as for every other statement.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Dialect, Engine, PoolProxiedConnection
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlalchemy.types import TypeEngine

from service.store.built_once import BUILDING

Processor = Callable[[Any], Any]
_PYFORMAT = re.compile(r"%\(([^)]+)\)s|%%")


@dataclass(frozen=True)
class DriverStatement:
    """A statement compiled for one dialect: the driver's text, its parameters' names in the order the
    driver takes their values, and the processors SQLAlchemy would apply to each value and result column."""

    sql: str
    names: tuple[str, ...]
    binds: tuple[Processor | None, ...]
    results: tuple[Processor | None, ...]

    @classmethod
    def compile(cls, statement: ClauseElement, dialect: Dialect,
                result_types: Sequence[TypeEngine[Any]]) -> DriverStatement:
        with BUILDING:  # a kept statement's first compile fills in what it shares (:mod:`.built_once`)
            compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        if compiled.positional:  # SQLite's ``?``: the values in the order of the placeholders
            sql, names = compiled.string, tuple(compiled.positiontup or ())
        else:  # psycopg's ``%(name)s`` as ``$n``, the n-th name's value
            order = list(compiled.binds)

            def native(match: re.Match[str]) -> str:
                return "%" if match.group(1) is None else f"${order.index(match.group(1)) + 1}"

            sql, names = _PYFORMAT.sub(native, compiled.string), tuple(order)
        return cls(
            sql=sql, names=names,
            binds=tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names),
            results=tuple(type_.dialect_impl(dialect).result_processor(dialect, None) for type_ in result_types))

    def values(self, parameters: Mapping[str, Any]) -> list[Any]:
        return [parameters[name] if bind is None else bind(parameters[name])
                for name, bind in zip(self.names, self.binds, strict=True)]

    def row(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """The row's first ``len(results)`` columns as SQLAlchemy would hand them back."""
        return tuple(value if result is None else result(value)
                     for result, value in zip(self.results, row, strict=False))


@functools.cache
def _raw_cursor_class() -> type[Any]:
    """psycopg's ``RawCursor``, imported on the first PostgreSQL statement (not per statement: an import
    statement in this function was 0.7 % of a worker's time; not at start-up either, a SQLite-only
    process need not load psycopg)."""
    from psycopg import RawCursor

    return RawCursor


def run(engine: Engine, connection: PoolProxiedConnection, statement: DriverStatement, values: list[Any],
        *, first: bool = False) -> list[Any]:
    """Execute ``statement`` on ``connection`` (a pooled DB-API connection) and fetch its rows as the driver
    gives them (:meth:`DriverStatement.row` processes one); only the first with ``first``."""
    dialect = engine.dialect
    cursor: Any = None
    try:
        if dialect.name == "postgresql":
            cursor = _raw_cursor_class()(connection.driver_connection)
        else:
            cursor = connection.cursor()
        for listener in engine.dispatch.before_cursor_execute:
            listener(None, cursor, statement.sql, values, None, False)
        cursor.execute(statement.sql, values)
        return list(cursor.fetchmany(1) if first else cursor.fetchall())
    except dialect.loaded_dbapi.Error as exc:
        disconnected = dialect.is_disconnect(exc, connection.dbapi_connection, cursor)
        if disconnected:  # as SQLAlchemy's Connection does: this connection and the pool's older ones renewed
            engine.pool._invalidate(connection, exc)
        raise _wrapped(engine, statement, values, exc, disconnected) from exc
    finally:
        if cursor is not None and connection.is_valid:
            cursor.close()


def run_in(session: Session, statement: DriverStatement, parameters: Mapping[str, Any], *,
           first: bool = False) -> list[tuple[Any, ...]]:
    """:func:`run` on ``session``'s own connection, inside its transaction (the session is not flushed
    first), the rows processed as SQLAlchemy would hand them back."""
    connection = session.connection()
    found = run(connection.engine, connection.connection, statement, statement.values(parameters), first=first)
    return [statement.row(row) for row in found]


def read(engine: Engine, statement: DriverStatement, values: list[Any], *, first: bool = False) -> list[Any]:
    """:func:`run` on a pooled connection of its own, given back as it was taken. On PostgreSQL the read
    runs in autocommit: no BEGIN, and no ROLLBACK at check-in (which would drop the connection's prepared
    statements)."""
    dialect = engine.dialect
    try:
        connection = engine.raw_connection()
    except dialect.loaded_dbapi.Error as exc:
        raise _wrapped(engine, statement, values, exc, False) from exc
    autocommit = dialect.name == "postgresql"
    try:
        if autocommit:
            connection.driver_connection.autocommit = True  # type: ignore[union-attr]
        return run(engine, connection, statement, values, first=first)
    finally:
        if autocommit and connection.is_valid:
            try:
                connection.driver_connection.autocommit = False  # type: ignore[union-attr]
            except dialect.loaded_dbapi.Error as exc:
                connection.invalidate(exc)
        connection.close()


def _wrapped(engine: Engine, statement: DriverStatement, values: list[Any], exc: Exception,
             disconnected: bool) -> StatementError:
    """The driver's error as SQLAlchemy's class for it, as SQLAlchemy's own execution raises it."""
    dialect = engine.dialect
    return DBAPIError.instance(statement.sql, values, exc, dialect.loaded_dbapi.Error,
                               connection_invalidated=disconnected, dialect=dialect)
