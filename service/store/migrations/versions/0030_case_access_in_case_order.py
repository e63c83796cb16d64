"""A (unit, role)'s access rows in case order: the staff case list flat in the cases (issue 13)

A staff member's ``GET /api/cases`` asked for the cases one of their (unit, role) pairs has business in
(``case_access``, the rule of :func:`service.commands.access.visible_cases`), newest first, with their
count: an OR of the sources with an ``EXISTS`` per case, which read every case for each page and for
the count — 13 ms at 10k cases and 69 ms (64 ms of database CPU) at 100k for an Inspektorat user
(``benchmarks/task_list_scale.py``, variant "staff cases").

``case_access`` gets a copy of its case's ``created_at`` (it never changes), and
``ix_case_access_listed`` (``unit_id``, ``role``, ``case_created_at``, ``case_id``) replaces
``ix_case_access_unit_role`` (``unit_id``, ``role``, ``case_id``): the list walks a pair's rows newest
first and stops at its page (:func:`service.commands.access.first_visible`); what the old index served,
a pair's case ids, it serves as well. The existing rows are filled from their cases.

Downgrade drops the column and puts the old index back.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-03 16:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("case_access", schema=None) as batch_op:
        batch_op.add_column(sa.Column("case_created_at", sa.DateTime(timezone=True), nullable=True))
    # every access row's case exists (a foreign key): each row gets its case's creation time
    op.execute("UPDATE case_access SET case_created_at = cases.created_at FROM cases "
               "WHERE cases.id = case_access.case_id")
    with op.batch_alter_table("case_access", schema=None) as batch_op:
        batch_op.alter_column("case_created_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.drop_index("ix_case_access_unit_role")
        batch_op.create_index("ix_case_access_listed", ["unit_id", "role", "case_created_at", "case_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_access", schema=None) as batch_op:
        batch_op.drop_index("ix_case_access_listed")
        batch_op.create_index("ix_case_access_unit_role", ["unit_id", "role", "case_id"], unique=False)
        batch_op.drop_column("case_created_at")
