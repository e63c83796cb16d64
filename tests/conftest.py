"""Shared fixtures: real SQLite and PostgreSQL databases, the app, and personas.

Store and API tests take ``db_url``, parametrized over both backends. The PostgreSQL server is
started once per session from the PostgreSQL binaries (``support/postgres.py``); each test gets an
empty migrated database from a pool (``support/db_pool.py``: copied once from a migrated template, then
emptied after each test and reused), and each SQLite test a copy of a migrated file.

``make test`` runs the suite on ``PYTEST_WORKERS`` (default 2) pytest-xdist worker processes with
``--dist loadgroup``; ``PYTEST_WORKERS=0`` runs it in one process (``--pdb``, print debugging). A session
fixture runs once per worker: each worker has its own PostgreSQL server (own data directory under its own
``tmp_path_factory`` folder, own free port), its own SQLite template and its own Chromium. A test is
xdist-safe when it keeps to these rules:

* files go under ``tmp_path``/``tmp_path_factory``, never to a fixed path (the one exception,
  ``build/screenshots/``, takes a file name no other test uses);
* servers listen on port 0 (``make_server("127.0.0.1", 0, …)``) or on ``support.smtp.free_port()`` taken
  right before the start, never on a fixed port; PostgreSQL databases are the pool's or named per test;
* environment variables through ``monkeypatch.setenv`` or a subprocess's own ``env``, not ``os.environ``;
* no test relies on another one having run before it, in the same process or at all: the tests of a
  file may be spread over both workers. A module that uses a module- or class-scoped fixture is kept on
  one worker (``pytest_collection_modifyitems`` below gives it an ``xdist_group``); tests that must share a
  process for another reason take ``@pytest.mark.xdist_group("name")`` themselves.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support.browser import chromium  # noqa: F401 - the session's browser fixture
from support.db_pool import DatabasePool
from support.helpers import (
    ENGINE_DATA,
    PASSWORD,
    TEST_FORMS,
    Persona,
    app_on,
    deploy_bytes,
    deploy_file,
    review_variant,
)
from support.postgres import create_database, running_postgres

from service.commands import accounts
from service.commands.context import Services
from service.config import Settings
from service.store.db import Database
from service.store.migrate import upgrade


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_postgres(tmp_path_factory.mktemp("pg")) as url:
        template = create_database(url, "alur_template")
        upgrade(template)
        yield url


@pytest.fixture(scope="session")
def postgres_pool(postgres_server: str) -> DatabasePool:
    return DatabasePool(postgres_server, "alur_template")


@pytest.fixture
def postgres_db(postgres_pool: DatabasePool) -> Iterator[str]:
    """The URL of an empty, migrated PostgreSQL database of this test's own (emptied again afterwards)."""
    url = postgres_pool.acquire()
    yield url
    postgres_pool.release(url)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        target = tmp_path / "alur.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_db")
    return url


@pytest.fixture
def forms_dir() -> Path:
    """The forms directory of the app under test: small test forms; SOP tests override it with ``forms/``."""
    return TEST_FORMS


@pytest.fixture
def settings(db_url: str, tmp_path: Path, forms_dir: Path) -> Settings:
    return Settings(database_url=db_url, secret_key="test-secret-key", data_dir=tmp_path / "data",
                    forms_dir=forms_dir, testing=True)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    found = Services(db=Database(settings.database_url), settings=settings)
    yield found
    found.db.dispose()


@pytest.fixture
def app(settings: Settings) -> Iterator[Any]:
    with app_on(settings) as flask_app:
        yield flask_app


@pytest.fixture
def make_persona(app: Any) -> Callable[..., Persona]:
    """Create a user with ``roles`` (``ROLE@UNIT``) and sign in through the API."""
    services = app.extensions["alur.services"]
    client = app.test_client()

    def make(username: str, *roles: str, admin: bool = False) -> Persona:
        accounts.create_user(services, username, PASSWORD, list(roles), is_admin=admin)
        response = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.json
        return Persona(username, response.json["token"])

    return make


@pytest.fixture
def units(app: Any) -> dict[str, str]:
    """Two units: A (WIB) and B (WITA)."""
    services = app.extensions["alur.services"]
    accounts.create_unit(services, "unit-a", "Unit A", "Asia/Jakarta")
    accounts.create_unit(services, "unit-b", "Unit B", "Asia/Makassar")
    return {"a": "unit-a", "b": "unit-b"}


@pytest.fixture
def admin(make_persona: Callable[..., Persona], units: dict[str, str]) -> Persona:
    return make_persona("admin", admin=True)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def review(client: Any, admin: Persona) -> dict[str, Any]:
    """``review.bpmn`` deployed (v1, active) in unit A; the response body."""
    response = deploy_file(client, admin, ENGINE_DATA / "review.bpmn")
    assert response.status_code == 201, response.json
    return dict(response.json)


@pytest.fixture
def staff(make_persona: Callable[..., Persona], units: dict[str, str]) -> dict[str, Persona]:
    """One persona per role of ``review.bpmn`` in unit A, and some in unit B."""
    return {
        "pelapor_a": make_persona("pelapor.a", "Pelapor@unit-a"),
        "kasi_a": make_persona("kasi.a", "Kasi@unit-a"),
        "kasi2_a": make_persona("kasi2.a", "Kasi@unit-a"),
        "kabid_a": make_persona("kabid.a", "Kabid@unit-a"),
        "audit_a": make_persona("audit.a", "Tim Audit@unit-a"),
        "admin_a": make_persona("admin.a", "admin@unit-a"),
        "pelapor_b": make_persona("pelapor.b", "Pelapor@unit-b"),
        "kasi_b": make_persona("kasi.b", "Kasi@unit-b"),
        "kabid_b": make_persona("kabid.b", "Kabid@unit-b"),
    }


@pytest.fixture
def start_review(client: Any, review: dict[str, Any], staff: dict[str, Persona]) -> Callable[..., dict[str, Any]]:
    """Start a case of ``review`` (as Pelapor of unit A unless told); returns the case body."""

    def start(persona: Persona | None = None, **body: Any) -> dict[str, Any]:
        payload = {"definition_key": "review", "data": {"judul": "Pungli di loket"}, **body}
        response = client.post("/api/cases", headers=(persona or staff["pelapor_a"]).headers, json=payload)
        assert response.status_code == 201, response.json
        return dict(response.json)

    return start


@pytest.fixture
def review_b(client: Any, admin: Persona) -> dict[str, Any]:
    """The review SOP deployed in unit B under the key ``review_b``."""
    response = deploy_bytes(client, admin, review_variant("review_b"), unit="unit-b")
    assert response.status_code == 201, response.json
    return dict(response.json)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, the tests of a module that uses module- or class-scoped fixtures run on one
    worker (an ``xdist_group`` named after the file, honoured by ``--dist loadgroup``), so such a fixture
    (a rendered set of diagrams, a Compose model, a private PostgreSQL server) is built once, not per worker."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is None or item.get_closest_marker("xdist_group"):
            continue
        if any(defs[-1].scope in ("module", "class", "package") for defs in info.name2fixturedefs.values() if defs):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2, with the cheapest parameters: the default ones cost ~0.2 s per hash and verify."""
    from argon2 import PasswordHasher

    from service.commands import passwords

    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
