"""Every bundled diagram passes bpmnlint (the project's ``.bpmnlintrc``, as the modeler uses it) clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from support.sop_driver import DIAGRAMS, ROOT

BPMNLINT = ROOT / "node_modules" / ".bin" / "bpmnlint"


@pytest.mark.parametrize("diagram", DIAGRAMS, ids=lambda path: path.stem)
def test_bundled_diagram_has_no_lint_warnings(diagram: Path) -> None:
    if not BPMNLINT.exists() or shutil.which("node") is None:
        pytest.fail("bpmnlint is missing: run `make assets` (npm install) first")
    result = subprocess.run([str(BPMNLINT), str(diagram)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in result.stdout and "error" not in result.stdout, result.stdout
