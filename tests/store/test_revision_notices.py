"""A server process on PostgreSQL keeps the startable revisions (with their unit and its closed days) and
listens for their changes (migration 0032, ``service.store.change_notices``; issue 13): a start reads no
revision, and a revision retired or deployed, a unit's settings or closed days changed by another process
are seen by the next start once the notice arrived.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support.helpers import (
    Persona,
    app_on,
    autocommit_connection,
    deploy_bytes,
    deploy_file,
    empty_database,
    listening,
    services_of,
    sql_statements,
    until,
)

from service.store.change_notices import REVISIONS_CHANNEL
from service.store.migrate import alembic_config, upgrade
from service.store.models import ClosedDay, Definition, Unit

HOT_PATH = Path(__file__).resolve().parent.parent / "data" / "hot_path.bpmn"


@pytest.fixture
def db_url(postgres_db: str) -> str:
    """PostgreSQL only: notices are PostgreSQL's (on SQLite every start reads, as without a watch)."""
    return postgres_db


@pytest.fixture
def pelapor(client: Any, admin: Persona, make_persona: Callable[..., Persona]) -> Persona:
    response = deploy_file(client, admin, HOT_PATH)
    assert response.status_code == 201, response.json
    return make_persona("pelapor.rn", "Pelapor@unit-a")


def start(client: Any, pelapor: Persona) -> Any:
    return client.post("/api/cases", headers=pelapor.headers,
                       json={"definition_key": "hot_path", "data": {"judul": "Pungli"}})


def revision_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if "FROM definitions" in s]


def changed_elsewhere(app: Any, change: Any) -> None:
    """``change`` committed on a connection of its own (another process's), and its notice handled."""
    watch = services_of(app).db.changes
    before = watch.generation
    with services_of(app).db.engine.begin() as connection:
        connection.execute(change)
    until(lambda: watch.generation > before, "the notice of the change")


def test_a_listening_process_starts_cases_without_reading_the_revision(app: Any, client: Any,
                                                                      pelapor: Persona) -> None:
    listening(app)
    with sql_statements(services_of(app).db.engine) as seen:
        assert start(client, pelapor).status_code == 201
        first = revision_reads(seen)
        seen.clear()
        for _ in range(3):
            assert start(client, pelapor).status_code == 201
    assert any("unit_closed_days" in statement for statement in first)  # the startable read, then kept
    assert revision_reads(seen) == []


def test_a_revision_retired_elsewhere_is_not_started_after_its_notice(app: Any, client: Any,
                                                                       pelapor: Persona) -> None:
    listening(app)
    assert start(client, pelapor).status_code == 201
    changed_elsewhere(app, sa.update(Definition).where(Definition.key == "hot_path").values(status="retired"))
    refused = start(client, pelapor)
    assert refused.status_code == 404, refused.json
    assert refused.json["errors"][0]["field"] == "definition_key"


def test_a_new_revision_deployed_elsewhere_is_started_after_its_notice(app: Any, client: Any, admin: Persona,
                                                                        pelapor: Persona, settings: Any) -> None:
    listening(app)
    assert start(client, pelapor).json["version"] == 1
    watch = services_of(app).db.changes
    with app_on(settings) as other:  # another replica deploys version 2
        before = watch.generation
        changed = HOT_PATH.read_bytes().replace(b'name="Pengaduan masuk"', b'name="Pengaduan diterima"')
        deployed = deploy_bytes(other.test_client(), admin, changed, "hot_path.bpmn")
        assert deployed.status_code == 201, deployed.json
        until(lambda: watch.generation > before, "the notice of the deployment")
    assert start(client, pelapor).json["version"] == 2


def test_closed_days_or_a_unit_changed_elsewhere_are_read_again(app: Any, client: Any, pelapor: Persona) -> None:
    listening(app)
    engine = services_of(app).db.engine
    assert start(client, pelapor).status_code == 201
    with engine.connect() as connection:
        unit_id = connection.execute(sa.select(Unit.id).where(Unit.code == "unit-a")).scalar_one()
    for change in (sa.insert(ClosedDay).values(unit_id=unit_id, day=date(2026, 12, 24), kind="cuti_bersama",
                                               note="Cuti bersama Natal"),
                   sa.update(Unit).where(Unit.id == unit_id).values(name="Unit A (baru)")):
        changed_elsewhere(app, change)
        with sql_statements(engine) as seen:
            assert start(client, pelapor).status_code == 201
            assert start(client, pelapor).status_code == 201
        read = revision_reads(seen)
        assert len(read) == 1, read  # read again once, kept again
        assert "unit_closed_days" in read[0]


@pytest.fixture
def listener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any]]:
    url = empty_database("postgres", request, tmp_path)
    upgrade(url)
    with autocommit_connection(url) as connection:
        connection.execute(f"LISTEN {REVISIONS_CHANNEL}")
        yield url, connection


def test_only_changes_of_revisions_units_or_closed_days_notify_and_0032_downgrades(
        listener: tuple[str, Any]) -> None:
    from alembic import command

    url, connection = listener
    engine = sa.create_engine(url)

    def notices() -> int:
        return sum(1 for _ in connection.notifies(timeout=0.5))

    try:
        with engine.begin() as db:
            unit_id = db.execute(sa.insert(Unit).values(code="unit-x", name="Unit X", timezone="Asia/Jakarta")
                                 .returning(Unit.id)).scalar_one()
        assert notices() == 1
        for change in (sa.update(Unit).where(Unit.id == unit_id).values(name="Unit X2"),
                       sa.insert(ClosedDay).values(unit_id=unit_id, day=date(2026, 12, 24), kind="libur", note=""),
                       sa.delete(ClosedDay).where(ClosedDay.unit_id == unit_id)):
            with engine.begin() as db:
                db.execute(change)
            assert notices() == 1, change
        with engine.begin() as db:  # a statement that touches no row still notifies: harmless, rare
            db.execute(sa.update(Definition).where(Definition.key == "none").values(status="retired"))
        assert notices() == 1
        with engine.begin() as db:  # the hot path's tables do not
            db.execute(sa.text("SELECT 1 FROM cases"))
            db.execute(sa.text("UPDATE users SET failed_logins = 0"))
        assert notices() == 0
        engine.dispose()
        command.downgrade(alembic_config(url), "0031")
        with engine.begin() as db:
            assert db.execute(sa.text(
                "SELECT count(*) FROM pg_proc WHERE proname = 'alur_revisions_notify'")).scalar() == 0
            db.execute(sa.update(Unit).where(Unit.id == unit_id).values(name="Unit X3"))
        assert notices() == 0
    finally:
        engine.dispose()


def test_a_complaint_sends_no_revision_notice(app: Any, client: Any, pelapor: Persona,
                                             make_persona: Callable[..., Persona]) -> None:
    """What a complaint writes (case, tasks, history, counters, sign-ins) leaves the kept revisions alone."""
    kasi = make_persona("kasi.rn", "Kasi@unit-a")
    with autocommit_connection(services_of(app).db.engine.url) as connection:
        connection.execute(f"LISTEN {REVISIONS_CHANNEL}")
        created = start(client, pelapor).json
        done = client.post(f"/api/tasks/{created['tasks'][0]['id']}/complete", headers=pelapor.headers,
                           json={"data": {"judul": "Pungli", "uraian": "di loket"}}).json
        finished = client.post(f"/api/tasks/{done['tasks'][0]['id']}/complete", headers=kasi.headers,
                               json={"data": {"hasil": "lengkap"}})
        assert finished.json["status"] == "completed"
        connection.execute(f"NOTIFY {REVISIONS_CHANNEL}, 'fence'")  # delivered after every earlier notice
        payloads = []
        for notice in connection.notifies(timeout=5.0):
            payloads.append(notice.payload)
            if notice.payload == "fence":
                break
    assert payloads == ["fence"]
