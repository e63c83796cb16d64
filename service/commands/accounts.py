"""Units, users, memberships, sign-in and API tokens."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands.context import Actor, Services
from service.commands.passwords import hash_password, verify_password
from service.errors import Conflict, InvalidInput, NotFound, Unauthorized
from service.store.models import Membership, Unit, User

_TOKEN_SALT = "alur-api-token"


def unit_by_code(session: Session, code: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.code == code))
    if unit is None:
        raise NotFound(f"Unit '{code}' does not exist", [{"field": "unit", "message": "unknown unit"}])
    return unit


def create_unit(services: Services, code: str, name: str, timezone: str = "Asia/Jakarta") -> Unit:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"Unknown timezone {timezone!r}", [{"field": "timezone", "message": "unknown"}]) from exc
    with services.db.transaction() as session:
        if session.scalar(select(Unit).where(Unit.code == code)) is not None:
            raise Conflict(f"Unit '{code}' already exists")
        unit = Unit(code=code, name=name, timezone=timezone)
        session.add(unit)
    return unit


def parse_role_spec(spec: str) -> tuple[str, str]:
    """``'ROLE@UNIT'`` → (role, unit code)."""
    role, sep, unit = spec.rpartition("@")
    if not sep or not role.strip() or not unit.strip():
        raise InvalidInput(f"Role {spec!r} must look like ROLE@UNIT", [{"field": "role", "message": spec}])
    return role.strip(), unit.strip()


def create_user(
    services: Services, username: str, password: str, roles: list[str], is_admin: bool = False,
    display_name: str = "",
) -> User:
    if len(password) < 8:
        raise InvalidInput("Passwords need at least 8 characters", [{"field": "password", "message": "too short"}])
    with services.db.transaction() as session:
        if session.scalar(select(User).where(User.username == username)) is not None:
            raise Conflict(f"User '{username}' already exists")
        user = User(username=username, password_hash=hash_password(password), is_admin=is_admin,
                    display_name=display_name or username)
        session.add(user)
        session.flush()
        for spec in roles:
            role, code = parse_role_spec(spec)
            session.add(Membership(user_id=user.id, unit_id=unit_by_code(session, code).id, role=role))
    return user


def authenticate(services: Services, username: str, password: str) -> Actor:
    with services.db.reading() as session:
        user = session.scalar(select(User).where(User.username == username))
        if not verify_password(user.password_hash if user else None, password) or user is None or not user.active:
            raise Unauthorized("Wrong username or password")
        return Actor.of(user)


def _serializer(services: Services) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(services.settings.secret_key, salt=_TOKEN_SALT)


def issue_token(services: Services, actor: Actor) -> str:
    return str(_serializer(services).dumps({"uid": actor.user_id}))


def actor_from_token(services: Services, token: str) -> Actor:
    try:
        payload = _serializer(services).loads(token, max_age=services.settings.token_hours * 3600)
    except SignatureExpired as exc:
        raise Unauthorized("The token has expired; request a new one") from exc
    except BadSignature as exc:
        raise Unauthorized("The token is not valid") from exc
    user_id = int(payload["uid"])
    return services.actors.get(user_id, lambda: actor_by_id(services, user_id))


def actor_by_id(services: Services, user_id: int) -> Actor:
    with services.db.reading() as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            raise Unauthorized("The account no longer exists or is disabled")
        return Actor.of(user)
