"""cases.history_head: the hash of each case's newest history row, so appending needs no lookup

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 21:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('history_head', sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE cases SET history_head = (SELECT history.hash FROM history WHERE history.case_id = cases.id "
        "ORDER BY history.id DESC LIMIT 1)"
    )


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('history_head')
