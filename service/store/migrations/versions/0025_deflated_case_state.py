"""A case's workflow state is stored deflated when it is long (bytes per completed case, issue 13)

``service.store.types.StoredState`` writes a state longer than 256 bytes of JSON as a zlib stream
(level 1) and reads a stored value by its first byte (``{``: JSON text, else zlib). A running state of the
complaint benchmark went 1,335 / 1,926 → 713 / 888 bytes, a finished one 554 → 379. PostgreSQL compresses
only rows over ~2 kB, and no update of a case is HOT (``data``, ``status`` and ``next_timer_at`` are
indexed and change), so every version of a case row kept its state whole until VACUUM.

- PostgreSQL: ``cases.state`` becomes ``bytea`` holding the bytes of its JSON text (the table is rewritten
  once, under an exclusive lock: stop the service for it on a big database). Rows are deflated when next
  written. The column keeps lz4 as its compression method where the server has it (0023).
- SQLite: nothing to do. A column's declared type is only a name there, and changing it would rebuild the
  table and its search triggers; the column stays ``JSON`` and holds TEXT (older rows) or BLOB values.

Downgrade writes every deflated state back as JSON text (and, on PostgreSQL, the column back to ``json``).

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 19:30:00
"""
import zlib

import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None

#: rows read and written back at a time by the downgrade
BATCH = 500


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    lz4 = "lz4" in (bind.execute(sa.text(
        "SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")).scalar() or [])
    op.execute("ALTER TABLE cases ALTER COLUMN state TYPE bytea USING convert_to(state::text, 'UTF8')")
    if lz4:
        op.execute("ALTER TABLE cases ALTER COLUMN state SET COMPRESSION lz4")


def downgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    deflated = ("get_byte(state, 0) <> 123" if postgres  # 123: "{"
                else "typeof(state) = 'blob' AND substr(state, 1, 1) <> x'7b'")
    while True:
        rows = bind.execute(sa.text(f"SELECT id, state FROM cases WHERE {deflated} LIMIT {BATCH}")).all()
        if not rows:
            break
        bind.execute(sa.text("UPDATE cases SET state = :state WHERE id = :id"),
                     [{"id": row.id, "state": zlib.decompress(bytes(row.state)) if postgres
                       else zlib.decompress(bytes(row.state)).decode()} for row in rows])
    if postgres:
        op.execute("ALTER TABLE cases ALTER COLUMN state TYPE json USING convert_from(state, 'UTF8')::json")
    else:  # JSON text stored as a BLOB (a short state) back to TEXT, as the JSON type wrote it
        op.execute("UPDATE cases SET state = CAST(state AS TEXT) WHERE typeof(state) = 'blob'")
