"""API tokens: sign in (through the same throttle as ``/login``), change one's password, sign out."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView

from service.api.errors import handle_service_error
from service.api.guards import Blueprint
from service.api.security import BEARER, current_actor, services
from service.commands import users
from service.commands.accounts import issue_token
from service.commands.passwords import MAX_LENGTH
from service.commands.signin import SignInThrottled, client_key, sign_in

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Sign in and get an API token")


class CredentialsSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=MAX_LENGTH))


class TokenSchema(ma.Schema):
    token = ma.fields.String(required=True)


class PasswordChangeSchema(ma.Schema):
    old_password = ma.fields.String(required=True, load_only=True,
                                    validate=ma.validate.Length(min=1, max=MAX_LENGTH))
    new_password = ma.fields.String(required=True, load_only=True)


def client() -> str:
    """The caller as the sign-in throttle counts it: a keyed hash of its address."""
    return client_key(services().settings.secret_key, request.remote_addr)


@blp.errorhandler(SignInThrottled)
def throttled(error: SignInThrottled) -> tuple[Response, int]:
    response, status = handle_service_error(error)
    response.headers["Retry-After"] = str(error.retry_after)
    return response, status


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(CredentialsSchema())
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Wrong username or password")
    @blp.alt_response(429, description="Too many wrong passwords for this account or client: see Retry-After")
    def post(self, credentials: dict[str, Any]) -> dict[str, str]:
        """Exchange a username and password for a bearer token"""
        actor = sign_in(services(), credentials["username"], credentials["password"], client())
        return {"token": issue_token(services(), actor)}


@blp.route("/password")
class Password(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(PasswordChangeSchema())
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Not signed in, or the token has ended")
    @blp.alt_response(422, description="The old password is wrong, or the new one too short or too long")
    @blp.alt_response(429, description="Too many wrong passwords: see Retry-After")
    def post(self, body: dict[str, Any]) -> dict[str, str]:
        """Change your own password; every other token and session ends, a new token is returned"""
        actor = users.change_own_password(services(), current_actor(), body["old_password"], body["new_password"],
                                          client())
        return {"token": issue_token(services(), actor)}


@blp.route("/logout")
class Logout(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(204)
    @blp.alt_response(401, description="Not signed in, or the token has already ended")
    def post(self) -> None:
        """Sign out everywhere: every token and web session of the user ends"""
        users.sign_out(services(), current_actor())
