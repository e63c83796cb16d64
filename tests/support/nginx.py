"""Several Alur nodes on one machine: API replicas (granian) behind a real nginx, and worker processes.

nginx runs ``deploy/nginx/alur.conf`` — the file docker-compose.yml mounts — with its upstream
servers and its listen port replaced by loopback ports, inside a main configuration whose pid, logs
and temporary folders are in the test's own folder (``nginx -p DIR -c CONF -g 'daemon off;'``), so
it needs no root and never meets a system nginx (Debian's package starts one on port 80). The API
replicas run the command of the README and docker-compose.yml, ``python -m service.serve``; the
workers are ``alur worker``.

nginx comes from Debian's ``nginx`` package, which ``make sysdeps`` installs; without it
:func:`find_nginx` fails with that advice (it does not skip).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from support.helpers import ROOT
from support.smtp import free_port

SITE_CONF = ROOT / "deploy" / "nginx" / "alur.conf"
ALUR = (sys.executable, "-m", "service.cli")  # the interpreter running the tests, whatever its venv
READY_TIMEOUT_S = 90.0


class NginxNotAvailable(RuntimeError):
    """The nginx binary could not be found."""


def find_nginx() -> str:
    found = shutil.which("nginx") or next((path for path in ("/usr/sbin/nginx",) if os.access(path, os.X_OK)), None)
    if found is None:
        raise NginxNotAvailable("nginx not found in PATH nor as /usr/sbin/nginx; run `make sysdeps` "
                                "(installs Debian's `nginx`)")
    return found


def site_config(upstreams: Sequence[int], port: int, access_log: Path) -> str:
    """``alur.conf`` with its upstream servers on the given loopback ports, listening on ``port``."""
    text = SITE_CONF.read_text()
    servers = re.findall(r"^(\s*)server api-\d+:8000(.*)$", text, flags=re.MULTILINE)
    assert servers, f"no `server api-N:8000` line in {SITE_CONF}"
    indent, options = servers[0]
    replicas = "\n".join(f"{indent}server 127.0.0.1:{upstream}{options}" for upstream in upstreams)
    text = re.sub(r"^\s*server api-\d+:8000.*\n", "", text, flags=re.MULTILINE)
    text = text.replace("upstream alur_api {\n", f"upstream alur_api {{\n{replicas}\n", 1)
    text, listens = re.subn(r"^(\s*)listen 8080;", rf"\1listen 127.0.0.1:{port};", text, flags=re.MULTILINE)
    assert listens == 1, f"no `listen 8080;` in {SITE_CONF}"
    return text.replace("access_log /dev/stdout ", f"access_log {access_log} ")


def main_config(folder: Path, site: Path) -> str:
    """nginx.conf around the site: pid, logs and temporary files in ``folder``."""
    temp = "\n".join(f"    {kind}_temp_path {folder / kind};" for kind in ("client_body", "proxy", "fastcgi",
                                                                             "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""  # as root, workers would switch to nobody
    return (f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} notice;\n"
            f"events {{ worker_connections 512; }}\nhttp {{\n{temp}\n    include {site};\n}}\n")


@contextmanager
def running_nginx(folder: Path, upstreams: Sequence[int]) -> Iterator[int]:
    """nginx in front of the API replicas listening on ``upstreams``; yields its loopback port."""
    binary = find_nginx()
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    site, conf = folder / "alur.conf", folder / "nginx.conf"
    site.write_text(site_config(upstreams, port, folder / "access.log"))
    conf.write_text(main_config(folder, site))
    command = [binary, "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf)]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=30, check=False)
    assert checked.returncode == 0, f"nginx -t refused the configuration:\n{checked.stderr}"
    with (folder / "nginx.out").open("wb") as out:
        process = subprocess.Popen([*command, "-g", "daemon off;"], stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}/healthz", process, folder / "error.log")
        yield port
    finally:
        _stop(process)


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = READY_TIMEOUT_S) -> None:
    """Poll ``url`` until it answers 200; fail with the log's tail if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout:.0f}s:\n{_tail(log)}")


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"({path} not written)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group (the server's and nginx's workers too), SIGKILL after 15 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@dataclass
class Nodes:
    """The API replicas and workers of one test, sharing ``env`` (database, keys, data folder).

    Each process gets its own instance folder, so nothing a process generates there can be
    shared by accident; :meth:`stop_all` ends every one of them, whatever happened.
    """

    folder: Path
    env: dict[str, str]
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _spawn(self, name: str, command: Sequence[str], extra_env: dict[str, str] | None = None) -> None:
        instance = self.folder / name
        instance.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, **(extra_env or {}), "ALUR_INSTANCE_DIR": str(instance),
               "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        with self.log(name).open("wb") as out:
            self.processes[name] = subprocess.Popen(list(command), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                                    stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def start_apis(self, *names: str, workers: int = 2) -> list[int]:
        """API replicas (``python -m service.serve``) on free loopback ports; returns the ports once all are ready."""
        ports = [free_port() for _ in names]
        for name, port in zip(names, ports, strict=True):
            self._spawn(name, [sys.executable, "-m", "service.serve", "--host", "127.0.0.1", "--port", str(port),
                               "--workers", str(workers)])
        for name, port in zip(names, ports, strict=True):
            wait_ready(f"http://127.0.0.1:{port}/readyz", self.processes[name], self.log(name))
        return ports

    def start_worker(self, name: str, *extra: str, env: dict[str, str] | None = None) -> None:
        """``alur worker --name NAME`` (its history rows say ``system:timer:NAME``)."""
        self._spawn(name, [*ALUR, "worker", "--name", name, *extra], env)

    def log_tails(self) -> str:
        return "\n".join(f"--- {name}\n{_tail(self.log(name), 15)}" for name in self.processes)

    def stop_all(self) -> None:
        for process in self.processes.values():
            _stop(process)


@contextmanager
def nodes(folder: Path, env: dict[str, str]) -> Iterator[Nodes]:
    found = Nodes(folder, env)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield found
    finally:
        found.stop_all()
