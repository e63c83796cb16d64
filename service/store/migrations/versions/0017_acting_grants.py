"""Acting officials (Plt. / Plh.): acting_grants

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 00:45:00
"""
from alembic import op
import sqlalchemy as sa
import service.store.types


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('acting_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('for_user_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=3), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('starts_at', service.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', service.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('granted_by', sa.String(length=100), nullable=True),
    sa.Column('created_at', service.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', service.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['for_user_id'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_acting_grants_user_ends', 'acting_grants', ['user_id', 'ends_at'], unique=False)
    op.create_index('ix_acting_grants_unit_role', 'acting_grants', ['unit_id', 'role', 'ends_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_acting_grants_unit_role', table_name='acting_grants')
    op.drop_index('ix_acting_grants_user_ends', table_name='acting_grants')
    op.drop_table('acting_grants')
