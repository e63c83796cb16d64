"""case trust: need-to-know case access rows, sub-units

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 18:00:00
"""
from alembic import op
import sqlalchemy as sa
import service.store.types


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_units_parent_id'), ['parent_id'], unique=False)
        batch_op.create_foreign_key('fk_units_parent_id_units', 'units', ['parent_id'], ['id'])

    op.create_table('case_access',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('granted_at', service.store.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('case_id', 'unit_id', 'role')
    )
    op.create_index('ix_case_access_unit_role', 'case_access', ['unit_id', 'role', 'case_id'], unique=False)
    # Cases that already exist: every role that holds or held a task of the case keeps its access.
    op.execute(
        "INSERT INTO case_access (case_id, unit_id, role, source, granted_at) "
        "SELECT DISTINCT t.case_id, t.unit_id, t.lane, 'task', CURRENT_TIMESTAMP FROM tasks t "
        "WHERE t.lane IS NOT NULL AND t.lane <> 'Pelapor'"
    )


def downgrade() -> None:
    op.drop_index('ix_case_access_unit_role', table_name='case_access')
    op.drop_table('case_access')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_constraint('fk_units_parent_id_units', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_units_parent_id'))
        batch_op.drop_column('parent_id')
