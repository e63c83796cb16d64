"""Everything a command wrote, as one statement: data-modifying CTEs on PostgreSQL, a trigger on SQLite.

A command on a case changes a handful of rows in several tables: the case row (inserted, or
updated under its optimistic lock), task rows, candidates, access grants, outbox and history rows.
The unit of work would flush them as one statement each. :func:`write_in_one` sends them as one
statement instead, answered with the case's history (or only whether the case row was written).

SQLite has no data-modifying CTEs. There the statement is an ``INSERT`` of the values, one column
each, into a TEMP table of the shape (per connection, created the first time the shape is written
on it) whose ``BEFORE INSERT`` trigger runs the same writes, checks the optimistic lock (``RAISE``
aborts the statement, and only it) and whose ``RETURNING`` answers the history, as JSON. A trigger
program is one statement: its foreign keys are checked at its end, as PostgreSQL checks them at the
end of the CTEs. A shape with more values than a SQLite table has columns (2,000 unless SQLite was
built otherwise) is written step by step instead, which is rare (a case that opens hundreds of tasks).

The statement is SQL text built here, not by SQLAlchemy's compiler: a multi-row INSERT cannot be
cached by SQLAlchemy, and compiling one of these statements cost more CPU than the rest of the
request. The text depends only on the *shape* of what was written (which tables, which columns,
how many rows), so it is built once per shape and kept, compiled for the dialect with its parameters
typed by their columns; the values are processed by those columns' own processors (JSON, UTC
timestamps), exactly as the ORM would process them, and the text goes to the driver as it is
(:mod:`service.store.driver`).
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Column, Connection, Dialect, Table, bindparam, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service.store import driver, json_columns
from service.store.built_once import built_once
from service.store.driver import DriverStatement
from service.store.models import Case, CaseAccess, HistoryEntry
from service.store.types import Digest

#: ``Session.info`` key: the command ends with :func:`write_in_one`, not a flush
ONE_STATEMENT = "alur.one_statement"
#: statement shapes kept per process (a command writes one of a few dozen)
_SHAPES_KEPT = 512
_quote = postgresql.dialect().identifier_preparer.quote
_quote_sqlite = sqlite.dialect().identifier_preparer.quote
#: SQLite: what the trigger raises when the case row changed since the command read it
_STALE = "alur: the case changed since it was read"
#: SQLite: ``PoolProxiedConnection.info`` key, the TEMP tables (:func:`_render_sqlite`) created on the connection
_TEMP_TABLES = "alur.write_tables"
_HISTORY_KEYS = tuple(column.key for column in cast(Table, HistoryEntry.__table__).c)


@dataclass
class _Plan:
    """The CTEs of one statement: their shape (the cache key) and their values, in parameter order
    (the order in which :func:`_render` names the parameters)."""

    shape: list[Hashable] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)

    def insert(self, table: Table, rows: Sequence[dict[str, Any]], on_conflict_nothing: bool = False) -> None:
        keys = tuple(rows[0])
        self.shape.append(("insert", table, keys, len(rows), on_conflict_nothing))
        self.values += [row[key] for row in rows for key in keys]

    def update(self, table: Table, changed: dict[str, Any], where: dict[str, Any]) -> None:
        self.shape.append(("update", table, tuple(changed), tuple(where)))
        self.values += [*changed.values(), *where.values()]

    def delete(self, table: Table, where: dict[str, Any]) -> None:
        self.shape.append(("delete", table, tuple(where)))
        self.values += where.values()


def write_in_one(session: Session, case: Case, *, with_history: bool = True, last: bool = False) -> list[HistoryEntry]:
    """All the session holds unwritten for ``case``'s command, as one statement.

    The case row (inserted, or updated under its optimistic lock: a lost race is
    :class:`StaleDataError`), the rows the command added (one multi-row INSERT per table; access rows
    another command added meanwhile are left alone), the rows it changed, the rows it deleted and the
    task candidates it dropped. Answers the case's whole history (the rows stored before, then the
    rows inserted) when ``with_history``, else nothing. The written objects leave the session (its
    commit has nothing left to flush) and keep their values for the answer; other objects stay,
    unless this is the command's ``last`` statement: then the whole session is emptied at once.
    """
    plan = _Plan()
    cases = cast(Table, Case.__table__)
    history = cast(Table, HistoryEntry.__table__)
    if inspect(case).transient:
        plan.insert(cases, [_values(case)])
    else:
        version = case.lock_version
        plan.update(cases, {**_changed(case), "lock_version": version + 1}, {"id": case.id, "lock_version": version})
    written: list[Any] = [case]
    for obj in list(session.dirty):
        if obj is case:
            continue
        state, table = inspect(obj), _table(obj)
        changed = _changed(obj)
        if changed:
            plan.update(table, changed, _key(table, obj))
            written.append(obj)
        for relation in state.mapper.relationships:
            if relation.cascade.delete_orphan:
                for gone in state.attrs[relation.key].history.deleted:
                    plan.delete(_table(gone), _key(_table(gone), gone))
                    written.append(gone)
    for obj in list(session.deleted):
        plan.delete(_table(obj), _key(_table(obj), obj))
        written.append(obj)
    new_rows: dict[Table, list[dict[str, Any]]] = {}
    for obj in list(session.new):
        new_rows.setdefault(_table(obj), []).append(_values(obj))
        written.append(obj)
    added_history = new_rows.pop(history, [])
    for table, rows in new_rows.items():
        plan.insert(table, rows, on_conflict_nothing=table is CaseAccess.__table__)
    if added_history:
        plan.insert(history, added_history)
    plan.shape.append(("answer", with_history))
    if with_history:
        plan.values.append(case.id)
    connection = session.connection()
    shape = tuple(plan.shape)
    if connection.dialect.name == "sqlite":
        answered = _write_sqlite(connection, shape, plan.values, case)
    else:
        prepared = _prepared(shape, connection.dialect)
        result = driver.run(connection.engine, connection.connection, prepared.statement,
                            prepared.values(plan.values))
        if not result or result[0][-1] != 1:
            raise _stale(case)
        answered = [prepared.statement.row(row) for row in result] if with_history else []
    if last:
        session.expunge_all()
    else:
        for obj in written:
            if obj in session:
                session.expunge(obj)
    # a detached history row holding what the statement answered, built as the ORM builds the rows it
    # loads (values straight into the instance's dict, no attribute events for a row not to write)
    return sorted((HistoryEntry.built(dict(zip(_HISTORY_KEYS, row, strict=False))) for row in answered),
                  key=lambda entry: entry.id)


@dataclass(frozen=True)
class _Prepared:
    """A shape's statement as the driver runs it (:mod:`service.store.driver`: its placeholders are not
    parsed again on each execution, and SQLAlchemy builds no execution context; executing the typed text
    statement through SQLAlchemy made it build a cache key over forty-odd bound parameters each time),
    with its parameters typed by the columns they are written to or compared with, and for the answer
    the result processor of each history column."""

    statement: DriverStatement
    names: tuple[str, ...]
    #: SQLite: the TEMP table the statement inserts into, and the statements creating it and its triggers
    table: str = ""
    setup: tuple[str, ...] = ()

    def values(self, values: list[Any]) -> list[Any]:
        """The plan's values (in parameter order) as the driver takes them."""
        return self.statement.values(dict(zip(self.names, values, strict=True)))


def _name(index: int) -> str:
    """The name of a statement's parameter ``index`` (from 0): ``p0``, ``p1``… (on SQLite also the column of
    the shape's TEMP table that holds its value)."""
    return f"p{index}"


def _names(count: int) -> tuple[str, ...]:
    """The names of a statement's first ``count`` parameters, in order."""
    return tuple(map(_name, range(count)))


@dataclass
class _Parameters:
    """The columns a statement's parameters stand for, in order; a parameter's name in the text is
    ``<prefix>`` and its :func:`_name` (``:p0`` for a bound value, ``NEW.p0`` for the trigger's row)."""

    prefix: str = ":"
    columns: list[Column[Any]] = field(default_factory=list)

    def __call__(self, column: Column[Any]) -> str:
        self.columns.append(column)
        return self.prefix + _name(len(self.columns) - 1)


@built_once(maxsize=_SHAPES_KEPT)
def _prepared(shape: tuple[Any, ...], dialect: Dialect) -> _Prepared:
    """The shape's statement for ``dialect``, once per shape and process (an LRU shared by its threads)."""
    if dialect.name == "sqlite":
        sql, columns, table, setup = _render_sqlite(shape)
    else:
        (sql, columns), table, setup = _render(shape), "", ()
    return _Prepared(_compiled(sql, columns, dialect, with_history=shape[-1][1]),
                     _names(len(columns)), table, setup)


def _compiled(sql: str, columns: list[Column[Any]], dialect: Dialect, *, with_history: bool) -> DriverStatement:
    """``sql`` with its parameters ``:p0``… typed by ``columns``; its rows, if ``with_history``, are history rows."""
    typed = text(sql).bindparams(*(bindparam(name, type_=column.type)
                                   for name, column in zip(_names(len(columns)), columns, strict=True)))
    history = cast(Table, HistoryEntry.__table__)
    return DriverStatement.compile(typed, dialect, [column.type for column in history.c] if with_history else [])


def _step(step: tuple[Any, ...], param: Callable[[Column[Any]], str], quote: Callable[[str], str]) -> str:
    """One write of a shape as a statement of its own (no ``RETURNING``), its values named by ``param``."""
    kind, table = step[0], step[1]
    if kind == "insert":
        _, _, keys, count, on_conflict_nothing = step
        rows = ", ".join("(" + ", ".join(param(table.c[key]) for key in keys) + ")" for _row in range(count))
        return (f"INSERT INTO {quote(table.name)} ({', '.join(quote(table.c[key].name) for key in keys)}) "
                f"VALUES {rows}" + (" ON CONFLICT DO NOTHING" if on_conflict_nothing else ""))
    if kind == "update":
        _, _, keys, where = step
        assignments = ", ".join(f"{quote(table.c[key].name)} = {param(table.c[key])}" for key in keys)
        condition = " AND ".join(f"{quote(table.c[key].name)} = {param(table.c[key])}" for key in where)
        return f"UPDATE {quote(table.name)} SET {assignments} WHERE {condition}"
    _, _, where = step
    condition = " AND ".join(f"{quote(table.c[key].name)} = {param(table.c[key])}" for key in where)
    return f"DELETE FROM {quote(table.name)} WHERE {condition}"


def _render(shape: tuple[Any, ...]) -> tuple[str, list[Column[Any]]]:
    """PostgreSQL: the statement's text, and the column each parameter ``:p<n>`` stands for, in order."""
    param = _Parameters()
    ctes: list[str] = []
    history_cte: str | None = None
    for step in shape[:-1]:
        table = step[1]
        name = f"w{len(ctes)}"
        returning = ", ".join(_quote(column.name) for column in table.primary_key)
        body = _step(step, param, _quote)
        if step[0] == "insert" and table is HistoryEntry.__table__:
            history_cte, returning = name, ", ".join(_quote(column.name) for column in table.c)
        ctes.append(f"{name} AS ({body} RETURNING {returning})")
    written = "(SELECT count(*) FROM w0) AS case_written"
    if shape[-1][1]:
        history = cast(Table, HistoryEntry.__table__)
        names = ", ".join(_quote(column.name) for column in history.c)
        query = f"SELECT {names}, {written} FROM {_quote(history.name)} WHERE case_id = {param(history.c.case_id)}"
        if history_cte is not None:
            query += f" UNION ALL SELECT {names}, {written} FROM {history_cte}"
    else:
        query = f"SELECT {written}"
    return "WITH " + ", ".join(ctes) + " " + query, param.columns


def _render_sqlite(shape: tuple[Any, ...]) -> tuple[str, list[Column[Any]], str, tuple[str, ...]]:
    """SQLite: the ``INSERT`` into the shape's TEMP table, the column each of its parameters ``:p<n>``
    stands for, the table's name, and the statements creating the table and its triggers."""
    param = _Parameters("NEW.")
    program: list[str] = []
    for index, step in enumerate(shape[:-1]):
        program.append(_step(step, param, _quote_sqlite))
        if _locks_the_case(index, step):
            program.append(f"SELECT RAISE(ABORT, '{_STALE}') WHERE changes() = 0")
    answer = "1"
    if shape[-1][1]:
        case_id = param(cast(Table, HistoryEntry.__table__).c.case_id)  # the inserted row's last column
        answer = f"({_history_as_json(case_id.removeprefix(param.prefix))})"
    names = _names(len(param.columns))
    body = "; ".join(program)
    # named after what it does, so a connection never holds a table of the same name doing something else
    table = "alur_write_" + hashlib.sha256(f"{body} {answer}".encode()).hexdigest()[:24]
    setup = (f"CREATE TEMP TABLE IF NOT EXISTS {table} ({', '.join(names)})",
             f"CREATE TEMP TRIGGER IF NOT EXISTS {table}_write BEFORE INSERT ON {table} BEGIN {body}; END",
             f"CREATE TEMP TRIGGER IF NOT EXISTS {table}_clear AFTER INSERT ON {table} BEGIN DELETE FROM {table}; END")
    insert = f"INSERT INTO {table} VALUES ({', '.join(':' + name for name in names)}) RETURNING {answer}"
    return insert, param.columns, table, setup


def _locks_the_case(index: int, step: tuple[Any, ...]) -> bool:
    """Whether a shape's step is the case row's update under its optimistic lock (the first step, when the
    case is not new): the write is refused when it changed no row."""
    return index == 0 and step[0] == "update"


def _stale(case: Case) -> StaleDataError:
    return StaleDataError(f"case {case.id} changed since it was read")


def _history_as_json(case_id: str) -> str:
    """SQLite: a query of the case's history rows as one JSON array of arrays (a digest stored as a BLOB in
    hex, which :class:`~service.store.types.Digest` reads as it reads a digest stored as text)."""
    history = cast(Table, HistoryEntry.__table__)

    def value(column: Column[Any]) -> str:
        name = _quote_sqlite(column.name)
        if isinstance(column.type, Digest):
            return f"CASE typeof({name}) WHEN 'blob' THEN lower(hex({name})) ELSE {name} END"
        return name

    return (f"SELECT json_group_array(json_array({', '.join(value(column) for column in history.c)})) "
            f"FROM {_quote_sqlite(history.name)} WHERE case_id = {case_id}")


def _write_sqlite(connection: Connection, shape: tuple[Any, ...], values: list[Any], case: Case) -> list[Any]:
    """SQLite: the shape's writes as one ``INSERT`` (:func:`_render_sqlite`), its TEMP table and triggers
    created on the connection the first time it is used there (a rolled-back transaction takes them
    along: then again); the case's history rows, processed, when the shape answers them."""
    prepared = _prepared(shape, connection.dialect)
    raw = connection.connection
    if len(prepared.names) > raw.driver_connection.getlimit(sqlite3.SQLITE_LIMIT_COLUMN):  # type: ignore[union-attr]
        return _write_step_by_step(connection, shape, values, case)
    bound = prepared.values(values)
    if prepared.table not in raw.info.get(_TEMP_TABLES, ()):
        _create(connection, prepared)
    try:
        try:
            result = driver.run(connection.engine, raw, prepared.statement, bound)
        except OperationalError as exc:
            if f"no such table: {prepared.table}" not in str(exc.orig):
                raise
            _create(connection, prepared)  # created in a transaction that was rolled back since
            result = driver.run(connection.engine, raw, prepared.statement, bound)
    except IntegrityError as exc:
        if _STALE in str(exc.orig):
            raise _stale(case) from exc
        raise
    if not shape[-1][1]:
        return []
    return [prepared.statement.row(row) for row in json_columns.loads(result[0][0])]


def _create(connection: Connection, prepared: _Prepared) -> None:
    """The shape's TEMP table and triggers on this connection (SQLite keeps them until it is closed). Like
    PostgreSQL's prepared statements, this is done once per connection and shape, and not counted among a
    request's statements (the engine's statement listeners do not see it)."""
    raw = connection.connection
    cursor = raw.cursor()
    try:
        for statement in prepared.setup:
            try:
                cursor.execute(statement)
            except sqlite3.Error as exc:  # as SQLAlchemy raises it (a busy file is then a 503, as elsewhere)
                raise DBAPIError.instance(statement, None, exc, sqlite3.Error, dialect=connection.dialect) from exc
    finally:
        cursor.close()
    raw.info.setdefault(_TEMP_TABLES, set()).add(prepared.table)


def _write_step_by_step(connection: Connection, shape: tuple[Any, ...], values: list[Any], case: Case) -> list[Any]:
    """SQLite, a shape wider than a table may be: each write a statement of its own, then the history read."""
    offset = 0
    for index, step in enumerate(shape[:-1]):
        check = _locks_the_case(index, step)
        statement, count = _single(step, connection.dialect, check=check)
        rows = driver.run(connection.engine, connection.connection, statement,
                          statement.values(dict(zip(_names(count), values[offset:offset + count],
                                                    strict=True))))
        offset += count
        if check and not rows:
            raise _stale(case)
    if not shape[-1][1]:
        return []
    param = _Parameters()
    answer = _compiled(_history_as_json(param(cast(Table, HistoryEntry.__table__).c.case_id)), param.columns,
                       connection.dialect, with_history=True)
    found = driver.run(connection.engine, connection.connection, answer,
                       answer.values({_name(0): values[offset]}))
    return [answer.row(row) for row in json_columns.loads(found[0][0])]


def _single(step: tuple[Any, ...], dialect: Dialect, *, check: bool) -> tuple[DriverStatement, int]:
    """One write as a statement of its own (``RETURNING 1`` when ``check``: whether it wrote), and its number
    of values."""
    param = _Parameters()
    sql = _step(step, param, _quote_sqlite) + (" RETURNING 1" if check else "")
    return _compiled(sql, param.columns, dialect, with_history=False), len(param.columns)


def _table(obj: Any) -> Table:
    return cast(Table, inspect(obj).mapper.local_table)


def _key(table: Table, obj: Any) -> dict[str, Any]:
    return {column.key: getattr(obj, column.key) for column in table.primary_key}


def _changed(obj: Any) -> dict[str, Any]:
    """The columns of a stored row the session changed (not its version counter)."""
    columns = _table(obj).columns
    # the attributes set since the row was read: the session keeps each one's value as read
    return {key: obj.__dict__[key] for key in inspect(obj).committed_state
            if key != "lock_version" and key in columns and key in obj.__dict__}


def _values(obj: Any) -> dict[str, Any]:
    """Every column of a new row: what the object holds, else the column's default (the ORM's at flush);
    a generated key is left to the database."""
    values: dict[str, Any] = {}
    for column in _table(obj).columns:
        if column.key in obj.__dict__:
            values[column.key] = obj.__dict__[column.key]
        elif column.default is not None and column.default.is_scalar:
            values[column.key] = column.default.arg  # type: ignore[attr-defined]
        elif column.default is not None and column.default.is_callable:
            values[column.key] = column.default.arg(None)  # type: ignore[attr-defined]
        elif not (column.primary_key and column.autoincrement in (True, "auto")):
            values[column.key] = None
    return values
