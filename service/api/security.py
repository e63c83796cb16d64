"""Who is calling: the bearer token of the request, resolved once per request."""

from __future__ import annotations

from flask import current_app, g, request

from service.commands.accounts import actor_from_token
from service.commands.context import SERVICES_KEY, Actor, Services
from service.errors import Unauthorized

BEARER: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def services() -> Services:
    found: Services = current_app.extensions[SERVICES_KEY]
    return found


def current_actor() -> Actor:
    actor: Actor | None = g.get("alur_actor")
    if actor is not None:
        return actor
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send 'Authorization: Bearer <token>' (POST /api/auth/token gives one)")
    actor = actor_from_token(services(), token.strip())
    g.alur_actor = actor
    return actor
