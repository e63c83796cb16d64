"""Statements kept for the life of a process and shared by its threads, built one at a time.

SQLAlchemy fills parts of an ORM construct in lazily, on first use: an aliased entity's adapted
columns, a FROM clause's column collection. That first use is not thread-safe (SQLAlchemy 2.1.9;
upstream fixed one such race, sqlalchemy#12302, and this one remains): two request threads building
statements over the same module-level alias at once (``tasks._TASK_UNIT``) left the kept statement
broken — "Can't determine which FROM clause to join from" — and every task completion of that process
answered 500 until it restarted. A freshly started API process hit it when its first requests came in
together: 13 of 30 fresh processes with eight threads building the task statements at once.

So every builder of a kept statement is :func:`built_once` (a ``functools`` cache whose builds run
under one process-wide lock), and :class:`~service.store.driver.DriverStatement` compiles under the same
lock. The lock is taken on every call, hit or not: a few hundred nanoseconds, against the race.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar, cast

P = ParamSpec("P")
T = TypeVar("T")

#: held while a kept statement is built or compiled; re-entrant, as a builder calls other builders
BUILDING = threading.RLock()


def built_once(maxsize: int | None = None) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """A statement builder's results kept per arguments (up to ``maxsize``, the least used out first),
    each built while no other thread builds or compiles one."""

    def decorate(builder: Callable[P, T]) -> Callable[P, T]:
        kept = functools.lru_cache(maxsize=maxsize)(builder)
        call = cast(Callable[P, T], kept)  # the cache takes the builder's (hashable) arguments

        @functools.wraps(builder)
        def build(*args: P.args, **kwargs: P.kwargs) -> T:
            with BUILDING:
                return call(*args, **kwargs)

        return build

    return decorate
