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


# --- the follow-up secret of a public report ------------------------------------------------------------
#
# A person's password is guessable, so it gets argon2's default cost (~0.23 s of CPU and 64 MiB per
# check). The follow-up secret is not chosen by a person: 16 random digits, 10**16 (about 2**53)
# values. Online, 20 wrong secrets lock the code. Offline, with a stolen database, each secret has its
# own salt, and at these parameters a guess costs ~5 ms of CPU and 8 MiB (benchmarks/follow_up_check.py,
# benchmarks/RESULTS.md), so trying half the values takes ~800,000 core-years per secret. The default
# parameters would add nothing an attacker notices, but make every follow-up request (the public API
# checks the secret on each one, up to 120 a minute per client) cost ~50 times the CPU and 8 times the
# memory.
SECRET_TIME_COST = 1
SECRET_MEMORY_KIB = 8 * 1024
SECRET_PARALLELISM = 1
_secret_hasher = PasswordHasher(time_cost=SECRET_TIME_COST, memory_cost=SECRET_MEMORY_KIB,
                                parallelism=SECRET_PARALLELISM)
_DUMMY_SECRET_HASH = _secret_hasher.hash("0000000000000000")


def hash_secret(secret: str) -> str:
    """The stored form of a follow-up secret (argon2id with the parameters above)."""
    return _secret_hasher.hash(secret.encode("utf-8", "surrogatepass"))


def verify_secret(secret_hash: str | None, secret: str) -> bool:
    """Whether ``secret`` is the one of ``secret_hash``; ``None`` costs the same as a real check.

    Hashes made with other parameters (before these were chosen) still verify: argon2 reads them
    from the hash; :func:`secret_needs_rehash` says when to store the cheaper form.
    """
    try:
        return (_secret_hasher.verify(secret_hash or _DUMMY_SECRET_HASH, secret.encode("utf-8", "surrogatepass"))
                and secret_hash is not None)
    except (VerificationError, InvalidHashError):
        return False


def secret_needs_rehash(secret_hash: str) -> bool:
    try:
        return _secret_hasher.check_needs_rehash(secret_hash)
    except InvalidHashError:
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
