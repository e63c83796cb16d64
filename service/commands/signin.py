"""Sign-in, for the web (``/login``) and the API (``POST /api/auth/token``) alike: one throttle decides.

The rules, per account and per client (a keyed hash of the client's address, see :func:`client_key`):

- **Account.** The first ``MAX_FAILURES - 1`` (4) wrong passwords cost nothing. The 5th and every later
  one hold the account for 1 s, 2 s, 4 s, … (doubling with each failure, at most 15 minutes), counted
  from that failure. During a hold every attempt is answered "try again later" (429) without looking
  at the password; after it the right password signs in and clears the count, as does an admin unlock.
  So a stranger's 5 wrong passwords delay the owner by one second, not a quarter of an hour: a 15-minute
  hold takes 15 failures and about 17 minutes of trying.
- **Client.** The first ``CLIENT_FREE - 1`` (19) wrong passwords of one client, whatever the usernames
  (unknown ones included), cost nothing; then the same doubling hold, 1 s up to 15 minutes, for that
  client only. A client quiet for ``CLIENT_MEMORY`` (15 minutes) starts afresh: its row is deleted by the
  next sign-in of anyone.

Every count lives in the database, so all processes share it, and is a conditional UPDATE (``… WHERE
locked_until IS NULL OR locked_until <= now``): concurrent wrong passwords each count once, and none —
right or wrong — is accepted once a hold has begun, on PostgreSQL (row lock) as on SQLite (write lock).
The password itself is checked outside any transaction (argon2 takes a while).

An unknown username gets the same answer and timing as a wrong password (``verify_password`` checks a
dummy hash) and is counted for the client only: there is no account row to count on. A disabled account
answers like a wrong password.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Update, delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.commands.accounts import UserAction, record_event
from service.commands.context import Actor, Services
from service.commands.passwords import verify_password
from service.engine import utc_now
from service.errors import Forbidden, TooManyRequests, Unauthorized
from service.store.models import SigninClient, User

MAX_FAILURES = 5
CLIENT_FREE = 20
FIRST_HOLD = timedelta(seconds=1)
MAX_HOLD = timedelta(minutes=15)
CLIENT_MEMORY = timedelta(minutes=15)


class SignInThrottled(TooManyRequests):
    """An attempt not heard: the account or the client is held; ``retry_after`` in whole seconds."""

    code = "sign_in_throttled"

    def __init__(self, until: datetime, now: datetime) -> None:
        self.until = until
        self.retry_after = max(1, math.ceil((until - now).total_seconds()))
        super().__init__(f"Too many wrong passwords; try again in {self.retry_after} s")


def hold_after(failures: int, free: int = MAX_FAILURES) -> timedelta | None:
    """How long the ``failures``-th wrong password holds its account (or client, with ``free=CLIENT_FREE``)."""
    if failures < free:
        return None
    return min(FIRST_HOLD * 2 ** min(failures - free, 20), MAX_HOLD)


def client_key(secret: str, address: str | None) -> str:
    """A keyed hash of the client's address: the same in every process, and not the address."""
    digest = hmac.new(secret.encode(), (address or "unknown").encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def sign_in(services: Services, username: str, password: str, client: str = "",
            now: datetime | None = None) -> Actor:
    """The actor for the right password; :class:`Unauthorized` or :class:`SignInThrottled` otherwise,
    :class:`Forbidden` when the office turned password sign-in off (single sign-on only)."""
    if not services.settings.password_signin:
        raise Forbidden("Password sign-in is turned off here: sign in through single sign-on")
    moment = now or utc_now()
    with services.db.reading() as session:
        user = session.scalar(select(User).where(User.username == username))
        held = session.get(SigninClient, client) if client else None
    holds = [t for t in (user.locked_until if user else None, held.blocked_until if held else None)
             if t is not None and t > moment]
    if holds:
        raise SignInThrottled(max(holds), moment)
    right = verify_password(user.password_hash if user else None, password)  # a dummy hash for no user
    if right and user is not None and user.active:
        return _succeed(services, user, moment)
    _fail(services, user, client, moment)
    raise Unauthorized("Wrong username or password")


def _heard(moment: datetime) -> ColumnElement[bool]:
    return or_(User.locked_until.is_(None), User.locked_until <= moment)


def _succeed(services: Services, user: User, moment: datetime) -> Actor:
    with services.db.transaction() as session:
        # not if a hold began meanwhile, nor if the password changed meanwhile
        cleared = _run(session, update(User).where(User.id == user.id, User.active.is_(True),
                                                  User.password_hash == user.password_hash, _heard(moment))
                       .values(failed_logins=0, locked_until=None))
        _forget_quiet_clients(session, moment)
        fresh = session.get(User, user.id)
        if cleared and fresh is not None:
            return Actor.of(fresh)
        until = fresh.locked_until if fresh is not None else None
    if until is not None and until > moment:
        raise SignInThrottled(until, moment)
    raise Unauthorized("Wrong username or password")


def _fail(services: Services, user: User | None, client: str, moment: datetime) -> None:
    held_until: datetime | None = None
    with services.db.transaction() as session:
        if user is not None:
            counted = session.execute(update(User).where(User.id == user.id, _heard(moment))
                                      .values(failed_logins=User.failed_logins + 1).returning(User.failed_logins)
                                      .execution_options(synchronize_session=False)).scalar()
            if counted is None:  # a hold began while this password was checked
                held_until = session.scalar(select(User.locked_until).where(User.id == user.id))
            elif (hold := hold_after(counted)) is not None:
                _run(session, update(User).where(User.id == user.id).values(locked_until=moment + hold))
                if counted == MAX_FAILURES:
                    record_event(session, user.id, None, UserAction.LOCKED, failures=counted)
        if client:
            _count_client(session, client, moment)
    if held_until is not None and held_until > moment:
        raise SignInThrottled(held_until, moment)


def _forget_quiet_clients(session: Session, moment: datetime) -> None:
    session.execute(delete(SigninClient).where(SigninClient.last_failure_at < moment - CLIENT_MEMORY)
                    .execution_options(synchronize_session=False))


def _count_client(session: Session, key: str, moment: datetime) -> None:
    _forget_quiet_clients(session, moment)  # so a quiet client's count starts again at 1
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    upsert = dialect.insert(SigninClient).values(key=key, failures=1, last_failure_at=moment)
    counted = session.execute(upsert.on_conflict_do_update(
        index_elements=[SigninClient.key],
        set_={"failures": SigninClient.failures + 1, "last_failure_at": moment},
    ).returning(SigninClient.failures)).scalar_one()
    if (hold := hold_after(counted, CLIENT_FREE)) is not None:
        _run(session, update(SigninClient).where(SigninClient.key == key).values(blocked_until=moment + hold))


def _run(session: Session, statement: Update) -> int:
    """Rows an UPDATE changed."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0))
