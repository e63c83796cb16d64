"""The hashed lock files cover pyproject.toml: a dependency added without `make lock` fails here.

``make venv`` (and so CI) installs ``requirements/lock.txt`` with ``--require-hashes`` and the package
with ``--no-deps``; the Docker image does the same with ``requirements/server.txt``. Neither looks at
pyproject.toml's ranges any more, so a new or narrowed requirement must reach the lock files.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from support.helpers import ROOT

LOCK = ROOT / "requirements" / "lock.txt"
SERVER_LOCK = ROOT / "requirements" / "server.txt"
PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>\S+)(?P<options>.*)$")


def pins(path: Path) -> dict[str, tuple[str, int]]:
    """Package → (version, number of hashes), from a pip-compile output file."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    found: dict[str, tuple[str, int]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = PIN.match(line)
        assert match, f"{path.name}: not a pinned requirement: {line!r}"
        found[canonicalize_name(match["name"])] = (match["version"], match["options"].count("--hash=sha256:"))
    return found


def requirements(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = [*project["dependencies"], *(item for extra in extras for item in project["optional-dependencies"][extra])]
    return [Requirement(item) for item in listed]


@pytest.mark.parametrize(("lock", "extras"), [(LOCK, ("dev", "server")), (SERVER_LOCK, ("server",))],
                         ids=["lock", "server"])
def test_every_requirement_is_pinned_within_its_range_with_hashes(lock: Path, extras: tuple[str, ...]) -> None:
    locked = pins(lock)
    assert all(hashes for _, hashes in locked.values()), [name for name, (_, hashes) in locked.items() if not hashes]
    for requirement in requirements(*extras):
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{requirement} is not in {lock.name}: run `make lock`"
        assert requirement.specifier.contains(locked[name][0], prereleases=True), (
            f"{lock.name} pins {name}=={locked[name][0]}, outside {requirement}: run `make lock`")


def test_the_image_runs_the_versions_the_tests_ran() -> None:
    full, server = pins(LOCK), pins(SERVER_LOCK)
    assert {name: version for name, (version, _) in server.items()} == {
        name: full[name][0] for name in server}
