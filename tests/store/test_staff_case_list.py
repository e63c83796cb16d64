"""A staff member's case list walks their (unit, role) access rows in case order (migration 0030, issue 13).

``GET /api/cases`` for staff was an OR of the rule's sources with an ``EXISTS`` per case: every case
was read for each page and for the count (13 ms at 10k cases, 69 ms at 100k). Now each source is
walked newest first and stops at the page (:func:`service.commands.access.first_visible`), and the
total is capped at 1,000+. These tests show the list is exactly the rule of
:func:`~service.commands.access.visible_cases` (same cases, same order, every page, every filter, every
kind of actor, with a search), the capped total, the index walk on both databases, the copy of the creation time,
and the migration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime
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
from service.commands.access import visible_cases
from service.commands.bench_seed import seed
from service.commands.cases import CaseQuery, list_cases, list_statements
from service.commands.context import COUNT_CAP, Actor, Services
from service.commands.register import RegisterQuery, search_condition
from service.store.migrate import alembic_config, upgrade
from service.store.models import Case, CaseAccess, Definition, Unit

INDEX = "ix_case_access_listed"
SEEDED_AT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


def _by_rule(services: Services, actor: Actor, query: CaseQuery) -> list[str]:
    """The ids the list must show: :func:`visible_cases` case by case, with the query's filters."""
    statement = sa.select(Case.id).where(visible_cases(actor))
    if query.status:
        statement = statement.where(Case.status == query.status)
    if query.business_key:
        statement = statement.where(Case.business_key == query.business_key)
    if query.unit:
        statement = statement.join(Unit, Unit.id == Case.unit_id).where(Unit.code == query.unit)
    if query.definition_key:
        statement = statement.join(Definition, Definition.id == Case.definition_id).where(
            Definition.key == query.definition_key)
    if query.q:
        statement = statement.where(search_condition(actor, query.q, services.db.is_postgres))
    with services.db.reading() as session:
        return [str(found) for found in session.scalars(statement.order_by(Case.created_at.desc(), Case.id.desc()))]


def _listed(services: Services, actor: Actor, query: CaseQuery) -> tuple[list[str], int, bool]:
    """Every page of the list, in order, and the first page's total."""
    shown: list[str] = []
    first = list_cases(services, actor, query)
    page = first
    while page.items:
        shown += [view.case.id for view in page.items]
        query = CaseQuery(**{**query.__dict__, "page": query.page + 1})
        page = list_cases(services, actor, query)
    return shown, first.total, first.total_capped


@pytest.fixture
def cases_of_every_source(client: Any, staff: dict[str, Persona], start_review: Any,
                          make_persona: Callable[..., Persona]) -> dict[str, Persona]:
    """Cases of unit A started by two reporters, some moved on to the Kabid, one finished, one of unit B by
    its own Kasi, and seeded cases; besides ``staff``, an actor with two roles and one in both units."""
    both = make_persona("kasi.kabid.a", "Kasi@unit-a", "Kabid@unit-a")
    across = make_persona("kabid.ab", "Kabid@unit-a", "Kasi@unit-b")
    other = make_persona("pelapor.dua", "Pelapor@unit-a")
    for n in range(6):
        case = start_review(other if n % 3 == 0 else None, business_key=f"B-{n}")
        if n % 2:
            moved = client.post(f"/api/tasks/{case['tasks'][0]['id']}/complete", headers=staff["kasi_a"].headers,
                                json={"data": {"hasil": "lengkap"}})
            assert moved.status_code == 200, moved.json
            if n == 5:
                done = client.post(f"/api/tasks/{moved.json['tasks'][0]['id']}/complete",
                                   headers=staff["kabid_a"].headers, json={"data": {}})
                assert done.status_code == 200, done.json
    seed(services_of(client.application), 40, units=2, now=SEEDED_AT)
    return {**staff, "both": both, "across": across, "other": other}


QUERIES = [CaseQuery(per_page=7), CaseQuery(per_page=3, status="running"), CaseQuery(status="completed"),
           CaseQuery(business_key="B-3"), CaseQuery(unit="unit-b", per_page=5), CaseQuery(definition_key="review"),
           CaseQuery(q="pungli loket", per_page=4)]


def test_the_list_is_the_rule_page_by_page(client: Any, cases_of_every_source: dict[str, Persona],
                                           admin: Persona) -> None:
    """Same cases, same order, as the rule read case by case: for each kind of actor (reporter, one role,
    two roles, roles in two units, office administrator, global administrator) and each filter."""
    services = services_of(client.application)
    seen_some = 0
    for persona in [*cases_of_every_source.values(), admin]:
        actor = actor_named(services, persona.username)
        for query in QUERIES:
            wanted = _by_rule(services, actor, query)
            shown, total, capped = _listed(services, actor, query)
            assert shown == wanted, (persona.username, query)
            assert (total, capped) == (len(wanted), False), (persona.username, query)
            seen_some += bool(wanted)
    assert seen_some > 20  # the data gives most actors and filters something to list


def test_the_total_stops_counting_after_a_thousand(client: Any, staff: dict[str, Persona], review: Any) -> None:
    services = services_of(client.application)
    seed(services, COUNT_CAP + 200, units=1, now=SEEDED_AT)
    checked = set()
    for name in ("admin_a", "kasi_a", "kabid_a", "kasi_b"):
        actor = actor_named(services, staff[name].username)
        wanted = len(_by_rule(services, actor, CaseQuery()))
        found = list_cases(services, actor, CaseQuery())
        assert (found.total, found.total_capped) == (min(wanted, COUNT_CAP + 1), wanted > COUNT_CAP), name
        checked.add(wanted > COUNT_CAP)
    assert checked == {True, False}
    body = client.get("/api/cases", headers=staff["admin_a"].headers).json
    assert (body["total"], body["total_capped"], len(body["items"])) == (COUNT_CAP + 1, True, 20)


def test_the_count_sorts_only_inside_its_walks(client: Any, cases_of_every_source: dict[str, Persona],
                                              admin: Persona) -> None:
    """The capped count merges its walks unsorted: one ORDER BY per walk (each stops after 1,001 rows in case
    order), none over their union, where the page sorts the union once more. Sorting the merged rows cost a
    quarter of the count once an actor sees a thousand cases (benchmarks/RESULTS.md). That the count stays
    exact up to the cap is :func:`test_the_total_stops_counting_after_a_thousand`."""
    services = services_of(client.application)
    merged = 0
    for persona in [*cases_of_every_source.values(), admin]:
        actor = actor_named(services, persona.username)
        for query in (CaseQuery(), CaseQuery(status="running")):
            count, page, values = list_statements(services, actor, query)
            walks = str(count.params(values).compile(services.db.engine)).count(" UNION ") + 1
            page_sorts = str(page.params(values).compile(services.db.engine)).count("ORDER BY")
            count_sorts = str(count.params(values).compile(services.db.engine)).count("ORDER BY")
            if walks > 1:  # one walk is its own first rows; more are merged
                merged += 1
                assert count_sorts == walks, (persona.username, query)
                assert page_sorts >= walks + 1, (persona.username, query)  # the page: its walks, the union, the join
    assert merged >= 4  # the reporter and staff with several sources were among them


REGISTER_QUERIES = [RegisterQuery(per_page=6), RegisterQuery(sort="oldest", per_page=6),
                    RegisterQuery(sort="number", per_page=9), RegisterQuery(status="running", late=False),
                    RegisterQuery(q="pungli", sort="oldest", per_page=4), RegisterQuery(mode="biasa"),
                    RegisterQuery(created_from=date(2026, 1, 1), created_to=date(2099, 12, 31), per_page=5),
                    RegisterQuery(definition_key="review", late=True, sort="oldest", per_page=3)]


def test_the_register_is_the_rule_page_by_page(client: Any, cases_of_every_source: dict[str, Persona],
                                               admin: Persona) -> None:
    """The register (Perkara) pages walk the same way: each page in turn holds what the export, which
    tests the rule case by case, holds in that order."""
    services = services_of(client.application)
    for persona in [*cases_of_every_source.values(), admin]:
        actor = actor_named(services, persona.username)
        for query in REGISTER_QUERIES:
            wanted = [row.case_id for row in register.export_rows(services, actor, query)]
            shown: list[str] = []
            page = register.page(services, actor, query)
            assert (page.total, page.capped) == (len(wanted), False), (persona.username, query)
            while page.rows:
                shown += [row.case_id for row in page.rows]
                page = register.page(services, actor, replace(query, page=page.page + 1))
            assert shown == wanted, (persona.username, query)


def test_a_register_page_is_built_once_per_shape(client: Any, cases_of_every_source: dict[str, Persona]) -> None:
    """The register's statements are kept per shape (the actor's walks, the sort, which filters are
    given): two actors of one shape with other filter values share them, each executed with its own
    values (the test above walks actors of one shape in turn); a search builds its own. A page without a
    date filter is two statements, its count and its rows; a date filter reads the office's timezone."""
    services = services_of(client.application)
    kasi, kabid = (actor_named(services, cases_of_every_source[name].username) for name in ("kasi_a", "kabid_b"))
    with services.db.reading() as session:
        def built(actor: Actor, query: RegisterQuery) -> tuple[Any, Any, dict[str, Any]]:
            return register.page_statements(session, actor, query, services.db.is_postgres, SEEDED_AT)

        kasis, kabids = built(kasi, RegisterQuery(status="running")), built(kabid, RegisterQuery(status="done", page=2))
        assert kasis[0] is kabids[0] and kasis[1] is kabids[1]
        assert (kasis[2]["visible_user"], kasis[2]["status"], kasis[2]["skipped"]) != (
            kabids[2]["visible_user"], kabids[2]["status"], kabids[2]["skipped"])
        assert built(kasi, RegisterQuery(q="pungli"))[1] is not built(kasi, RegisterQuery(q="pungli"))[1]
    for query, sent in ((RegisterQuery(), 2), (RegisterQuery(status="running", late=False), 2),
                        (RegisterQuery(created_from=date(2026, 1, 1)), 3)):
        with sql_statements(services.db.engine) as seen:
            register.page(services, kasi, query)
        assert len(seen) == sent, (query, seen)


@pytest.mark.parametrize("part", ["count", "page", "register"])
def test_a_staff_list_walks_its_access_rows_in_case_order(client: Any, staff: dict[str, Persona], review: Any,
                                                         part: str) -> None:
    """The planner chooses by the statistics: 10,000 seeded cases (``alur bench seed``, then ANALYZE), a
    share of them in the Kasi's lane. Neither the cases nor the access rows are read whole, for the API's
    list (its count and page) or for the register's page."""
    services = services_of(client.application)
    seed(services, 10_000, units=1, now=SEEDED_AT)
    actor = actor_named(services, staff["kasi_a"].username)
    count, page, values = list_statements(services, actor, CaseQuery())
    with services.db.reading() as session:
        _, register_page, walked = register.page_statements(session, actor, RegisterQuery(), services.db.is_postgres,
                                                            SEEDED_AT)
    statements = {"count": count.params(values), "page": page.params(values), "register": register_page.params(walked)}
    plan = literal_plan(services.db.engine, statements[part], seq_scans=True)
    assert INDEX in plan, plan
    for whole in ("Seq Scan on cases", "Seq Scan on case_access", "SCAN cases", "SCAN case_access"):
        assert whole not in plan, plan


def test_each_access_row_keeps_its_cases_creation_time(client: Any, staff: dict[str, Persona],
                                                      start_review: Any) -> None:
    case = start_review()
    moved = client.post(f"/api/tasks/{case['tasks'][0]['id']}/complete", headers=staff["kasi_a"].headers,
                        json={"data": {"hasil": "lengkap"}})
    assert moved.status_code == 200, moved.json
    with services_of(client.application).db.reading() as session:
        created = session.scalar(sa.select(Case.created_at).where(Case.id == case["id"]))
        rows = session.execute(sa.select(CaseAccess.role, CaseAccess.case_created_at)
                               .where(CaseAccess.case_id == case["id"])).all()
    assert {role for role, _ in rows} >= {"Kasi", "Kabid"}  # and the SOP's pengawas
    assert all(copied == created for _, copied in rows), (rows, created)


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migration_0030_copies_the_creation_time_and_downgrades(backend: str, request: pytest.FixtureRequest,
                                                                tmp_path: Path) -> None:
    from alembic import command

    url = empty_database(backend, request, tmp_path)
    upgrade(url, "0029")
    engine = sa.create_engine(url)
    case_id = "0b6e1a52-3c1f-4d59-9d1e-1f8f2a7c9b10"
    try:
        tables = reflected(engine, "units", "definitions", "cases", "case_access")
        with engine.begin() as connection:
            insert_unit_and_revision(connection, tables, SEEDED_AT)
            connection.execute(sa.insert(tables["cases"]).values(
                id=case_id, definition_id=1, unit_id=1, status="running", data={},
                state=b"{}" if backend == "postgres" else {},  # bytea on PostgreSQL since 0025, JSON on SQLite
                lock_version=1, created_at=SEEDED_AT, updated_at=SEEDED_AT, timer_failures=0))
            connection.execute(sa.insert(tables["case_access"]).values(
                case_id=case_id, unit_id=1, role="Kasi", fields=None, source="task", granted_at=SEEDED_AT))
        engine.dispose()
        upgrade(url, "0030")
        with engine.connect() as connection:
            copied = connection.execute(sa.text("SELECT case_created_at FROM case_access")).scalar_one()
        assert str(copied)[:19] == "2026-12-03 08:00:00", copied
        indexes = {index["name"]: index for index in sa.inspect(engine).get_indexes("case_access")}
        assert indexes[INDEX]["column_names"] == ["unit_id", "role", "case_created_at", "case_id"]
        assert "ix_case_access_unit_role" not in indexes
        columns = {column["name"]: column for column in sa.inspect(engine).get_columns("case_access")}
        assert columns["case_created_at"]["nullable"] is False
        engine.dispose()
        command.downgrade(alembic_config(url), "0029")
        indexes = {index["name"]: index for index in sa.inspect(engine).get_indexes("case_access")}
        assert indexes["ix_case_access_unit_role"]["column_names"] == ["unit_id", "role", "case_id"]
        assert INDEX not in indexes
        assert "case_created_at" not in {column["name"] for column in sa.inspect(engine).get_columns("case_access")}
    finally:
        engine.dispose()
