"""The register's SOP filter reads the rule's sources, not their cases (migration 0031, issue 13).

The register page (Perkara) lists, as a filter, the SOPs of the cases its viewer may see. It read every
such case on each page (14.5 ms at 100k cases for an Inspektorat user). ``sop_reach`` holds which SOPs
each source of the rule (an office's cases, a filer's cases, a (unit, role)'s access rows) reaches,
kept by triggers. These tests show the list is exactly the SOPs of :func:`visible_cases` for every
kind of actor (cases started, moved on, moved to another SOP, seeded by COPY), one statement that reads
no case, and the migration's fill and downgrade.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support.helpers import (
    Persona,
    actor_named,
    empty_database,
    insert_unit_and_revision,
    literal_plan,
    reflected,
    services_of,
    sql_statements,
)

from service.commands import register
from service.commands.access import visible_cases, walks_of
from service.commands.bench_seed import seed
from service.commands.context import Actor, Services
from service.store.migrate import alembic_config, upgrade
from service.store.models import Case, Definition, SopReach

SEEDED_AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
OTHER_SOP = "review-lain"


def _by_rule(services: Services, actor: Actor) -> list[str]:
    """The SOP keys of the cases :func:`visible_cases` lets the actor see, read case by case."""
    with services.db.reading() as session:
        return sorted(session.scalars(sa.select(Definition.key).join(Case, Case.definition_id == Definition.id)
                                      .where(visible_cases(actor)).distinct()))


def _listed(services: Services, actor: Actor) -> list[str]:
    return sorted(key for key, _ in register.sops(services, actor))


@pytest.fixture
def cases_of_two_sops(client: Any, staff: dict[str, Persona], start_review: Any,
                      make_persona: Callable[..., Persona]) -> dict[str, Persona]:
    """Cases of ``review`` in unit A filed by ``pelapor.a``, two moved on to the Kabid, and one of a
    second SOP (another key, same diagram) filed by ``pelapor.dua``, which only the Kasi holds."""
    other = make_persona("pelapor.dua", "Pelapor@unit-a")
    across = make_persona("kabid.ab", "Kabid@unit-a", "Kasi@unit-b")
    for n in range(4):
        case = start_review()
        if n % 2:
            moved = client.post(f"/api/tasks/{case['tasks'][0]['id']}/complete", headers=staff["kasi_a"].headers,
                                json={"data": {"hasil": "lengkap"}})
            assert moved.status_code == 200, moved.json
    services = services_of(client.application)
    with services.db.engine.begin() as connection:
        review = connection.execute(sa.select(Definition.__table__).where(Definition.key == "review")).mappings().one()
        connection.execute(sa.insert(Definition.__table__).values(
            {**{name: value for name, value in review.items() if name != "id"}, "key": OTHER_SOP,
             "title": "Review lain"}))
    start_review(other, definition_key=OTHER_SOP)
    return {**staff, "other": other, "across": across}


def test_the_sops_listed_are_those_of_the_visible_cases(client: Any, cases_of_two_sops: dict[str, Persona],
                                                        admin: Persona) -> None:
    services = services_of(client.application)
    listed: dict[str, list[str]] = {}
    for persona in [*cases_of_two_sops.values(), admin]:
        actor = actor_named(services, persona.username)
        listed[persona.username] = _listed(services, actor)
        assert listed[persona.username] == _by_rule(services, actor), persona.username
    # the data tells the sources apart: the filers, the pairs, the office's administrator, the global one, none
    both = sorted(["review", OTHER_SOP])
    assert (listed["pelapor.dua"], listed["pelapor.a"]) == ([OTHER_SOP], ["review"])
    assert (listed["kasi.a"], listed["kabid.a"], listed["kabid.ab"]) == (both, ["review"], ["review"])
    assert (listed["admin.a"], listed[admin.username], listed["kasi.b"]) == (both, both, [])
    # seeded cases of both SOPs in units A and B (rows written by COPY on PostgreSQL)
    seed(services, 30, units=2, now=SEEDED_AT)
    for persona in [*cases_of_two_sops.values(), admin]:
        actor = actor_named(services, persona.username)
        assert _listed(services, actor) == _by_rule(services, actor), persona.username


def test_the_sops_are_one_statement_that_reads_no_case(client: Any, staff: dict[str, Persona], review: Any) -> None:
    """However many cases the actor sees: 2,000 seeded (``alur bench seed``: COPY on PostgreSQL, the
    triggers keep the rows), one statement, planned over ``sop_reach`` and ``definitions`` alone."""
    services = services_of(client.application)
    seed(services, 2_000, units=1, now=SEEDED_AT)
    with services.db.reading() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(SopReach)) < 10
    for name in ("kasi_a", "admin_a", "pelapor_a"):
        actor = actor_named(services, staff[name].username)
        with sql_statements(services.db.engine) as seen:
            listed = register.sops(services, actor)
        assert len(seen) == 1, seen
        assert [key for key, _ in listed] == _by_rule(services, actor) == (["review"] if name != "pelapor_a" else [])
        walks, values = walks_of(actor)
        plan = literal_plan(services.db.engine, register._sops_statement(walks).params(values), seq_scans=True)
        assert "sop_reach" in plan, plan
        assert "cases" not in plan and "case_access" not in plan, plan


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migration_0031_fills_the_rows_keeps_them_and_downgrades(backend: str, request: pytest.FixtureRequest,
                                                                 tmp_path: Path) -> None:
    from alembic import command

    url = empty_database(backend, request, tmp_path)
    upgrade(url, "0030")
    engine = sa.create_engine(url)
    state = b"{}" if backend == "postgres" else {}  # bytea on PostgreSQL since 0025, JSON on SQLite

    def add_case(connection: Any, tables: dict[str, Any], case_id: str, started_by: int | None) -> None:
        connection.execute(sa.insert(tables["cases"]).values(
            id=case_id, definition_id=1, unit_id=1, status="running", data={}, state=state, lock_version=1,
            created_at=SEEDED_AT, updated_at=SEEDED_AT, timer_failures=0, started_by=started_by))
        connection.execute(sa.insert(tables["case_access"]).values(
            case_id=case_id, unit_id=1, role="Kasi", fields=None, source="task", granted_at=SEEDED_AT,
            case_created_at=SEEDED_AT))

    def rows() -> set[tuple[Any, ...]]:
        with engine.connect() as connection:
            return {tuple(row) for row in connection.execute(sa.text("SELECT * FROM sop_reach"))}

    try:
        tables = reflected(engine, "units", "users", "definitions", "cases", "case_access")
        with engine.begin() as connection:
            insert_unit_and_revision(connection, tables, SEEDED_AT, user=(7, "pelapor"))
            add_case(connection, tables, "0b6e1a52-3c1f-4d59-9d1e-1f8f2a7c9b10", None)
        engine.dispose()
        upgrade(url, "0031")
        assert rows() == {(1, "", 0, "review"), (1, "Kasi", 0, "review")}
        tables = reflected(engine, "cases", "case_access")
        with engine.begin() as connection:  # kept from now on by the triggers
            add_case(connection, tables, "5c0f8d7e-9a41-4f3b-8a6e-2d4c1b0e7f21", 7)
        assert rows() == {(1, "", 0, "review"), (1, "Kasi", 0, "review"), (0, "", 7, "review")}
        engine.dispose()
        command.downgrade(alembic_config(url), "0030")
        assert "sop_reach" not in sa.inspect(engine).get_table_names()
        with engine.begin() as connection:  # no trigger left behind
            add_case(connection, reflected(engine, "cases", "case_access"), "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a", 7)
    finally:
        engine.dispose()
