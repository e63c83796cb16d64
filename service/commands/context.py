"""What every command needs: the database, settings, the compiled-spec cache, and who is acting."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from service.config import Settings
from service.engine import SpecCache, limits
from service.store.db import Database
from service.store.models import User

#: Where the Flask app keeps its :class:`Services` (``app.extensions[SERVICES_KEY]``).
SERVICES_KEY = "alur.services"
ADMIN_ROLE = "admin"
#: Reporters with an account: they see only the cases they filed, and only their own Pelapor tasks
#: (who sees which case is decided in :mod:`service.commands.access`).
REPORTER_ROLE = "Pelapor"
PROCESS_OWNER_ROLE = "process_owner"
#: the BPMN message a reporter's follow-up message becomes; only the public side sends it
REPORTER_MESSAGE = "pesan_pelapor"
#: Lists' totals (task list, case list, register) stop counting here: a larger one is shown as "1,000+".
COUNT_CAP = 1000


class ActorCache:
    """Signed-in users for a few seconds, so each API request does not reload user and roles.

    A changed role takes effect within ``ttl`` seconds. Whether the account is active and the token's
    credential version still current is read from the database on every use
    (:func:`service.commands.accounts.actor_with_credentials`), and the commands that change them
    :meth:`forget` the entry, so a disabled account or a changed password stops at once.
    """

    def __init__(self, ttl: float = 10.0) -> None:
        self.ttl = ttl
        self._items: dict[int, tuple[float, Actor]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: int, load: Callable[[], Actor]) -> Actor:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(user_id)
        if hit is not None and hit[0] > now:
            return hit[1]
        actor = load()
        with self._lock:
            self._items[user_id] = (now + self.ttl, actor)
        return actor

    def forget(self, user_id: int) -> None:
        with self._lock:
            self._items.pop(user_id, None)


class Memo:
    """A thread-safe LRU of values derived from immutable inputs (a revision's forms by its id and
    checksum, a calendar by its settings): the key names everything the value depends on, so an
    entry is never stale, only unused."""

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = capacity
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return value


@dataclass
class Services:
    db: Database
    settings: Settings
    specs: SpecCache = field(default_factory=SpecCache)
    actors: ActorCache = field(default_factory=ActorCache)
    memo: Memo = field(default_factory=Memo)

    def __post_init__(self) -> None:
        # The engine's limits are process-wide: the process that builds its services sets them.
        limits.configure(self.settings.limits)


@dataclass(frozen=True)
class Actor:
    """The authenticated user of a request, with roles per unit id.

    ``user_id`` 0 is the system itself (CLI, worker): it is stored as no user.
    ``credential_version`` is the user's at sign-in; its tokens and session carry it.
    """

    user_id: int
    username: str
    is_admin: bool
    roles_by_unit: dict[int, frozenset[str]]
    credential_version: int = 0
    #: (unit id, role) held only as an acting official today → how history names it ("Plt. Kabid a.n. budi")
    acting: dict[tuple[int, str], str] = field(default_factory=dict)

    @classmethod
    def of(cls, user: User, acting: Iterable[tuple[int, str, str]] = ()) -> Actor:
        """The user's roles from their memberships, plus ``acting``: (unit id, role, label) of the acting
        grants in force now (:func:`service.commands.acting.in_force`)."""
        roles: dict[int, set[str]] = defaultdict(set)
        for membership in user.memberships:
            roles[membership.unit_id].add(membership.role)
        labels: dict[tuple[int, str], str] = {}
        for unit_id, role, label in acting:
            if role not in roles.get(unit_id, ()):
                roles[unit_id].add(role)
                labels[(unit_id, role)] = label
        return cls(user.id, user.username, user.is_admin, {u: frozenset(r) for u, r in roles.items()},
                   user.credential_version, labels)

    def signature(self, unit_id: int, roles: Iterable[str]) -> str:
        """How history names this user doing work of ``roles`` in the unit: the username, and when the
        right to it comes from an acting grant only, both names, e.g. ``citra (Plt. Kabid a.n. budi)``."""
        mine = sorted(self.roles_in(unit_id) & set(roles))
        if self.is_admin or not mine or any((unit_id, role) not in self.acting for role in mine):
            return self.username
        return f"{self.username} ({self.acting[(unit_id, mine[0])]})"[:100]  # the history column's width

    def roles_in(self, unit_id: int) -> frozenset[str]:
        return self.roles_by_unit.get(unit_id, frozenset())

    def is_member(self, unit_id: int) -> bool:
        return self.is_admin or bool(self.roles_in(unit_id))

    def administers(self, unit_id: int) -> bool:
        return self.is_admin or ADMIN_ROLE in self.roles_in(unit_id)

    def may_work_as(self, unit_id: int, candidate_roles: set[str] | frozenset[str]) -> bool:
        return self.is_admin or bool(self.roles_in(unit_id) & set(candidate_roles))
