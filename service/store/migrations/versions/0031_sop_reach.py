"""Which SOPs an actor sees a case of, without reading its cases (issue 13: the register page flat)

The register page (Perkara) offers the SOPs of the cases its viewer may see as a filter, and read
them from every such case on each page: 2.4 ms at 10k cases and 14.5 ms at 100k for an Inspektorat
user, growing with the cases (``benchmarks/task_list_scale.py``, variant "register SOPs").

``sop_reach`` holds, per source of the rule of :func:`service.commands.access.visible_cases`, the SOP
keys it reaches; a row says "this source sees at least one case of this SOP":

- ``(unit_id, '', 0, key)``: a case of the unit (its administrators see it);
- ``(0, '', user_id, key)``: a case the user started;
- ``(unit_id, role, 0, key)``: a case the (unit, role) pair has business in (an access row).

``0`` and ``''`` mean "not this part of the source": ids start at 1, and a role is never empty. The
rows are kept by triggers on ``cases`` and ``case_access``, so every writer keeps them (the commands'
one statement, the unit of work, ``alur bench seed``'s COPY) and no statement is added to a request:
on PostgreSQL per statement, from its transition table; on SQLite per row. Inserts are all there is
to follow: access rows are never deleted, a case's office and filer never change, and a case moved to
another revision (:mod:`service.commands.migrations`) stays on its SOP key. The table holds one row per
(source, SOP), a few thousand in a province, not one per case.

Downgrade drops the triggers, their functions and the table.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-03 22:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

#: the rows of what already exists (both databases)
_FILL = """
INSERT INTO sop_reach (unit_id, role, user_id, sop_key)
SELECT cases.unit_id, '', 0, definitions.key FROM cases JOIN definitions ON definitions.id = cases.definition_id
UNION
SELECT 0, '', cases.started_by, definitions.key FROM cases JOIN definitions ON definitions.id = cases.definition_id
 WHERE cases.started_by IS NOT NULL
UNION
SELECT case_access.unit_id, case_access.role, 0, definitions.key FROM case_access
  JOIN cases ON cases.id = case_access.case_id JOIN definitions ON definitions.id = cases.definition_id
"""

#: PostgreSQL: trigger function → its body; rows are inserted in key order, so two first writers of the
#: same rows wait on each other in one order and cannot deadlock
_PG_FUNCTIONS = {
    "sop_reach_of_cases": """
        INSERT INTO sop_reach (unit_id, role, user_id, sop_key)
        SELECT DISTINCT reach.unit_id, '', reach.user_id, definitions.key
          FROM added JOIN definitions ON definitions.id = added.definition_id
          CROSS JOIN LATERAL (VALUES (added.unit_id, 0), (0, added.started_by)) AS reach (unit_id, user_id)
         WHERE reach.user_id IS NOT NULL
         ORDER BY 1, 3, 4
        ON CONFLICT DO NOTHING;""",
    "sop_reach_of_access": """
        INSERT INTO sop_reach (unit_id, role, user_id, sop_key)
        SELECT DISTINCT granted.unit_id, granted.role, 0, definitions.key
          FROM granted JOIN cases ON cases.id = granted.case_id
          JOIN definitions ON definitions.id = cases.definition_id
         ORDER BY 1, 2, 4
        ON CONFLICT DO NOTHING;""",
}
_PG_TRIGGERS = {
    "sop_reach_cases": "AFTER INSERT ON cases REFERENCING NEW TABLE AS added FOR EACH STATEMENT "
                       "EXECUTE FUNCTION sop_reach_of_cases()",
    "sop_reach_access": "AFTER INSERT ON case_access REFERENCING NEW TABLE AS granted FOR EACH STATEMENT "
                        "EXECUTE FUNCTION sop_reach_of_access()",
}

_SQLITE_CASE_ROWS = """
    INSERT OR IGNORE INTO sop_reach (unit_id, role, user_id, sop_key)
    SELECT new.unit_id, '', 0, key FROM definitions WHERE id = new.definition_id;
    INSERT OR IGNORE INTO sop_reach (unit_id, role, user_id, sop_key)
    SELECT 0, '', new.started_by, key FROM definitions WHERE id = new.definition_id AND new.started_by IS NOT NULL;"""
_SQLITE_TRIGGERS = {
    "sop_reach_cases": f"AFTER INSERT ON cases BEGIN {_SQLITE_CASE_ROWS} END",
    "sop_reach_access": """AFTER INSERT ON case_access BEGIN
        INSERT OR IGNORE INTO sop_reach (unit_id, role, user_id, sop_key)
        SELECT new.unit_id, new.role, 0, definitions.key FROM cases
          JOIN definitions ON definitions.id = cases.definition_id WHERE cases.id = new.case_id;
        END""",
}


def upgrade() -> None:
    op.create_table(
        "sop_reach",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("sop_key", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("unit_id", "role", "user_id", "sop_key", name="sop_reach_pkey"),
    )
    op.execute(_FILL)
    if op.get_bind().dialect.name == "postgresql":
        for name, body in _PG_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} "
                       "RETURN NULL; END $$")
        for name, definition in _PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {definition}")
    else:
        for name, definition in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {definition}")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, table in (("sop_reach_cases", "cases"), ("sop_reach_access", "case_access")):
        op.execute(f"DROP TRIGGER {name} ON {table}" if postgres else f"DROP TRIGGER {name}")
    if postgres:
        for name in _PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION {name}()")
    op.drop_table("sop_reach")
