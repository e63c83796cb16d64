"""Every diagram of the BPMN MIWG corpus deploys or is refused with located errors (issue #2, point 3).

A hang is caught by SIGALRM (main thread, POSIX), far above the time a deploy takes: this is a
guard against runaway parsing, not a performance assertion.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.bombs import hang_guard
from support.helpers import CORPUS, deploy_file

FILES = sorted((CORPUS / "bpmn-miwg").rglob("*.bpmn"))
#: Far above the ~0.1 s a deploy takes: only a hang trips it.
HANG_SECONDS = 30


@pytest.fixture
def deploy_hang_guard() -> Iterator[None]:
    with hang_guard(HANG_SECONDS):
        yield


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 50, f"expected the MIWG corpus under {CORPUS}"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(CORPUS)) for p in FILES])
def test_corpus_file_deploys_or_is_refused_with_located_errors(
    client: Any, admin: Any, path: Path, deploy_hang_guard: None
) -> None:
    response = deploy_file(client, admin, path)
    assert response.status_code in (200, 201, 422), (response.status_code, response.json)
    body = response.json
    if response.status_code == 422:
        assert body["code"] and body["message"]
        located = [e for e in body["errors"] if (e.get("element_id") or e.get("line")) and e.get("message")]
        assert located, body
    else:
        assert body["version"] >= 1 and body["status"] == "active"
        raw = client.get(f"/api/definitions/{body['key']}/versions/{body['version']}/bpmn", headers=admin.headers)
        assert raw.data == path.read_bytes()
