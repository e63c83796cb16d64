"""DMN decision tables of a revision: definitions.decisions

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('definitions') as batch_op:
        batch_op.add_column(sa.Column('decisions', sa.JSON(), nullable=False, server_default='{}'))
    # the existing revisions have none; new rows get theirs from the application (like forms)
    with op.batch_alter_table('definitions') as batch_op:
        batch_op.alter_column('decisions', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('definitions') as batch_op:
        batch_op.drop_column('decisions')
