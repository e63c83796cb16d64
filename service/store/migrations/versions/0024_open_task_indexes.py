"""The status indexes of ``tasks`` hold open tasks only (bytes per completed case, issue 13)

A task row is inserted ``ready`` and updated once, to ``completed`` or ``cancelled``. No update of a task
is HOT (``status`` is indexed), so each task left two entries in each of the four status indexes, and a
finished task kept a live one in each forever: on PostgreSQL they grew ~1.1 kB per completed case
(``benchmarks/case_bytes.py``, 300 complaints: ``ix_tasks_status_created`` 492 B, ``ix_tasks_status_due``
464, ``ix_tasks_unit_lane_status_due`` 137). Every query that reads them asks for ready tasks only (the
staff list walks ``task_candidates`` since 0022; checked with grep and EXPLAIN on both backends), so each
becomes partial, ``WHERE status = 'ready'``, without ``status`` in its key:

- ``ix_tasks_status_due`` → ``ix_tasks_ready_due`` (``due_at``, ``created_at``, ``id``): an administrator's
  list in due-date order, its keyset pages and due filters;
- ``ix_tasks_status_created`` → ``ix_tasks_ready_created`` (``created_at``, ``id``): that list in creation
  order;
- ``ix_tasks_claimed_status`` → ``ix_tasks_ready_claimed`` (``claimed_by``), of the claimed open tasks only
  (``AND claimed_by IS NOT NULL``, which ``claimed_by = :user`` implies for both planners): "mine", its page
  and its capped count. Holding every open task, nearly all under one key (null), it looked useless for
  ``claimed_by = ?`` to SQLite's planner (its statistics: every entry under one key), which then scanned
  the table for "mine"; the unclaimed filter (an administrator's) walks the list's order instead;
- ``ix_tasks_unit_lane_status_due`` → ``ix_tasks_ready_unit_due`` (``unit_id``, ``due_at``): that list's
  unit filter and its capped count; ``lane`` goes, no query filters tasks by it (the lane filter reads
  the candidate rows).

The capped counts and the metrics' counts read whichever of them is smallest. The SLA report asks for
``status = 'completed'``, most of the table: SQLite searched ``ix_tasks_status_created`` for it and
PostgreSQL read the table; both read the table now. The queries say ``status = 'ready'`` in their text
(:data:`service.store.models.TASK_IS_READY`): the generic plan of a prepared statement on PostgreSQL
cannot use a partial index for ``status = $1``.

Measured (``case_bytes.py --backend postgres --cases 300``, this revision against the same tree without
it, one sitting): the four indexes 1,121 → 383 B per completed case as grown, 423 → 0 live; the
database 7,482 → 6,854 B as grown, 5,175 → 4,751 live.

The indexes are built in the migration's transaction (no ``CONCURRENTLY``, as in every revision here):
writes to ``tasks`` wait while they build (one read of the table each). Downgrade puts the four full
indexes back.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-02 19:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None

OPEN = "status = 'ready'"
#: (name before, name after, key after, which rows after)
PARTIAL = (
    ("ix_tasks_status_due", "ix_tasks_ready_due", ["due_at", "created_at", "id"], OPEN),
    ("ix_tasks_status_created", "ix_tasks_ready_created", ["created_at", "id"], OPEN),
    ("ix_tasks_claimed_status", "ix_tasks_ready_claimed", ["claimed_by"], f"{OPEN} AND claimed_by IS NOT NULL"),
    ("ix_tasks_unit_lane_status_due", "ix_tasks_ready_unit_due", ["unit_id", "due_at"], OPEN),
)
#: the indexes before this revision (0001, 0010)
FULL = {
    "ix_tasks_status_due": ["status", "due_at", "created_at", "id"],
    "ix_tasks_status_created": ["status", "created_at", "id"],
    "ix_tasks_claimed_status": ["claimed_by", "status"],
    "ix_tasks_unit_lane_status_due": ["unit_id", "lane", "status", "due_at"],
}


def upgrade() -> None:
    for before, after, columns, rows in PARTIAL:
        op.drop_index(before, table_name="tasks")
        where = sa.text(rows)
        op.create_index(after, "tasks", columns, unique=False, postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    for before, after, _, _ in PARTIAL:
        op.drop_index(after, table_name="tasks")
        op.create_index(before, "tasks", FULL[before], unique=False)
