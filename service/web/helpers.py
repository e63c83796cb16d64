"""What every web page needs: the services, the signed-in actor, CSRF, errors, formats."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, ParamSpec
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from flask import Blueprint, Response, current_app, g, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from service.commands.accounts import actor_with_credentials
from service.commands.context import SERVICES_KEY, Actor, Services
from service.errors import ServiceError, ServiceUnavailable, Unauthorized
from service.web.i18n import gettext as _

P = ParamSpec("P")

csrf = CSRFProtect()
log = logging.getLogger("alur.web")

SESSION_USER = "uid"
#: the user's credential version at sign-in: a session whose version is no longer the user's has ended
SESSION_VERSION = "cv"


def services() -> Services:
    found: Services = current_app.extensions[SERVICES_KEY]
    return found


def current_actor() -> Actor | None:
    if "alur_web_actor" in g:
        actor: Actor | None = g.alur_web_actor
        return actor
    actor = None
    user_id, version = session.get(SESSION_USER), session.get(SESSION_VERSION)
    if isinstance(user_id, int):
        # as an API token is checked: the account's state and credential version read on every request
        # (one statement), the roles from the process's actor cache
        with contextlib.suppress(Unauthorized):  # disabled, signed out everywhere, password changed
            actor = actor_with_credentials(services(), user_id, version) if isinstance(version, int) else None
        if actor is None:
            session.clear()
    g.alur_web_actor = actor
    return actor


def start_session(signed_in: Actor) -> None:
    """Begin a browser session for ``signed_in`` (password or single sign-on): a fresh session and CSRF
    token, the language kept."""
    language = session.get("lang")
    session.clear()
    session[SESSION_USER] = signed_in.user_id
    session[SESSION_VERSION] = signed_in.credential_version
    if language:
        session["lang"] = language
    session.permanent = True


def login_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if current_actor() is None:
            if wants_json():
                return _json_error(401, _("Please sign in again."))
            return redirect(url_for("web_auth.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def actor() -> Actor:
    found = current_actor()
    if found is None:  # login_required ran first
        raise Unauthorized("Not signed in")
    return found


def safe_next(target: str | None, default: str) -> str:
    """Only a path on this site: never an absolute or scheme-relative URL (no open redirect)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def wants_json() -> bool:
    return request.is_json or request.accept_mimetypes.best == "application/json"


def _json_error(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> Response:
    response = jsonify({"message": message, "errors": errors or []})
    response.status_code = status
    return response


_MESSAGES: dict[int, Callable[[], str]] = {
    400: lambda: _("The request could not be understood. Reload the page and try again."),
    401: lambda: _("Please sign in again."),
    403: lambda: _("This belongs to another lane: you may not work on it."),
    404: lambda: _("Not found, or not visible to you."),
    405: lambda: _("This action is not allowed here."),
    409: lambda: _("Someone else changed this in the meantime. Reload the page."),
    413: lambda: _("The upload is too large."),
    422: lambda: _("Some fields are not valid."),
    429: lambda: _("Too many attempts. Try again later."),
    503: lambda: _("The service cannot reach its database right now. Nothing was saved; try again in a minute."),
}


def error_page(status: int, detail: str | None = None) -> tuple[str | Response, int]:
    message = _MESSAGES.get(status, lambda: _("Something went wrong on the server; nothing was saved."))()
    if wants_json():
        return _json_error(status, message), status
    return render_template("web/error.html", status=status, message=message, detail=detail), status


def unavailable_page(error: ServiceUnavailable) -> ResponseReturnValue:
    """The database does not answer: a page that needs no database (no signed-in user is looked up)."""
    message = _MESSAGES[503]()
    headers = {"Retry-After": str(error.retry_after)}
    if wants_json():
        return _json_error(503, message), 503, headers
    return render_template("web/public_error.html", message=message), 503, headers


def _service_error(error: ServiceError) -> ResponseReturnValue:
    if isinstance(error, ServiceUnavailable):
        return unavailable_page(error)
    if isinstance(error, Unauthorized) and not wants_json():
        session.clear()
        return redirect(url_for("web_auth.login"))
    if wants_json():
        return _json_error(error.status, _MESSAGES.get(error.status, lambda: error.message)(), error.details), \
            error.status
    return error_page(error.status)


def _http_error(error: HTTPException) -> tuple[str | Response, int]:
    return error_page(error.code or 500)


def _unexpected(error: Exception) -> tuple[str | Response, int]:
    log.exception("unexpected error on a web page")
    return error_page(500)


def _csrf_error(error: CSRFError) -> tuple[str | Response, int]:
    return error_page(400, _("The form has expired. Reload the page and try again."))


def _no_store_when_signed_in(response: Response) -> Response:
    """A signed-in user's pages stay out of caches. The session cookie decides, not a database
    lookup: this runs on error pages too, also when the database does not answer. (The security
    headers of every response are set in :mod:`service.headers`.)"""
    if session.get(SESSION_USER) is not None:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def _check_csrf() -> None:
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()


def web_blueprint(name: str, import_name: str) -> Blueprint:
    """A blueprint of the web pages: CSRF on every unsafe method, headers, and HTML error pages."""
    blueprint = Blueprint(name, import_name, template_folder="templates")
    blueprint.before_request(_check_csrf)
    blueprint.after_request(_no_store_when_signed_in)
    blueprint.register_error_handler(CSRFError, _csrf_error)
    blueprint.register_error_handler(ServiceError, _service_error)
    blueprint.register_error_handler(HTTPException, _http_error)
    blueprint.register_error_handler(Exception, _unexpected)
    return blueprint


# --- formats ------------------------------------------------------------------------------------------

def local_time(moment: datetime | None, timezone: str, pattern: str = "d MMM yyyy HH:mm") -> str:
    """``moment`` in the unit's timezone with its abbreviation (WIB, WITA, WIT)."""
    if moment is None:
        return "—"
    try:
        local = moment.astimezone(ZoneInfo(timezone))
    except OverflowError:  # e.g. due 9999-12-31T23:00Z: past the year 9999 in the unit's zone
        local = moment
    return f"{format_datetime(local, pattern, locale=str(get_locale() or 'id'))} {local.tzname()}"


def span(delta: timedelta) -> str:
    """A duration for people: '3 hari 4 jam', '25 menit'."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = []
    if days:
        parts.append(_("%(n)d d", n=days))
    if hours:
        parts.append(_("%(n)d h", n=hours))
    if minutes and not days:
        parts.append(_("%(n)d min", n=minutes))
    return " ".join(parts) or _("under a minute")


def sla_state(due_at: datetime | None, created_at: datetime, now: datetime) -> str | None:
    """'overdue', 'near' (a quarter of the allowed time left, two days at most) or 'ontime'."""
    if due_at is None:
        return None
    if due_at <= now:
        return "overdue"
    left = due_at - now
    if left <= min(max(due_at - created_at, timedelta(0)) / 4, timedelta(days=2)):
        return "near"
    return "ontime"
