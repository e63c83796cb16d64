"""The history chain's digests are stored as their 32 bytes, not 64 hex digits (issue 13)

``service.store.types.Digest`` hands the code the hex text it always had and stores the bytes: ``history.hash``
and ``history.prev_hash`` go from 65 to 33 bytes each. A complaint writes six history rows: the history heap
went 2,266 → 1,857 B per completed case (``benchmarks/case_bytes.py``, PostgreSQL, 300 complaints).

``cases.history_head`` stays hex text: as bytes (32 B less per row version) the ``cases`` heap grew *more*
on a fresh database, 1,638 → 2,703–2,731 B per complaint in three of three runs (live unchanged, 1,024):
the smaller rows changed which pages PostgreSQL prunes of dead row versions before it takes new ones.

- PostgreSQL: the two columns become ``bytea`` (``decode(…, 'hex')``; the tables are rewritten once,
  under an exclusive lock: stop the service for it on a big database).
- SQLite: nothing to do. The columns stay declared ``VARCHAR(64)`` (changing a declared type rebuilds the
  table and its search triggers) and hold TEXT hex (older rows) or 32-byte BLOBs.

Downgrade writes hex text back (PostgreSQL: into ``varchar(64)`` columns again).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 19:45:00
"""
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None

#: (table, column) of every stored digest
DIGESTS = (("history", "hash"), ("history", "prev_hash"))


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in DIGESTS:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE bytea USING decode({column}, 'hex')")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, column in DIGESTS:
        if postgres:
            op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} TYPE varchar(64) USING encode({column}, 'hex')")
        else:
            op.execute(f"UPDATE {table} SET {column} = lower(hex({column})) WHERE typeof({column}) = 'blob'")
