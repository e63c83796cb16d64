"""Units, users, memberships, sign-in and API tokens."""

from __future__ import annotations

import re
import time
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import ColumnElement, Select, SQLColumnExpression, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session, aliased

from service.commands.context import ADMIN_ROLE, Actor, Services
from service.commands.passwords import check_new_password, hash_password, verify_password
from service.engine.calendar import utc_now
from service.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from service.store.built_once import built_once
from service.store.models import ActingGrant, Membership, Unit, UnitEvent, User, UserEvent

_TOKEN_SALT = "alur-api-token"
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
#: why a token or session stopped working (the API's 401 message)
ENDED = "The sign-in has ended (signed out, password changed or account disabled); sign in again"
_UNIT_CODE = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
#: an e-mail address as far as Alur checks it: one @, no spaces, a dot in the domain (the mail server decides)
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")


def unit_by_code(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(f"Unit '{code}' does not exist", [{"field": "unit", "message": "unknown unit"}])
    return unit


def create_unit(services: Services, code: str, name: str, timezone: str | None = None,
                parent: str | None = None, actor: Actor | None = None) -> Unit:
    """An office, or with ``parent`` a sub-unit of one (bidang, unit kerja, inspektorat pembantu).

    A sub-unit shares its office's timezone unless given one; tasks are routed to it by the
    ``tujuan_unit`` property (see :mod:`service.engine.properties`). With an ``actor`` (the API), an
    office needs a global administrator and a sub-unit an administrator of its office.
    """
    _check_code(code)
    if not name.strip() or len(name) > 200:
        raise InvalidInput("A unit needs a name of 1 to 200 characters", [{"field": "name", "message": "invalid"}])
    with services.db.transaction() as session:
        if actor is not None and not actor.is_admin:
            office_id = unit_by_code(session, parent).id if parent else None
            if office_id is None or not actor.administers(office_id):
                raise Forbidden("Only an administrator may create an office, and an office's administrator "
                                "its sub-units")
        if session.scalar(select(Unit).where(Unit.code == code)) is not None:
            raise Conflict(f"Unit '{code}' already exists", [{"field": "code", "message": "already exists"}])
        office = unit_by_code(session, parent) if parent else None
        if office is not None and office.parent_id is not None:
            raise InvalidInput(f"'{parent}' is itself a sub-unit; sub-units have one level",
                               [{"field": "parent", "message": "is a sub-unit"}])
        zone = timezone or (office.timezone if office else "Asia/Jakarta")
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInput(f"Unknown timezone {zone!r}", [{"field": "timezone", "message": "unknown"}]) from exc
        unit = Unit(code=code, name=name, timezone=zone, parent_id=office.id if office else None)
        session.add(unit)
        session.flush()
        record_unit_event(session, unit.id, actor, UnitAction.CREATED, parent=parent, name=name, timezone=zone)
        if office is not None:
            record_unit_event(session, office.id, actor, UnitAction.SUB_UNIT_CREATED, code=code, name=name)
    return unit


def sub_units(services: Services, actor: Actor, code: str) -> list[Unit]:
    """The sub-units of an office, for its members (the form pickers and the administration)."""
    with services.db.reading() as session:
        office = unit_by_code(session, code)
        if not actor.is_member(office.id):
            raise NotFound(f"Unit '{code}' does not exist", [{"field": "unit", "message": "unknown unit"}])
        return list(session.scalars(select(Unit).where(Unit.parent_id == office.id).order_by(Unit.code)))


def managed_unit_ids(session: Session, actor: Actor) -> set[int]:
    """The units whose accounts and calendar ``actor`` administers: every unit for a global administrator;
    for ``admin@UNIT`` the units it is ``admin`` of and their sub-units."""
    if actor.is_admin:
        return set(session.scalars(select(Unit.id)))
    offices = {unit_id for unit_id, roles in actor.roles_by_unit.items() if ADMIN_ROLE in roles}
    if not offices:
        return set()
    return offices | set(session.scalars(select(Unit.id).where(Unit.parent_id.in_(offices))))


def managed_units(services: Services, actor: Actor) -> list[Unit]:
    """The units of :func:`managed_unit_ids`, offices first, each followed by its sub-units."""
    with services.db.reading() as session:
        ids = managed_unit_ids(session, actor)
        if not ids:
            raise Forbidden("Only administrators manage units")
        units = list(session.scalars(select(Unit).where(Unit.id.in_(ids))))
    codes = {unit.id: unit.code for unit in units}
    return sorted(units, key=lambda unit: (codes.get(unit.parent_id or 0, unit.code), unit.parent_id is not None,
                                           unit.code))


def grant_in_force(now: datetime | SQLColumnExpression[datetime]) -> ColumnElement[bool]:
    """THE rule of when an acting grant (Plt./Plh., :mod:`service.commands.acting`) gives its role: from
    its first day's start to its last day's end, unless revoked."""
    return and_(ActingGrant.starts_at <= now, ActingGrant.ends_at > now, ActingGrant.revoked_at.is_(None))


def role_holders(unit_id: int | SQLColumnExpression[int], role: str | SQLColumnExpression[str],
                 now: datetime | SQLColumnExpression[datetime] | None = None) -> Select[int]:
    """The ids of the active users holding ``role`` in the unit, as members or as acting officials in force:
    whom the outbox's mail to the role goes to, and whom the in-app notifications of an escalation or an
    overdue step reach (one resolution for both).

    ``unit_id`` and ``role`` may be columns (e.g. a task's candidates), in a statement of its caller's;
    ``now`` (default: this instant) may be a bound parameter of a statement built once.
    """
    member = exists().where(Membership.user_id == User.id, Membership.unit_id == unit_id, Membership.role == role)
    acting = exists().where(ActingGrant.user_id == User.id, ActingGrant.unit_id == unit_id, ActingGrant.role == role,
                            grant_in_force(utc_now() if now is None else now))
    return select(User.id).where(User.active.is_(True), or_(member, acting))


def _check_code(code: str) -> None:
    if not _UNIT_CODE.fullmatch(code):
        raise InvalidInput("A unit code is 2-64 lower-case letters, digits and dashes",
                           [{"field": "code", "message": "invalid"}])


def parse_role_spec(spec: str) -> tuple[str, str]:
    """``'ROLE@UNIT'`` → (role, unit code)."""
    role, sep, unit = spec.rpartition("@")
    if not sep or not role.strip() or not unit.strip():
        raise InvalidInput(f"Role {spec!r} must look like ROLE@UNIT", [{"field": "role", "message": spec}])
    return role.strip(), unit.strip()


class UserAction(StrEnum):
    """What the account history (``user_events``) records."""

    CREATED = "created"
    DISABLED = "disabled"
    ENABLED = "enabled"
    PASSWORD_CHANGED = "password_changed"  # by the user, who gave the old one
    PASSWORD_RESET = "password_reset"  # by an administrator
    UNLOCKED = "unlocked"
    LOCKED = "locked"  # the wrong password that started the sign-in delay
    SIGNED_OUT = "signed_out"
    ROLE_ADDED = "role_added"
    ROLE_REMOVED = "role_removed"
    SSO_CREATED = "sso_created"  # first sign-in through single sign-on created the account
    SSO_ROLES = "sso_roles"  # the provider's role claim added or removed roles at a sign-in
    ACTING_GRANTED = "acting_granted"  # made Plt./Plh. of a role for a period
    ACTING_REVOKED = "acting_revoked"


class UnitAction(StrEnum):
    """What a unit's history (``unit_events``) records."""

    CREATED = "created"
    HOURS_SET = "hours_set"
    CLOSED_DAY_ADDED = "closed_day_added"
    CLOSED_DAY_REMOVED = "closed_day_removed"
    SUB_UNIT_CREATED = "sub_unit_created"
    CONTACT_SET = "contact_set"  # the office contact reporters see on the follow-up page


def record_event(session: Session, user_id: int, actor: Actor | None, action: UserAction,
                 **data: Any) -> None:
    session.add(UserEvent(user_id=user_id, actor=actor.username if actor else None, action=action.value,
                          data=data))


def record_unit_event(session: Session, unit_id: int, actor: Actor | None, action: UnitAction,
                      **data: Any) -> None:
    session.add(UnitEvent(unit_id=unit_id, actor=actor.username if actor else None, action=action.value,
                          data=data))


def check_email(email: str | None) -> str | None:
    """The address, stripped; none for an empty one."""
    email = (email or "").strip()
    if not email:
        return None
    if len(email) > 254 or not _EMAIL.fullmatch(email):
        raise InvalidInput("Not an e-mail address", [{"field": "email", "message": "invalid"}])
    return email


def check_username(username: str) -> None:
    if not _USERNAME.fullmatch(username):
        raise InvalidInput("A username is 1-100 letters, digits and . _ @ - (starting with a letter or digit)",
                           [{"field": "username", "message": "invalid"}])


def create_user(
    services: Services, username: str, password: str, roles: list[str], is_admin: bool = False,
    display_name: str = "", email: str | None = None, actor: Actor | None = None,
) -> User:
    check_username(username)
    email = check_email(email)
    check_new_password(password)
    with services.db.transaction() as session:
        if session.scalar(select(User).where(User.username == username)) is not None:
            raise Conflict(f"User '{username}' already exists", [{"field": "username", "message": "already exists"}])
        user = User(username=username, password_hash=hash_password(password), is_admin=is_admin,
                    display_name=display_name or username, email=email)
        session.add(user)
        session.flush()
        for spec in roles:
            role, code = parse_role_spec(spec)
            session.add(Membership(user_id=user.id, unit_id=unit_by_code(session, code).id, role=role))
        record_event(session, user.id, actor, UserAction.CREATED, roles=sorted(roles), is_admin=is_admin)
    return user


def authenticate(services: Services, username: str, password: str) -> Actor:
    """Check a password without the sign-in throttle: for tools and tests, never for a client's request
    (those go through :func:`service.commands.signin.sign_in`)."""
    with services.db.reading() as session:
        user = session.scalar(select(User).where(User.username == username))
        if not verify_password(user.password_hash if user else None, password) or user is None or not user.active:
            raise Unauthorized("Wrong username or password")
        return Actor.of(user)


#: signed tokens a process keeps verified (:func:`_signed_claims`): more than the staff of a province
_VERIFIED_TOKENS_KEPT = 4096


@lru_cache(maxsize=8)
def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_TOKEN_SALT)


def issue_token(services: Services, actor: Actor) -> str:
    """A bearer token that names the user and the credential version it was issued under."""
    return str(_serializer(services.settings.secret_key).dumps({"uid": actor.user_id, "cv": actor.credential_version}))


@lru_cache(maxsize=_VERIFIED_TOKENS_KEPT)
def _signed_claims(secret_key: str, token: str) -> tuple[Any, Any, float]:
    """The user id and credential version a token names, and when it was signed: its signature checked
    once per process (HMAC, base64 and JSON were a fifth of the token check on every request). A token
    whose signature fails raises :class:`BadSignature` and is not kept. Its age is checked on each use by
    the caller, and the account on each use too (:func:`actor_with_credentials`)."""
    payload, signed_at = _serializer(secret_key).loads(token, return_timestamp=True)
    if not isinstance(payload, dict):
        return None, None, signed_at.timestamp()
    return payload.get("uid"), payload.get("cv"), signed_at.timestamp()


def actor_from_token(services: Services, token: str) -> Actor:
    try:
        user_id, version, signed_at = _signed_claims(services.settings.secret_key, token)
    except BadSignature as exc:
        raise Unauthorized("The token is not valid") from exc
    if not 0 <= time.time() - signed_at <= services.settings.token_hours * 3600:
        raise Unauthorized("The token has expired; request a new one")
    if not isinstance(user_id, int) or not isinstance(version, int):
        raise Unauthorized("The token is not valid; request a new one")  # e.g. issued before credential versions
    return actor_with_credentials(services, user_id, version)


@built_once()
def _credentials_statement() -> Select[tuple[bool, int]]:
    users = User.__table__.c
    return select(users.active, users.credential_version).where(users.id == bindparam("user_id"))


def actor_with_credentials(services: Services, user_id: int, version: int) -> Actor:
    """The actor of a token, checked on every use.

    Whether the account is active and the token's credential version still current: one read by
    primary key, or what a server process kept of it while it listens for changes of accounts
    (:mod:`service.store.change_notices`). So a disabled account, a changed password or a sign-out
    ends its tokens in every process; the roles come from the :class:`ActorCache` (up to ``ttl``
    seconds old).
    """
    row = services.db.changes.row(
        user_id, lambda: services.db.first_row(_credentials_statement(), {"user_id": user_id}))
    if row is None or not row[0] or row[1] != version:
        services.actors.forget(user_id)
        raise Unauthorized(ENDED)
    actor = services.actors.get(user_id, lambda: actor_by_id(services, user_id))
    if actor.credential_version != version:  # cached before the change; this process was not told
        services.actors.forget(user_id)
        actor = services.actors.get(user_id, lambda: actor_by_id(services, user_id))
        if actor.credential_version != version:
            raise Unauthorized(ENDED)
    return actor


def actor_by_id(services: Services, user_id: int) -> Actor:
    """The user with their roles: memberships, and the acting grants in force now."""
    with services.db.reading() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise Unauthorized("The account no longer exists or is disabled")
        return Actor.of(user, _acting_now(session, user_id))


def acting_label(kind: str, role: str, for_username: str | None) -> str:
    """How history names an acting grant: ``Plt. Kabid a.n. budi``."""
    return f"{kind}. {role}" + (f" a.n. {for_username}" if for_username else "")


def _acting_now(session: Session, user_id: int) -> list[tuple[int, str, str]]:
    """(unit id, role, how history names it) of the user's acting grants in force."""
    holder = aliased(User)
    rows = session.execute(select(ActingGrant.unit_id, ActingGrant.role, ActingGrant.kind, holder.username)
                           .outerjoin(holder, holder.id == ActingGrant.for_user_id)
                           .where(ActingGrant.user_id == user_id, grant_in_force(utc_now())))
    return [(unit_id, role, acting_label(kind, role, name)) for unit_id, role, kind, name in rows]
