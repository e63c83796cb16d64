"""Every bundled diagram opens in bpmn-js (the viewer ``make assets`` builds) in headless Chromium.

Import must give no warning and no error, and every lane, user task, flow node and sequence flow of
the diagram must be an element of the rendered canvas. The page and the viewer are the ones of
``tools/render_diagrams.py`` (served from the work tree through Playwright's request routing; any
other request is refused). Debian's ``/usr/bin/chromium`` is the browser (``make sysdeps``); no
browser is downloaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from support.browser import CHROMIUM, render_diagrams_module
from support.sop_driver import BPMN_DIR, FLOW_NODES, ROOT

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
DIAGRAMS = sorted(BPMN_DIR.glob("*.bpmn"))

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: `make sysdeps` installs Debian's chromium"
)


render = render_diagrams_module()


@pytest.fixture(scope="session")
def viewer(chromium: Any) -> Iterator[Any]:
    """One page with bpmn-js loaded in the session's Chromium, for every diagram; closed at the end."""
    assert render.VIEWER_JS.exists(), f"{render.VIEWER_JS.relative_to(ROOT)} is missing: run `make assets`"
    page = render.ViewerPage(chromium)
    try:
        yield page
    finally:
        page.close()


def _ids(path: Path, *tags: str) -> set[str]:
    tree = etree.parse(str(path))
    return {el.get("id") for tag in tags for el in tree.iterfind(f".//bpmn:{tag}", NS)}


def test_diagrams_are_bundled() -> None:
    assert len(DIAGRAMS) >= 9, [p.name for p in DIAGRAMS]


@pytest.mark.parametrize("path", DIAGRAMS, ids=[p.stem for p in DIAGRAMS])
def test_imports_without_warnings(viewer: Any, path: Path) -> None:
    result = viewer.load(path)
    assert result.error is None, f"{path.name}: import failed: {result.error}"
    assert result.warnings == [], f"{path.name}: import warnings: {result.warnings}"

    rendered = viewer.element_ids()
    lanes = _ids(path, "lane")
    user_tasks = _ids(path, "userTask")
    assert lanes and user_tasks, path.name
    assert not lanes - rendered, f"{path.name}: lanes not rendered: {sorted(lanes - rendered)}"
    assert not user_tasks - rendered, f"{path.name}: user tasks not rendered: {sorted(user_tasks - rendered)}"
    others = _ids(path, *FLOW_NODES, "sequenceFlow", "participant")
    assert not others - rendered, f"{path.name}: elements not rendered: {sorted(others - rendered)}"
    assert result.bounds and result.bounds["width"] > 0 and result.bounds["height"] > 0
