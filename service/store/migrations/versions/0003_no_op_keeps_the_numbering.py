"""no-op: keeps the revision numbers without a gap

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 18:30:00

No revision 0003 was ever committed: 0004 was generated on top of 0002. A gap in the numbers reads
like a lost migration and hides a real one going missing, so the chain test
(tests/store/test_migration_chain.py) wants 0001…N without gaps; 0003 fills the gap and changes
nothing, and 0004 now revises 0003.

Existing databases are unaffected: for one at 0004 or later (its alembic_version row), 0003 lies
behind it in the chain and is never run; one at 0002 passes through 0003 on its way to 0004.
Downgrading past it does nothing either.
"""


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
