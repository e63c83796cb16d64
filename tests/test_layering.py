"""Layers import only downwards: the engine is pure, the store and the commands know no Flask."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SERVICE = Path(__file__).parent.parent / "service"

#: package → module prefixes none of its modules may import (a prefix matches itself and below).
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "service.engine": ("flask", "flask_smorest", "werkzeug", "sqlalchemy", "alembic", "psycopg",
                       "service.store", "service.api", "service.web", "service.worker", "service.commands"),
    "service.store": ("flask", "flask_smorest", "werkzeug",
                      "service.api", "service.web", "service.worker", "service.commands"),
    "service.commands": ("flask", "flask_smorest", "werkzeug", "service.api", "service.web", "service.worker"),
}


def module_name(path: Path, root: Path = SERVICE.parent) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, root: Path = SERVICE.parent) -> set[str]:
    """Absolute names of what a module imports (``from ..store import db`` → service.store, .db)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path, root).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def modules_of(package: str) -> list[Path]:
    return sorted((SERVICE.parent / package.replace(".", "/")).rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_imports_nothing_above_it(package: str) -> None:
    files = [p for p in modules_of(package) if "migrations" not in p.parts]
    assert files, package
    offences = sorted(
        f"{module_name(path)} imports {name}"
        for path in files for name in imports_of(path)
        if any(matches(name, prefix) for prefix in FORBIDDEN[package])
    )
    assert offences == []


def test_the_import_walker_sees_relative_and_absolute_imports(tmp_path: Path) -> None:
    """The checker itself can fail: it finds what a bad engine module would import."""
    probe = tmp_path / "service" / "engine" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text("import flask\nfrom ..store import db\nfrom service.api.errors import x\nfrom . import compiler\n")
    found = imports_of(probe, root=tmp_path)
    assert {"flask", "service.store", "service.store.db", "service.api.errors", "service.engine.compiler"} <= found
    assert any(matches(name, "service.store") for name in found)
    assert not matches("service.storey", "service.store")
