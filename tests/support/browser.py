"""One Playwright and one headless Debian Chromium for the whole test session.

Playwright's sync API runs its own event loop: a second ``sync_playwright()`` while one is open fails
("Sync API inside the asyncio loop"), so every browser test shares this one (no browser download:
``executable_path`` is Debian's ``/usr/bin/chromium``).
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make sysdeps` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                             timeout=60_000)
        try:
            yield browser
        finally:
            browser.close()


def render_diagrams_module() -> ModuleType:
    """``tools/render_diagrams.py`` (a script, not a package module): bpmn-js in Chromium for tests."""
    root = Path(__file__).resolve().parents[2]
    spec = importlib.util.spec_from_file_location("render_diagrams", root / "tools" / "render_diagrams.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("render_diagrams", module)
    spec.loader.exec_module(module)
    return module
