"""Task list: no parallel workers for the short index walks of ``task_candidates``

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 03:15:00

The "SOP + overdue" page cost 78 DB-CPU-ms at 1M open cases against 8 at 10k (issue 13). Its
capped count walks the actor's ``task_candidates`` index range and checks each candidate's task
against the filters, stopping at the cap (about 2,000 probes at 1M). For that LIMIT the planner
chose a parallel scan of ``task_candidates``: two worker processes started for every request.
``parallel_workers = 0`` takes that plan away (PostgreSQL only; SQLite has no parallel query).
With the count written as one probe per candidate (``service/commands/task_list.py``) it costs
about 10 DB-CPU-ms at 1M. A covering index on ``tasks`` (id, status, definition_key, due_at) was
measured as well and made no difference to that figure, so it is not added: writes stay as they were.
"""
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE task_candidates SET (parallel_workers = 0)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE task_candidates RESET (parallel_workers)')
