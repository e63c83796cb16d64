"""A real, throw-away PostgreSQL server for the test suite.

The server is started from the PostgreSQL binaries installed on the machine
(``make sysdeps`` installs Debian's ``postgresql`` package when they are missing);
neither Docker nor pytest-postgresql is used.

Usage (e.g. from ``tests/conftest.py``, which puts ``tests/`` on ``sys.path``)::

    from support.postgres import create_database, running_postgres

    @pytest.fixture(scope="session")
    def postgres_server(tmp_path_factory):
        with running_postgres(tmp_path_factory.mktemp("postgres")) as url:
            yield url

    @pytest.fixture
    def postgres_url(postgres_server, request):
        return create_database(postgres_server, unique_name_for(request))

``running_postgres`` yields ``postgresql+psycopg://alur@127.0.0.1:<port>/alur``;
``create_database`` creates an empty database on the same server and returns its URL.

PostgreSQL refuses to run as root: when the tests run as root the server runs as the
``postgres`` system user (created by the Debian package) or else ``nobody``, in a
directory owned by that user. The server listens on 127.0.0.1 only, trusts local
connections, and trades durability for speed (fsync, synchronous_commit and
full_page_writes are off). It is stopped with ``pg_ctl stop -m immediate`` when the
context exits, also when the tests failed, and at interpreter exit as a last resort.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow
from sqlalchemy.engine import make_url

SUPERUSER = "alur"
DEFAULT_DATABASE = "alur"
HOST = "127.0.0.1"

# Unix socket paths are limited to 107 bytes; ".s.PGSQL.65535.lock" needs 20 of them.
_MAX_SOCKET_DIR_LEN = 80
_START_ATTEMPTS = 3
_START_TIMEOUT_S = 60
_DB_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")

_SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "64MB",
    "log_min_messages": "warning",
    "log_line_prefix": "'%m [%p] %d '",
}


class PostgresNotAvailable(RuntimeError):
    """The PostgreSQL server binaries could not be found."""


def find_pg_bindir() -> Path:
    """The directory holding ``initdb``/``pg_ctl``: PATH first, else the newest Debian install."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        bindir = Path(on_path).resolve().parent
        if (bindir / "initdb").exists():
            return bindir
    candidates = [p.parent for p in Path("/usr/lib/postgresql").glob("*/bin/pg_ctl") if p.is_file()]

    def version(bindir: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name)) or (0,)

    candidates = [c for c in candidates if (c / "initdb").exists()]
    if candidates:
        return max(candidates, key=version)
    raise PostgresNotAvailable(
        "PostgreSQL server binaries (pg_ctl, initdb) not found in PATH nor under "
        "/usr/lib/postgresql/*/bin; run `make sysdeps` (installs Debian's `postgresql`)."
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class _RunAs:
    """Who runs the server processes: the current user, or a system user when we are root."""

    user: str | None
    uid: int
    gid: int

    @classmethod
    def choose(cls) -> _RunAs:
        if os.geteuid() != 0:
            return cls(user=None, uid=os.geteuid(), gid=os.getegid())
        for name in ("postgres", "nobody"):
            try:
                entry = pwd.getpwnam(name)
            except KeyError:
                continue
            return cls(user=name, uid=entry.pw_uid, gid=entry.pw_gid)
        raise PostgresNotAvailable("running as root, but neither a `postgres` nor a `nobody` user exists")

    def prefix(self) -> list[str]:
        if self.user is None:
            return []
        runuser = shutil.which("runuser")
        if runuser:
            return [runuser, "-u", self.user, "--"]
        setpriv = shutil.which("setpriv")
        if setpriv:
            return [setpriv, f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups", "--"]
        raise PostgresNotAvailable("running as root, but neither `runuser` nor `setpriv` is available")

    def can_reach(self, path: Path) -> bool:
        """Whether this user can traverse every ancestor of ``path`` (judged by mode bits)."""
        if self.user is None:
            return True
        for ancestor in [path, *path.parents]:
            try:
                st = ancestor.stat()
            except FileNotFoundError:
                continue
            if st.st_uid == self.uid:
                ok = bool(st.st_mode & stat.S_IXUSR)
            elif st.st_gid == self.gid:
                ok = bool(st.st_mode & stat.S_IXGRP)
            else:
                ok = bool(st.st_mode & stat.S_IXOTH)
            if not ok:
                return False
        return True

    def own(self, path: Path) -> None:
        if self.user is not None:
            os.chown(path, self.uid, self.gid)


def _run(cmd: Sequence[str], *, cwd: Path, what: str, log: Path | None = None) -> None:
    proc = subprocess.run(
        list(cmd),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        detail = proc.stdout.strip()
        if log is not None and log.exists():
            detail += "\n--- server log (tail) ---\n" + "\n".join(
                log.read_text(errors="replace").splitlines()[-30:]
            )
        raise RuntimeError(f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{detail}")


def _runtime_dir(base_dir: Path, run_as: _RunAs) -> tuple[Path, bool]:
    """A directory for the data dir, socket and log; the flag says whether we must delete it."""
    base_dir = base_dir.resolve()
    base_dir.mkdir(parents=True, exist_ok=True)
    candidate = base_dir / "pg"
    if len(str(candidate)) <= _MAX_SOCKET_DIR_LEN and run_as.can_reach(base_dir):
        if candidate.exists():
            shutil.rmtree(candidate)
        candidate.mkdir(mode=0o700)
        run_as.own(candidate)
        return candidate, False
    # Too deep for a Unix socket, or not reachable by the server's user (pytest's
    # /tmp/pytest-of-root is 0700): use a short private directory in the temp dir.
    fallback = Path(tempfile.mkdtemp(prefix="alur-pg-"))
    run_as.own(fallback)
    return fallback, True


class _Server:
    def __init__(self, bindir: Path, run_as: _RunAs, runtime: Path) -> None:
        self.bindir = bindir
        self.run_as = run_as
        self.runtime = runtime
        self.datadir = runtime / "data"
        self.log = runtime / "postgres.log"
        self.port: int | None = None
        self.running = False

    def _cmd(self, tool: str, *args: str) -> list[str]:
        return [*self.run_as.prefix(), str(self.bindir / tool), *args]

    def initdb(self) -> None:
        _run(
            self._cmd(
                "initdb",
                "-D",
                str(self.datadir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ),
            cwd=self.runtime,
            what="initdb",
        )
        socket_dir = str(self.runtime) if len(str(self.runtime)) <= _MAX_SOCKET_DIR_LEN else ""
        settings = {**_SERVER_SETTINGS, "unix_socket_directories": f"'{socket_dir}'"}
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# alur test server\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())
        # Trust only the loopback address for TCP connections (plus the local socket).
        (self.datadir / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        self.run_as.own(self.datadir / "pg_hba.conf")

    def start(self) -> int:
        last_error: Exception | None = None
        for _ in range(_START_ATTEMPTS):
            port = _free_port()
            self.log.touch()
            self.run_as.own(self.log)
            self.port = port
            try:
                self.running = True  # from here on a stop attempt is due, whatever happens
                _run(
                    self._cmd(
                        "pg_ctl",
                        "-D",
                        str(self.datadir),
                        "-l",
                        str(self.log),
                        "-o",
                        f"-p {port}",
                        "-w",
                        "-t",
                        str(_START_TIMEOUT_S),
                        "start",
                    ),
                    cwd=self.runtime,
                    what="pg_ctl start",
                    log=self.log,
                )
                return port
            except RuntimeError as exc:  # most likely the port was taken meanwhile: retry
                last_error = exc
                self.stop()
        assert last_error is not None
        raise last_error

    def stop(self) -> None:
        if not self.running:
            return
        if (self.datadir / "postmaster.pid").exists():
            subprocess.run(
                self._cmd("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop"),
                cwd=self.runtime,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        self.running = False


def connect(url: str, dbname: str) -> psycopg.Connection[TupleRow]:
    """An autocommit connection, as the superuser, to database ``dbname`` on the server of ``url``."""
    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host or HOST,
        port=parsed.port or 5432,
        user=parsed.username or SUPERUSER,
        dbname=dbname,
        autocommit=True,
        connect_timeout=10,
    )


@contextlib.contextmanager
def running_postgres(base_dir: Path) -> Iterator[str]:
    """Start a private PostgreSQL server and yield its SQLAlchemy URL (database ``alur``).

    The server is stopped (``pg_ctl stop -m immediate``) and its data directory removed
    when the context exits, whether the body raised or not.
    """
    bindir = find_pg_bindir()
    run_as = _RunAs.choose()
    runtime, remove_runtime = _runtime_dir(Path(base_dir), run_as)
    server = _Server(bindir, run_as, runtime)
    atexit.register(server.stop)  # last resort, e.g. when the generator is never closed
    try:
        server.initdb()
        port = server.start()
        url = f"postgresql+psycopg://{SUPERUSER}@{HOST}:{port}/{DEFAULT_DATABASE}"
        with connect(url, "postgres") as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DEFAULT_DATABASE)))
        yield url
    finally:
        server.stop()
        atexit.unregister(server.stop)
        shutil.rmtree(server.datadir, ignore_errors=True)
        if remove_runtime:
            shutil.rmtree(runtime, ignore_errors=True)


def create_database(url: str, name: str, template: str | None = None) -> str:
    """Create an empty database ``name`` on the server of ``url`` and return its URL.

    With ``template``, the new database is a copy of that one (fast: no migrations per test).

    ``name`` must be a plain identifier (letters, digits, underscore; at most 63 chars).
    An existing database of that name is dropped first, so a re-run starts clean.
    """
    if not _DB_NAME_RE.match(name):
        raise ValueError(f"not a plain PostgreSQL identifier: {name!r}")
    with connect(url, "postgres") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        else:
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)))
    new_url: str = make_url(url).set(database=name).render_as_string(hide_password=False)
    return new_url
