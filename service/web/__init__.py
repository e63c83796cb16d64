"""The staff web pages: sign-in, task list, task page, case page (Jinja, htmx and two JS islands).

Blueprints call :mod:`service.commands` only. Every unsafe request of these blueprints needs the
CSRF token (the REST API under ``/api`` uses bearer tokens and is not CSRF-checked); the pages send
a Content-Security-Policy without inline scripts. Built front-end files are served from
``static/dist`` (``make assets``).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Request, Response, has_request_context, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_babel import Babel, get_locale
from itsdangerous import URLSafeTimedSerializer

from service.commands.context import SERVICES_KEY, Services
from service.engine import CaseStatus, TaskStatus
from service.store.states import RevisionStatus
from service.web import (
    acting,
    admin,
    auth,
    cases,
    counter,
    dashboard,
    i18n,
    modeler,
    notifications,
    outbox,
    public,
    register,
    sso,
    tasks,
)
from service.web.helpers import csrf, current_actor
from service.web.i18n import gettext as _

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
babel = Babel()


class SessionOverHttps(SecureCookieSessionInterface):
    """The session cookie is Secure when ``ALUR_SESSION_COOKIE_SECURE`` says so (default in production),
    and whenever the request came over HTTPS, directly or through a trusted proxy."""

    #: the signing serializer of the keys it was built for: Flask builds one on every request, even an
    #: API request without a cookie, and it depends on nothing but the keys (about 0.1 ms a request)
    _signing: tuple[Any, URLSafeTimedSerializer | None] = (None, None)

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """Flask's session; a request without a ``Cookie`` header (every API call: they carry bearer
        tokens) gets the empty session Flask would give it without parsing the cookies first."""
        if "HTTP_COOKIE" not in request.environ and self.get_signing_serializer(app) is not None:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        """Flask's; a session left empty and untouched sets no cookie and no ``Vary``, which Flask decides
        only after asking the app for seven cookie settings. The two took 2.4 % of the API workers' time in
        the complaint benchmark's profile; 4.7–5.8 µs a request in a loop, 1.1–1.3 µs now
        (benchmarks/RESULTS.md, 2026-12-03)."""
        if session or session.modified or session.accessed:
            super().save_session(app, session, response)

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        built_for, serializer = self._signing
        if built_for != keys:
            serializer = super().get_signing_serializer(app)
            self._signing = (keys, serializer)  # one assignment: a thread sees the old pair or the new one
        return serializer


def init_app(app: Flask) -> None:
    settings = app.extensions[SERVICES_KEY].settings if SERVICES_KEY in app.extensions else None
    assert isinstance(app.extensions.get(SERVICES_KEY), Services), "create the Services before the web pages"
    app.config.update(
        SESSION_COOKIE_NAME="alur_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings and settings.session_cookie_secure),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.token_hours if settings else 12),
        WTF_CSRF_CHECK_DEFAULT=False,  # checked by the web blueprints only (helpers._check_csrf)
        WTF_CSRF_TIME_LIMIT=None,  # valid as long as the session
        WTF_CSRF_HEADERS=["X-CSRFToken"],
        BABEL_DEFAULT_LOCALE="id",
        BABEL_DEFAULT_TIMEZONE="UTC",
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
    )
    app.session_interface = SessionOverHttps()
    csrf.init_app(app)
    babel.init_app(app, locale_selector=auth.select_locale)
    i18n.install(app)
    static = Blueprint("web_static", __name__, static_folder="static", static_url_path="/assets")
    app.register_blueprint(static)
    sso.init_app(app, settings.sso if settings else None)
    for module in (auth, sso, tasks, cases, modeler, public, outbox, admin, acting, dashboard, counter, register,
                   notifications):
        app.register_blueprint(module.blp)
    app.jinja_env.globals.update(current_user=current_actor, action_label=action_label, get_locale=get_locale,
                                 TaskStatus=TaskStatus, CaseStatus=CaseStatus, RevisionStatus=RevisionStatus,
                                 sign_in_options=sso.sign_in_options)


def action_label(action: str) -> str:
    labels = {
        "case_started": _("Case started"), "task_created": _("Task opened"), "task_claimed": _("Task claimed"),
        "task_unclaimed": _("Task released"), "task_completed": _("Task completed"),
        "task_cancelled": _("Task cancelled"), "timer_fired": _("SOP time ran out"),
        "notification": _("Notification"), "message_delivered": _("Message received"),
        "message_buffered": _("Message kept for later"), "case_completed": _("Case completed"),
        "case_cancelled": _("Case cancelled"),
        "identity_revealed": _("Reporter identity revealed"), "message_to_reporter": _("Message to the reporter"),
        "follow_up_unlocked": _("Follow-up code unlocked"),
        "escalation_undeliverable": _("Escalation reached no one"),
    }
    return labels.get(action, action)
