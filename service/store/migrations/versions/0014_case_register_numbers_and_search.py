"""The case register: Nomor registrasi for the cases stored before it, and full-text search over case
data and history (PostgreSQL GIN indexes on ``to_tsvector('simple', …)``; SQLite an FTS5 table kept
by triggers)

PostgreSQL: expression indexes on the text the register searches — the case data (``cases.data``), its
history rows (``history.data``: the forms' data, step names, reasons), staff notes (``comments.body``)
and the reporter thread (``conversation.text``) — with the ``simple`` configuration (Indonesian has no
stemmer). Nothing is written besides the rows themselves: the index is the search document.

SQLite: one FTS5 table ``case_search(case_id, body)``, filled by triggers on the same tables (one row
per case at its insert, per history row, note and message; the JSON's string values only), so every
writer keeps it current without a statement of its own. A later migration that rebuilds one of these
tables with ``batch_alter_table`` (copy and rename) drops its triggers: it must create them again
(:func:`create_sqlite_triggers`).

The reporter's identity is never searched: it lives encrypted in ``reporters``, which is not indexed.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 00:30:00
"""
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import service.store.types

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

ROMAN_MONTHS = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")

#: PostgreSQL: index name → (table, column)
PG_INDEXES = {
    "ix_cases_search": ("cases", "data"),
    "ix_history_search": ("history", "data"),
    "ix_comments_search": ("comments", "body"),
    "ix_conversation_search": ("conversation", "text"),
}

#: SQLite: the JSON's string values, space-separated
_TEXT_OF = "(SELECT group_concat(value, ' ') FROM json_tree({0}) WHERE type = 'text')"
#: FTS rowids: a history row's id × 4, a note's × 4 + 1, a message's × 4 + 2; a case's data row negative
_TRIGGERS = {
    "case_search_case_insert": f"""AFTER INSERT ON cases BEGIN
        INSERT INTO case_search (rowid, case_id, body) VALUES (
            min(-1, coalesce((SELECT rowid FROM case_search ORDER BY rowid LIMIT 1), 0) - 1),
            new.id, {_TEXT_OF.format('new.data')});
        END""",
    "case_search_case_delete": """AFTER DELETE ON cases BEGIN
        DELETE FROM case_search WHERE case_id = old.id;
        END""",
    "case_search_history_insert": f"""AFTER INSERT ON history BEGIN
        INSERT INTO case_search (rowid, case_id, body) VALUES (new.id * 4, new.case_id, {_TEXT_OF.format('new.data')});
        END""",
    "case_search_history_delete": """AFTER DELETE ON history BEGIN
        DELETE FROM case_search WHERE rowid = old.id * 4;
        END""",
    "case_search_comment_insert": """AFTER INSERT ON comments BEGIN
        INSERT INTO case_search (rowid, case_id, body) VALUES (new.id * 4 + 1, new.case_id, new.body);
        END""",
    "case_search_comment_delete": """AFTER DELETE ON comments BEGIN
        DELETE FROM case_search WHERE rowid = old.id * 4 + 1;
        END""",
    "case_search_message_insert": """AFTER INSERT ON conversation BEGIN
        INSERT INTO case_search (rowid, case_id, body) VALUES (new.id * 4 + 2, new.case_id, new.text);
        END""",
    "case_search_message_delete": """AFTER DELETE ON conversation BEGIN
        DELETE FROM case_search WHERE rowid = old.id * 4 + 2;
        END""",
}


def create_sqlite_triggers() -> None:
    for name, body in _TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def upgrade() -> None:
    _number_stored_cases()
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, column) in PG_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON {table} USING gin (to_tsvector('simple'::regconfig, {column}))")
        return
    op.execute("CREATE VIRTUAL TABLE case_search USING fts5("
               "case_id UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 2')")
    op.execute("INSERT INTO case_search (rowid, case_id, body) SELECT -row_number() OVER (ORDER BY created_at, id), "
               f"id, {_TEXT_OF.format('cases.data')} FROM cases")
    op.execute("INSERT INTO case_search (rowid, case_id, body) "
               f"SELECT id * 4, case_id, {_TEXT_OF.format('history.data')} FROM history")
    op.execute("INSERT INTO case_search (rowid, case_id, body) SELECT id * 4 + 1, case_id, body FROM comments")
    op.execute("INSERT INTO case_search (rowid, case_id, body) SELECT id * 4 + 2, case_id, text FROM conversation")
    create_sqlite_triggers()


def _number_stored_cases() -> None:
    """Give the cases stored without a number theirs, in creation order per unit and year (the unit's
    timezone), after any number the unit gave already that year; the counters continue from there."""
    bind = op.get_bind()
    units = sa.table("units", sa.column("id", sa.Integer), sa.column("timezone", sa.String),
                     sa.column("registration_code", sa.String))
    cases = sa.table("cases", sa.column("id", sa.String), sa.column("unit_id", sa.Integer),
                     sa.column("created_at", service.store.types.UTCDateTime(timezone=True)),
                     sa.column("registration_number", sa.String))
    counters = sa.table("registration_counters", sa.column("unit_id", sa.Integer), sa.column("year", sa.Integer),
                        sa.column("last_number", sa.Integer))
    unit_of = {row.id: (ZoneInfo(row.timezone or "Asia/Jakarta"), row.registration_code or "DUMAS")
               for row in bind.execute(sa.select(units.c.id, units.c.timezone, units.c.registration_code))}
    last = {(row.unit_id, row.year): row.last_number
            for row in bind.execute(sa.select(counters.c.unit_id, counters.c.year, counters.c.last_number))}
    stored = set(last)
    numbers = []
    for row in bind.execute(sa.select(cases.c.id, cases.c.unit_id, cases.c.created_at)
                            .where(cases.c.registration_number.is_(None))
                            .order_by(cases.c.created_at, cases.c.id)):
        zone, code = unit_of[row.unit_id]
        local: datetime = row.created_at.astimezone(zone)
        key = (row.unit_id, local.year)
        last[key] = last.get(key, 0) + 1
        numbers.append({"case_id": row.id,
                        "number": f"{last[key]:03d}/{code}/{ROMAN_MONTHS[local.month - 1]}/{local.year}"})
    if numbers:
        bind.execute(cases.update().where(cases.c.id == sa.bindparam("case_id"))
                     .values(registration_number=sa.bindparam("number")), numbers)
    for (unit_id, year), value in last.items():
        if (unit_id, year) in stored:
            bind.execute(counters.update().where(counters.c.unit_id == unit_id, counters.c.year == year)
                         .values(last_number=value))
        else:
            bind.execute(counters.insert().values(unit_id=unit_id, year=year, last_number=value))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (table, _column) in PG_INDEXES.items():
            op.drop_index(name, table_name=table)
        return
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS case_search")
