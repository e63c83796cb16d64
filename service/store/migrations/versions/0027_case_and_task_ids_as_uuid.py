"""Case and task ids stored as PostgreSQL's 16-byte ``uuid``, not 36 characters of text (issue 13)

``service.store.types.EntityId`` hands the code the canonical text it always had. A case id is stored
about a dozen times per complaint (the case, its tasks, access and history rows, the indexes over them),
each copy 37 bytes as text and 16 as ``uuid``; a task id in its task, its candidate rows, history and
notifications. See ``benchmarks/RESULTS.md`` (2026-12-03) for the bytes per completed case.

- PostgreSQL: the foreign keys to ``cases.id`` and ``tasks.id`` are dropped, every column of a case or
  task id becomes ``uuid`` (``col::uuid``; each table is rewritten once, under an exclusive lock: stop the
  service for it on a big database), and the foreign keys are created again as they were. A stored value
  that is not a UUID fails the migration, which then changes nothing (PostgreSQL's DDL is transactional).
- SQLite: nothing to do; the columns stay ``VARCHAR(36)``.

The task ids of ``attachments`` and ``comments`` stay text: nothing compares them with ``tasks.id``
in SQL, and they are not on the hot path.

Downgrade turns the columns back into ``varchar(36)``.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 07:30:00
"""
from alembic import op
from sqlalchemy import text

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

#: table → its columns holding a case or task id (every column referencing ``cases.id`` or ``tasks.id``)
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    "cases": ("id",),
    "tasks": ("id", "case_id"),
    "task_candidates": ("task_id",),
    "history": ("case_id", "task_id"),
    "notifications": ("case_id", "task_id"),
    "attachments": ("case_id",),
    "case_access": ("case_id",),
    "case_archives": ("case_id",),
    "case_migrations": ("case_id",),
    "comments": ("case_id",),
    "conversation": ("case_id",),
    "messages": ("case_id",),
    "outbox": ("case_id",),
    "reporters": ("case_id",),
}


def upgrade() -> None:
    _retype("uuid")


def downgrade() -> None:
    _retype("varchar(36)")


def _retype(type_: str) -> None:
    """Every id column of :data:`ID_COLUMNS` as ``type_``, the foreign keys between them kept."""
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    keys = bind.execute(text(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND confrelid IN ('cases'::regclass, 'tasks'::regclass)")).all()
    for table, name, _ in keys:
        op.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table, columns in ID_COLUMNS.items():
        op.execute(f"ALTER TABLE {table} " + ", ".join(
            f"ALTER COLUMN {column} TYPE {type_} USING {column}::{type_}" for column in columns))
    for table, name, definition in keys:
        op.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
