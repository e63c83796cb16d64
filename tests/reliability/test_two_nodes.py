"""Two API replicas behind nginx and two workers on one PostgreSQL give what one node gives (issue 13).

The shape of docker-compose.yml on one machine: two granian replicas (the README's command), a real
nginx running ``deploy/nginx/alur.conf``, two ``alur worker`` processes and a real SMTP server on
loopback, all sharing one PostgreSQL database, one secret key and one identity key.

200 public reports of ``review.bpmn`` (its verification SLA shortened to a few seconds) arrive
through nginx from 20 clients, 10 each; each client's 11th report is refused (429) although its
reports went to both replicas: the rate-limit counters are shared. The SLA timers fire while the
reports come in; when all have fired, the Kasi and the Kabid complete every task through nginx.
Then every case must look like the one case a single in-process node drives the same way (history
actions, tasks, outbox kinds), every history chain must hold, every timer must have fired once,
and every mail must have reached the SMTP server exactly once. Both replicas and both workers must
have done part of the work, and neither nginx's access log nor the replicas' keep a client address.
Last, the Kasi's account is disabled through nginx: right after, no worker of either replica takes the
Kasi's token, though each kept the account's row while it listens for changes.
"""

from __future__ import annotations

import io
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import time_machine
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text
from support.consistency import check_cases
from support.helpers import PASSWORD, TEST_FORMS, review_variant
from support.nginx import Nodes, nodes, running_nginx
from support.smtp import RecordingHandler, smtp_server

from service.app import create_app
from service.commands import accounts
from service.commands.context import Services
from service.config import Settings
from service.engine import CaseStatus, utc_now
from service.store.db import Database
from service.store.migrate import upgrade
from service.store.models import Case, HistoryEntry, OutboxItem, Task, User
from service.store.states import OutboxStatus
from service.worker.loop import run_once

pytestmark = pytest.mark.postgres

CLIENTS = 20
REPORTS_PER_CLIENT = 10  # ALUR_PUBLIC_RATE_LIMIT's default: 10 per minute
CASES = CLIENTS * REPORTS_PER_CLIENT
THREADS = 8
SLA = "PT3S"  # the verification step's SLA (PT10M in review.bpmn)
DIAGRAM = review_variant("review", ("PT10M", SLA))
STAFF = {"kasi": "Kasi@unit-a", "kabid": "Kabid@unit-a"}
DEADLINE_S = 240.0  # a hang guard for a busy CI machine; the run takes well under a minute when idle
POLL_S = 0.25
NOTICE_BOUND_S = 5.0  # a hang guard: a change's notice reaches the replicas milliseconds after its commit
PROBES_PER_REPLICA = 12  # requests per replica on new connections, enough to reach both of its workers


def report(number: int) -> dict[str, Any]:
    return {"unit": "unit-a", "definition_key": "review", "mode": "rahasia",
            "data": {"judul": f"Pungutan liar {number}", "uraian": "Diminta uang untuk surat keterangan."},
            "identity": {"nama": f"Pelapor {number}", "email": f"pelapor{number}@contoh.id"}}


def seed(services: Services) -> None:
    """The unit, an admin, and the Kasi and the Kabid with mail addresses (escalations and task mail)."""
    accounts.create_unit(services, "unit-a", "Unit A", "Asia/Jakarta")
    accounts.create_user(services, "admin", PASSWORD, [], is_admin=True)
    for username, role in STAFF.items():
        accounts.create_user(services, username, PASSWORD, [role])
    with services.db.transaction() as session:
        for user in session.scalars(select(User)):
            user.email = f"{user.username}@contoh.id"


@dataclass(frozen=True)
class CaseShape:
    """What a case ends as, without ids, times or actors: comparable between nodes."""

    status: str
    actions: tuple[tuple[str, int], ...]
    tasks: tuple[tuple[str, str], ...]
    outbox: tuple[tuple[str, str], ...]


def shapes(services: Services) -> dict[str, CaseShape]:
    with services.db.reading() as session:
        actions: dict[str, Counter[str]] = {}
        for case_id, action in session.execute(select(HistoryEntry.case_id, HistoryEntry.action)):
            actions.setdefault(case_id, Counter())[action] += 1
        tasks: dict[str, list[tuple[str, str]]] = {}
        for case_id, element, status in session.execute(select(Task.case_id, Task.element_id, Task.status)):
            tasks.setdefault(case_id, []).append((element, status))
        outbox: dict[str, list[tuple[str, str]]] = {}
        for case_id, kind, role in session.execute(select(OutboxItem.case_id, OutboxItem.kind,
                                                          OutboxItem.recipient_role)):
            outbox.setdefault(case_id, []).append((kind, role or ""))
        return {case_id: CaseShape(status, tuple(sorted(actions.get(case_id, Counter()).items())),
                                   tuple(sorted(tasks.get(case_id, []))), tuple(sorted(outbox.get(case_id, []))))
                for case_id, status in session.execute(select(Case.id, Case.status))}


def single_node_shape(folder: Path) -> CaseShape:
    """One case driven the same way by one in-process node on SQLite, its timer fired by ``run_once``."""
    url = f"sqlite:///{folder / 'single.db'}"
    upgrade(url)
    app = create_app({"database_url": url, "secret_key": "single-node-secret-key", "forms_dir": TEST_FORMS,
                      "data_dir": folder / "data", "testing": True})
    services = app.extensions["alur.services"]
    try:
        seed(services)
        client = app.test_client()

        def headers(username: str) -> dict[str, str]:
            answer = client.post("/api/auth/token", json={"username": username, "password": PASSWORD})
            return {"Authorization": f"Bearer {answer.json['token']}"}

        deployed = client.post("/api/definitions", headers=headers("admin"), content_type="multipart/form-data",
                               data={"bpmn": (io.BytesIO(DIAGRAM), "review.bpmn"), "unit": "unit-a"})
        assert deployed.status_code == 201, deployed.json
        assert client.post("/api/public/reports", json=report(0)).status_code == 201
        with time_machine.travel(utc_now() + timedelta(minutes=1)):
            assert run_once(services)
        for username, data in (("kasi", {"hasil": "lengkap"}), ("kabid", {})):
            task = client.get("/api/tasks", headers=headers(username)).json["items"][0]
            done = client.post(f"/api/tasks/{task['id']}/complete", headers=headers(username), json={"data": data})
            assert done.status_code == 200, done.json
        (shape,) = shapes(services).values()
        return shape
    finally:
        services.db.dispose()


class Through:
    """HTTP through nginx, one keep-alive session per thread."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self._local = threading.local()

    @property
    def http(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, self.base + path, timeout=60, **kwargs)

    def token(self, username: str) -> dict[str, str]:
        answer = self.call("POST", "/api/auth/token", json={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}


def file_reports(web: Through, client: int) -> list[int]:
    """A client's reports (from its own address, which nginx passes on); returns the status codes, 11th last."""
    address = {"X-Forwarded-For": f"203.0.113.{client + 1}"}
    return [web.call("POST", "/api/public/reports", json=report(client * REPORTS_PER_CLIENT + n),
                     headers=address).status_code for n in range(REPORTS_PER_CLIENT + 1)]


def complete_all(web: Through, username: str, data: dict[str, Any]) -> Counter[int]:
    """The user lists every open task of theirs, then completes them from ``THREADS`` threads."""
    headers = web.token(username)
    ids: list[str] = []
    page = 1
    while True:
        listed = web.call("GET", f"/api/tasks?per_page=200&page={page}", headers=headers)
        assert listed.status_code == 200, listed.text
        ids += [item["id"] for item in listed.json()["items"]]
        if len(ids) >= listed.json()["total"] or not listed.json()["items"]:
            break
        page += 1
    assert len(ids) == CASES, f"{username} sees {len(ids)} open tasks"
    with ThreadPoolExecutor(THREADS) as pool:
        codes = pool.map(lambda task_id: web.call("POST", f"/api/tasks/{task_id}/complete", headers=headers,
                                                  json={"data": data}).status_code, ids)
        return Counter(codes)


def wait_for(what: str, done: Callable[[], bool], cluster: Nodes, deadline: float) -> None:
    while not done():
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{cluster.log_tails()}"
        time.sleep(POLL_S)


def count(services: Services, statement: Any) -> int:
    with services.db.reading() as session:
        return int(session.scalar(statement) or 0)


@pytest.fixture
def database(postgres_db: str, tmp_path: Path) -> Iterator[Services]:
    settings = Settings(database_url=postgres_db, secret_key="unused-here", data_dir=tmp_path / "data",
                        forms_dir=TEST_FORMS, testing=True)
    services = Services(db=Database(postgres_db), settings=settings)
    yield services
    services.db.dispose()


def test_two_replicas_and_two_workers_behind_nginx_give_what_one_node_gives(
    database: Services, tmp_path: Path
) -> None:
    began = time.monotonic()
    reference = single_node_shape(tmp_path)
    seed(database)
    deadline = time.monotonic() + DEADLINE_S
    phases: dict[str, float] = {"single node": time.monotonic() - began}
    shared = {"ALUR_ENV": "production", "ALUR_DATABASE_URL": database.db.url,
              "ALUR_SECRET_KEY": "two-nodes-secret-key-shared-by-every-process",
              "ALUR_IDENTITY_KEYS": Fernet.generate_key().decode(), "ALUR_DATA_DIR": str(tmp_path / "data"),
              "ALUR_FORMS_DIR": str(TEST_FORMS), "ALUR_TRUSTED_PROXIES": "1",
              "ALUR_RATELIMIT_STORAGE_URI": "database://", "ALUR_SESSION_COOKIE_SECURE": "0"}
    with smtp_server() as (mail, smtp_port), nodes(tmp_path / "nodes", shared) as cluster:
        for name in ("worker-1", "worker-2"):  # nothing is due yet: they start up while the replicas do
            cluster.start_worker(name, "--interval", "0.2",
                                 env={"ALUR_SMTP_HOST": "127.0.0.1", "ALUR_SMTP_PORT": str(smtp_port)})
        replicas = cluster.start_apis("api-1", "api-2")
        with running_nginx(tmp_path / "nginx", replicas) as port:
            phases["start"] = time.monotonic() - began - sum(phases.values())
            web = Through(port)
            deployed = web.call("POST", "/api/definitions", headers=web.token("admin"),
                                files={"bpmn": ("review.bpmn", DIAGRAM)}, data={"unit": "unit-a"})
            assert deployed.status_code == 201, deployed.text

            with ThreadPoolExecutor(THREADS) as pool:
                filed = list(pool.map(lambda client: file_reports(web, client), range(CLIENTS)))
            assert [codes[:-1] for codes in filed] == [[201] * REPORTS_PER_CLIENT] * CLIENTS
            assert [codes[-1] for codes in filed] == [429] * CLIENTS  # one quota per client, on both replicas
            phases["reports"] = time.monotonic() - began - sum(phases.values())

            fired = select(func.count()).select_from(HistoryEntry).where(HistoryEntry.action == "timer_fired")
            wait_for("every SLA timer", lambda: count(database, fired) >= CASES, cluster, deadline)
            assert complete_all(web, "kasi", {"hasil": "lengkap"}) == Counter({200: CASES})
            assert complete_all(web, "kabid", {}) == Counter({200: CASES})
            phases["timers, tasks"] = time.monotonic() - began - sum(phases.values())

            unsent = select(func.count()).select_from(OutboxItem).where(
                OutboxItem.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]))
            wait_for("the outbox to drain", lambda: count(database, unsent) == 0, cluster, deadline)
            phases["mail"] = time.monotonic() - began - sum(phases.values())
            _assert_a_disabled_account_ends_on_every_replica(database, web, replicas)
        served = {name: _requests_served(cluster, name) for name in ("api-1", "api-2")}
    _assert_same_as_one_node(database, reference)
    _assert_every_mail_once(database, mail)
    with database.db.reading() as session:
        fired_by = dict(session.execute(select(HistoryEntry.actor, func.count()).where(
            HistoryEntry.action == "timer_fired").group_by(HistoryEntry.actor)).all())
    assert set(fired_by) == {"system:timer:worker-1", "system:timer:worker-2"}, fired_by
    assert all(served.values()), served  # nginx spread the requests over both replicas
    logs = [tmp_path / "nginx" / "access.log", *(cluster.log(name) for name in cluster.processes)]
    assert (tmp_path / "nginx" / "access.log").stat().st_size > 0
    assert not [log.name for log in logs if "203.0.113." in log.read_text(errors="replace")], \
        "a log keeps a client address"
    print(f"\n{CASES} cases through nginx: requests per replica {served}, timers per worker {fired_by}, "
          f"{len(mail.messages)} mails; seconds per phase {({k: round(v, 1) for k, v in phases.items()})}")


def _assert_a_disabled_account_ends_on_every_replica(services: Services, web: Through, replicas: list[int]) -> None:
    """Every server process listens for changes of accounts and keeps the credential rows it read
    (service.store.change_notices): a token refused on one replica right after the Kasi is disabled
    through nginx is refused by every worker of both (the notice takes milliseconds; the bound is a hang guard)
    and from then on."""
    listeners = select(func.count()).select_from(text("pg_stat_activity")).where(
        text("application_name = 'alur-change-watch'"))
    assert count(services, listeners) == 2 * len(replicas)  # two granian workers per replica
    kasi = web.token("kasi")

    def statuses(port: int) -> set[int]:  # new connections: the replica's workers take turns
        return {requests.get(f"http://127.0.0.1:{port}/api/tasks", headers=kasi, timeout=30).status_code
                for _ in range(PROBES_PER_REPLICA)}

    assert [statuses(port) for port in replicas] == [{200}] * len(replicas)  # kept by the workers now
    assert web.call("POST", "/api/users/kasi/disable", headers=web.token("admin")).status_code == 200
    ended = time.monotonic()
    for port in replicas:
        while statuses(port) != {401}:
            assert time.monotonic() - ended < NOTICE_BOUND_S, f"replica :{port} still takes a disabled account's token"
    assert [statuses(port) for port in replicas] == [{401}] * len(replicas)


#: a line of a replica's access log (service/serve.py): [time] "METHOD /path HTTP/1.1" status milliseconds
ACCESS_LINE = re.compile(r'^\[[^]]+\] "(?:GET|POST) /api/\S* HTTP/1\.1" \d{3} \d+\.\d{3}$', re.MULTILINE)


def _requests_served(cluster: Nodes, name: str) -> int:
    """API requests in a replica's access log (one line each)."""
    return len(ACCESS_LINE.findall(cluster.log(name).read_text(errors="replace")))


def _assert_same_as_one_node(services: Services, reference: CaseShape) -> None:
    assert reference.status == CaseStatus.COMPLETED.value
    assert dict(reference.actions)["timer_fired"] == 1
    found = shapes(services)
    assert len(found) == CASES
    different = Counter(shape for shape in found.values() if shape != reference)
    assert not different, f"cases unlike the single node's {reference}: {different.most_common(3)}"
    checked = check_cases(services)
    assert checked.problems == []
    assert checked.cases == CASES and checked.open_tasks == 0
    assert set(checked.timers_fired_by_case.values()) == {1}


def _assert_every_mail_once(services: Services, mail: RecordingHandler) -> None:
    with services.db.reading() as session:
        rows = dict(session.execute(select(OutboxItem.id, OutboxItem.status)).all())
    assert set(rows.values()) == {OutboxStatus.SENT.value}, Counter(rows.values())
    received = Counter(int(match.group(1)) for message_id in mail.message_ids()
                       if (match := re.search(r"alur-outbox-(\d+)", message_id)))
    assert sum(received.values()) == len(mail.messages), "a mail without its outbox id"
    assert received == Counter(dict.fromkeys(rows, 1)), {n: k for n, k in received.items() if k != 1}
