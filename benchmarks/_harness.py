"""Pieces of the throughput benchmark: the SOP path, a fresh database, a gunicorn server, an HTTP client.

Only loopback traffic: the server binds 127.0.0.1 and the client talks to nothing else.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # for support.postgres

from service.commands import accounts  # noqa: E402
from service.commands.context import Actor, Services  # noqa: E402
from service.commands.definitions import DeployRequest, deploy  # noqa: E402
from service.config import Settings  # noqa: E402
from service.store.db import Database  # noqa: E402
from service.store.migrate import upgrade  # noqa: E402

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


def prepare_database(url: str, bpmn: Path, forms_dir: Path, data_dir: Path) -> str:
    """Migrate, create the unit and one user per lane, deploy the SOP; returns its definition key."""
    upgrade(url)
    settings = Settings(database_url=url, secret_key=SECRET, data_dir=data_dir, forms_dir=forms_dir)
    services = Services(db=Database(url), settings=settings)
    try:
        accounts.create_unit(services, UNIT, "Inspektorat Kabupaten Katingan", "Asia/Jakarta")
        for lane, username in USERS.items():
            accounts.create_user(services, username, PASSWORD, [f"{lane}@{UNIT}"])
        definition, _ = deploy(services, SYSTEM, DeployRequest(bpmn=bpmn.read_bytes(), unit=UNIT))
        return str(definition.key)
    finally:
        services.db.dispose()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def gunicorn(url: str, forms_dir: Path, workdir: Path, workers: int, threads: int) -> Iterator[int]:
    """Serve ``service.app:create_app()`` under gunicorn on a free loopback port; yields the port."""
    port = free_port()
    env = {**os.environ, "ALUR_DATABASE_URL": url, "ALUR_FORMS_DIR": str(forms_dir), "ALUR_SECRET_KEY": SECRET,
           "ALUR_DATA_DIR": str(workdir / "data"), "ALUR_INSTANCE_DIR": str(workdir / "instance"),
           "PYTHONPATH": str(ROOT)}  # this checkout's ``service``, whatever the venv has installed
    log = workdir / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
               "-b", f"127.0.0.1:{port}", "--keep-alive", "30", "--timeout", "60", "service.app:create_app()"]
    with log.open("wb") as out:
        # Own session: a Ctrl-C reaches only us, and we stop the server ourselves.
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_ready(port, proc, log)
        yield port
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
            raise RuntimeError(f"gunicorn exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
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
    raise RuntimeError(f"gunicorn did not become ready in {timeout:.0f}s:\n{log.read_text(errors='replace')[-3000:]}")


@dataclass
class Client:
    """One benchmark client: a keep-alive connection, its latencies per request kind, its errors."""

    port: int
    keep_alive: bool = True
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    conn: http.client.HTTPConnection | None = None

    def call(self, kind: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """One request; returns the JSON body, or None after recording a non-2xx answer or a failure."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = json.dumps(body).encode() if body is not None else None
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
