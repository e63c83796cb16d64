"""A reporter's task list walks their own candidate rows (issue 13: the task list flat in the open cases)

A reporter (role ``Pelapor``) sees the Pelapor tasks of the cases they filed. The list walked every
Pelapor row of the unit in the page's order and probed each one's task and case for ``started_by``, so
a reporter with few or no open tasks read them all: 2.4 ms at 10k open cases, 15 ms (13 ms of database
CPU) at 100k (``benchmarks/task_list_scale.py``, variant "reporter").

- ``task_candidates.reporter_id``: on the reporter's row of a task, who filed the case (the case's
  ``started_by``, which never changes once the case exists); null on every other row. Filled here for
  the open tasks' rows from their cases. No foreign key: like the row's other columns it is a copy of
  what the case holds, and ``cases.started_by`` keeps its own.
- Two partial indexes of the rows that name a reporter, in the list's two orders (after the reporter,
  unit and role): ``ix_task_candidates_reporter_due`` and ``ix_task_candidates_reporter_created``. A
  staff member's rows are in neither; their walks are unchanged.

Downgrade drops the indexes and the column.

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-03 10:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

#: the reporter's role as this revision knows it (``service.commands.context.REPORTER_ROLE``)
REPORTER_ROLE = "Pelapor"
HAS_REPORTER = "reporter_id IS NOT NULL"
#: name → key of the new partial indexes
INDEXES = {
    "ix_task_candidates_reporter_due": ["reporter_id", "unit_id", "role", "due_at", "created_at", "task_id"],
    "ix_task_candidates_reporter_created": ["reporter_id", "unit_id", "role", "created_at", "task_id"],
}


def upgrade() -> None:
    op.add_column("task_candidates", sa.Column("reporter_id", sa.Integer(), nullable=True))
    op.execute(sa.text(
        "UPDATE task_candidates SET reporter_id = ("
        " SELECT cases.started_by FROM tasks JOIN cases ON cases.id = tasks.case_id"
        " WHERE tasks.id = task_candidates.task_id)"
        " WHERE role = :role").bindparams(role=REPORTER_ROLE))
    for name, columns in INDEXES.items():
        where = sa.text(HAS_REPORTER)
        op.create_index(name, "task_candidates", columns, unique=False, postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="task_candidates")
    with op.batch_alter_table("task_candidates") as batch:
        batch.drop_column("reporter_id")
