"""Staff accounts from single sign-on (OpenID Connect): created on first sign-in, roles from a claim.

The identity provider is trusted for who the person is (its validated ``id_token``: issuer, subject,
name, e-mail) and for the roles it lists in the configured claim as ``ROLE@UNIT`` values, e.g.
``Kasi@dpmptsp-kukar``. Those roles are kept as memberships of source ``sso`` and replaced at every
SSO sign-in (a role removed at the provider ends in Alur at the next sign-in); roles given in Alur
(source ``local``) stay. An account is found by issuer and subject, never by username: a provider
name that equals an existing local username is refused, not merged (that would hand the account over).
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands.accounts import UserAction, check_email, parse_role_spec, record_event
from service.commands.context import Actor, Services
from service.commands.passwords import hash_password
from service.errors import Conflict, InvalidInput, Unauthorized
from service.store.models import Membership, Unit, User

log = logging.getLogger("alur.sso")
SSO_SOURCE = "sso"
_NAME_CHARS = re.compile(r"[^A-Za-z0-9._@-]")


@dataclass(frozen=True)
class ExternalIdentity:
    """Who the provider says signed in (from a validated id_token and userinfo)."""

    issuer: str
    subject: str
    username: str
    email: str | None
    display_name: str
    roles: tuple[str, ...]

    @property
    def external_id(self) -> str:
        return f"{self.issuer} {self.subject}"


def identity_from_claims(claims: Mapping[str, Any], role_claim: str) -> ExternalIdentity:
    """The identity in validated claims; the username is ``preferred_username``, else the e-mail, else
    the subject, cut to Alur's username alphabet."""
    issuer, subject = str(claims.get("iss") or ""), str(claims.get("sub") or "")
    if not issuer or not subject:
        raise Unauthorized("The identity provider's token names no issuer or subject")
    wanted = str(claims.get("preferred_username") or claims.get("email") or subject)
    username = _NAME_CHARS.sub("-", wanted).lstrip("._@-")[:100] or f"sso-{secrets.token_hex(4)}"
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    try:
        email = check_email(email)
    except InvalidInput:
        email = None
    raw = claims.get(role_claim) or []
    values = [raw] if isinstance(raw, str) else [str(v) for v in raw] if isinstance(raw, list) else []
    return ExternalIdentity(issuer, subject, username, email, str(claims.get("name") or username)[:200],
                            tuple(sorted(set(values))))


def _claimed_roles(session: Session, values: Iterable[str]) -> tuple[set[tuple[int, str]], list[str]]:
    """(unit id, role) of each ``ROLE@UNIT`` value naming a unit Alur has; the rest, ignored."""
    wanted: dict[str, list[str]] = {}
    ignored = []
    for value in values:
        try:
            role, code = parse_role_spec(value)
        except InvalidInput:
            ignored.append(value)
            continue
        wanted.setdefault(code, []).append(role)
    units = dict(session.execute(select(Unit.code, Unit.id).where(Unit.code.in_(wanted))).all())
    ignored += [f"{role}@{code}" for code, roles in wanted.items() if code not in units for role in roles]
    return {(units[code], role) for code, roles in wanted.items() if code in units for role in roles}, ignored


def sign_in_external(services: Services, identity: ExternalIdentity) -> Actor:
    """The account of ``identity`` (created on first sign-in) with its SSO roles brought up to date."""
    with services.db.transaction() as session:
        user = session.scalar(select(User).where(User.external_id == identity.external_id))
        if user is None:
            user = _create(session, identity)
        elif not user.active:
            raise Unauthorized("This account is disabled")
        else:
            user.email = identity.email or user.email
            user.display_name = identity.display_name or user.display_name
        _sync_roles(session, user, identity.roles)
        session.flush()
        session.refresh(user, ["memberships"])
        return Actor.of(user)


def _create(session: Session, identity: ExternalIdentity) -> User:
    if session.scalar(select(User.id).where(User.username == identity.username)) is not None:
        log.warning("SSO sign-in refused: username %r is a local account's", identity.username)
        raise Conflict(f"An account named '{identity.username}' exists already and is not linked to single sign-on",
                       [{"field": "username", "message": "taken by a local account"}])
    # no password anyone knows: the account signs in through the provider only (an admin may set one)
    user = User(username=identity.username, password_hash=hash_password(secrets.token_urlsafe(32)),
                display_name=identity.display_name, email=identity.email, external_id=identity.external_id)
    session.add(user)
    session.flush()
    record_event(session, user.id, None, UserAction.SSO_CREATED, issuer=identity.issuer)
    return user


def _sync_roles(session: Session, user: User, values: Iterable[str]) -> None:
    claimed, ignored = _claimed_roles(session, values)
    held = {(m.unit_id, m.role): m for m in user.memberships}
    added = sorted(claimed - set(held))
    removed = sorted(key for key, m in held.items() if m.source == SSO_SOURCE and key not in claimed)
    for unit_id, role in added:
        session.add(Membership(user_id=user.id, unit_id=unit_id, role=role, source=SSO_SOURCE))
    for key in removed:
        session.delete(held[key])
    if added or removed or ignored:
        codes = dict(session.execute(select(Unit.id, Unit.code)).all())
        record_event(session, user.id, None, UserAction.SSO_ROLES,
                     added=[f"{role}@{codes[unit]}" for unit, role in added],
                     removed=[f"{role}@{codes[unit]}" for unit, role in removed], ignored=sorted(ignored))
