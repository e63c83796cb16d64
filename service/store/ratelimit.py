"""Fixed-window request counters in the database, shared by every process of a deployment.

The rate limiter (flask-limiter, see ``service.api.limits``) keeps its counters here when
``ALUR_RATELIMIT_STORAGE_URI=database://``: with several server workers, API containers or hosts,
a client's quota is one quota, not one per process. Each hit is one statement — an upsert that
starts a new window when the old one has expired and otherwise adds to it, returning the new count —
so concurrent hits each count once (PostgreSQL's row lock on conflict, SQLite's write lock).
Expired rows are deleted every :data:`SWEEP_EVERY` hits of a process.
"""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from service.engine.calendar import utc_now
from service.store.db import Database
from service.store.models import RateLimitCounter
from service.store.types import UTCDateTime

SWEEP_EVERY = 500

_hits = itertools.count(1)
_hits_lock = threading.Lock()


def hit(db: Database, key: str, expiry_seconds: int, amount: int = 1, now: datetime | None = None) -> int:
    """Add ``amount`` to the counter of ``key`` (a new window of ``expiry_seconds`` if none is open);
    the count of the window afterwards."""
    moment = now or utc_now()
    ends = moment + timedelta(seconds=expiry_seconds)
    expired = RateLimitCounter.expires_at <= moment
    with _hits_lock:
        sweep = next(_hits) % SWEEP_EVERY == 0
    with db.transaction() as session:
        dialect = postgresql if db.is_postgres else sqlite
        upsert = dialect.insert(RateLimitCounter).values(key=key, count=amount, expires_at=ends)
        counted = session.execute(upsert.on_conflict_do_update(
            index_elements=[RateLimitCounter.key],
            set_={"count": case((expired, amount), else_=RateLimitCounter.count + amount),
                  "expires_at": case((expired, literal(ends, UTCDateTime())), else_=RateLimitCounter.expires_at)},
        ).returning(RateLimitCounter.count)).scalar_one()
        if sweep:
            session.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at < moment)
                            .execution_options(synchronize_session=False))
    return int(counted)


def _window(db: Database, key: str, now: datetime | None) -> tuple[int, datetime] | None:
    moment = now or utc_now()
    with db.reading() as session:
        row = session.execute(select(RateLimitCounter.count, RateLimitCounter.expires_at)
                              .where(RateLimitCounter.key == key)).first()
    if row is None or row[1] <= moment:
        return None
    return int(row[0]), row[1]


def count(db: Database, key: str, now: datetime | None = None) -> int:
    """Hits in the open window of ``key`` (0 when none is open)."""
    window = _window(db, key, now)
    return window[0] if window else 0


def expires_at(db: Database, key: str, now: datetime | None = None) -> datetime:
    """When the open window of ``key`` ends (now, when none is open)."""
    window = _window(db, key, now)
    return window[1] if window else (now or utc_now())


def clear(db: Database, key: str | None = None) -> int:
    """Forget the counter of ``key``, or every counter; how many were deleted."""
    with db.transaction() as session:
        statement = delete(RateLimitCounter)
        if key is not None:
            statement = statement.where(RateLimitCounter.key == key)
        result = session.execute(statement.execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0))
