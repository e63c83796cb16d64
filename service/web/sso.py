"""Staff sign-in through the office's OpenID Connect provider (authorization code with PKCE, Authlib).

``/login/sso`` sends the browser to the provider with a state, a nonce and a PKCE challenge kept in the
session; ``/login/sso/callback`` exchanges the code and validates the ``id_token`` (signature from the
provider's JWKS, issuer, audience = our client id, expiry, nonce) before anything is believed. Only then
does :func:`service.commands.sso.sign_in_external` find or create the account. Signing out of an SSO
session also ends it at the provider (RP-initiated logout) when the provider offers that.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from joserfc.errors import JoseError
from requests import RequestException

from service.commands.sso import identity_from_claims, sign_in_external
from service.config import SsoSettings
from service.errors import Conflict, Unauthorized
from service.web.helpers import safe_next, services, start_session, web_blueprint
from service.web.i18n import gettext as _

blp = web_blueprint("web_sso", __name__)
log = logging.getLogger("alur.sso")
_CLIENT_KEY = "alur.sso_client"
#: the id_token of the provider's session, kept for the logout hint
SESSION_ID_TOKEN = "sso_id_token"
_NEXT = "sso_next"
#: seconds of clock difference tolerated between the provider and Alur when checking exp/iat
LEEWAY = 30


def init_app(app: Flask, sso: SsoSettings | None) -> None:
    """One Authlib client per app (its provider metadata and keys are cached on it)."""
    if sso is None:
        return
    registry = OAuth(app)
    app.extensions[_CLIENT_KEY] = registry.register(
        "sso", client_id=sso.client_id, client_secret=sso.client_secret, server_metadata_url=sso.discovery_url,
        client_kwargs={"scope": sso.scopes, "code_challenge_method": "S256"})


def _client() -> Any:
    return current_app.extensions[_CLIENT_KEY]


@dataclass(frozen=True)
class SignInOptions:
    sso_label: str | None  # the SSO button's text; None without single sign-on
    password: bool  # the username and password form is offered


def sign_in_options() -> SignInOptions:
    """What the sign-in page offers (a template global)."""
    settings = services().settings
    return SignInOptions(settings.sso.label if settings.sso else None, settings.password_signin)


def _settings() -> SsoSettings | None:
    return services().settings.sso


def _refused(message: str, status: int) -> ResponseReturnValue:
    return render_template("web/login.html", next="", error=message, username=""), status


@blp.get("/login/sso")
def start() -> ResponseReturnValue:
    if _settings() is None:
        return _refused(_("Single sign-on is not configured here."), 404)
    session[_NEXT] = safe_next(request.args.get("next"), url_for("web_tasks.task_list"))
    client = _client()
    try:
        return client.authorize_redirect(url_for("web_sso.callback", _external=True))
    except (RequestException, AuthlibBaseError, ValueError) as exc:
        log.warning("SSO provider unreachable: %s", exc)
        return _refused(_("The sign-on service cannot be reached now. Try again later."), 502)


@blp.get("/login/sso/callback")
def callback() -> ResponseReturnValue:
    sso = _settings()
    if sso is None:
        return _refused(_("Single sign-on is not configured here."), 404)
    client = _client()
    try:
        # exchanges the code with the PKCE verifier, then validates the id_token: signature (provider's JWKS),
        # issuer, audience (our client id), expiry and issue time (LEEWAY), the nonce of this browser's state
        token = client.authorize_access_token(leeway=LEEWAY)
        claims = dict(token.get("userinfo") or {})
        if not claims:  # no id_token, or no nonce in the state: nothing was validated, nothing is believed
            raise Unauthorized("The identity provider sent no id_token")
        if sso.role_claim not in claims and "userinfo_endpoint" in client.load_server_metadata():
            claims = {**dict(client.userinfo(token=token)), **claims}  # roles may come from userinfo only
        identity = identity_from_claims(claims, sso.role_claim)
        signed_in = sign_in_external(services(), identity)
    except (JoseError, AuthlibBaseError, Unauthorized, RequestException, ValueError) as exc:
        log.warning("SSO sign-in refused: %s", exc)
        return _refused(_("Single sign-on failed: the provider's answer could not be verified. Try again."), 401)
    except Conflict:
        return _refused(_("An account with this name exists already and is not linked to single sign-on. "
                          "Ask your administrator."), 409)
    target = session.pop(_NEXT, None) or url_for("web_tasks.task_list")
    start_session(signed_in)
    session[SESSION_ID_TOKEN] = token.get("id_token")
    return redirect(target)


def logout_redirect(id_token: str | None) -> ResponseReturnValue | None:
    """The provider's end-session redirect for a browser that signed in through it, if it offers one."""
    if id_token is None or _settings() is None:
        return None
    client = _client()
    try:
        if "end_session_endpoint" not in client.load_server_metadata():
            return None
        return client.logout_redirect(post_logout_redirect_uri=url_for("web_auth.login", _external=True),
                                      id_token_hint=id_token)
    except (RequestException, AuthlibBaseError, ValueError) as exc:
        log.warning("SSO logout at the provider skipped: %s", exc)
        return None
