"""The one place where errors become HTTP responses: ``{"code", "message", "errors": [...]}``."""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask import Flask, Response, jsonify
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from service.errors import ServiceError, ServiceUnavailable

log = logging.getLogger("alur.api")


class ErrorSchema(ma.Schema):
    """The error body as :func:`_body` writes it; documentation only (flask-smorest's default says
    ``code`` is an integer and ``errors`` an object, which no response of Alur matches)."""

    code = ma.fields.String(metadata={"description": "What went wrong, e.g. not_found, conflict"})
    message = ma.fields.String(metadata={"description": "A sentence for people"})
    errors = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "One entry per problem: field or element_id/line, and message"})


class AlurApi(Api):
    """flask-smorest's ``Api`` documenting Alur's error body."""

    ERROR_SCHEMA = ErrorSchema


def _body(status: int, code: str, message: str, errors: list[dict[str, Any]]) -> tuple[Response, int]:
    return jsonify({"code": code, "message": message, "errors": errors}), status


def _flatten(messages: Any, prefix: str = "") -> list[dict[str, Any]]:
    """webargs/marshmallow messages ``{"json": {"a": {"b": ["msg"]}}}`` → ``[{"field": "a.b", …}]``."""
    if isinstance(messages, dict):
        out: list[dict[str, Any]] = []
        for key, value in messages.items():
            name = "" if key in ("json", "query", "form", "files", "_schema") and not prefix else str(key)
            out += _flatten(value, ".".join(filter(None, [prefix, name])))
        return out
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [{"field": prefix or "body", "message": " ".join(messages)}]
    if isinstance(messages, list):
        return [item for m in messages for item in _flatten(m, prefix)]
    return [{"field": prefix or "body", "message": str(messages)}]


def handle_service_error(error: ServiceError) -> tuple[Response, int]:
    if error.status >= 500:
        log.error("service error %s: %s", error.code, error.message)
    response, status = _body(error.status, error.code, error.message, error.details)
    if isinstance(error, ServiceUnavailable):
        response.headers["Retry-After"] = str(error.retry_after)
    return response, status


def handle_http_exception(error: HTTPException) -> tuple[Response, int]:
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    details = _flatten(data.get("messages", {})) if isinstance(data, dict) else []
    code = (error.name or "error").lower().replace(" ", "_")
    message = error.description or error.name
    if status == 422 and details:
        message = "The request is not valid: " + "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return _body(status, code, message, details)


def handle_unexpected(error: Exception) -> tuple[Response, int]:
    log.exception("unexpected error")
    return _body(500, "internal_error", "Something went wrong on the server; the change was not saved", [])


def init_app(app: Flask) -> None:
    app.register_error_handler(ServiceError, handle_service_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
