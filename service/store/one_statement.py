"""PostgreSQL: everything a command wrote, as one statement of data-modifying CTEs.

A command on a case changes a handful of rows in several tables: the case row (inserted, or
updated under its optimistic lock), task rows, candidates, access grants, outbox and history rows.
The unit of work would flush them as one statement each. :func:`write_in_one` sends them as one
statement instead, answered with the case's history (or only whether the case row was written).

The statement is SQL text built here, not by SQLAlchemy's compiler: a multi-row INSERT cannot be
cached by SQLAlchemy, and compiling one of these statements cost more CPU than the rest of the
request. The text depends only on the *shape* of what was written (which tables, which columns,
how many rows), so it is built once per shape and kept, compiled for the dialect with its parameters
typed by their columns; the values are processed by those columns' own processors (JSON, UTC
timestamps), exactly as the ORM would process them, and the text goes to the driver as it is
(:mod:`service.store.driver`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Column, Dialect, Table, bindparam, inspect, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service.store import driver
from service.store.built_once import built_once
from service.store.driver import DriverStatement
from service.store.models import Case, CaseAccess, HistoryEntry

#: ``Session.info`` key: the command ends with :func:`write_in_one` (PostgreSQL), not a flush
ONE_STATEMENT = "alur.one_statement"
#: statement shapes kept per process (a command writes one of a few dozen)
_SHAPES_KEPT = 512
_quote = postgresql.dialect().identifier_preparer.quote
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
    prepared = _prepared(tuple(plan.shape), connection.dialect)
    result = driver.run(connection.engine, connection.connection, prepared.statement,
                        prepared.statement.values(dict(zip(prepared.names, plan.values, strict=True))))
    if not result or result[0][-1] != 1:
        raise StaleDataError(f"case {case.id} changed since it was read")
    if last:
        session.expunge_all()
    else:
        for obj in written:
            if obj in session:
                session.expunge(obj)
    if not with_history:
        return []
    return sorted((prepared.history_entry(row) for row in result), key=lambda entry: entry.id)


@dataclass(frozen=True)
class _Prepared:
    """A shape's statement as the driver runs it (:mod:`service.store.driver`: its placeholders are not
    parsed again on each execution, and SQLAlchemy builds no execution context; executing the typed text
    statement through SQLAlchemy made it build a cache key over forty-odd bound parameters each time),
    with its parameters typed by the columns they are written to or compared with, and for the answer
    the result processor of each history column."""

    statement: DriverStatement
    names: tuple[str, ...]

    def history_entry(self, row: Sequence[Any]) -> HistoryEntry:
        """A detached history row holding what the statement answered, built as the ORM builds the rows
        it loads (values straight into the instance's dict, no attribute events for a row not to write)."""
        return HistoryEntry.built(dict(zip(_HISTORY_KEYS, self.statement.row(row), strict=False)))


@built_once(maxsize=_SHAPES_KEPT)
def _prepared(shape: tuple[Any, ...], dialect: Dialect) -> _Prepared:
    """The shape's statement for ``dialect``, once per shape and process (an LRU shared by its threads)."""
    sql, columns = _render(shape)
    names = tuple(f"p{n}" for n in range(len(columns)))
    typed = text(sql).bindparams(*(bindparam(name, type_=column.type)
                                   for name, column in zip(names, columns, strict=True)))
    history = cast(Table, HistoryEntry.__table__)
    results = [column.type for column in history.c] if shape[-1][1] else []
    return _Prepared(DriverStatement.compile(typed, dialect, results), names)


def _render(shape: tuple[Any, ...]) -> tuple[str, list[Column[Any]]]:
    """The statement's text, and the column each parameter ``:p<n>`` stands for, in order."""
    columns: list[Column[Any]] = []

    def param(column: Column[Any]) -> str:
        columns.append(column)
        return f":p{len(columns) - 1}"

    ctes: list[str] = []
    history_cte: str | None = None
    for step in shape[:-1]:
        kind, table = step[0], step[1]
        name = f"w{len(ctes)}"
        returning = ", ".join(_quote(column.name) for column in table.primary_key)
        if kind == "insert":
            _, _, keys, count, on_conflict_nothing = step
            rows = ", ".join("(" + ", ".join(param(table.c[key]) for key in keys) + ")" for _row in range(count))
            body = (f"INSERT INTO {_quote(table.name)} ({', '.join(_quote(table.c[key].name) for key in keys)}) "
                    f"VALUES {rows}" + (" ON CONFLICT DO NOTHING" if on_conflict_nothing else ""))
            if table is HistoryEntry.__table__:
                history_cte, returning = name, ", ".join(_quote(column.name) for column in table.c)
        elif kind == "update":
            _, _, keys, where = step
            assignments = ", ".join(f"{_quote(table.c[key].name)} = {param(table.c[key])}" for key in keys)
            condition = " AND ".join(f"{_quote(table.c[key].name)} = {param(table.c[key])}" for key in where)
            body = f"UPDATE {_quote(table.name)} SET {assignments} WHERE {condition}"
        else:
            _, _, where = step
            condition = " AND ".join(f"{_quote(table.c[key].name)} = {param(table.c[key])}" for key in where)
            body = f"DELETE FROM {_quote(table.name)} WHERE {condition}"
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
    return "WITH " + ", ".join(ctes) + " " + query, columns


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
