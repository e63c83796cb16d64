"""User accounts, for global admins and ``admin@UNIT`` (see :mod:`service.commands.users`)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView

from service.api.guards import Blueprint
from service.api.security import BEARER, current_actor, services
from service.commands import users as commands
from service.store.models import User

blp = Blueprint("users", __name__, url_prefix="/api/users",
                description="Accounts: create, disable, enable, unlock, reset a password")


class UserSchema(ma.Schema):
    username = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    display_name = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    email = ma.fields.Email(load_default=None, allow_none=True, validate=ma.validate.Length(max=254))
    roles = ma.fields.List(ma.fields.String(validate=ma.validate.Length(min=3, max=200)), load_default=list,
                           validate=ma.validate.Length(max=50),
                           metadata={"description": "ROLE@UNIT, e.g. Kasi@dinsos-kukar"})
    is_admin = ma.fields.Boolean(load_default=False, metadata={"description": "may do everything in every unit"})
    active = ma.fields.Boolean(dump_only=True)
    locked_until = ma.fields.DateTime(dump_only=True, allow_none=True,
                                      metadata={"description": "no sign-in is heard before this instant"})
    created_at = ma.fields.DateTime(dump_only=True)

    @ma.pre_dump
    def role_specs(self, user: User, **_: Any) -> dict[str, Any]:
        return {name: getattr(user, name) for name in
                ("username", "display_name", "email", "is_admin", "active", "locked_until", "created_at")} | {
            "roles": sorted(f"{m.role}@{m.unit.code}" for m in user.memberships)}


class NewUserSchema(UserSchema):
    password = ma.fields.String(required=True, load_only=True)


class NewPasswordSchema(ma.Schema):
    password = ma.fields.String(required=True, load_only=True)


@blp.route("")
class Users(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, UserSchema(many=True))
    @blp.alt_response(403, description="Not an administrator")
    def get(self) -> list[User]:
        """The accounts you administer"""
        return commands.list_users(services(), current_actor())

    @blp.doc(security=BEARER)
    @blp.arguments(NewUserSchema())
    @blp.response(201, UserSchema)
    @blp.alt_response(403, description="Not an administrator of every unit named in roles")
    @blp.alt_response(409, description="The username is taken")
    def post(self, body: dict[str, Any]) -> User:
        """Create an account with roles in units"""
        return commands.create(services(), current_actor(), body["username"], body["password"], body["roles"],
                               email=body["email"], display_name=body["display_name"], is_admin=body["is_admin"])


@blp.route("/<string:username>/disable")
class UserDisable(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, description="No such account, or not one you administer")
    @blp.alt_response(409, description="Your own account")
    def post(self, username: str) -> User:
        """Disable an account: its tokens and sessions end at once"""
        return commands.disable(services(), current_actor(), username)


@blp.route("/<string:username>/enable")
class UserEnable(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, description="No such account, or not one you administer")
    def post(self, username: str) -> User:
        """Enable an account again (its old tokens and sessions stay ended)"""
        return commands.enable(services(), current_actor(), username)


@blp.route("/<string:username>/unlock")
class UserUnlock(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, UserSchema)
    @blp.alt_response(404, description="No such account, or not one you administer")
    def post(self, username: str) -> User:
        """Clear the wrong-password delay of an account"""
        return commands.unlock(services(), current_actor(), username)


@blp.route("/<string:username>/password")
class UserPassword(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(NewPasswordSchema())
    @blp.response(200, UserSchema)
    @blp.alt_response(404, description="No such account, or not one you administer")
    @blp.alt_response(409, description="Your own account: change it with POST /api/auth/password")
    def post(self, body: dict[str, Any], username: str) -> User:
        """Set a new password for an account (its tokens and sessions end; it is unlocked)"""
        return commands.reset_password(services(), current_actor(), username, body["password"])
