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

from service.engine.limits import Limits


class ConfigError(Exception):
    pass


DEVELOPMENT = "development"
PRODUCTION = "production"
#: ``database`` is Alur's own (``service.store.ratelimit``); the others are the limits library's
#: how the worker delivers the outbox: ``smtp`` (to ALUR_SMTP_HOST; without one, mail waits) or ``catcher``
#: (a demo: nothing leaves the machine, each mail is kept on its outbox row for the Outbox page)
MAIL_CATCHER = "catcher"
MAIL_BACKENDS = ("smtp", MAIL_CATCHER)
RATELIMIT_SCHEMES = ("memory", "database", "redis", "rediss", "redis+unix", "redis+cluster", "redis+sentinel",
                     "memcached", "mongodb", "mongodb+srv")


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
class SsoSettings:
    """Single sign-on for staff through an OpenID Connect provider (ALUR_OIDC_*)."""

    #: the provider's ``/.well-known/openid-configuration`` address
    discovery_url: str
    client_id: str
    client_secret: str
    #: the id_token / userinfo claim listing the user's Alur roles as ``ROLE@UNIT`` values
    role_claim: str = "groups"
    scopes: str = "openid email profile"
    #: the sign-in button's text
    label: str = "SSO"


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    data_dir: Path
    forms_dir: Path
    #: where a business rule task's decision (``<decisionRef>.dmn``) is found when the deploy carries none
    decisions_dir: Path = field(default_factory=lambda: Path("bpmn").resolve())
    max_upload_bytes: int = 5 * 1024 * 1024
    token_hours: int = 12
    #: Fernet keys for reporter identities, newest first (older ones still decrypt: rotation)
    identity_keys: tuple[str, ...] = ()
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    mail_from: str = "alur@localhost"
    mail_lease_seconds: int = 300
    #: one of :data:`MAIL_BACKENDS` (ALUR_MAIL_BACKEND)
    mail_backend: str = "smtp"
    #: the address the public reaches Alur at; mails to reporters link to ``<public_url>/lapor/tindak-lanjut``
    public_url: str = "http://127.0.0.1:5000"
    public_rate_limit: str = "10 per minute;100 per day"
    testing: bool = False
    #: ``development`` or ``production``; production refuses to start without a configured secret key
    #: and identity keys (nothing is generated into the instance folder) and makes cookies Secure
    environment: str = "development"
    #: send the web session cookie over HTTPS only (ALUR_SESSION_COOKIE_SECURE; default on in production)
    session_cookie_secure: bool = False
    #: where flask-limiter counts requests: ``memory://`` (per process), ``database://`` (Alur's own
    #: database, shared by every process) or a limits storage URI such as ``redis://host:6379``
    ratelimit_storage_uri: str = "memory://"
    #: reverse proxies in front of Alur whose ``X-Forwarded-For``/``-Proto`` are believed (0: none)
    trusted_proxies: int = 0
    #: messages a case may hold before it can catch them; more are refused (429)
    max_buffered_messages: int = 50
    #: the engine's resource limits; each field NAME of :class:`~service.engine.limits.Limits` is read
    #: from ``ALUR_LIMIT_<NAME>`` (e.g. ALUR_LIMIT_MULTI_INSTANCE_MAX), defaults documented there
    limits: Limits = field(default_factory=Limits)
    #: deepest nesting of arrays and objects accepted in a JSON request body
    request_max_json_depth: int = 32
    #: OpenID Connect sign-in for staff (None: not configured)
    sso: SsoSettings | None = None
    #: whether staff may sign in with a username and password (ALUR_PASSWORD_SIGNIN; needs SSO when off)
    password_signin: bool = True
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.environment == PRODUCTION

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        instance = Path(env.get("ALUR_INSTANCE_DIR", "instance")).resolve()
        url = _env("ALUR_DATABASE_URL", env) or f"sqlite:///{instance / 'alur.db'}"
        if not url.startswith(("sqlite", "postgresql")):
            raise ConfigError("ALUR_DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL")
        environment = _environment(env)
        secret = _env("ALUR_SECRET_KEY", env)
        if not secret and environment == PRODUCTION:
            raise ConfigError("ALUR_ENV=production needs ALUR_SECRET_KEY or ALUR_SECRET_KEY_FILE: every process "
                              "must sign sessions and tokens with the same key")
        if not secret:
            secret = _instance_secret(instance)
        return cls(
            database_url=url,
            secret_key=secret,
            data_dir=Path(env.get("ALUR_DATA_DIR") or instance / "data").resolve(),
            forms_dir=Path(env.get("ALUR_FORMS_DIR") or "forms").resolve(),
            decisions_dir=Path(env.get("ALUR_DECISIONS_DIR") or "bpmn").resolve(),
            max_upload_bytes=_int("ALUR_MAX_UPLOAD_BYTES", env.get("ALUR_MAX_UPLOAD_BYTES"), 5 * 1024 * 1024),
            token_hours=_int("ALUR_TOKEN_HOURS", env.get("ALUR_TOKEN_HOURS"), 12),
            environment=environment,
            session_cookie_secure=_flag("ALUR_SESSION_COOKIE_SECURE", env, environment == PRODUCTION),
            ratelimit_storage_uri=_storage_uri(env.get("ALUR_RATELIMIT_STORAGE_URI") or "memory://"),
            trusted_proxies=_at_least("ALUR_TRUSTED_PROXIES", env, 0, 0),
            max_buffered_messages=_at_least("ALUR_MAX_BUFFERED_MESSAGES", env, 50, 1),
            identity_keys=_identity_keys(env, instance, environment),
            smtp_host=env.get("ALUR_SMTP_HOST") or None,
            smtp_port=_int("ALUR_SMTP_PORT", env.get("ALUR_SMTP_PORT"), 25),
            smtp_starttls=env.get("ALUR_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
            smtp_user=env.get("ALUR_SMTP_USER") or None,
            smtp_password=_env("ALUR_SMTP_PASSWORD", env) or None,
            mail_from=env.get("ALUR_MAIL_FROM") or "alur@localhost",
            mail_lease_seconds=_int("ALUR_MAIL_LEASE_SECONDS", env.get("ALUR_MAIL_LEASE_SECONDS"), 300),
            mail_backend=_mail_backend(env.get("ALUR_MAIL_BACKEND") or "smtp"),
            public_url=_public_url(env.get("ALUR_PUBLIC_URL") or "http://127.0.0.1:5000"),
            public_rate_limit=env.get("ALUR_PUBLIC_RATE_LIMIT") or "10 per minute;100 per day",
            limits=_limits(env),
            request_max_json_depth=_int("ALUR_REQUEST_MAX_JSON_DEPTH", env.get("ALUR_REQUEST_MAX_JSON_DEPTH"), 32),
            **_sign_in(env),
        )

    def with_overrides(self, overrides: Mapping[str, Any]) -> Settings:
        known: dict[str, Any] = {k: v for k, v in overrides.items() if k in self.__dataclass_fields__}
        for name in ("data_dir", "forms_dir", "decisions_dir"):
            if name in known:
                known[name] = Path(known[name])
        if isinstance(known.get("limits"), Mapping):
            known["limits"] = replace(self.limits, **known["limits"])
        return replace(self, **known)


def _limits(env: Mapping[str, str]) -> Limits:
    """``ALUR_LIMIT_<NAME>`` for each limit that is set; the others keep their defaults."""
    values = {
        name: _int(f"ALUR_LIMIT_{name.upper()}", env.get(f"ALUR_LIMIT_{name.upper()}"), 0)
        for name in Limits.__dataclass_fields__ if env.get(f"ALUR_LIMIT_{name.upper()}")
    }
    try:
        return Limits(**values)
    except ValueError as exc:
        raise ConfigError(f"ALUR_LIMIT_*: {exc}") from exc


def _sign_in(env: Mapping[str, str]) -> dict[str, Any]:
    """``sso`` from ALUR_OIDC_DISCOVERY_URL, _CLIENT_ID, _CLIENT_SECRET (or _FILE), _ROLE_CLAIM, _SCOPES,
    _LABEL; ``password_signin`` from ALUR_PASSWORD_SIGNIN, which may be off only with SSO configured."""
    discovery = (env.get("ALUR_OIDC_DISCOVERY_URL") or "").strip()
    sso = None
    if discovery:
        client_id = (env.get("ALUR_OIDC_CLIENT_ID") or "").strip()
        secret = _env("ALUR_OIDC_CLIENT_SECRET", env) or ""
        if not discovery.startswith(("https://", "http://")) or not client_id or not secret:
            raise ConfigError("ALUR_OIDC_DISCOVERY_URL needs an http(s) address, ALUR_OIDC_CLIENT_ID and "
                              "ALUR_OIDC_CLIENT_SECRET (or ALUR_OIDC_CLIENT_SECRET_FILE)")
        scopes = (env.get("ALUR_OIDC_SCOPES") or "openid email profile").strip()
        if "openid" not in scopes.split():
            raise ConfigError("ALUR_OIDC_SCOPES must include openid")
        sso = SsoSettings(discovery, client_id, secret, (env.get("ALUR_OIDC_ROLE_CLAIM") or "groups").strip(),
                          scopes, (env.get("ALUR_OIDC_LABEL") or "SSO").strip())
    password_signin = _flag("ALUR_PASSWORD_SIGNIN", env, True)
    if not password_signin and sso is None:
        raise ConfigError("ALUR_PASSWORD_SIGNIN=0 needs single sign-on (ALUR_OIDC_DISCOVERY_URL): "
                          "otherwise nobody can sign in")
    return {"sso": sso, "password_signin": password_signin}


def _public_url(value: str) -> str:
    """An http(s) base address without a trailing slash (it is put in front of paths in mails)."""
    url = value.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or any(ch.isspace() for ch in url):
        raise ConfigError(f"ALUR_PUBLIC_URL must be an http:// or https:// address, not {value!r}")
    return url


def _environment(env: Mapping[str, str]) -> str:
    value = (env.get("ALUR_ENV") or DEVELOPMENT).strip().lower()
    if value not in (DEVELOPMENT, PRODUCTION):
        raise ConfigError(f"ALUR_ENV must be {DEVELOPMENT} or {PRODUCTION}, not {value!r}")
    return value


def _flag(name: str, env: Mapping[str, str], default: bool) -> bool:
    value = (env.get(name) or "").strip().lower()
    if not value:
        return default
    if value not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise ConfigError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), not {value!r}")
    return value in ("1", "true", "yes", "on")


def _at_least(name: str, env: Mapping[str, str], default: int, minimum: int) -> int:
    value = _int(name, env.get(name), default)
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def _mail_backend(value: str) -> str:
    if value not in MAIL_BACKENDS:
        raise ConfigError(f"ALUR_MAIL_BACKEND must be one of {', '.join(MAIL_BACKENDS)}, not {value!r}")
    return value


def _storage_uri(value: str) -> str:
    """A rate-limit storage: ``memory://``, ``database://`` (Alur's database) or a limits storage URI."""
    scheme = value.split("://", 1)[0] if "://" in value else ""
    if scheme not in RATELIMIT_SCHEMES:
        raise ConfigError(f"ALUR_RATELIMIT_STORAGE_URI must start with one of "
                          f"{', '.join(s + '://' for s in RATELIMIT_SCHEMES)}, not {value!r}")
    return value


def _identity_keys(env: Mapping[str, str], instance: Path, environment: str = DEVELOPMENT) -> tuple[str, ...]:
    """``ALUR_IDENTITY_KEYS`` (comma-separated, newest first), or a key generated into the instance.

    In production nothing is generated: a process with a key of its own would seal identities that
    the other processes (the worker mailing reporters, the next container) cannot open.
    """
    configured = tuple(key.strip() for key in (_env("ALUR_IDENTITY_KEYS", env) or "").split(",") if key.strip())
    if configured:
        return configured
    if environment == PRODUCTION:
        raise ConfigError("ALUR_ENV=production needs ALUR_IDENTITY_KEYS or ALUR_IDENTITY_KEYS_FILE: the API and "
                          "the worker must share one identity key (docker-compose.yml: secrets/alur_identity_keys)")
    path = instance / "identity_keys"
    if not path.is_file():
        from cryptography.fernet import Fernet

        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(Fernet.generate_key().decode(), encoding="utf-8")
        path.chmod(0o600)
    return tuple(key.strip() for key in path.read_text(encoding="utf-8").split(",") if key.strip())


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
