"""SOP revision workflow (approved_at, definition_events) and case migrations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 03:30:00

Written by hand. The lead fixes ``down_revision`` to the newest revision at commit time.
"""
from alembic import op
import sqlalchemy as sa
import service.store.types


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('definitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approved_at', service.store.types.UTCDateTime(timezone=True), nullable=True))

    op.create_table('definition_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=True),
    sa.Column('action', sa.String(length=50), nullable=False),
    sa.Column('at', service.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['definitions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('definition_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_definition_events_definition_id'), ['definition_id'], unique=False)

    op.create_table('case_migrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('from_definition_id', sa.Integer(), nullable=False),
    sa.Column('to_definition_id', sa.Integer(), nullable=False),
    sa.Column('previous_state', sa.JSON(), nullable=False),
    sa.Column('previous_next_timer_at', service.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lock_version_after', sa.Integer(), nullable=False),
    sa.Column('migrated_by', sa.String(length=100), nullable=True),
    sa.Column('migrated_at', service.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reverted_at', service.store.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reverted_by', sa.String(length=100), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['from_definition_id'], ['definitions.id'], ),
    sa.ForeignKeyConstraint(['to_definition_id'], ['definitions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_migrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_migrations_case_id'), ['case_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('case_migrations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_migrations_case_id'))
    op.drop_table('case_migrations')
    with op.batch_alter_table('definition_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_definition_events_definition_id'))
    op.drop_table('definition_events')
    with op.batch_alter_table('definitions', schema=None) as batch_op:
        batch_op.drop_column('approved_at')
