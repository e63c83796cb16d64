"""Typed errors raised anywhere in Alur and turned into HTTP responses in one place (``api.errors``).

Every error carries a stable ``code``, an English ``message`` for the API/logs and a list of
``details`` dicts naming what was wrong (``element_id``, ``line``, ``field``, ``message``).
"""

from __future__ import annotations

from typing import Any

ErrorDetail = dict[str, Any]


class ServiceError(Exception):
    """Base of every error Alur reports to a client."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: list[ErrorDetail] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidInput(ServiceError):
    status = 422
    code = "invalid_input"


class InvalidDiagram(InvalidInput):
    """A BPMN file that cannot be deployed; details name ``element_id`` and/or ``line``."""

    code = "invalid_diagram"


class FormInvalid(InvalidInput):
    """Task data that does not satisfy the task's JSON Schema; details name the ``field``."""

    code = "form_invalid"


class ExpressionError(InvalidInput):
    """A gateway condition or timer expression that is unsafe, malformed or failed at run time."""

    code = "expression_error"


class LimitExceeded(InvalidInput):
    """A diagram, expression or command that would cost more than a configured limit allows."""

    code = "limit_exceeded"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(ServiceError):
    status = 429
    code = "too_many_requests"


class ServiceUnavailable(ServiceError):
    """Something Alur needs (its database) does not answer now: nothing was saved; retry later."""

    status = 503
    code = "service_unavailable"

    def __init__(self, message: str, details: list[ErrorDetail] | None = None, retry_after: int = 30) -> None:
        super().__init__(message, details)
        #: seconds the client should wait before retrying (the ``Retry-After`` header)
        self.retry_after = retry_after
