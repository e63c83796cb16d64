"""Sign in, sign out and the language switch."""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from service.commands.signin import AccountLocked, sign_in
from service.errors import Unauthorized
from service.web.helpers import SESSION_USER, current_actor, safe_next, services, web_blueprint

blp = web_blueprint("web_auth", __name__)
LANGUAGES = ("id", "en")


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
    try:
        actor = sign_in(services(), username, password)
    except AccountLocked:
        error, status = _("Too many wrong passwords. This account is locked for 15 minutes."), 429
    except Unauthorized:
        error, status = _("Wrong username or password."), 401
    else:
        language = session.get("lang")
        session.clear()  # a fresh session (and CSRF token) for the signed-in user
        session[SESSION_USER] = actor.user_id
        if language:
            session["lang"] = language
        session.permanent = True
        return redirect(target)
    return render_template("web/login.html", next=request.form.get("next", ""), error=error,
                           username=username), status


@blp.post("/logout")
def logout() -> ResponseReturnValue:
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    return redirect(url_for("web_auth.login"))


@blp.post("/language")
def language() -> ResponseReturnValue:
    chosen = request.form.get("lang", "")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return redirect(safe_next(request.form.get("next"), url_for("web_tasks.task_list")))


def select_locale() -> ResponseReturnValue:
    chosen = session.get("lang")
    return chosen if chosen in LANGUAGES else "id"
