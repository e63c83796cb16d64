"""Fixtures of the account and credential tests: a Kasi, an administrator, a second process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from support.helpers import Persona, app_on

from service.config import Settings


@pytest.fixture
def kasi(make_persona: Callable[..., Persona], units: dict[str, str]) -> Persona:
    return make_persona("kasi.a", "Kasi@unit-a")


@pytest.fixture
def boss(make_persona: Callable[..., Persona], units: dict[str, str]) -> Persona:
    return make_persona("boss", admin=True)


@pytest.fixture
def other_app(settings: Settings) -> Iterator[Any]:
    """A second process on the same database (its own caches, pool and listener)."""
    with app_on(settings) as other:
        yield other

