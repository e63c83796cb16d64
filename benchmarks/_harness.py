"""Shared pieces of the benchmarks: the throughput SOP path, a fresh database, the production server, an HTTP
client, the CPU time of process trees from /proc, database sizes and percentiles.

Only loopback traffic: the server binds 127.0.0.1 and the client talks to nothing else.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # for support.postgres

from sqlalchemy.engine import make_url  # noqa: E402
from support.postgres import connect as pg_connect  # noqa: E402

from service.commands import accounts  # noqa: E402
from service.commands.context import Actor, Services  # noqa: E402
from service.commands.definitions import DeployRequest, deploy  # noqa: E402
from service.commands.specs import compiled_for  # noqa: E402
from service.config import Settings  # noqa: E402
from service.engine import CompiledDefinition  # noqa: E402
from service.store.db import Database  # noqa: E402
from service.store.migrate import upgrade  # noqa: E402
from service.store.models import Definition  # noqa: E402

UNIT = "inspektorat-katingan"
PASSWORD = "bench-password-123"
SECRET = "benchmark-secret-key-not-for-production"
SYSTEM = Actor(user_id=0, username="system:bench", is_admin=True, roles_by_unit={})

# One full path of dumas-inspektorat-katingan: D1 "lengkap", D2 "berkadar pengawasan".
INTAKE: dict[str, Any] = {
    "nama": "Budi Santoso", "nik": "6206011234567890", "alamat": "Jl. Tjilik Riwut No. 1, Kasongan",
    "email": "budi@example.id", "telepon": "081234567890", "pekerjaan": "Wiraswasta",
    "kategori_terlapor": "Pegawai Negeri Sipil", "jenis_laporan": "penyalahgunaan wewenang",
    "saluran": "surat elektronik", "uraian": "Pungutan liar pada layanan perizinan.",
    "lokasi_kasus": "Kantor Kecamatan Katingan Hilir",
}
# (lane = the role that works on it, BPMN element id, form data)
STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("Inspektorat", "Task_verifikasi", {
        "nomor_registrasi": "DUMAS/2026/001", "laporan_hasil_verifikasi": "Data dan bukti lengkap.",
        "hasil_verifikasi": "lengkap"}),
    ("Inspektur", "Task_penelaahan", {
        "inti_masalah": "Pungutan liar", "kategori_telaah": "berkadar pengawasan",
        "memo_kepala_inspektorat": "Disalurkan ke sekretariat untuk audit."}),
    ("Sekretariat Inspektorat", "Task_penyaluran", {
        "nomor_agenda": "AG-001", "tanggal_diterima": "2026-03-02"}),
    ("Inspektur", "Task_tindak_lanjut_inspektur", {
        "bentuk_tindak_lanjut": "audit dengan tujuan tertentu", "laporan_tindak_lanjut": "Audit selesai.",
        "kesimpulan": "Terbukti sebagian."}),
]
USERS = {"Pelapor": "pelapor", "Inspektorat": "inspektorat", "Inspektur": "inspektur",
         "Sekretariat Inspektorat": "sekretariat"}


def _services(url: str, bpmn: Path, forms_dir: Path, data_dir: Path) -> Services:
    """The services of a migrated database. A business rule task's decision table is the
    ``<decisionRef>.dmn`` beside the diagram, as ``alur deploy`` finds it; the service's deploy reads it."""
    upgrade(url)
    settings = Settings(database_url=url, secret_key=SECRET, data_dir=data_dir, forms_dir=forms_dir,
                        decisions_dir=bpmn.parent)
    return Services(db=Database(url), settings=settings)


def _deploy_sop(services: Services, bpmn: Path) -> Definition:
    """The unit, then the SOP deployed in it by the service."""
    accounts.create_unit(services, UNIT, "Inspektorat Kabupaten Katingan", "Asia/Jakarta")
    definition, _ = deploy(services, SYSTEM, DeployRequest(bpmn=bpmn.read_bytes(), unit=UNIT))
    return definition


def prepare_database(url: str, bpmn: Path, forms_dir: Path, data_dir: Path) -> str:
    """Migrate, create the unit and one user per lane, deploy the SOP; returns its definition key."""
    services = _services(url, bpmn, forms_dir, data_dir)
    try:
        definition = _deploy_sop(services, bpmn)
        for lane, username in USERS.items():
            accounts.create_user(services, username, PASSWORD, [f"{lane}@{UNIT}"])
        return str(definition.key)
    finally:
        services.db.dispose()


def deployed_spec(bpmn: Path, forms_dir: Path) -> CompiledDefinition:
    """The SOP's compiled spec as the service runs a case of it, for the engine-alone phases: deployed (its
    forms and decision tables resolved by the service) into a throw-away SQLite database, then compiled
    from the stored revision the way the service compiles one."""
    with tempfile.TemporaryDirectory(prefix="alur-bench-spec-") as workdir:
        services = _services(f"sqlite:///{Path(workdir) / 'alur.db'}", bpmn, forms_dir, Path(workdir) / "data")
        try:
            revision_id = _deploy_sop(services, bpmn).id
            with services.db.reading() as session:
                revision = session.get(Definition, revision_id)
                assert revision is not None
                return compiled_for(services, session, revision)
        finally:
            services.db.dispose()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    """A running server: its loopback port, the main process's pid (the workers are its children), its log."""

    port: int
    pid: int
    log: Path


def server_env(url: str, forms_dir: Path, workdir: Path, root: Path = ROOT) -> dict[str, str]:
    """The environment of a benchmark server: the ``service`` of the checkout at ``root`` (this one unless
    told), a throw-away instance dir."""
    return {**os.environ, "ALUR_DATABASE_URL": url, "ALUR_FORMS_DIR": str(forms_dir), "ALUR_SECRET_KEY": SECRET,
            "ALUR_DATA_DIR": str(workdir / "data"), "ALUR_INSTANCE_DIR": str(workdir / "instance"),
            "PYTHONPATH": str(root)}  # that checkout's ``service``, whatever the venv has installed


@contextmanager
def serve(env: Mapping[str, str], workdir: Path, workers: int = 2, root: Path = ROOT) -> Iterator[Server]:
    """Run the production server, ``python -m service.serve --workers <workers>`` on a free loopback port,
    with ``env`` in the checkout at ``root`` (this one unless told) until the block ends.

    The server gets its own session (a Ctrl-C reaches only us) and is stopped with SIGTERM to its process
    group (SIGKILL after 15 s), also when the block raised. Its output goes to ``workdir/server.log``.
    """
    port = free_port()
    log = workdir / "server.log"
    command = [sys.executable, "-m", "service.serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers)]
    with log.open("ab") as out:
        proc = subprocess.Popen(command, cwd=root, env=dict(env), stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(port, proc, log)
        yield Server(port, proc.pid, log)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _wait_ready(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                conn.close()
                return
            conn.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not become ready in {timeout:.0f}s:\n{log.read_text(errors='replace')[-3000:]}")


@dataclass
class Client:
    """One benchmark client: a keep-alive connection, its latencies per request kind, its errors."""

    port: int
    keep_alive: bool = True
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    conn: http.client.HTTPConnection | None = None

    def call(self, kind: str, method: str, path: str, body: Any = None, token: str | None = None, *,
             raw: bytes | None = None, content_type: str = "application/json") -> Any:
        """One request; returns the JSON body, or None after recording a non-2xx answer or a failure.

        ``body`` is sent as JSON; ``raw`` (e.g. a :func:`multipart` body) as it is, with ``content_type``.
        """
        headers = {"Content-Type": content_type, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = raw if raw is not None else json.dumps(body).encode() if body is not None else None
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.conn = None
            self.errors.append(f"{kind} {method} {path}: {type(exc).__name__}: {exc}")
            return None
        self.latencies.setdefault(kind, []).append(time.perf_counter() - started)
        if not self.keep_alive:
            self.close()
        if not 200 <= response.status < 300:
            self.errors.append(f"{kind} {method} {path}: HTTP {response.status} {raw[:300]!r}")
            return None
        return json.loads(raw) if raw else {}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (``share`` in 0..1); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def percentiles(values: Sequence[float], shares: Sequence[float] = (0.5, 0.95, 0.99)) -> list[float]:
    """Nearest-rank percentiles of ``values`` for each share (0 for no values)."""
    ordered = sorted(values)
    if not ordered:
        return [0.0 for _ in shares]
    return [ordered[min(max(1, math.ceil(share * len(ordered))), len(ordered)) - 1] for share in shares]


def multipart(fields: Mapping[str, str], files: Mapping[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body of text ``fields`` and ``files`` (name → (filename, bytes, type));
    returns the body and its Content-Type."""
    boundary = f"alur-bench-{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    for name, (filename, data, kind) in files.items():
        head = (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {kind}\r\n\r\n")
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- CPU time of process trees, from /proc ---------------------------------------------------------------
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, utime+stime+cutime+cstime in clock ticks) of ``pid``; None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) ": state, ppid, ...; comm may hold spaces
    # proc(5): utime, stime, cutime, cstime are fields 14-17, i.e. 11-14 after the comm
    return int(fields[1]), sum(int(value) for value in fields[11:15])


def process_tree(root: int) -> list[int]:
    """``root`` and every live descendant of it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat is not None:
                children.setdefault(stat[0], []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of ``root`` and its descendants: the live ones' own time plus the time of
    children already reaped (``cutime``/``cstime``), so the figure only grows while the tree works."""
    ticks = 0
    for pid in process_tree(root):
        stat = _proc_stat(pid)
        if stat is not None:
            ticks += stat[1]
    return ticks / CLOCK_TICKS


def loadavg() -> str:
    """``/proc/loadavg`` as it reads."""
    return Path("/proc/loadavg").read_text().strip()


# --- databases --------------------------------------------------------------------------------------------
def postmaster_pid(url: str) -> int:
    """The pid of the PostgreSQL server (postmaster) behind ``url``: the parent of a backend of ours."""
    with pg_connect(url, make_url(url).database or "postgres") as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
        assert row is not None
        stat = _proc_stat(int(row[0]))  # while the connection is open: its backend exits when it closes
    if stat is None:
        raise RuntimeError("the backend of our connection vanished before its parent could be read")
    return stat[0]


def database_bytes(url: str) -> int:
    """On-disk size of the database's data. PostgreSQL: ``pg_total_relation_size`` (heap, TOAST, indexes)
    summed over the user tables. SQLite: the file plus its WAL after a ``wal_checkpoint(TRUNCATE)``."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        with sqlite3.connect(path, timeout=30) as lite:
            lite.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        lite.close()  # sqlite3's context manager ends the transaction, not the connection
        wal = path.with_name(path.name + "-wal")
        return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)
    with pg_connect(url, make_url(url).database or "postgres") as conn:
        row = conn.execute("SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_stat_user_tables"
                           ).fetchone()
    return int(row[0]) if row else 0


def map_bytes(url: str) -> int:
    """The part of :func:`database_bytes` in PostgreSQL's free space and visibility maps (the ``fsm`` and
    ``vm`` forks); 0 on SQLite, which has none.

    A table's free space map is created at its first extension past one page and is then three pages,
    24 kB, for the table's first ~4,000 pages: a fixed cost per table, not per row. At N = 300 on a fresh
    database it is about 820 bytes "per complaint" over the ten tables a complaint grows, at N = 3,000
    about 80."""
    if url.startswith("sqlite"):
        return 0
    with pg_connect(url, make_url(url).database or "postgres") as conn:
        row = conn.execute(  # the tables, their TOAST tables and every index of either: the relations
            # pg_total_relation_size sums for database_bytes
            "WITH tables AS (SELECT relid AS oid FROM pg_stat_user_tables UNION ALL SELECT reltoastrelid"
            " FROM pg_class WHERE oid IN (SELECT relid FROM pg_stat_user_tables) AND reltoastrelid <> 0),"
            " relations AS (SELECT oid FROM tables UNION ALL SELECT indexrelid FROM pg_index"
            " WHERE indrelid IN (SELECT oid FROM tables))"
            " SELECT coalesce(sum(pg_relation_size(oid, 'fsm') + pg_relation_size(oid, 'vm')), 0) FROM relations"
        ).fetchone()
    return int(row[0]) if row else 0
