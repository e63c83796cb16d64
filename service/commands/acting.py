"""Acting officials: Plt. (Pelaksana Tugas) and Plh. (Pelaksana Harian).

An administrator of a unit grants a user one of the unit's roles on behalf of its holder for a range of
days (in the unit's timezone). While the grant is in force the user holds the role like a member: task
lists, task actions, case visibility, escalation mail and notifications (:func:`holders_now`), the
dashboard; who holds a role now is :func:`service.commands.accounts.role_holders`, and when a grant is in
force :func:`~service.commands.accounts.grant_in_force`. History names both people (:meth:`Actor.signature`,
:func:`~service.commands.accounts.acting_label`). A grant ends by itself at the end of its
last day (an actor is re-read within the :class:`ActorCache` ttl); an administrator may end it early.
Every grant and revocation is in the account history of the acting user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from service.commands.accounts import (
    UserAction,
    acting_label,
    grant_in_force,
    managed_unit_ids,
    record_event,
    unit_by_code,
)
from service.commands.context import ADMIN_ROLE, Actor, Services
from service.engine import utc_now
from service.errors import Conflict, Forbidden, InvalidInput, NotFound
from service.store.models import ActingGrant, Membership, Unit, User

KINDS = ("Plt", "Plh")
#: the longest grant: a Plt. is for an absence, not a permanent role (that is a membership)
MAX_DAYS = 366


@dataclass(frozen=True)
class GrantRequest:
    username: str
    role: str
    unit_code: str
    for_username: str
    kind: str
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class GrantRow:
    """A grant as the administration lists it."""

    id: int
    username: str
    for_username: str | None
    unit_code: str
    role: str
    kind: str
    starts_on: date
    ends_on: date
    granted_by: str | None
    revoked: bool
    in_force: bool
    label: str


def _user(session: Session, username: str, field: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"User '{username}' does not exist", [{"field": field, "message": "unknown user"}])
    return user


def _bounds(unit: Unit, first: date, last: date) -> tuple[datetime, datetime]:
    if last < first:
        raise InvalidInput("The grant ends before it starts", [{"field": "ends_on", "message": "before starts_on"}])
    if (last - first).days >= MAX_DAYS:
        raise InvalidInput(f"A grant lasts at most {MAX_DAYS} days",
                           [{"field": "ends_on", "message": f"at most {MAX_DAYS} days"}])
    zone = ZoneInfo(unit.timezone)
    return datetime.combine(first, time(), zone), datetime.combine(last + timedelta(days=1), time(), zone)


def grant(services: Services, actor: Actor, request: GrantRequest) -> int:
    """Grant an acting role (its id); only an administrator of the unit (or of its office)."""
    if request.kind not in KINDS:
        raise InvalidInput("The kind is Plt or Plh", [{"field": "kind", "message": "Plt or Plh"}])
    role = request.role.strip()
    if not role or role == ADMIN_ROLE or len(role) > 100:
        raise InvalidInput("An acting role is one of the unit's working roles, not admin",
                           [{"field": "role", "message": "not admin, 1-100 characters"}])
    with services.db.transaction() as session:
        unit = unit_by_code(session, request.unit_code)
        if unit.id not in managed_unit_ids(session, actor):
            raise Forbidden("Only the unit's administrators grant acting roles in it")
        acting, holder = _user(session, request.username, "username"), _user(session, request.for_username,
                                                                              "for_username")
        if acting.id == holder.id:
            raise InvalidInput("Nobody acts on their own behalf", [{"field": "for_username", "message": "same user"}])
        if session.scalar(select(Membership.id).where(Membership.user_id == holder.id, Membership.unit_id == unit.id,
                                                      Membership.role == role)) is None:
            raise InvalidInput(f"{holder.username} does not hold {role} in {unit.code}",
                               [{"field": "for_username", "message": "does not hold the role"}])
        starts_at, ends_at = _bounds(unit, request.starts_on, request.ends_on)
        overlapping = session.scalar(select(ActingGrant.id).where(
            ActingGrant.user_id == acting.id, ActingGrant.unit_id == unit.id, ActingGrant.role == role,
            ActingGrant.revoked_at.is_(None), ActingGrant.starts_at < ends_at, ActingGrant.ends_at > starts_at))
        if overlapping is not None:
            raise Conflict("The user already acts in this role for part of that period",
                           [{"field": "starts_on", "message": "overlaps another grant"}])
        row = ActingGrant(user_id=acting.id, for_user_id=holder.id, unit_id=unit.id, role=role, kind=request.kind,
                          starts_on=request.starts_on, ends_on=request.ends_on, starts_at=starts_at, ends_at=ends_at,
                          granted_by=actor.username)
        session.add(row)
        session.flush()
        record_event(session, acting.id, actor, UserAction.ACTING_GRANTED, role=f"{role}@{unit.code}",
                     kind=request.kind, on_behalf_of=holder.username, starts_on=request.starts_on.isoformat(),
                     ends_on=request.ends_on.isoformat())
        grant_id = row.id
    services.actors.forget(acting.id)
    return grant_id


def revoke(services: Services, actor: Actor, grant_id: int) -> None:
    """End a grant now (it stays listed, as revoked)."""
    with services.db.transaction() as session:
        row = session.get(ActingGrant, grant_id)
        if row is None or row.unit_id not in managed_unit_ids(session, actor):
            raise NotFound(f"Acting grant {grant_id} does not exist")
        if row.revoked_at is None:
            row.revoked_at = utc_now()
            record_event(session, row.user_id, actor, UserAction.ACTING_REVOKED, grant=row.id, role=row.role)
        user_id = row.user_id
    services.actors.forget(user_id)


def grants_of(services: Services, actor: Actor) -> list[GrantRow]:
    """The grants of the units ``actor`` administers, newest first."""
    acting, holder = aliased(User), aliased(User)
    with services.db.reading() as session:
        units = managed_unit_ids(session, actor)
        if not units:
            raise Forbidden("Only administrators manage acting grants")
        rows = session.execute(select(ActingGrant, acting.username, holder.username, Unit.code,
                                      grant_in_force(utc_now()))
                               .join(acting, acting.id == ActingGrant.user_id)
                               .outerjoin(holder, holder.id == ActingGrant.for_user_id)
                               .join(Unit, Unit.id == ActingGrant.unit_id)
                               .where(ActingGrant.unit_id.in_(units)).order_by(ActingGrant.id.desc()))
        return [GrantRow(row.id, name, for_name, code, row.role, row.kind, row.starts_on, row.ends_on,
                         row.granted_by, row.revoked_at is not None, bool(now_in_force),
                         acting_label(row.kind, row.role, for_name))
                for row, name, for_name, code, now_in_force in rows]
