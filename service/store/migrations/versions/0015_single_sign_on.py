"""Single sign-on: users.external_id (the OpenID Connect issuer and subject) and memberships.source
(``local`` or ``sso``: roles from the identity provider's claim, replaced at each SSO sign-in)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 00:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=400), nullable=True))
        batch_op.create_unique_constraint('uq_users_external_id', ['external_id'])
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=10), server_default='local', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('memberships', schema=None) as batch_op:
        batch_op.drop_column('source')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('uq_users_external_id', type_='unique')
        batch_op.drop_column('external_id')
