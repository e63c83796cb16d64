"""Account administration: list, create, disable, enable, unlock, reset a password; the user's own
password change and sign-out. Every action is written to ``user_events``.

Who administers whom (:func:`administers`): a global admin everyone; ``admin@UNIT`` a user who is not a
global admin and whose memberships (at least one) are all in units it administers: its units and their
sub-units (:func:`service.commands.accounts.managed_unit_ids`).

Disabling an account, changing or resetting its password and signing out raise the user's credential
version, which ends every API token and web session issued before, in every process: tokens are checked
against the database on each use (:func:`service.commands.accounts.actor_with_credentials`; a server
process on PostgreSQL keeps the row until the change's notice reaches it), and this process's
:class:`~service.commands.context.ActorCache` entry and kept row are dropped at once.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.commands.accounts import (
    UserAction,
    create_user,
    managed_unit_ids,
    parse_role_spec,
    record_event,
    unit_by_code,
)
from service.commands.context import ADMIN_ROLE, Actor, Services
from service.commands.passwords import check_new_password, hash_password
from service.commands.signin import sign_in
from service.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from service.store.models import Membership, Unit, User, UserEvent


def administers(actor: Actor, user: User, managed: Collection[int]) -> bool:
    """``managed``: the unit ids of :func:`~service.commands.accounts.managed_unit_ids`."""
    if actor.is_admin:
        return True
    if user.is_admin or not user.memberships:
        return False
    return all(membership.unit_id in managed for membership in user.memberships)


def is_an_administrator(actor: Actor) -> bool:
    """May ``actor`` open the administration at all (a global admin, or ``admin`` of some unit)?"""
    return actor.is_admin or any(ADMIN_ROLE in roles for roles in actor.roles_by_unit.values())


def _require_an_admin(actor: Actor) -> None:
    if not is_an_administrator(actor):
        raise Forbidden("Only administrators manage accounts")


def _target(session: Session, actor: Actor, username: str) -> User:
    _require_an_admin(actor)
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not administers(actor, user, managed_unit_ids(session, actor)):
        raise NotFound(f"User '{username}' does not exist", [{"field": "username", "message": "unknown user"}])
    return user  # another unit's user is not shown to exist


def _managed_unit(session: Session, actor: Actor, code: str) -> Unit:
    unit = unit_by_code(session, code)
    if unit.id not in managed_unit_ids(session, actor):
        raise Forbidden(f"You do not administer unit '{code}'", [{"field": "unit", "message": code}])
    return unit


def _ended(services: Services, user_id: int) -> None:
    """This process forgets the user at once; the others when the change's notice reaches them."""
    services.actors.forget(user_id)
    services.db.changes.forget(user_id)


def list_users(services: Services, actor: Actor, unit: str | None = None) -> list[User]:
    """The accounts ``actor`` administers; with ``unit``, those with a role in that unit."""
    _require_an_admin(actor)
    with services.db.reading() as session:
        managed = managed_unit_ids(session, actor)
        query = select(User).order_by(User.username)
        if unit:
            query = query.where(User.id.in_(select(Membership.user_id).where(
                Membership.unit_id == _managed_unit(session, actor, unit).id)))
        return [user for user in session.scalars(query) if administers(actor, user, managed)]


def get(services: Services, actor: Actor, username: str) -> User:
    """One account ``actor`` administers, with its roles."""
    with services.db.reading() as session:
        return _target(session, actor, username)


def history(services: Services, actor: Actor, username: str) -> list[UserEvent]:
    """The account's ``user_events``, newest first."""
    with services.db.reading() as session:
        user = _target(session, actor, username)
        return list(session.scalars(select(UserEvent).where(UserEvent.user_id == user.id)
                                    .order_by(UserEvent.id.desc())))


def temporary_password() -> str:
    """A password an administrator hands over once (16 URL-safe characters, ~96 bits)."""
    return secrets.token_urlsafe(12)


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
                _managed_unit(session, actor, parse_role_spec(spec)[1])
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


def add_role(services: Services, actor: Actor, username: str, spec: str) -> User:
    """Give an account a role (``ROLE@UNIT``) in a unit ``actor`` administers; it counts from the user's
    next request."""
    role, code = parse_role_spec(spec)
    if len(role) > 100:
        raise InvalidInput("A role has at most 100 characters", [{"field": "role", "message": "too long"}])
    with services.db.transaction() as session:
        user = _target(session, actor, username)
        unit = _managed_unit(session, actor, code)
        if any(m.unit_id == unit.id and m.role == role for m in user.memberships):
            raise Conflict(f"'{username}' already has the role {spec}", [{"field": "role", "message": "exists"}])
        session.add(Membership(user_id=user.id, unit_id=unit.id, role=role))
        record_event(session, user.id, actor, UserAction.ROLE_ADDED, role=f"{role}@{code}")
        session.flush()
        session.refresh(user)
    _ended(services, user.id)
    return user


def remove_role(services: Services, actor: Actor, username: str, spec: str) -> User:
    """Take a role away; not one's own ``admin`` role (that would lock oneself out)."""
    role, code = parse_role_spec(spec)
    with services.db.transaction() as session:
        user = _target(session, actor, username)
        unit = _managed_unit(session, actor, code)
        if user.id == actor.user_id and role == ADMIN_ROLE:
            raise Conflict("You cannot remove your own admin role", [{"field": "role", "message": "own admin role"}])
        membership = next((m for m in user.memberships if m.unit_id == unit.id and m.role == role), None)
        if membership is None:
            raise NotFound(f"'{username}' has no role {spec}", [{"field": "role", "message": "unknown role"}])
        if not actor.is_admin and len(user.memberships) == 1:  # it would leave the unit's administration
            raise Conflict("The account's last role: disable the account instead",
                           [{"field": "role", "message": "last role"}])
        session.delete(membership)
        record_event(session, user.id, actor, UserAction.ROLE_REMOVED, role=f"{role}@{code}")
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
