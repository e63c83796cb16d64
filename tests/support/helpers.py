"""Helpers shared by the tests: paths, personas, deploying diagrams. Import them from here.

(Not from ``conftest``: every conftest module of the suite is named ``conftest``, so ``from conftest
import …`` picks whichever was loaded first.)
"""

from __future__ import annotations

import importlib.util
import io
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
from sqlalchemy import URL, Engine, MetaData, Table, create_engine, event, insert, select, text

from service.app import create_app
from service.commands.accounts import actor_by_id
from service.commands.context import Actor, Services
from service.store.change_notices import ChangeWatch
from service.store.driver import DriverStatement
from service.store.models import User

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
ENGINE_DATA = TESTS / "engine" / "data"
TEST_FORMS = TESTS / "data" / "forms"
CORPUS = ROOT.parent / "shared" / "corpus"


@dataclass
class Persona:
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


PASSWORD = "rahasia-uji-123"


def deploy_file(client: Any, persona: Persona, path: Path, unit: str = "unit-a", **fields: Any) -> Any:
    with path.open("rb") as handle:
        return client.post("/api/definitions", headers=persona.headers,
                           data={"bpmn": (handle, path.name), "unit": unit, **fields},
                           content_type="multipart/form-data")


def deploy_bytes(client: Any, persona: Persona, data: bytes, name: str = "diagram.bpmn",
                 unit: str = "unit-a", **fields: Any) -> Any:
    return client.post("/api/definitions", headers=persona.headers,
                       data={"bpmn": (io.BytesIO(data), name), "unit": unit, **fields},
                       content_type="multipart/form-data")


# --- shared by the API tests (added with the acceptance tests of issue #2) -------------------------


def review_variant(key: str, *replacements: tuple[str, str]) -> bytes:
    """``review.bpmn`` with its process id changed to ``key`` and optional text replacements."""
    text = (ENGINE_DATA / "review.bpmn").read_text(encoding="utf-8")
    text = text.replace('processRef="review"', f'processRef="{key}"').replace('<bpmn:process id="review"',
                                                                             f'<bpmn:process id="{key}"')
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode()


def signed_in_now(client: Any, persona: Persona) -> Persona:
    """The same user with a token issued at the current (possibly travelled) time."""
    response = client.post("/api/auth/token", json={"username": persona.username, "password": PASSWORD})
    assert response.status_code == 200, response.json
    return Persona(persona.username, response.json["token"])


def all_rows_as_text(services: Any) -> str:
    """Every row of every table as text: what an insider with the database file could read (a test of
    what is, or is not, stored in plain text anywhere)."""
    metadata = MetaData()
    metadata.reflect(services.db.engine)
    with services.db.engine.connect() as connection:
        return "\n".join(repr(tuple(row)) for table in metadata.sorted_tables
                         for row in connection.execute(text(f'SELECT * FROM "{table.name}"')))


@contextmanager
def sql_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements ``engine`` sends inside the block, in order: what the count tests assert."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def case_moved_before(engine: Engine, prefix: str, case_id: str) -> Iterator[list[str]]:
    """SQLite: another command moves the case (its ``lock_version``) right before the first statement inside
    the block that starts with ``prefix``, on the same connection; yields that statement once seen."""
    seen: list[str] = []

    def bump(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith(prefix) and not seen:
            seen.append(statement)
            cursor.connection.execute("UPDATE cases SET lock_version = lock_version + 1 WHERE id = ?", (case_id,))

    event.listen(engine, "before_cursor_execute", bump)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", bump)


def generic_plan(engine: Engine, statement: Any, values: dict[str, Any], *, seq_scans: bool) -> str:
    """The plan of ``statement`` as the service sends it (:class:`DriverStatement`: its parameters as
    parameters). PostgreSQL: the generic plan of the prepared statement, as psycopg runs one after five
    executions and keeps it for the connection's life; ``seq_scans=False`` rules sequential scans out (a
    test's tables are too small for the planner to prefer an index otherwise). SQLite: with its ``?``
    parameters bound."""
    compiled = DriverStatement.compile(statement, engine.dialect, [])
    arguments = compiled.values(values)
    with engine.connect() as connection:
        if engine.dialect.name != "postgresql":
            rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.sql}", tuple(arguments)).all()
            return "\n".join(str(row[-1]) for row in rows)
        driver: Any = connection.connection.driver_connection
        with psycopg.ClientCursor(driver) as cursor:  # the arguments written into EXECUTE's text
            cursor.execute("SET plan_cache_mode = force_generic_plan")
            if not seq_scans:
                cursor.execute("SET enable_seqscan = off")
            cursor.execute(f"PREPARE planned AS {compiled.sql}")
            listed = f"({', '.join(['%s'] * len(arguments))})" if arguments else ""
            cursor.execute(f"EXPLAIN EXECUTE planned{listed}", arguments)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            cursor.execute("DEALLOCATE planned")
            cursor.execute("RESET ALL")
        return plan


def literal_plan(engine: Engine, statement: Any, *, seq_scans: bool) -> str:
    """The plan of an ORM query with its values written in (the service runs it through SQLAlchemy, as a
    custom plan); ``seq_scans=False`` rules sequential scans out on PostgreSQL (see :func:`generic_plan`)."""
    sql = str(statement.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        if engine.dialect.name != "postgresql":
            return "\n".join(str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
        if not seq_scans:
            connection.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(str(row[0]) for row in connection.exec_driver_sql(f"EXPLAIN {sql}"))
        connection.exec_driver_sql("RESET enable_seqscan")
        return plan


def reflected(engine: Engine, *names: str) -> dict[str, Any]:
    """Tables as the database holds them (a migration test's older revision), by name."""
    meta = MetaData()
    return {name: Table(name, meta, autoload_with=engine) for name in names}


def insert_unit_and_revision(connection: Any, tables: dict[str, Any], moment: Any, key: str = "review",
                             user: tuple[int, str] | None = None) -> None:
    """A migration test's first rows: unit 1 (``unit-a``), revision 1 of ``key`` in it, and the user
    ``(id, username)`` when given."""
    connection.execute(insert(tables["units"]).values(id=1, code="unit-a", name="A", timezone="Asia/Jakarta",
                                                      registration_code="DUMAS", created_at=moment))
    if user is not None:
        connection.execute(insert(tables["users"]).values(
            id=user[0], username=user[1], password_hash="x", display_name=user[1], is_admin=False, active=True,
            failed_logins=0, credential_version=1, created_at=moment))
    connection.execute(insert(tables["definitions"]).values(
        id=1, key=key, version=1, title=key, unit_id=1, bpmn_xml="<x/>", checksum="c", forms={},
        dependencies={}, sop_metadata={}, decisions={}, status="active", deployed_at=moment))


@contextmanager
def app_on(settings: Any) -> Iterator[Any]:
    """The service's app for tests on ``settings``' database (``testing``); its pool closed afterwards.
    Two of them on one database play two processes, each with its own caches."""
    flask_app = create_app({"database_url": settings.database_url, "secret_key": settings.secret_key,
                            "forms_dir": settings.forms_dir, "data_dir": settings.data_dir,
                            "token_hours": settings.token_hours, "testing": True})
    try:
        yield flask_app
    finally:
        services_of(flask_app).db.dispose()


def services_of(app: Any) -> Services:
    """The services of a test app (its database, settings and caches)."""
    found: Services = app.extensions["alur.services"]
    return found


def actor_named(services: Services, username: str) -> Actor:
    """The signed-in actor of the account ``username`` (its roles per unit), as a request would have it."""
    with services.db.reading() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
    return actor_by_id(services, int(user_id or 0))


def migration_module(file_name: str) -> ModuleType:
    """A migration of ``service/store/migrations/versions`` as a module, for its constants and helpers (its
    file name starts with a digit: it cannot be imported by name)."""
    from service.store.migrate import MIGRATIONS

    path = MIGRATIONS / "versions" / file_name
    spec = importlib.util.spec_from_file_location(f"alur_migration_{file_name[:4]}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def empty_database(backend: str, request: Any, tmp_path: Path) -> str:
    """The URL of a new database with no tables (``backend`` "sqlite" or "postgres"), for a test that
    migrates it itself: a file in ``tmp_path``, or a database of its own on the session's PostgreSQL
    server (``request`` is the test's ``pytest.FixtureRequest``)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    from support.postgres import create_database

    return create_database(request.getfixturevalue("postgres_server"), f"empty_{uuid.uuid4().hex[:12]}")


def autocommit_connection(url: str | URL) -> psycopg.Connection[Any]:
    """A psycopg connection of its own (no pool), in autocommit, to the database of a SQLAlchemy URL,
    made as the service's engine makes its connections: to listen for notices, or play another process."""
    engine = create_engine(url)
    try:
        args, kwargs = engine.dialect.create_connect_args(engine.url)
    finally:
        engine.dispose()
    return psycopg.connect(*args, **kwargs, autocommit=True)


#: the longest a test waits for a change watch's listener (it answers in milliseconds; this is only a bound)
WAIT_SECONDS = 10.0


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"not within {WAIT_SECONDS:.0f} s: {what}"
        time.sleep(0.01)


def listening(app: Any) -> ChangeWatch:
    """The app's change watch (credentials and revisions), started and listening, as
    ``service.serve.worker_app`` starts it (PostgreSQL only)."""
    watch = services_of(app).db.changes
    watch.start()
    until(lambda: watch.listening, "the change watch listens")
    return watch


def token_works(client: Any, persona: Persona) -> bool:
    """Whether the persona's token still works: its task list answers 200 (not 401)."""
    status = client.get("/api/tasks", headers=persona.headers).status_code
    assert status in (200, 401), status
    return bool(status == 200)
