"""Rate limits of the public endpoints (flask-limiter, in process memory).

The client key is a salted hash of its address: the limiter can tell clients apart without any
IP address being kept, even in memory; nothing of it reaches logs or the database.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import current_app, request
from flask_limiter import Limiter

_SALT = secrets.token_bytes(16)


def client_key() -> str:
    address = (request.remote_addr or "unknown").encode()
    return hashlib.sha256(_SALT + address).hexdigest()[:32]


limiter = Limiter(client_key, storage_uri="memory://", headers_enabled=True)


def submission_limit() -> str:
    limit: str = current_app.config["ALUR_PUBLIC_RATE_LIMIT"]
    return limit


FOLLOW_UP_LIMIT = "120 per minute"
