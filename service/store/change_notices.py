"""What a server process remembers of rows that rarely change, kept true by PostgreSQL's notifications.

Two reads ran on the hot path for rows that change a few times a year:

- every request with a token or a web session checks that the account is still active and the
  credential version it carries still current (:func:`service.commands.accounts.actor_with_credentials`),
  so a disabled account, a changed password or a sign-out ends its tokens in every process: one read of
  the user row per request, a seventh of the statements of a complaint;
- every start of a case reads the revision it runs on, with its unit and the unit's closed days
  (:func:`service.commands.definitions.startable_with_days`), as every listing of the SOPs that can be
  started (the public report form, the navigation).

On PostgreSQL triggers (migration 0032) send ``NOTIFY alur_credentials, '<user id>'`` when an account's
``active`` flag or credential version changes, or the row goes, and ``NOTIFY alur_revisions`` when any
row of ``definitions``, ``units`` or ``unit_closed_days`` changes; a notice is delivered when its
transaction commits. A server process that runs a :class:`ChangeWatch` listens on a connection of its
own and keeps what it read until a notice names it (a user) or its table (the revisions: all of them).
What it keeps is used only while it listens: before the first ``LISTEN`` answered, after the connection
broke (server restart, network) and until it listens again, every request reads as before, and what was
kept is dropped, since notices sent in between were lost.

A listener proves its channel works before it is trusted, and every half minute after: it sends a
probe notice of its own and waits for it to come back. So a connection through a transaction pooler
(PgBouncer in transaction mode, where ``LISTEN`` lands on one server connection and the notices on
another, or nowhere) never keeps anything: it reads on every request, and logs why.

A read races a notice: a request reads the row, the change commits and its notice is handled, then
the request would keep the old row. So a read is kept only if no notice (nor a reconnection) came
while it ran: :attr:`ChangeWatch.generation` counts them.

What this costs the promise: a change reaches the other processes when their listener has handled
the notice, a few milliseconds after the commit, where a read on every request saw it from the commit
on. The process that made a change of an account forgets the user at once (:meth:`ChangeWatch.forget`).
SQLite, and processes that do not start a watch (tests, the CLI, the worker), read every time.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Engine

log = logging.getLogger(__name__)

#: the channel of changes of accounts (migration 0032), with the user id as the payload
CREDENTIALS_CHANNEL = "alur_credentials"
#: the channel of changes of revisions, units and closed days (migration 0032), without a payload
REVISIONS_CHANNEL = "alur_revisions"
#: rows kept per process before the memory starts over (more than the staff of a province)
KEPT = 65536
#: seconds between the listener's probes (its own notice must come back on its connection)
PING_SECONDS = 30.0
#: seconds a probe may take to come back before the connection is given up
PROBE_SECONDS = 5.0
#: the payload of a probe starts so; any process's probe is ignored by the others
PROBE_PREFIX = "probe:"
#: longest wait before the listener connects again after a failure (it doubles from half a second)
MAX_BACKOFF_SECONDS = 30.0
#: seconds the listening loop waits for notices before it looks whether it should stop
_WAKE_SECONDS = 1.0
#: the listening connection's name in ``pg_stat_activity``
APPLICATION_NAME = "alur-change-watch"
#: TCP keepalives on the listening connection: a silently dropped connection is found within a minute
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 20, "keepalives_interval": 5, "keepalives_count": 3}

Credentials = tuple[Any, ...]
Kept = TypeVar("Kept")


class ChangeWatch:
    """A process's memory of users' credential rows and of startable revisions, kept while it listens to
    :data:`CREDENTIALS_CHANNEL` and :data:`REVISIONS_CHANNEL`."""

    def __init__(self, engine: Engine, connect_timeout: int) -> None:
        self._engine = engine
        self._connect_timeout = connect_timeout
        #: ("user", id) → credential row; ("revisions", …) → the rows of a startable read
        self._kept: dict[tuple[str, Hashable], Any] = {}
        self._lock = threading.Lock()
        self._listening = False
        #: notices handled and connections (re)made: a read is kept only if this did not move meanwhile
        self.generation = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._probes = itertools.count()

    @property
    def listening(self) -> bool:
        return self._listening

    def row(self, user_id: int, read: Callable[[], Credentials | None]) -> Credentials | None:
        """The user's credential row: kept, or ``read()`` (kept if nothing changed meanwhile)."""
        return self._kept_or_read(("user", user_id), read)

    def revisions(self, key: Hashable, read: Callable[[], Kept]) -> Kept:
        """The rows of a read of startable revisions (``key`` names the read and its parameters): kept,
        or ``read()`` (kept if nothing changed meanwhile), until a change of a revision, unit or closed day."""
        return self._kept_or_read(("revisions", key), read)

    def _kept_or_read(self, key: tuple[str, Hashable], read: Callable[[], Kept]) -> Kept:
        if self._listening:
            kept = self._kept.get(key)
            if kept is not None:
                return kept
        generation = self.generation
        found = read()
        if found is not None and self._listening:
            with self._lock:
                if self.generation == generation and self._listening:
                    if len(self._kept) >= KEPT:
                        self._kept.clear()
                    self._kept[key] = found
        return found

    def forget(self, user_id: int) -> None:
        """Drop what is kept of the user (this process changed the account, or a notice named it)."""
        with self._lock:
            self.generation += 1
            self._kept.pop(("user", user_id), None)

    def _forget_revisions(self) -> None:
        with self._lock:
            self.generation += 1
            for key in [key for key in self._kept if key[0] == "revisions"]:
                del self._kept[key]

    def start(self) -> None:
        """Listen from now on, in a daemon thread (PostgreSQL only; a no-op once started)."""
        if self._engine.dialect.name != "postgresql" or self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._listen_until_stopped, name="alur-change-watch",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (within about a second) and forget everything."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self._set_listening(False)

    def _set_listening(self, listening: bool) -> None:
        """Listening from now on or not; either way what was kept goes (notices may have been missed)."""
        with self._lock:
            self._forget_all_locked()
            self._listening = listening

    def _forget_all_locked(self) -> None:
        self.generation += 1
        self._kept.clear()

    def _listen_until_stopped(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                with self._connect() as connection:
                    connection.execute(f"LISTEN {CREDENTIALS_CHANNEL}")
                    connection.execute(f"LISTEN {REVISIONS_CHANNEL}")
                    self.probe(connection)
                    self._set_listening(True)
                    backoff = 0.5
                    self._handle_notices(connection)
            except Exception as exc:  # any failure: read on every request until listening again
                log.warning("change notices: listening stopped (%s: %s); reading credentials and revisions on every "
                            "request until it listens again", type(exc).__name__, exc)
            finally:
                self._set_listening(False)
            if self._stopping.wait(backoff):
                return
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _handle_notices(self, connection: Any) -> None:
        quiet = 0.0
        while not self._stopping.is_set():
            handled = False
            for notice in connection.notifies(timeout=_WAKE_SECONDS):
                handled = True
                self._handle(notice)
            quiet = 0.0 if handled else quiet + _WAKE_SECONDS
            if quiet >= PING_SECONDS:  # a connection that no longer answers, or no longer hears, raises here
                self.probe(connection)
                quiet = 0.0

    def probe(self, connection: Any) -> None:
        """Send a notice of this listener's own on ``connection`` and handle what arrives until it comes
        back; raise if it does not within :data:`PROBE_SECONDS` (the notices do not reach this connection)."""
        token = f"{PROBE_PREFIX}{os.getpid()}:{id(self)}:{next(self._probes)}"
        connection.execute("SELECT pg_notify(%s, %s)", (CREDENTIALS_CHANNEL, token))
        for notice in connection.notifies(timeout=PROBE_SECONDS):
            if notice.payload == token:
                return
            self._handle(notice)
        raise RuntimeError(f"the probe notice did not come back within {PROBE_SECONDS:.0f} s (is a "
                           "transaction pooler between this process and PostgreSQL?)")

    def _handle(self, notice: Any) -> None:
        if notice.channel == REVISIONS_CHANNEL:
            self._forget_revisions()
        elif not notice.payload.startswith(PROBE_PREFIX):  # another listener's probe changes nothing
            self._forget_named(notice.payload)

    def _forget_named(self, payload: str) -> None:
        try:
            user_id = int(payload)
        except ValueError:  # not a user id: forget everyone rather than keep a stale row
            with self._lock:
                self._forget_all_locked()
            return
        self.forget(user_id)

    def _connect(self) -> Any:
        """A connection of its own (not the pool's), in autocommit, as the engine's connections are made."""
        import psycopg

        args, kwargs = self._engine.dialect.create_connect_args(self._engine.url)
        return psycopg.connect(*args, **{**kwargs, **_KEEPALIVES, "connect_timeout": self._connect_timeout,
                                         "application_name": APPLICATION_NAME, "autocommit": True})
