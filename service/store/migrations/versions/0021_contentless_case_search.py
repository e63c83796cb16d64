"""The register's SQLite search keeps its index, not a copy of the text (bytes per case, issue 13)

Migration 0014's FTS5 table ``case_search(case_id, body)`` stored every indexed row's text a second time
(``case_search_content``, ~0.7 kB per completed complaint) besides the index. This revision makes it
contentless (``content=''``: the index only) with one column, ``body``, and an index of which rows hold
a word, not where in them (``detail=none``: ~0.17 kB less per complaint; the register asks for words,
each one token, never a phrase of several or words near each other); the rowid alone says which row a
hit indexes:

- a history row: ``history.id × 4``; a staff note: ``comments.id × 4 + 1``; a reporter message:
  ``conversation.id × 4 + 2`` (as in 0014);
- a case's data: ``-cases.rowid`` (SQLite's own row number of the case: a VACUUM keeps it; a later
  migration that rebuilds ``cases``, or one of the other three tables, with ``batch_alter_table`` —
  copy and rename — must call :func:`fill_sqlite_search` and :func:`create_sqlite_triggers` again, the
  copy dropping the triggers and renumbering the rows).

The register maps the rowids back to their cases (:mod:`service.commands.register`).

A contentless table forgets a row only when given the very text it indexed (FTS5's ``'delete'``
command): the triggers recompute it from the old row with the same expression as at insert. So the
case's data is indexed as it is now, as on PostgreSQL (whose index is on ``cases.data`` itself): an
update of ``cases.data`` replaces its entry (0014 kept the data of the case's insert), and a purged case
(``purged_at`` set, :mod:`service.commands.retention`) has none. Notes, messages and history rows that
change (nothing changes them today) are re-indexed the same way. PostgreSQL is untouched.

Downgrade puts 0014's table back (the case data as it is now).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 06:00:00
"""
import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

#: the JSON's string values, space-separated (the expression of 0014: the same text at insert and delete)
_TEXT_OF = "(SELECT group_concat(value, ' ') FROM json_tree({0}) WHERE type = 'text')"
_ADD = "INSERT INTO case_search (rowid, body) VALUES ({0}, {1});"
_FORGET = "INSERT INTO case_search (case_search, rowid, body) VALUES ('delete', {0}, {1});"
#: (table, the FTS rowid of its row ``{row}``, the indexed text of it, the column whose change re-indexes)
_SOURCES = (
    ("history", "{row}.id * 4", _TEXT_OF.format("{row}.data"), "data"),
    ("comments", "{row}.id * 4 + 1", "{row}.body", "body"),
    ("conversation", "{row}.id * 4 + 2", "{row}.text", "text"),
)
_CASE_ROWID = "-{row}.rowid"
_CASE_TEXT = _TEXT_OF.format("{row}.data")


def _case(template: str, row: str) -> str:
    return template.format(_CASE_ROWID.format(row=row), _CASE_TEXT.format(row=row))


def _triggers() -> dict[str, str]:
    triggers = {
        "case_search_case_insert": f"""AFTER INSERT ON cases WHEN new.purged_at IS NULL BEGIN
            {_case(_ADD, 'new')}
            END""",
        # the data as it is now; a purge (purged_at set) takes the case's entry away for good
        "case_search_case_update": f"""AFTER UPDATE OF data, purged_at ON cases
            WHEN old.purged_at IS NULL AND (new.data IS NOT old.data OR new.purged_at IS NOT NULL) BEGIN
            {_case(_FORGET, 'old')}
            INSERT INTO case_search (rowid, body) SELECT {_CASE_ROWID.format(row='new')},
                {_CASE_TEXT.format(row='new')} WHERE new.purged_at IS NULL;
            END""",
        "case_search_case_delete": f"""AFTER DELETE ON cases WHEN old.purged_at IS NULL BEGIN
            {_case(_FORGET, 'old')}
            END""",
    }
    for table, rowid, body, column in _SOURCES:
        name = {"conversation": "message", "comments": "comment"}.get(table, table)
        add_new = _ADD.format(rowid.format(row="new"), body.format(row="new"))
        forget_old = _FORGET.format(rowid.format(row="old"), body.format(row="old"))
        triggers[f"case_search_{name}_insert"] = f"""AFTER INSERT ON {table} BEGIN
            {add_new}
            END"""
        triggers[f"case_search_{name}_update"] = f"""AFTER UPDATE OF {column} ON {table}
            WHEN new.{column} IS NOT old.{column} BEGIN
            {forget_old}
            {add_new}
            END"""
        triggers[f"case_search_{name}_delete"] = f"""AFTER DELETE ON {table} BEGIN
            {forget_old}
            END"""
    return triggers


TRIGGERS = _triggers()


def create_sqlite_triggers() -> None:
    for name, body in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {body}")


def drop_sqlite_triggers() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")


def fill_sqlite_search() -> None:
    """Index every stored row again from nothing (``'delete-all'``: a contentless table has no
    ``'rebuild'``)."""
    op.execute("INSERT INTO case_search (case_search) VALUES ('delete-all')")
    op.execute(f"INSERT INTO case_search (rowid, body) SELECT {_CASE_ROWID.format(row='cases')}, "
               f"{_CASE_TEXT.format(row='cases')} FROM cases WHERE purged_at IS NULL")
    for table, rowid, body, _column in _SOURCES:
        op.execute(f"INSERT INTO case_search (rowid, body) SELECT {rowid.format(row=table)}, "
                   f"{body.format(row=table)} FROM {table}")
    op.execute("INSERT INTO case_search (case_search) VALUES ('optimize')")


def _revision_0014() -> ModuleType:
    path = Path(__file__).with_name("0014_case_register_numbers_and_search.py")
    spec = importlib.util.spec_from_file_location("alur_migration_0014", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for name in _revision_0014()._TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS case_search")
    op.execute("CREATE VIRTUAL TABLE case_search USING fts5("
               "body, content = '', detail = none, tokenize = 'unicode61 remove_diacritics 2')")
    fill_sqlite_search()
    create_sqlite_triggers()


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    drop_sqlite_triggers()
    op.execute("DROP TABLE IF EXISTS case_search")
    before = _revision_0014()
    op.execute("CREATE VIRTUAL TABLE case_search USING fts5("
               "case_id UNINDEXED, body, tokenize = 'unicode61 remove_diacritics 2')")
    op.execute("INSERT INTO case_search (rowid, case_id, body) SELECT -row_number() OVER (ORDER BY created_at, id), "
               f"id, {before._TEXT_OF.format('cases.data')} FROM cases WHERE purged_at IS NULL")
    op.execute("INSERT INTO case_search (rowid, case_id, body) "
               f"SELECT id * 4, case_id, {before._TEXT_OF.format('history.data')} FROM history")
    op.execute("INSERT INTO case_search (rowid, case_id, body) SELECT id * 4 + 1, case_id, body FROM comments")
    op.execute("INSERT INTO case_search (rowid, case_id, body) SELECT id * 4 + 2, case_id, text FROM conversation")
    before.create_sqlite_triggers()
