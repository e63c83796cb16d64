"""Web sign-in with a lockout: too many wrong passwords lock the username for a while.

The counter lives on the user row, so it holds across workers and restarts. An unknown username
gets the same answer and timing as a wrong password (``passwords.verify_password`` checks a dummy
hash), and is not counted: there is no row to count on.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from service.commands.context import Actor, Services
from service.commands.passwords import verify_password
from service.engine import utc_now
from service.errors import ServiceError, Unauthorized
from service.store.models import User

MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)


class AccountLocked(ServiceError):
    status = 429
    code = "account_locked"

    def __init__(self, until: datetime) -> None:
        super().__init__(f"Too many wrong passwords; try again after {until.isoformat()}")
        self.until = until


def sign_in(services: Services, username: str, password: str, now: datetime | None = None) -> Actor:
    """The actor for a correct password; :class:`Unauthorized` or :class:`AccountLocked` otherwise."""
    moment = now or utc_now()
    locked_until: datetime | None = None
    actor: Actor | None = None
    with services.db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is not None and user.locked_until is not None and user.locked_until > moment:
            locked_until = user.locked_until
        elif verify_password(user.password_hash if user else None, password) and user is not None and user.active:
            user.failed_logins, user.locked_until = 0, None
            actor = Actor.of(user)
        elif user is not None:
            user.failed_logins = (user.failed_logins or 0) + 1
            if user.failed_logins >= MAX_FAILURES:
                user.failed_logins, user.locked_until = 0, moment + LOCK_FOR
                locked_until = user.locked_until
    # raised after the transaction, so the counter and the lock are saved
    if locked_until is not None:
        raise AccountLocked(locked_until)
    if actor is None:
        raise Unauthorized("Wrong username or password")
    return actor
