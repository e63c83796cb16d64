"""The Flask application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from service import api, headers, web
from service.commands.context import SERVICES_KEY, Services
from service.config import Settings
from service.store.db import Database


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides settings (tests pass ``database_url``, ``forms_dir``…)."""
    settings = Settings.from_env()
    if config:
        settings = settings.with_overrides(config)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        JSON_SORT_KEYS=False,
        TESTING=bool(config and config.get("testing")),
        ALUR_PUBLIC_RATE_LIMIT=settings.public_rate_limit,
    )
    if settings.trusted_proxies:
        # the client address and scheme as the trusted proxies forwarded them (rate-limit keys, HTTPS
        # for HSTS and cookies); with 0 the socket's address counts and X-Forwarded-* is ignored
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.extensions[SERVICES_KEY] = Services(db=Database(settings.database_url), settings=settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("spiff").setLevel(logging.WARNING)  # a line per task state change otherwise
    headers.init_app(app)
    api.init_app(app)
    web.init_app(app)
    return app


def services_of(app: Flask) -> Services:
    services: Services = app.extensions[SERVICES_KEY]
    return services
