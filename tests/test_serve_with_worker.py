"""``make run`` as a newcomer meets it: ``alur db upgrade``, ``alur demo``, then ``alur serve --with-worker``
with the demo's mail catcher, all real subprocesses on a fresh SQLite database and a free loopback port.

A case of a short-timer SOP (``review.bpmn`` with its 10-minute SLA shortened to one second, escalating to
the office's ``pengawas``, whom the demo gives an address) is started through the API; the worker beside
the server fires its timer and catches the escalation mail, and an administrator reads it on the Outbox
page in Chromium. The timer is made due by the short model (time-machine cannot reach a subprocess).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from support.helpers import ROOT, TEST_FORMS, review_variant
from support.smtp import free_port

from service.config import ConfigError, Settings
from service.mail import CatcherMailer, mailer_for
from service.store.models import OutboxItem
from service.store.states import OutboxStatus

ALUR = (sys.executable, "-m", "service.cli")
UNIT = "inspektorat-katingan"
#: how long the test waits for the server to answer and for the worker to fire (a bound, not a timing check)
PATIENCE = 120.0
#: run a command with SIGINT at its default, as a terminal starts it: a suite started in the background by a
#: non-interactive shell (``cmd &``) has SIGINT ignored, every process below inherits that, and Python then
#: installs no KeyboardInterrupt handler (Ctrl-C would reach nothing of the server)
AS_FROM_A_TERMINAL = [sys.executable, "-c",
                      "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
                      "os.execv(sys.argv[1], sys.argv[1:])"]
SHORT_SLA = review_variant("uji_cepat", ("<bpmn:timeDuration>PT10M</bpmn:timeDuration>",
                                         "<bpmn:timeDuration>PT1S</bpmn:timeDuration>"),
                           ('name="eskalasi_ke" value="Kabid"', 'name="eskalasi_ke" value="pengawas"'))


@dataclass
class Demo:
    env: dict[str, str]
    database: Path
    log: Path
    passwords: dict[str, str]

    def run(self, *args: str) -> str:
        done = subprocess.run([*ALUR, *args], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=600,
                              check=False)
        assert done.returncode == 0 and "Traceback" not in done.stderr, (args, done.stdout, done.stderr)
        return done.stdout


def _until(what: str, check: Any, server: subprocess.Popen[bytes] | None = None, log: Path | None = None) -> Any:
    """Poll ``check`` until it returns something truthy (within :data:`PATIENCE`)."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if server is not None and server.poll() is not None:
            break
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {PATIENCE:.0f} s\n{log.read_text() if log else ''}")


@pytest.fixture
def demo(tmp_path: Path) -> Demo:
    """``make run``'s first steps: a fresh database, the bundled offices, SOPs and demo users."""
    forms = tmp_path / "forms"
    shutil.copytree(ROOT / "forms", forms)
    for path in TEST_FORMS.iterdir():  # the short-timer SOP's forms beside the bundled ones
        shutil.copy(path, forms / path.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
    env.update(ALUR_INSTANCE_DIR=str(tmp_path / "instance"), ALUR_FORMS_DIR=str(forms), ALUR_MAIL_BACKEND="catcher")
    found = Demo(env, tmp_path / "instance" / "alur.db", tmp_path / "serve.log", {})
    assert "up to date" in found.run("db", "upgrade")
    printed = found.run("demo", "--bpmn-dir", str(ROOT / "bpmn"))
    found.passwords = dict(re.findall(r"^  (\S+)\s+(\S+)  ", printed, re.MULTILINE))
    return found


@pytest.fixture
def served(demo: Demo) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    with demo.log.open("wb") as log:
        server = subprocess.Popen([*ALUR, "serve", "--with-worker", "--worker-interval", "0.5", "--port", str(port)],
                                  env=demo.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _until("the server answers", lambda: _answers(base), server, demo.log)
        yield base, server
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def _answers(base: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base}/login", timeout=5) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, ConnectionError):
        return False


def _api(base: str, path: str, token: str | None = None, body: Any = None, data: bytes | None = None,
         content_type: str = "application/json") -> Any:
    headers = {"Content-Type": content_type, **({"Authorization": f"Bearer {token}"} if token else {})}
    payload = data if data is not None else json.dumps(body).encode()
    request = urllib.request.Request(f"{base}{path}", data=payload, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _multipart(fields: dict[str, str], name: str, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
             for key, value in fields.items()]
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                 f"Content-Type: application/xml\r\n\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _stacks(pid: int) -> str:
    """Each thread of ``pid`` and of its children: its state and the kernel function it waits in."""
    lines = []
    for process in (pid, *_children(pid)):
        for task in sorted(Path(f"/proc/{process}/task").glob("*")) if Path(f"/proc/{process}").exists() else ():
            with suppress(OSError):
                state = (task / "stat").read_text().split(") ", 1)[1].split()[0]
                lines.append(f"{process}/{task.name} {(task / 'comm').read_text().strip()} {state} "
                             f"{(task / 'wchan').read_text().strip()}")
    return "\n".join(lines)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_make_run_serves_fires_a_due_timer_and_shows_its_mail_on_the_outbox_page(
        demo: Demo, served: tuple[str, subprocess.Popen[bytes]], chromium: Any) -> None:
    base, server = served
    assert {"admin", f"approver.{UNIT}", f"process_owner.{UNIT}", f"pengawas.{UNIT}"} <= set(demo.passwords)
    token = _api(base, "/api/auth/token", body={"username": "admin", "password": demo.passwords["admin"]})["token"]
    body, content_type = _multipart({"unit": UNIT}, "bpmn", "uji_cepat.bpmn", SHORT_SLA)
    assert _api(base, "/api/definitions", token, data=body, content_type=content_type)["key"] == "uji_cepat"
    case = _api(base, "/api/cases", token, body={"definition_key": "uji_cepat", "business_key": "UJI-MAKE-RUN",
                                                 "data": {"judul": "Pungli di loket"}})

    engine = create_engine(f"sqlite:///{demo.database}")
    try:
        def caught() -> OutboxItem | None:
            with engine.connect() as connection:
                row = connection.execute(select(OutboxItem.id, OutboxItem.status).where(
                    OutboxItem.case_id == case["id"], OutboxItem.kind == "escalation")).first()
            return row if row is not None and row.status == OutboxStatus.CAUGHT.value else None

        escalation = _until("the worker fires the SLA timer and catches its mail", caught, server, demo.log)
    finally:
        engine.dispose()

    context = chromium.new_context(base_url=base, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("#username", "admin")
        page.fill("#password", demo.passwords["admin"])
        page.click("button[type=submit].primary")
        page.wait_for_url("**/tasks")
        page.get_by_role("link", name="Kotak Keluar").click()
        row = page.locator(f'tr[data-outbox-id="{escalation.id}"]')
        # staff mail names the case by its Nomor registrasi (service.commands.display.case_label)
        assert case["registration_number"], case  # the case is named by its Nomor registrasi
        assert f"Batas waktu SOP terlewati: {case['registration_number']}" in row.inner_text()
        assert f"pengawas.{UNIT}@demo.alur.example" in row.locator(".recipient").inner_text()
        assert "Ditangkap" in row.locator(".status").inner_text()
        row.locator("a.subject").click()
        text = page.locator(".mail-body").inner_text()
        assert "Yth. pengawas" in text and f"perkara {case['registration_number']}" in text
        assert 'langkah "Verifikasi kelengkapan"' in text
    finally:
        context.close()

    worker = _until("the worker child is listed", lambda: _children(server.pid), server, demo.log)[0]
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=PATIENCE) == 0, demo.log.read_text()
    assert _gone(worker), "SIGTERM to the server ends its worker too"
    assert "worker stopped" in demo.log.read_text()


def test_ctrl_c_stops_the_server_and_its_worker(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
    env.update(ALUR_INSTANCE_DIR=str(tmp_path))
    subprocess.run([*ALUR, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True, timeout=120)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:  # a session of its own: Ctrl-C signals the terminal's whole process group
        server = subprocess.Popen([*AS_FROM_A_TERMINAL, *ALUR, "serve", "--with-worker", "--port", str(port)],
                                  env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _until("the server answers", lambda: _answers(f"http://127.0.0.1:{port}"), server, log)
        worker = _until("the worker child is listed", lambda: _children(server.pid), server, log)[0]
        # Ctrl-C while the worker still imports would end it with a KeyboardInterrupt traceback (as any
        # Python program): wait until its loop has its signal handlers (it says "started (sweep every").
        _until("the worker's loop runs", lambda: "started (sweep every" in log.read_text(), server, log)
        os.killpg(server.pid, signal.SIGINT)
        try:
            code = server.wait(timeout=PATIENCE)
        except subprocess.TimeoutExpired:  # say where it hangs: the log and what each process is doing
            pytest.fail(f"still running {PATIENCE:.0f} s after Ctrl-C; worker alive: {not _gone(worker)}\n"
                        f"{_stacks(server.pid)}\n{log.read_text()}")
        assert code == 0, log.read_text()
        assert _gone(worker)
        assert "Traceback" not in log.read_text()
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_the_mail_backend_is_smtp_or_the_catcher(tmp_path: Path) -> None:
    base = {"ALUR_INSTANCE_DIR": str(tmp_path)}
    assert mailer_for(Settings.from_env(base)) is None  # smtp without a host: mail waits in the outbox
    assert isinstance(mailer_for(Settings.from_env({**base, "ALUR_MAIL_BACKEND": "catcher"})), CatcherMailer)
    with pytest.raises(ConfigError, match="ALUR_MAIL_BACKEND"):
        Settings.from_env({**base, "ALUR_MAIL_BACKEND": "merpati"})
