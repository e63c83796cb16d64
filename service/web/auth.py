"""Sign in, sign out, one's own password, and the language switch."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue

from service.commands import users
from service.commands.signin import SignInThrottled, client_key, sign_in
from service.errors import Forbidden, InvalidInput, Unauthorized
from service.web import sso
from service.web.helpers import (
    actor,
    current_actor,
    login_required,
    safe_next,
    services,
    start_session,
    web_blueprint,
)
from service.web.i18n import gettext as _

blp = web_blueprint("web_auth", __name__)
LANGUAGES = ("id", "en")


def _client() -> str:
    return client_key(services().settings.secret_key, request.remote_addr)


def _wait(seconds: int) -> str:
    """A throttle's wait for people: '8 detik', '15 menit'."""
    if seconds < 60:
        return _("%(n)d seconds", n=seconds)
    return _("%(n)d minutes", n=-(-seconds // 60))


def _throttled_message(error: SignInThrottled) -> str:
    return _("Too many wrong passwords. Sign-in is locked for now; try again in %(wait)s.",
             wait=_wait(error.retry_after))


@blp.get("/login")
def login() -> ResponseReturnValue:
    if current_actor() is not None:
        return redirect(safe_next(request.args.get("next"), url_for("web_tasks.task_list")))
    return render_template("web/login.html", next=request.args.get("next", ""), error=None)


@blp.post("/login")
def login_post() -> ResponseReturnValue:
    username = request.form.get("username", "").strip()[:100]
    password = request.form.get("password", "")[:500]
    target = safe_next(request.form.get("next"), url_for("web_tasks.task_list"))
    headers: dict[str, str] = {}
    try:
        signed_in = sign_in(services(), username, password, _client())
    except SignInThrottled as exc:
        error, status, headers = _throttled_message(exc), 429, {"Retry-After": str(exc.retry_after)}
    except Unauthorized:
        error, status = _("Wrong username or password."), 401
    except Forbidden:
        error, status = _("Sign-in with a password is turned off here. Use single sign-on."), 403
    else:
        start_session(signed_in)
        return redirect(target)
    return render_template("web/login.html", next=request.form.get("next", ""), error=error,
                           username=username), status, headers


@blp.post("/logout")
def logout() -> ResponseReturnValue:
    """Ends every session and API token of the user, not only this browser's."""
    signed_in = current_actor()
    if signed_in is not None:
        users.sign_out(services(), signed_in)
    language = session.get("lang")
    id_token = session.get(sso.SESSION_ID_TOKEN)
    session.clear()
    if language:
        session["lang"] = language
    return sso.logout_redirect(id_token) or redirect(url_for("web_auth.login"))


@blp.get("/akun/sandi")
@login_required
def password() -> ResponseReturnValue:
    return render_template("web/password.html", error=None, done=False)


@blp.post("/akun/sandi")
@login_required
def password_post() -> ResponseReturnValue:
    old = request.form.get("old_password", "")[:500]
    new = request.form.get("new_password", "")[:501]  # one over the limit, so it is refused, not cut
    headers: dict[str, str] = {}
    if new != request.form.get("confirm_password", "")[:501]:
        error, status = _("The new password and its confirmation differ."), 422
    else:
        try:
            renewed = users.change_own_password(services(), actor(), old, new, _client())
        except SignInThrottled as exc:
            error, status, headers = _throttled_message(exc), 429, {"Retry-After": str(exc.retry_after)}
        except InvalidInput as exc:
            fields = {detail.get("field") for detail in exc.details}
            error = (_("The old password is wrong.") if "old_password" in fields
                     else _("The new password needs 8 to 500 characters."))
            status = 422
        else:
            start_session(renewed)  # this browser stays signed in; every other session and token ends
            return render_template("web/password.html", error=None, done=True)
    return render_template("web/password.html", error=error, done=False), status, headers


@blp.post("/language")
def language() -> ResponseReturnValue:
    chosen = request.form.get("lang", "")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return redirect(safe_next(request.form.get("next"), url_for("web_tasks.task_list")))


def select_locale() -> ResponseReturnValue:
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else "id"
