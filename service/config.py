"""Settings. The only module that reads the environment; bad values fail at start-up.

Every secret may also come from a file named by ``<NAME>_FILE`` (Docker secrets).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    pass


def _env(name: str, environ: Mapping[str, str]) -> str | None:
    file_name = environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{name}_FILE={file_name} cannot be read: {exc}") from exc
    return environ.get(name)


def _int(name: str, value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {value!r}") from exc


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    data_dir: Path
    forms_dir: Path
    max_upload_bytes: int = 5 * 1024 * 1024
    token_hours: int = 12
    testing: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        instance = Path(env.get("ALUR_INSTANCE_DIR", "instance")).resolve()
        url = _env("ALUR_DATABASE_URL", env) or f"sqlite:///{instance / 'alur.db'}"
        if not url.startswith(("sqlite", "postgresql")):
            raise ConfigError("ALUR_DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL")
        secret = _env("ALUR_SECRET_KEY", env)
        if not secret:
            secret = _instance_secret(instance)
        return cls(
            database_url=url,
            secret_key=secret,
            data_dir=Path(env.get("ALUR_DATA_DIR") or instance / "data").resolve(),
            forms_dir=Path(env.get("ALUR_FORMS_DIR") or "forms").resolve(),
            max_upload_bytes=_int("ALUR_MAX_UPLOAD_BYTES", env.get("ALUR_MAX_UPLOAD_BYTES"), 5 * 1024 * 1024),
            token_hours=_int("ALUR_TOKEN_HOURS", env.get("ALUR_TOKEN_HOURS"), 12),
        )

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        known: dict[str, Any] = {k: v for k, v in overrides.items() if k in self.__dataclass_fields__}
        for name in ("data_dir", "forms_dir"):
            if name in known:
                known[name] = Path(known[name])
        return replace(self, **known)


def _instance_secret(instance: Path) -> str:
    """A development secret kept in the instance folder, so sessions survive restarts."""
    path = instance / "secret_key"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value, encoding="utf-8")
    path.chmod(0o600)
    return value
