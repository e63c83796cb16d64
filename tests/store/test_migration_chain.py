"""The migrations: one chain 0001…N without gaps, and the schema they build is the one the models declare.

The second test is Alembic's autogenerate comparison run against a database migrated from empty: any
difference (a column added to a model without a migration, a type or default changed on one side, an
index only in the migration) is listed, on SQLite and on PostgreSQL. Only the case register's full-text
search (migration 0014) is left out: SQLite's FTS5 virtual table and its shadow tables, PostgreSQL's GIN
expression indexes, which the models cannot declare for one backend only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from support.helpers import empty_database

from service.store.migrate import alembic_config, upgrade
from service.store.models import Base


def test_revisions_are_numbered_0001_to_n_in_one_chain() -> None:
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(scripts.get_heads()) == 1, f"more than one head: {scripts.get_heads()}"
    chain = list(reversed(list(scripts.walk_revisions())))  # base first
    ids = [script.revision for script in chain]
    assert ids == [f"{number:04d}" for number in range(1, len(ids) + 1)], f"not 0001…N without gaps: {ids}"
    assert [script.down_revision for script in chain] == [None, *ids[:-1]]
    for script in chain:
        assert script.path is not None
        assert Path(script.path).name.startswith(f"{script.revision}_"), script.path


#: migration 0014's full-text search objects (not in the models)
SEARCH_INDEXES = {"ix_cases_search", "ix_history_search", "ix_comments_search", "ix_conversation_search"}


def _not_search_index(obj: Any, name: str | None, kind: str, reflected: bool, compare_to: Any) -> bool:
    if kind == "table" and name is not None and (name == "case_search" or name.startswith("case_search_")):
        return False
    return not (kind == "index" and name in SEARCH_INDEXES)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_models_match_the_migrated_schema(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    url = empty_database(backend, request, tmp_path)  # not the session's migrated template: migrated here
    upgrade(url)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "compare_server_default": True,
                                  "include_object": _not_search_index})
            differences = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert differences == [], "the models and the migrations disagree (write a migration):\n" + "\n".join(
        map(str, differences))
