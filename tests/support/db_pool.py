"""PostgreSQL test databases reused between tests: emptied after each one instead of copied and dropped.

A ``CREATE DATABASE … TEMPLATE`` of the migrated schema costs 0.35–0.5 s on the 2-core machine (it
copies ~9 MB through the WAL or with two checkpoints), and the suite has ~400 PostgreSQL tests; the
copies also piled up until the server was stopped. Emptying a used database costs a few milliseconds:
its other sessions are ended, every table is emptied with ``DELETE`` in one transaction (foreign keys
unchecked, ``session_replication_role = replica``) and each sequence set back to its start.
``TRUNCATE`` was measured too: it gives each table and index a new file, ~0.18 s for 21 tables.

A database whose schema a test changed (tables, columns, indexes, constraints, functions or the
Alembic version differ from the template's) is dropped, not reused, so no test can leak a schema
into the next one.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from psycopg import Connection, sql
from psycopg.rows import TupleRow
from sqlalchemy.engine import make_url
from support.postgres import connect, create_database

#: one text per schema object of ``public`` (and the schemas themselves): equal lists, equal schemas
_SCHEMA = """
SELECT c.relkind::text || ' ' || c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
UNION ALL
SELECT a.attrelid::regclass::text || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' = ' || pg_get_expr(d.adbin, d.adrelid), '')
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
 WHERE connamespace = 'public'::regnamespace
UNION ALL
SELECT 'function ' || oid::regprocedure::text FROM pg_proc WHERE pronamespace = 'public'::regnamespace
UNION ALL
SELECT 'trigger ' || tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal
UNION ALL
SELECT 'schema ' || nspname FROM pg_namespace
UNION ALL
SELECT 'alembic ' || version_num FROM alembic_version
"""


class DatabasePool:
    """Databases copied from ``template`` on the server of ``server_url``, handed out one test at a time."""

    def __init__(self, server_url: str, template: str, prefix: str = "pool") -> None:
        """``prefix`` names the databases (``pool_1``, …): two pools on one server need different ones,
        or the second would drop the first's databases when it creates its own of the same name."""
        self.server_url = server_url
        self.template = template
        self.prefix = prefix
        self._free: list[str] = []
        self._numbers = itertools.count(1)
        with connect(server_url, template) as conn:
            self._schema = self._schema_of(conn)
            self._tables = [row[0] for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' "
                "ORDER BY tablename")]
            self._sequences = list(conn.execute(
                "SELECT sequencename, start_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1"))
            seeded = [table for table in self._tables if conn.execute(
                sql.SQL("SELECT EXISTS (SELECT FROM {})").format(sql.Identifier(table))).fetchone() == (True,)]
        # Emptying every table is only right while the migrations seed none.
        assert not seeded, f"the migrations seed {seeded}: DatabasePool.release must restore those rows"
        self._empty = self._emptying_script(self._tables, self._sequences)
        self.created = 0
        self.dropped = 0

    def acquire(self) -> str:
        """The URL of an empty, migrated database for one test."""
        if self._free:
            return self._free.pop()
        self.created += 1
        return create_database(self.server_url, f"{self.prefix}_{next(self._numbers)}", template=self.template)

    def release(self, url: str) -> None:
        """End the database's sessions, then empty it for the next test, or drop it if its schema changed."""
        name = make_url(url).database
        assert name is not None
        with connect(self.server_url, name) as conn:
            # the test's leftovers: engines not disposed, killed workers' sessions, open transactions
            conn.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                         "WHERE datname = current_database() AND pid <> pg_backend_pid()")
            reusable = self._schema_of(conn) == self._schema
            if reusable:
                conn.execute(self._empty)
        if reusable:
            self._free.append(url)
            return
        with connect(self.server_url, "postgres") as conn:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        self.dropped += 1

    @staticmethod
    def _schema_of(conn: Connection[TupleRow]) -> list[str]:
        return sorted(row[0] for row in conn.execute(_SCHEMA))

    @staticmethod
    def _emptying_script(tables: Sequence[str], sequences: Sequence[tuple[str, int]]) -> sql.Composed:
        statements = [sql.SQL("BEGIN"), sql.SQL("SET LOCAL session_replication_role = replica")]
        statements += [sql.SQL("DELETE FROM {}").format(sql.Identifier(table)) for table in tables]
        statements += [sql.SQL("SELECT setval({}, {}, false)").format(sql.Literal(name), sql.Literal(start))
                       for name, start in sequences]
        statements.append(sql.SQL("COMMIT"))
        return sql.SQL("; ").join(statements)
