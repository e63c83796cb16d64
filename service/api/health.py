"""Liveness and readiness probes (no token needed)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from service.api.security import services
from service.store.db import RETRY_AFTER_SECONDS

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> Response:
    """The process is up."""
    return jsonify({"status": "ok"})


@blp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The database answers; otherwise 503 with ``Retry-After`` (a load balancer then sends no traffic)."""
    if services().db.ping():
        return jsonify({"status": "ready"}), 200
    response = jsonify({"status": "database unavailable",
                        "message": "The database does not answer; requests get 503 until it is back."})
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, 503
