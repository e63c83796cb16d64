"""A server process on PostgreSQL keeps its users' credential rows and listens for their changes
(migration 0032, ``service.store.change_notices``; issue 13): a request reads no user row, and a
disabled account, a changed password or a sign-out still ends its tokens in every process.

Each test runs a real listener on the session's PostgreSQL server; the apps here start it as
``service.serve.worker_app`` does. SQLite has no notices: a process there reads the row on every use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from support.helpers import (
    Persona,
    autocommit_connection,
    empty_database,
    listening,
    services_of,
    sql_statements,
    token_works,
    until,
)

from service.app import create_app
from service.commands.accounts import actor_with_credentials
from service.store import change_notices
from service.store.change_notices import APPLICATION_NAME, CREDENTIALS_CHANNEL, REVISIONS_CHANNEL
from service.store.migrate import alembic_config, upgrade
from service.store.models import User


def user_reads(statements: list[str]) -> list[str]:
    return [s for s in statements if "FROM users" in s]


def credential_reads(statements: list[str]) -> list[str]:
    """The reads of the credential row (not the actor cache's loads of a user's roles)."""
    return [s for s in statements if "SELECT users.active, users.credential_version" in s]


@pytest.fixture
def db_url(postgres_db: str) -> str:
    """PostgreSQL only: notices are PostgreSQL's (SQLite's behaviour is the last test's)."""
    return postgres_db





def user_id_of(app: Any, username: str) -> int:
    with services_of(app).db.reading() as session:
        return int(session.scalar(sa.select(User.id).where(User.username == username)) or 0)


def test_a_listening_process_reads_no_user_row_per_request(app: Any, client: Any, kasi: Persona) -> None:
    listening(app)
    with sql_statements(services_of(app).db.engine) as seen:
        assert token_works(client, kasi)  # read once, kept (and the roles loaded into the actor cache)
        first = user_reads(seen)
        seen.clear()
        for _ in range(3):
            assert token_works(client, kasi)
    assert len(credential_reads(first)) == 1
    assert user_reads(seen) == []
    assert len(seen) == 3  # the task list's one statement each, nothing else


@pytest.mark.parametrize("ending", ["disable", "reset", "sign-out"])
def test_another_listening_process_refuses_an_ended_token(app: Any, client: Any, other_app: Any, kasi: Persona,
                                                          boss: Persona, ending: str) -> None:
    """The change is made through one process; the other, which kept the row, refuses the token once its
    listener handled the notice: milliseconds, not the actor cache's ten seconds."""
    listening(app)
    watch = listening(other_app)
    other = other_app.test_client()
    assert token_works(other, kasi) and token_works(other, kasi)  # kept there
    before = watch.generation
    if ending == "disable":
        answer = client.post("/api/users/kasi.a/disable", headers=boss.headers)
    elif ending == "reset":
        answer = client.post("/api/users/kasi.a/password", headers=boss.headers,
                             json={"password": "kata-sandi-baru-789"})
    else:
        answer = client.post("/api/auth/logout", headers=kasi.headers)
    assert answer.status_code in (200, 204), answer.json
    until(lambda: watch.generation > before, "the other process handled the notice")
    refused = other.get("/api/tasks", headers=kasi.headers)
    assert refused.status_code == 401 and "ended" in refused.json["message"]
    assert not token_works(client, kasi)  # and the process that made the change, at once


def test_a_change_in_this_process_is_forgotten_without_waiting_for_the_notice(app: Any, client: Any, kasi: Persona,
                                                                             boss: Persona) -> None:
    watch = listening(app)
    assert token_works(client, kasi)
    user_id = user_id_of(app, "kasi.a")
    assert watch.row(user_id, lambda: pytest.fail("kept rows are not read")) is not None
    generation = watch.generation
    assert client.post("/api/users/kasi.a/disable", headers=boss.headers).status_code == 200
    assert watch.generation > generation  # forgotten by the command itself, not only by the notice
    assert not token_works(client, kasi)


def test_a_read_that_races_a_notice_is_not_kept(app: Any, kasi: Persona) -> None:
    """The row is read, the account changes and its notice is handled, then the read returns: what it
    read is answered once but not kept, so the next use reads the row again."""
    watch = listening(app)
    services = services_of(app)
    user_id = user_id_of(app, "kasi.a")
    reads: list[str] = []

    def stale_read() -> tuple[Any, ...] | None:
        with services.db.reading() as session:
            row = tuple(session.execute(sa.select(User.active, User.credential_version)
                                        .where(User.id == user_id)).one())
        before = watch.generation
        with services.db.engine.begin() as connection:
            connection.execute(sa.update(User).where(User.id == user_id)
                               .values(credential_version=User.credential_version + 1))
        until(lambda: watch.generation > before, "the notice of the change")
        reads.append("stale")
        return row

    stale = watch.row(user_id, stale_read)
    assert stale is not None
    def read_again() -> tuple[Any, ...]:
        reads.append("again")
        return (True, stale[1] + 1)

    current = watch.row(user_id, read_again)
    assert reads == ["stale", "again"] and current == (True, stale[1] + 1)
    assert watch.row(user_id, lambda: pytest.fail("kept now")) == current


def test_a_lost_listening_connection_means_reading_until_it_listens_again(app: Any, client: Any,
                                                                          kasi: Persona) -> None:
    watch = listening(app)
    services = services_of(app)
    assert token_works(client, kasi)
    before = watch.generation
    with services.db.engine.connect() as connection:  # the administrator (or a restart) ends it
        ended = connection.execute(sa.text(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :name"),
            {"name": APPLICATION_NAME}).scalars().all()
    assert ended == [True]
    until(lambda: watch.generation >= before + 2 and watch.listening, "the watch listens again")
    with sql_statements(services.db.engine) as seen:  # what was kept before went with the connection
        assert token_works(client, kasi)
        assert len(credential_reads(seen)) == 1
        seen.clear()
        assert token_works(client, kasi)
        assert user_reads(seen) == []


def test_a_process_that_does_not_listen_reads_every_time(app: Any, client: Any, kasi: Persona) -> None:
    """Tests, the CLI and the worker do not start a watch: every use reads the row."""
    with sql_statements(services_of(app).db.engine) as seen:
        for _ in range(3):
            assert token_works(client, kasi)
    assert len(credential_reads(seen)) == 3


def test_only_a_credential_change_or_a_deleted_user_notifies_and_0032_downgrades(request: pytest.FixtureRequest,
                                                                                 tmp_path: Path) -> None:
    from alembic import command

    url = empty_database("postgres", request, tmp_path)
    upgrade(url)
    engine = sa.create_engine(url)
    try:
        with autocommit_connection(url) as listener:
            listener.execute(f"LISTEN {CREDENTIALS_CHANNEL}")

            def notices() -> list[str]:
                return [notice.payload for notice in listener.notifies(timeout=0.5)]

            with engine.begin() as connection:
                user_id = connection.execute(sa.insert(User).values(
                    username="budi", password_hash="x", display_name="Budi").returning(User.id)).scalar()
                connection.execute(sa.update(User).where(User.id == user_id)
                                   .values(failed_logins=3, display_name="Budi S."))
                connection.execute(sa.update(User).where(User.id == user_id)
                                   .values(active=True))  # unchanged
            assert notices() == []
            for change in ({"active": False}, {"credential_version": User.credential_version + 1}):
                with engine.begin() as connection:
                    connection.execute(sa.update(User).where(User.id == user_id).values(**change))
                assert notices() == [str(user_id)]
            with engine.begin() as connection:
                connection.execute(sa.delete(User).where(User.id == user_id))
            assert notices() == [str(user_id)]
            engine.dispose()
            command.downgrade(alembic_config(url), "0031")
            with engine.begin() as connection:
                assert connection.execute(sa.text(
                    "SELECT count(*) FROM pg_proc WHERE proname = 'alur_credentials_notify'")).scalar() == 0
                user_id = connection.execute(sa.insert(User).values(
                    username="sari", password_hash="x", display_name="Sari").returning(User.id)).scalar()
                connection.execute(sa.update(User).where(User.id == user_id).values(active=False))
            assert notices() == []
    finally:
        engine.dispose()


def test_sqlite_has_no_listener_and_reads_every_time(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = empty_database("sqlite", request, tmp_path)
    upgrade(url)
    app = create_app({"database_url": url, "secret_key": "test-secret-key", "data_dir": tmp_path / "data",
                      "testing": True})
    services = services_of(app)
    try:
        services.db.changes.start()
        assert not services.db.changes.listening
        with services.db.engine.begin() as connection:
            user_id = connection.execute(sa.insert(User).values(
                username="budi", password_hash="x", display_name="Budi").returning(User.id)).scalar()
        with sql_statements(services.db.engine) as seen:
            for _ in range(2):
                assert actor_with_credentials(services, int(user_id or 0), 1).username == "budi"
        assert len(credential_reads(seen)) == 2
    finally:
        services.db.dispose()


def test_a_listener_whose_notices_do_not_come_back_is_not_trusted(app: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Behind a transaction pooler ``LISTEN`` may land on one server connection and the notices nowhere:
    the probe sent at connect (and every half minute) must come back, or the watch does not listen."""
    monkeypatch.setattr(change_notices, "PROBE_SECONDS", 0.5)
    watch = services_of(app).db.changes
    with autocommit_connection(services_of(app).db.engine.url) as deaf:  # no LISTEN: its probe never comes back
        with pytest.raises(RuntimeError, match="probe notice did not come back"):
            watch.probe(deaf)
        deaf.execute(f"LISTEN {CREDENTIALS_CHANNEL}")
        watch.probe(deaf)  # now it does


def test_another_listeners_probe_forgets_nothing(app: Any, client: Any, kasi: Persona) -> None:
    watch = listening(app)
    services = services_of(app)
    assert token_works(client, kasi)  # kept
    before = watch.generation
    with services.db.engine.connect() as connection:  # another process's probe, then a fence that counts
        connection.execute(sa.text("SELECT pg_notify(:channel, 'probe:4242:1:0')"), {"channel": CREDENTIALS_CHANNEL})
        connection.execute(sa.text("SELECT pg_notify(:channel, '')"), {"channel": REVISIONS_CHANNEL})
        connection.commit()
    until(lambda: watch.generation > before, "the fence after the probe")
    assert watch.generation == before + 1  # the fence alone
    with sql_statements(services.db.engine) as seen:
        assert token_works(client, kasi)
    assert credential_reads(seen) == []
