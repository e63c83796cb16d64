"""API tokens."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from service.api.security import services
from service.commands.accounts import authenticate, issue_token

blp = Blueprint("auth", __name__, url_prefix="/api/auth", description="Sign in and get an API token")


class CredentialsSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    password = ma.fields.String(required=True, load_only=True, validate=ma.validate.Length(min=1, max=500))


class TokenSchema(ma.Schema):
    token = ma.fields.String(required=True)


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(CredentialsSchema)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, description="Wrong username or password")
    def post(self, credentials: dict[str, Any]) -> dict[str, str]:
        """Exchange a username and password for a bearer token"""
        actor = authenticate(services(), credentials["username"], credentials["password"])
        return {"token": issue_token(services(), actor)}
