"""The Flask application factory."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from inspect import iscoroutinefunction
from typing import Any

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from service import api, headers, logs, web
from service.commands.context import SERVICES_KEY, Services
from service.config import Settings
from service.json_provider import OrjsonProvider
from service.store.db import Database


class BufferedResponse(Response):
    """A response whose body is already in memory goes to the server as a one-item list.

    Werkzeug hands every body out as an iterator (for HEAD and 304 it empties it, and it calls the
    response's close hooks when the server closes it). granian sends a list in one call, but pulls an
    iterator item by item through Python, holding the GIL: 7 % of a worker's Python time under the
    complaint benchmark. A streamed body (a file, an export) stays an iterator.
    """

    def get_app_iter(self, environ: dict[str, Any]) -> Iterable[bytes]:
        app_iter = super().get_app_iter(environ)
        if not self.is_sequence or self.direct_passthrough:
            return app_iter
        try:
            return [b"".join(app_iter)]
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()


class AlurFlask(Flask):
    """Flask, deciding once per function whether a view or hook is a coroutine function.

    Flask asks :func:`inspect.iscoroutinefunction` of every hook, view and teardown it calls, on every
    request (``ensure_sync``): fifteen times per API request here, 0.7 % of a worker's CPU under the
    complaint benchmark. The answer belongs to the function, so it is kept per function (a bound
    method by its ``__func__``: a method view's is bound anew on each request).
    """

    #: functions whose answer is kept, at most (more are asked each time: nothing grows without bound)
    KEPT = 4096

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._coroutine_functions: dict[Callable[..., Any], bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        target = getattr(func, "__func__", func)
        coroutine = self._coroutine_functions.get(target)
        if coroutine is None:
            coroutine = iscoroutinefunction(func)
            if len(self._coroutine_functions) < self.KEPT:
                self._coroutine_functions[target] = coroutine
        return self.async_to_sync(func) if coroutine else func


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides settings (tests pass ``database_url``, ``forms_dir``…)."""
    settings = Settings.from_env()
    if config:
        settings = settings.with_overrides(config)
    app = AlurFlask(__name__)
    app.response_class = BufferedResponse
    app.json = OrjsonProvider(app)  # before the Jinja environment takes its dumps for tojson
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        TESTING=bool(config and config.get("testing")),
        ALUR_PUBLIC_RATE_LIMIT=settings.public_rate_limit,
    )
    if settings.trusted_proxies:
        # the client address and scheme as the trusted proxies forwarded them (rate-limit keys, HTTPS
        # for HSTS and cookies); with 0 the socket's address counts and X-Forwarded-* is ignored
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.extensions[SERVICES_KEY] = Services(db=Database(settings.database_url), settings=settings)
    logs.configure()
    headers.init_app(app)
    api.init_app(app)
    web.init_app(app)
    return app


def services_of(app: Flask) -> Services:
    services: Services = app.extensions[SERVICES_KEY]
    return services
