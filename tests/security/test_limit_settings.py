"""The limits are settings: ``ALUR_LIMIT_<NAME>`` with documented defaults, bad values refused at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path

import pytest

from service.app import create_app
from service.config import ConfigError, Settings
from service.engine import limits
from service.engine.limits import Limits

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def default_limits_afterwards() -> Iterator[None]:
    yield
    limits.configure(Limits())


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"ALUR_INSTANCE_DIR": str(tmp_path), **values}


def test_defaults_are_the_documented_ones(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path))
    assert settings.limits == Limits()
    assert (Limits().expression_max_chars, Limits().timer_max_years, Limits().timer_min_cycle_seconds,
            Limits().multi_instance_max) == (100_000, 10, 60, 100)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for field in fields(Limits):
        assert f"ALUR_LIMIT_{field.name.upper()}" in readme, field.name


def test_each_limit_is_read_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(env(tmp_path, ALUR_LIMIT_MULTI_INSTANCE_MAX="5", ALUR_LIMIT_ENGINE_MAX_STEPS="50"))
    assert (settings.limits.multi_instance_max, settings.limits.engine_max_steps) == (5, 50)
    assert settings.limits.expression_max_chars == Limits().expression_max_chars


@pytest.mark.parametrize(("name", "value"), [("ALUR_LIMIT_MULTI_INSTANCE_MAX", "banyak"),
                                             ("ALUR_LIMIT_TIMER_MAX_YEARS", "0"),
                                             ("ALUR_LIMIT_ENGINE_MAX_DEPTH", "1000"),
                                             ("ALUR_REQUEST_MAX_JSON_DEPTH", "dalam")])
def test_a_bad_limit_fails_at_start_up(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name.removeprefix("ALUR_").split("_")[0]):
        Settings.from_env(env(tmp_path, **{name: value}))


def test_the_app_configures_the_engine_with_its_limits(tmp_path: Path) -> None:
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'a.db'}", "testing": True,
                      "limits": {"multi_instance_max": 7}})
    try:
        assert limits.current().multi_instance_max == 7
        assert limits.current().expression_max_chars == Limits().expression_max_chars
    finally:
        app.extensions["alur.services"].db.dispose()
