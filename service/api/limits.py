"""Rate limits of the public endpoints (flask-limiter), counted where ``ALUR_RATELIMIT_STORAGE_URI`` says.

``memory://`` (the default) counts per process: with several server workers or containers each
has its own quota. ``database://`` keeps the counters in Alur's own database
(:mod:`service.store.ratelimit`), so every process shares one quota per client without a Redis to
run; a ``redis://`` URI works as well when the ``redis`` package is installed.

The client key is a keyed hash of its address (HMAC with the secret key, the same in every process,
see :func:`service.commands.signin.client_key`): the limiter tells clients apart without any IP
address being kept, in memory or in the database; nothing of it reaches logs. Behind a reverse
proxy the address is the one the trusted proxies forwarded (``ALUR_TRUSTED_PROXIES``, see
:func:`service.app.create_app`); without it every client would share the proxy's quota.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app, has_app_context, request
from flask_limiter import Limiter
from limits.storage import Storage

from service.commands.context import SERVICES_KEY
from service.commands.signin import client_key as keyed_client
from service.config import Settings
from service.store import ratelimit
from service.store.db import Database

FOLLOW_UP_LIMIT = "120 per minute"


def client_key() -> str:
    services = current_app.extensions[SERVICES_KEY]
    return keyed_client(services.settings.secret_key, request.remote_addr)


limiter = Limiter(client_key, headers_enabled=True)


def submission_limit() -> str:
    limit: str = current_app.config["ALUR_PUBLIC_RATE_LIMIT"]
    return limit


class DatabaseStorage(Storage):
    """limits' storage interface over :mod:`service.store.ratelimit`, in the database of the current app."""

    STORAGE_SCHEME = ["database"]

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ()  # the store turns an unreachable database into a 503 (ServiceUnavailable) itself

    @staticmethod
    def _db() -> Database:
        db: Database = current_app.extensions[SERVICES_KEY].db
        return db

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return ratelimit.hit(self._db(), key, int(expiry), amount)

    def get(self, key: str) -> int:
        return ratelimit.count(self._db(), key)

    def get_expiry(self, key: str) -> float:
        ends: datetime = ratelimit.expires_at(self._db(), key)
        return ends.timestamp()

    def check(self) -> bool:
        return not has_app_context() or self._db().ping()

    def reset(self) -> int | None:
        return ratelimit.clear(self._db())

    def clear(self, key: str) -> None:
        ratelimit.clear(self._db(), key)


def init_app(app: Flask, settings: Settings) -> None:
    """The limiter with the configured storage (before the blueprints it guards are used).

    Each limited view checks its limit in its own decorator (``limiter.limit``). The limiter's
    ``before_request`` hook only applies limits on every route (defaults, application and meta
    limits), which Alur does not set; it is taken off, as it evaluated nothing on every request of
    every route. Should such a limit ever be configured, the hook stays.
    """
    app.config["RATELIMIT_STORAGE_URI"] = settings.ratelimit_storage_uri
    limiter.init_app(app)
    manager = limiter.limit_manager
    if not (manager.default_limits or manager.application_limits or app.config.get("RATELIMIT_META")):
        app.before_request_funcs[None].remove(limiter._check_request_limit)
