"""The ``alur`` console script, run for real in a subprocess on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import select
from support.helpers import ENGINE_DATA, ROOT, TEST_FORMS
from support.postgres import create_database

from service.app import create_app
from service.commands import accounts
from service.commands.cases import StartRequest, start_case
from service.commands.context import Services
from service.config import Settings
from service.store.db import Database
from service.store.models import HistoryEntry

#: the console script, run by the interpreter that runs the tests (no path into a particular venv)
ALUR = (sys.executable, "-m", "service.cli")
PASSWORD = "kata-sandi-123"


class Cli:
    def __init__(self, instance: Path, database_url: str | None, forms_dir: Path = TEST_FORMS) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
        self.env.update(ALUR_INSTANCE_DIR=str(instance), ALUR_FORMS_DIR=str(forms_dir))
        if database_url:
            self.env["ALUR_DATABASE_URL"] = database_url
        self.url = database_url or f"sqlite:///{instance / 'alur.db'}"

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*ALUR, *args], env=self.env, cwd=ROOT, capture_output=True, text=True,
                              timeout=120, check=False)
        assert "Traceback" not in done.stderr, done.stderr
        assert (done.returncode == 0) == ok, (args, done.returncode, done.stdout, done.stderr)
        return done

    def services(self) -> Services:
        settings = Settings(database_url=self.url, secret_key="cli-test", data_dir=Path(self.env["ALUR_INSTANCE_DIR"]),
                            forms_dir=Path(self.env["ALUR_FORMS_DIR"]))
        return Services(db=Database(self.url), settings=settings)


@pytest.fixture(params=["sqlite", "postgres"])
def cli(request: pytest.FixtureRequest, tmp_path: Path) -> Cli:
    if request.param == "sqlite":
        return Cli(tmp_path, None)
    server = request.getfixturevalue("postgres_server")
    return Cli(tmp_path, create_database(server, f"cli_{uuid.uuid4().hex[:12]}"))  # empty: no template


def test_fresh_database_to_deployed_sop_and_a_worker_sweep(cli: Cli) -> None:
    assert "up to date" in cli("db", "upgrade").stdout
    cli("units", "create", "unit-a", "--name", "Unit A", "--timezone", "Asia/Makassar")
    cli("users", "create", "kasi1", "--password", PASSWORD, "--role", "Kasi@unit-a", "--role", "admin@unit-a",
        "--admin")
    deployed = cli("deploy", str(ENGINE_DATA / "review.bpmn"), "--unit", "unit-a")
    assert "review v1 (deployed)" in deployed.stdout
    assert "review v1 (unchanged)" in cli("deploy", str(ENGINE_DATA / "review.bpmn"), "--unit", "unit-a").stdout

    services = cli.services()
    try:
        actor = accounts.authenticate(services, "kasi1", PASSWORD)
        assert actor.is_admin
        # started an hour ago, so its 10-minute SLA timer is due for the worker in the subprocess
        with time_machine.travel(datetime.now(UTC) - timedelta(hours=1), tick=False):
            case_id = start_case(services, actor, StartRequest("review", data={"judul": "dari CLI"})).id
        assert [h.action for h in history_of(services, case_id)] == ["case_started", "task_created"]
        cli("worker", "--once")
        assert [h.action for h in history_of(services, case_id)].count("timer_fired") == 1
    finally:
        services.db.dispose()


def history_of(services: Services, case_id: str) -> list[HistoryEntry]:
    with services.db.reading() as session:
        return list(session.scalars(select(HistoryEntry).where(HistoryEntry.case_id == case_id)
                                    .order_by(HistoryEntry.id)))


BAD_INPUT = [
    (("deploy", str(ENGINE_DATA / "review.bpmn"), "--unit", "tidak-ada"), "Unit 'tidak-ada' does not exist"),
    (("users", "create", "u1", "--password", "pendek"), "at least 8"),
    (("users", "create", "u2", "--password", PASSWORD, "--role", "Kasi@tidak-ada"), "tidak-ada"),
    (("units", "create", "unit-a", "--name", "Lagi"), "already exists"),
    (("deploy", str(ROOT / "pyproject.toml"), "--unit", "unit-a"), "well-formed"),
]


def test_bad_input_exits_non_zero_with_a_clear_message(tmp_path: Path) -> None:
    """SQLite only: the checks come before the database, and each start of ``alur`` costs seconds."""
    cli = Cli(tmp_path, None)
    cli("db", "upgrade")
    cli("units", "create", "unit-a", "--name", "Unit A")
    for args, message in BAD_INPUT:
        failed = cli(*args, ok=False)
        assert message in failed.stderr, (args, failed.stderr)


def test_demo_prints_working_passwords(tmp_path: Path) -> None:
    cli = Cli(tmp_path, None, forms_dir=ROOT / "forms")
    cli("db", "upgrade")
    shown = cli("demo").stdout
    accounts_shown = dict(re.findall(r"^\s+(\S+)\s+(\S+)\s", shown, flags=re.MULTILINE))
    assert "admin" in accounts_shown and len(accounts_shown) > 5
    # escalation targets and pengawas of the office, routed lanes per sub-unit (bidang, unit kerja)
    assert {"kepala-dinas.dpmptsp-kukar", "sekretariat-inspektorat.inspektorat-katingan",
            "bidang-terkait.dpmptsp-kukar-perizinan", "kabid.dinsos-kukar-rehsos",
            "eselon-ii.katingan-dpmd"} <= set(accounts_shown)
    app = create_app({"database_url": cli.url, "secret_key": "cli-test", "forms_dir": ROOT / "forms",
                      "data_dir": tmp_path / "data", "testing": True})
    try:
        client = app.test_client()
        for username in ("admin", next(name for name in accounts_shown if name != "admin")):
            token = client.post("/api/auth/token", json={"username": username, "password": accounts_shown[username]})
            assert token.status_code == 200, (username, token.json)
        definitions = client.get("/api/definitions", headers={"Authorization": f"Bearer {token.json['token']}"})
        assert definitions.status_code == 200
        again = cli("demo").stdout  # a second run renews the passwords, creates nothing twice
        assert dict(re.findall(r"^\s+(\S+)\s+(\S+)\s", again, flags=re.MULTILINE)).keys() == accounts_shown.keys()
    finally:
        app.extensions["alur.services"].db.dispose()


def test_sub_units_are_created_under_their_office(cli: Cli) -> None:
    cli("db", "upgrade")
    cli("units", "create", "dinas-uji", "--name", "Dinas Uji", "--timezone", "Asia/Makassar")
    assert "sub-unit" in cli("units", "create", "dinas-uji-bidang-a", "--name", "Bidang A",
                             "--parent", "dinas-uji").stdout
    refused = cli("units", "create", "dinas-uji-seksi", "--name", "Seksi", "--parent", "dinas-uji-bidang-a", ok=False)
    assert "sub-unit" in refused.stderr + refused.stdout
    with cli.services().db.reading() as session:
        from service.store.models import Unit
        office = session.scalars(select(Unit).where(Unit.code == "dinas-uji")).one()
        bidang = session.scalars(select(Unit).where(Unit.code == "dinas-uji-bidang-a")).one()
        assert (bidang.parent_id, bidang.timezone) == (office.id, "Asia/Makassar")
