"""Liveness and readiness probes (no token needed)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from service.api.security import services

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz() -> Response:
    """The process is up."""
    return jsonify({"status": "ok"})


@blp.get("/readyz")
def readyz() -> tuple[Response, int]:
    """The database answers."""
    ready = services().db.ping()
    return jsonify({"status": "ready" if ready else "database unavailable"}), 200 if ready else 503
