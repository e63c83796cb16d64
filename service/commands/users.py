"""Account administration: list, create, disable, enable, unlock, reset a password; the user's own
password change and sign-out. Every action is written to ``user_events``.

Who administers whom (:func:`administers`): a global admin everyone; ``admin@UNIT`` a user who is not a
global admin and whose memberships (at least one) are all in units it administers.

Disabling an account, changing or resetting its password and signing out raise the user's credential
version, which ends every API token and web session issued before, in every process: tokens are checked
against the database on each use (:func:`service.commands.accounts.actor_with_credentials`), and this
process's :class:`~service.commands.context.ActorCache` entry is dropped as well.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.commands.accounts import UserAction, create_user, parse_role_spec, record_event, unit_by_code
from service.commands.context import ADMIN_ROLE, Actor, Services
from service.commands.passwords import check_new_password, hash_password
from service.commands.signin import sign_in
from service.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from service.store.models import User


def administers(actor: Actor, user: User) -> bool:
    if actor.is_admin:
        return True
    if user.is_admin or not user.memberships:
        return False
    return all(actor.administers(membership.unit_id) for membership in user.memberships)


def _require_an_admin(actor: Actor) -> None:
    if not actor.is_admin and not any(ADMIN_ROLE in roles for roles in actor.roles_by_unit.values()):
        raise Forbidden("Only administrators manage accounts")


def _target(session: Session, actor: Actor, username: str) -> User:
    _require_an_admin(actor)
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not administers(actor, user):  # another unit's user is not shown to exist
        raise NotFound(f"User '{username}' does not exist", [{"field": "username", "message": "unknown user"}])
    return user


def _ended(services: Services, user_id: int) -> None:
    services.actors.forget(user_id)


def list_users(services: Services, actor: Actor) -> list[User]:
    _require_an_admin(actor)
    with services.db.reading() as session:
        users = session.scalars(select(User).order_by(User.username)).all()
        return [user for user in users if administers(actor, user)]


def create(services: Services, actor: Actor, username: str, password: str, roles: list[str],
           email: str | None = None, display_name: str = "", is_admin: bool = False) -> User:
    _require_an_admin(actor)
    if is_admin and not actor.is_admin:
        raise Forbidden("Only a global administrator creates global administrators")
    if not actor.is_admin:
        if not roles:
            raise InvalidInput("Give the new user a role in a unit you administer",
                               [{"field": "roles", "message": "empty"}])
        with services.db.reading() as session:
            for spec in roles:
                _, code = parse_role_spec(spec)
                if not actor.administers(unit_by_code(session, code).id):
                    raise Forbidden(f"You do not administer unit '{code}'", [{"field": "roles", "message": spec}])
    created = create_user(services, username, password, roles, is_admin=is_admin, display_name=display_name,
                          email=email, actor=actor)
    with services.db.reading() as session:  # with its memberships loaded
        user = session.get(User, created.id)
        assert user is not None
        return user


def disable(services: Services, actor: Actor, username: str) -> User:
    with services.db.transaction() as session:
        user = _target(session, actor, username)
        if user.id == actor.user_id:
            raise Conflict("You cannot disable your own account")
        user.active = False
        user.credential_version = User.credential_version + 1
        record_event(session, user.id, actor, UserAction.DISABLED)
        session.flush()
        session.refresh(user)
    _ended(services, user.id)
    return user


def enable(services: Services, actor: Actor, username: str) -> User:
    """Active again, with a clean failure count; its old tokens and sessions stay ended."""
    with services.db.transaction() as session:
        user = _target(session, actor, username)
        user.active, user.failed_logins, user.locked_until = True, 0, None
        record_event(session, user.id, actor, UserAction.ENABLED)
    _ended(services, user.id)
    return user


def unlock(services: Services, actor: Actor, username: str) -> User:
    """Clears the wrong-password count and hold of the account (a client's own hold stays)."""
    with services.db.transaction() as session:
        user = _target(session, actor, username)
        user.failed_logins, user.locked_until = 0, None
        record_event(session, user.id, actor, UserAction.UNLOCKED)
    return user


def reset_password(services: Services, actor: Actor, username: str, password: str) -> User:
    """An administrator sets a new password: every session and token of the user ends, the account is
    unlocked. Not for one's own account: that needs the old password (:func:`change_own_password`)."""
    check_new_password(password)
    with services.db.transaction() as session:
        user = _target(session, actor, username)
        if user.id == actor.user_id:
            raise Conflict("Change your own password with your old one (POST /api/auth/password)")
        user.password_hash = hash_password(password)
        user.failed_logins, user.locked_until = 0, None
        user.credential_version = User.credential_version + 1
        record_event(session, user.id, actor, UserAction.PASSWORD_RESET)
        session.flush()
        session.refresh(user)
    _ended(services, user.id)
    return user


def change_own_password(services: Services, actor: Actor, old_password: str, new_password: str,
                        client: str = "", now: datetime | None = None) -> Actor:
    """The signed-in user's new password. The old one is checked by the sign-in throttle (a stolen
    session cannot guess it faster than a stranger at ``/login``). Every other session and token ends;
    the returned actor carries the new credential version for the caller's own session or token."""
    check_new_password(new_password, "new_password")
    try:
        sign_in(services, actor.username, old_password, client, now)
    except Unauthorized as exc:
        raise InvalidInput("The old password is wrong", [{"field": "old_password", "message": "wrong"}]) from exc
    with services.db.transaction() as session:
        changed = session.execute(
            update(User).where(User.id == actor.user_id, User.credential_version == actor.credential_version)
            .values(password_hash=hash_password(new_password), credential_version=User.credential_version + 1)
            .execution_options(synchronize_session=False))
        if getattr(changed, "rowcount", 0) != 1:  # this session ended meanwhile
            raise Unauthorized("The sign-in has ended; sign in again")
        record_event(session, actor.user_id, actor, UserAction.PASSWORD_CHANGED)
        user = session.get(User, actor.user_id)
        assert user is not None
        renewed = Actor.of(user)
    _ended(services, actor.user_id)
    return renewed


def sign_out(services: Services, actor: Actor) -> None:
    """Ends every session and API token of the user (all devices), not just the caller's."""
    with services.db.transaction() as session:
        ended = session.execute(
            update(User).where(User.id == actor.user_id, User.credential_version == actor.credential_version)
            .values(credential_version=User.credential_version + 1)
            .execution_options(synchronize_session=False))
        if getattr(ended, "rowcount", 0) == 1:
            record_event(session, actor.user_id, actor, UserAction.SIGNED_OUT)
    _ended(services, actor.user_id)
