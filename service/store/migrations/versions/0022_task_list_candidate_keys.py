"""Task list: each candidate row holds its task's sort and filter columns, indexed per (unit, role)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-02 13:00:00

At a million open cases the filtered page ("SOP + overdue") and deep keyset pages were not flat
(issue 13): a page walked ``ix_tasks_status_due`` over every open task and looked up, for each, whether
one of its candidates is the actor's (about 70 tasks walked per row shown), and the filtered capped count
walked the actor's ``task_candidates`` and looked up each one's task for its due date and SOP.

``task_candidates`` gets a copy of the task's ``due_at``, ``created_at`` and ``definition_key`` (they
do not change while the task is open, but for a due date that moves, which the service copies with
the task's; see :class:`service.store.models.TaskCandidate`), and two indexes per (unit, role) in the
list's orders replace ``ix_task_candidates_unit_role_task``:

- ``ix_task_candidates_due`` (``unit_id``, ``role``, ``due_at``, ``created_at``, ``task_id``,
  ``definition_key``): the due-date sorts, their keyset pages, the due filters and the SOP filter with
  their capped counts, read from the index alone (``definition_key`` after the unique task id orders
  nothing; read from the rows instead, the capped count of "SOP + overdue" at a million open cases cost
  2.8 ms on PostgreSQL against 0.27 ms);
- ``ix_task_candidates_created`` (``unit_id``, ``role``, ``created_at``, ``task_id``): the creation-date
  sorts, and the capped count without filters.

The existing rows are filled from their tasks. Downgrade drops the columns and puts the index back.
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

COPIED = ("due_at", "created_at", "definition_key")


def upgrade() -> None:
    with op.batch_alter_table('task_candidates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('created_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('definition_key', sa.String(length=200), nullable=True))
    # every candidate row's task exists (a foreign key): each row gets its task's values
    assignments = ", ".join(f"{column} = tasks.{column}" for column in COPIED)
    op.execute(f"UPDATE task_candidates SET {assignments} FROM tasks WHERE tasks.id = task_candidates.task_id")
    with op.batch_alter_table('task_candidates', schema=None) as batch_op:
        batch_op.alter_column('created_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column('definition_key', existing_type=sa.String(length=200), nullable=False)
        batch_op.drop_index('ix_task_candidates_unit_role_task')
        batch_op.create_index('ix_task_candidates_due',
                              ['unit_id', 'role', 'due_at', 'created_at', 'task_id', 'definition_key'], unique=False)
        batch_op.create_index('ix_task_candidates_created', ['unit_id', 'role', 'created_at', 'task_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('task_candidates', schema=None) as batch_op:
        batch_op.drop_index('ix_task_candidates_created')
        batch_op.drop_index('ix_task_candidates_due')
        batch_op.create_index('ix_task_candidates_unit_role_task', ['unit_id', 'role', 'task_id'], unique=False)
        for column in reversed(COPIED):
            batch_op.drop_column(column)
