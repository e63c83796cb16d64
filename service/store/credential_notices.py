"""What a process remembers of its users' credentials, kept true by PostgreSQL's notifications.

Every request with a token or a web session checks that the account is still active and the
credential version it carries still current (:func:`service.commands.accounts.actor_with_credentials`),
so a disabled account, a changed password or a sign-out ends its tokens in every process. That was
one read of the user row per request: a seventh of the statements of a complaint, and about a fifth
of its server and database CPU (benchmarks/RESULTS.md, 2026-12-04).

On PostgreSQL a trigger on ``users`` (migration 0032) sends ``NOTIFY alur_credentials, '<user id>'``
when an account's ``active`` flag or credential version changes, or the row goes; the notice is
delivered when that transaction commits. A server process that runs a :class:`CredentialWatch`
listens on a connection of its own and keeps what it read of each user until a notice names them.
What it keeps is used only while it listens: before the first ``LISTEN`` answered, after the
connection broke (server restart, network) and until it listens again, every request reads the
row as before, and what was kept is dropped, since notices sent in between were lost.

A read races a notice: a request reads the row, the change commits and its notice is handled, then
the request would keep the old row. So a read is kept only if no notice (nor a reconnection) came
while it ran: :attr:`CredentialWatch.generation` counts them.

What this costs the promise: a change reaches the other processes when their listener has handled
the notice, a few milliseconds after the commit, where the read on every request saw it from the
commit on. The process that made the change forgets the user at once (:meth:`forget`). SQLite, and
processes that do not start a watch (tests, the CLI, the worker), read on every request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)

#: the channel migration 0032's trigger notifies, with the user id as the payload
CHANNEL = "alur_credentials"
#: users kept per process before the memory starts over (more than the staff of a province)
KEPT = 65536
#: seconds between the listener's checks that its connection still answers
PING_SECONDS = 30.0
#: longest wait before the listener connects again after a failure (it doubles from half a second)
MAX_BACKOFF_SECONDS = 30.0
#: seconds the listening loop waits for notices before it looks whether it should stop
_WAKE_SECONDS = 1.0
#: TCP keepalives on the listening connection: a silently dropped connection is found within a minute
_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 20, "keepalives_interval": 5, "keepalives_count": 3}

Credentials = tuple[Any, ...]


class CredentialWatch:
    """A process's memory of users' credential rows, kept while it listens to :data:`CHANNEL`."""

    def __init__(self, engine: Engine, connect_timeout: int) -> None:
        self._engine = engine
        self._connect_timeout = connect_timeout
        self._kept: dict[int, Credentials] = {}
        self._lock = threading.Lock()
        self._listening = False
        #: notices handled and connections (re)made: a read is kept only if this did not move meanwhile
        self.generation = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        return self._listening

    def row(self, user_id: int, read: Callable[[], Credentials | None]) -> Credentials | None:
        """The user's credential row: kept, or ``read()`` (kept if nothing changed meanwhile)."""
        if self._listening:
            kept = self._kept.get(user_id)
            if kept is not None:
                return kept
        generation = self.generation
        found = read()
        if found is not None and self._listening:
            with self._lock:
                if self.generation == generation and self._listening:
                    if len(self._kept) >= KEPT:
                        self._kept.clear()
                    self._kept[user_id] = found
        return found

    def forget(self, user_id: int) -> None:
        """Drop what is kept of the user (this process changed the account, or a notice named it)."""
        with self._lock:
            self.generation += 1
            self._kept.pop(user_id, None)

    def start(self) -> None:
        """Listen from now on, in a daemon thread (PostgreSQL only; a no-op once started)."""
        if self._engine.dialect.name != "postgresql" or self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._listen_until_stopped, name="alur-credential-watch",
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
            self.generation += 1
            self._kept.clear()
            self._listening = listening

    def _listen_until_stopped(self) -> None:
        backoff = 0.5
        while not self._stopping.is_set():
            try:
                with self._connect() as connection:
                    connection.execute(f"LISTEN {CHANNEL}")
                    self._set_listening(True)
                    backoff = 0.5
                    self._handle_notices(connection)
            except Exception as exc:  # any failure: read on every request until listening again
                log.warning("credential notices: listening stopped (%s: %s); reading credentials on every "
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
                self._forget_named(notice.payload)
            quiet = 0.0 if handled else quiet + _WAKE_SECONDS
            if quiet >= PING_SECONDS:  # a connection that no longer answers raises here
                connection.execute("SELECT 1")
                quiet = 0.0

    def _forget_named(self, payload: str) -> None:
        try:
            user_id = int(payload)
        except ValueError:  # not a user id: forget everyone rather than keep a stale row
            self._set_listening(True)
            return
        self.forget(user_id)

    def _connect(self) -> Any:
        """A connection of its own (not the pool's), in autocommit, as the engine's connections are made."""
        import psycopg

        args, kwargs = self._engine.dialect.create_connect_args(self._engine.url)
        return psycopg.connect(*args, **{**kwargs, **_KEEPALIVES, "connect_timeout": self._connect_timeout,
                                         "autocommit": True})
