"""Archives of completed cases (case_archives) and the retention purge mark (cases.purged_at)

``cases.purged_at`` is added with a plain ALTER TABLE (no batch copy), so the SQLite search triggers
of 0014 on ``cases`` stay in place.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 00:40:00
"""
from alembic import op
import sqlalchemy as sa
import service.store.types


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('cases', sa.Column('purged_at', service.store.types.UTCDateTime(timezone=True), nullable=True))
    op.create_table('case_archives',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', service.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id')
    )


def downgrade() -> None:
    op.drop_table('case_archives')
    op.drop_column('cases', 'purged_at')  # SQLite >= 3.35 drops a column in place (triggers kept)
