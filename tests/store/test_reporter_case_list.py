"""A reporter's case list reads the cases they filed through ``ix_cases_started_by`` (migration 0029, issue 13).

``GET /api/cases`` for a reporter is the cases they started, newest first, with their count. Nothing led
with ``started_by`` before: each page read every case (12 ms at 10k cases, 43 ms at 100k). These tests
show each reporter's list holds their own cases only, that its page and count walk the index on both
databases, that a list item is read without the case's data and engine state, and the migration.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support.helpers import Persona, actor_named, empty_database, literal_plan, services_of, sql_statements

from service.commands.bench_seed import seed
from service.commands.cases import CaseQuery, list_statements
from service.store.migrate import alembic_config, upgrade

INDEX = "ix_cases_started_by"


def _listed(client: Any, persona: Any) -> tuple[list[str], int]:
    body = client.get("/api/cases", headers=persona.headers, query_string={"per_page": 50}).json
    return [item["id"] for item in body["items"]], body["total"]


def test_each_reporter_lists_the_cases_they_filed_newest_first(client: Any, staff: dict[str, Any],
                                                              start_review: Any,
                                                              make_persona: Callable[..., Persona]) -> None:
    other = make_persona("pelapor.dua", "Pelapor@unit-a")  # the same unit and role
    mine = [start_review()["id"] for _ in range(3)]
    theirs = start_review(other)["id"]
    assert _listed(client, staff["pelapor_a"]) == (mine[::-1], 3)
    assert _listed(client, other) == ([theirs], 1)
    assert _listed(client, staff["pelapor_b"]) == ([], 0)
    assert set(_listed(client, staff["admin_a"])[0]) == {*mine, theirs}


def test_a_list_item_is_read_without_the_cases_data_and_engine_state(client: Any, staff: dict[str, Any],
                                                                    start_review: Any) -> None:
    start_review()
    with sql_statements(services_of(client.application).db.engine) as seen:
        items = client.get("/api/cases", headers=staff["pelapor_a"].headers).json["items"]
    assert items and set(items[0]) >= {"id", "definition_key", "version", "unit", "status", "created_at"}
    page = next(statement for statement in seen if "LIMIT" in statement.upper() and "cases" in statement)
    assert "cases.state" not in page and "cases.data" not in page, page
    assert "definitions.bpmn_xml" not in page and "definitions.forms" not in page, page


@pytest.mark.parametrize("part", ["count", "page"])
def test_a_reporters_list_walks_the_cases_they_filed(client: Any, staff: dict[str, Any], start_review: Any,
                                                     part: str) -> None:
    """The planner chooses by the statistics: 600 cases filed by no account (``alur bench seed``, then
    ANALYZE) beside the reporter's three, as in service."""
    for _ in range(3):
        start_review()
    services = services_of(client.application)
    seed(services, 600, units=2, now=datetime(2026, 12, 3, 8, 0, tzinfo=UTC))
    count, page, values = list_statements(services, actor_named(services, staff["pelapor_a"].username), CaseQuery())
    statement = (count if part == "count" else page).params(values)
    plan = literal_plan(services.db.engine, statement, seq_scans=False)
    assert INDEX in plan, plan
    assert "Seq Scan on cases" not in plan and "SCAN cases" not in plan.replace(f"USING INDEX {INDEX}", ""), plan


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migration_0029_indexes_the_filer_and_downgrades(backend: str, request: pytest.FixtureRequest,
                                                         tmp_path: Path) -> None:
    from alembic import command

    url = empty_database(backend, request, tmp_path)
    upgrade(url, "0029")
    engine = sa.create_engine(url)
    try:
        indexes = {index["name"]: index for index in sa.inspect(engine).get_indexes("cases")}
        assert indexes[INDEX]["column_names"] == ["started_by", "created_at"]
        engine.dispose()
        command.downgrade(alembic_config(url), "0028")
        assert INDEX not in {index["name"] for index in sa.inspect(engine).get_indexes("cases")}
    finally:
        engine.dispose()
