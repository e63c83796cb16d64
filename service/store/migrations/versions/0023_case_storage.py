"""Storage settings for a case's rows (bytes per completed case "as grown", issue 13)

``benchmarks/case_bytes.py`` splits the bytes a complaint leaves per table and index; these settings
are what its numbers showed to pay (2026-12-02, 300 complaints, before → after this revision):

- PostgreSQL: ``cases.state`` and ``cases.data`` are compressed with lz4 instead of pglz when the server
  has it (``default_toast_compression`` lists it): the same bytes, ~25 % less CPU to read a compressed
  state. PostgreSQL compresses values only in a row over ``TOAST_TUPLE_THRESHOLD`` (~2 kB, fixed at build
  time; ``toast_tuple_target`` cannot lower it), so this touches large states (format 1 ones, big SOPs),
  not the benchmark's ~1.1–1.6 kB rows. Existing values keep their method until rewritten.
- SQLite: pages of :data:`SQLITE_PAGE_SIZE` bytes instead of 4,096. A case row (~1.1 kB, ~1.5 kB while
  running) that grows in place splits its page, and half-empty 4 kB pages held 2,048 B per complaint of
  ``cases`` (live 1,372): 1,393 with 8 kB pages; the database grew 6.8 → 6.1–6.2 kB per complaint
  (7.4–7.9 → 6.4–6.6 kB at 8 clients). 16 kB pages gave ~5.9 kB but ~20 % more CPU per complaint;
  8 kB ones were within the noise of 4 kB. The database is rewritten once (``VACUUM``, out of WAL mode
  for it, then back). When another connection holds the file in WAL mode (WAL mode cannot be left then),
  the pages stay as they are, the log says so and the revision is applied all the same (it can be done
  later by hand: ``PRAGMA journal_mode = DELETE; PRAGMA page_size = 8192; VACUUM; PRAGMA journal_mode =
  WAL`` with the service stopped).

Measured and left out: a lower ``toast_tuple_target`` (no effect below ~2 kB, see above); ``fillfactor``
on ``cases`` (no update of a case is HOT: ``data``, ``next_timer_at`` and ``status`` are indexed and
change, ``n_tup_hot_upd`` stays 0; space left free per page made the heap grow more at 8 clients);
``fastupdate = off`` on the register's GIN indexes: they grew 601 → 191 B per complaint (a pending list
merged during an insert leaves its pages empty until the next VACUUM), but every update of ``cases.data``
then writes all its words into the trees at once: the WAL per complaint doubled (18.8 → 37.7 kB,
``pg_stat_statements.wal_bytes`` of the three writes), which a replica or a WAL archive pays for.

Downgrade resets the PostgreSQL settings and puts SQLite's page size back to 4,096.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-02 14:00:00
"""
import logging

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

#: (table, column) compressed with lz4 when the server has it
LZ4_COLUMNS = (("cases", "state"), ("cases", "data"))
SQLITE_PAGE_SIZE = 8192
SQLITE_DEFAULT_PAGE_SIZE = 4096

log = logging.getLogger("alembic.runtime.migration")


def has_lz4(bind: sa.Connection) -> bool:
    """Whether the PostgreSQL server was built with lz4 (it then lists it for ``default_toast_compression``)."""
    values = bind.execute(sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
                          ).scalar()
    return "lz4" in (values or [])


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        if has_lz4(bind):
            for table, column in LZ4_COLUMNS:
                op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION lz4")
    elif bind.dialect.name == "sqlite":
        _sqlite_page_size(SQLITE_PAGE_SIZE)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table, column in LZ4_COLUMNS:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION default")
    elif bind.dialect.name == "sqlite":
        _sqlite_page_size(SQLITE_DEFAULT_PAGE_SIZE)


def _sqlite_page_size(size: int) -> None:
    """Rewrite the database with pages of ``size`` bytes (a no-op when they are already, or in memory)."""
    with op.get_context().autocommit_block():
        bind = op.get_bind()
        if bind.execute(sa.text("PRAGMA page_size")).scalar() == size:
            return
        if not any(row[2] for row in bind.execute(sa.text("PRAGMA database_list")) if row[1] == "main"):
            return  # in memory: nothing stored to make smaller
        mode = str(bind.execute(sa.text("PRAGMA journal_mode")).scalar()).lower()
        if mode == "wal":
            timeout = bind.execute(sa.text("PRAGMA busy_timeout")).scalar()
            bind.execute(sa.text("PRAGMA busy_timeout = 0"))  # a held file answers at once, not after waiting
            try:
                left = str(bind.execute(sa.text("PRAGMA journal_mode = DELETE")).scalar()).lower() != "wal"
            except sa.exc.OperationalError:  # "database is locked": another connection has it open
                left = False
            finally:
                bind.execute(sa.text(f"PRAGMA busy_timeout = {int(timeout or 0)}"))
            if not left:
                log.warning("SQLite page size stays %s: another connection holds the database in WAL mode",
                            bind.execute(sa.text("PRAGMA page_size")).scalar())
                return
        try:
            bind.execute(sa.text(f"PRAGMA page_size = {int(size)}"))
            bind.execute(sa.text("VACUUM"))
        finally:
            if mode == "wal":
                bind.execute(sa.text("PRAGMA journal_mode = WAL"))
