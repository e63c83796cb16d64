"""task list indexes: keyset pages walk tasks in sort order; candidates are found by (unit, role)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 09:00:00

``ix_tasks_status_due`` serves the due-date sorts (both directions, tasks without a due date as
their own range), ``ix_tasks_status_created`` the creation-time sorts; ``id`` ends both so a
cursor's row-value comparison is one index range. ``ix_task_candidates_unit_role_task`` replaces
``ix_task_candidates_unit_role``: with ``task_id`` in it, "the tasks of my (unit, role)" and the
capped counts are read from the index alone.
"""
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_status_due', ['status', 'due_at', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_tasks_status_created', ['status', 'created_at', 'id'], unique=False)
    with op.batch_alter_table('task_candidates', schema=None) as batch_op:
        batch_op.drop_index('ix_task_candidates_unit_role')
        batch_op.create_index('ix_task_candidates_unit_role_task', ['unit_id', 'role', 'task_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('task_candidates', schema=None) as batch_op:
        batch_op.drop_index('ix_task_candidates_unit_role_task')
        batch_op.create_index('ix_task_candidates_unit_role', ['unit_id', 'role'], unique=False)
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_status_created')
        batch_op.drop_index('ix_tasks_status_due')
