"""Smaller stored cases (bytes per completed case, issue 13)

Indexes that cost bytes on every case and that no query needs (``benchmarks/case_bytes.py`` measures
them; the queries were checked with grep and EXPLAIN on both backends):

- ``ix_cases_unit_id``: every lookup by unit is served by ``ix_cases_unit_registration``
  (``unit_id``, ``registration_number``), which leads with the same column;
- ``ix_cases_next_timer_at`` becomes partial (``WHERE next_timer_at IS NOT NULL``): the timer sweep
  asks ``next_timer_at <= now``, which no finished case (null) can match;
- ``ix_cases_business_key`` becomes partial (``WHERE business_key IS NOT NULL``): looked up by equality
  only, and most cases (public reports, complaints) have none;
- ``ix_outbox_sent_at`` and ``ix_outbox_case_id``: no query filters or sorts outbox rows by either
  (the worker claims by status, the outbox page sorts by ``created_at``), and cases are never deleted;
- PostgreSQL: the register's GIN indexes on ``cases.data`` and ``history.data`` (migration 0014) keep a
  pending list of at most 64 kB instead of ``work_mem``-sized 4 MB (``gin_pending_list_limit``): the
  list is merged more often, and a database does not carry megabytes of unmerged entries per index.

And the stored workflow states of finished cases are rewritten in format 2
(:func:`service.engine.serialization.compact_state`: compact tasks, a finished workflow pruned to its
root and data), in batches; running cases get format 2 at their next step. Downgrade puts the indexes
back; format 2 states stay (the code of this revision reads both formats).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 03:15:00
"""
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None

#: GIN indexes of migration 0014 on the tables of a case's own rows (PostgreSQL only)
GIN_INDEXES = ("ix_cases_search", "ix_history_search")
GIN_PENDING_LIST_KB = 64
BATCH = 500
FINISHED = ("completed", "cancelled")


def _partial(name: str, column: str) -> None:
    op.drop_index(name, table_name="cases")
    where = sa.text(f"{column} IS NOT NULL")
    op.create_index(name, "cases", [column], unique=False, postgresql_where=where, sqlite_where=where)


def upgrade() -> None:
    op.drop_index("ix_cases_unit_id", table_name="cases")
    _partial("ix_cases_next_timer_at", "next_timer_at")
    _partial("ix_cases_business_key", "business_key")
    op.drop_index("ix_outbox_sent_at", table_name="outbox")
    op.drop_index("ix_outbox_case_id", table_name="outbox")
    if op.get_bind().dialect.name == "postgresql":
        for name in GIN_INDEXES:
            op.execute(f"ALTER INDEX {name} SET (gin_pending_list_limit = {GIN_PENDING_LIST_KB})")
    _compact_finished_states()


def _compact_finished_states() -> None:
    from service.engine.serialization import FORMAT_KEY, FULL_FORMAT, compact_state

    bind = op.get_bind()
    cases = sa.table("cases", sa.column("id", sa.String), sa.column("status", sa.String),
                     sa.column("state", sa.JSON))
    after = ""
    while True:
        rows = bind.execute(sa.select(cases.c.id, cases.c.state)
                            .where(cases.c.status.in_(FINISHED), cases.c.id > after)
                            .order_by(cases.c.id).limit(BATCH)).all()
        if not rows:
            return
        changed: list[dict[str, Any]] = [
            {"case_id": row.id, "state": compact_state(row.state)} for row in rows
            if isinstance(row.state, dict) and row.state.get(FORMAT_KEY) == FULL_FORMAT]
        if changed:
            bind.execute(cases.update().where(cases.c.id == sa.bindparam("case_id"))
                         .values(state=sa.bindparam("state")), changed)
        after = rows[-1].id


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in GIN_INDEXES:
            op.execute(f"ALTER INDEX {name} RESET (gin_pending_list_limit)")
    op.create_index("ix_outbox_case_id", "outbox", ["case_id"], unique=False)
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"], unique=False)
    for name, column in (("ix_cases_business_key", "business_key"), ("ix_cases_next_timer_at", "next_timer_at")):
        op.drop_index(name, table_name="cases")
        op.create_index(name, "cases", [column], unique=False)
    op.create_index("ix_cases_unit_id", "cases", ["unit_id"], unique=False)
