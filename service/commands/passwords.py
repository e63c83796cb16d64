"""Password hashing with argon2."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from service.errors import InvalidInput

MIN_LENGTH = 8
#: argon2 hashes any length, but a megabyte of password per request is a cheap way to burn CPU
MAX_LENGTH = 500

_hasher = PasswordHasher()
#: Verified against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _hasher.hash("alur-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password.encode("utf-8", "surrogatepass"))


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        # surrogatepass: a lone surrogate (valid JSON, not valid UTF-8) is a wrong password, not an error
        return (_hasher.verify(password_hash or _DUMMY_HASH, password.encode("utf-8", "surrogatepass"))
                and password_hash is not None)
    except (VerificationError, InvalidHashError):
        return False


def check_new_password(password: str, field: str = "password") -> None:
    """The one password rule: 8 to 500 characters of Unicode text."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"Passwords need at least {MIN_LENGTH} characters",
                           [{"field": field, "message": "too short"}])
    if any(0xD800 <= ord(char) <= 0xDFFF for char in password):
        raise InvalidInput("A password must be valid Unicode text", [{"field": field, "message": "invalid"}])
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"Passwords have at most {MAX_LENGTH} characters",
                           [{"field": field, "message": "too long"}])
