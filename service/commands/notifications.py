"""In-app notifications ("Perlu perhatian Anda"): a breached SLA step reaches people in the app, not only by mail.

When a step's SLA timer fires (a timer with an ``eskalasi_ke`` role, attached to an open task), the
same transaction writes, in one INSERT … SELECT:

- ``escalation`` to every active holder of the escalation role in the case's unit — the users the
  escalation mail goes to (:func:`service.commands.accounts.role_holders`, the outbox's own resolution);
- ``overdue`` to the holders of the step's own roles (its candidates, in the unit the task is routed
  to), or to its claimant alone when someone claimed it; a user who gets the escalation does not get
  the overdue notice as well. A reporter's lane is never notified here (its deadlines move the case on,
  they do not escalate), nor is a timer without ``eskalasi_ke``.

The breach mark (``tasks.breached_at``) is set once per task, and notifications are written only by
the fire that set it: a second sweep, a retried batch or a restarted worker adds none. The texts are
kept in ``data`` (step name, due time, the case's label), so reading the list needs no workflow.

Reading is the user's own rows, limited to cases the user may still see (:func:`access.visible_cases`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    CursorResult,
    Insert,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from service.commands import access
from service.commands.accounts import role_holders
from service.commands.context import REPORTER_ROLE, Actor, Services
from service.engine import TaskStatus, utc_now
from service.errors import NotFound
from service.store.built_once import built_once
from service.store.models import TASK_IS_READY, Case, Notification, Task, TaskCandidate, Unit, User

PER_PAGE = 20
#: at most this many cases in the task list's "Perlu perhatian Anda"
ATTENTION_LIMIT = 20


class NotificationKind(StrEnum):
    ESCALATION = "escalation"  # an SLA step of someone else breached, and escalates to your role
    OVERDUE = "overdue"  # your own step's SLA time ran out


class BreachedTask(NamedTuple):
    """The task an SLA timer just marked breached (as the marking UPDATE returned it)."""

    id: str
    name: str
    due_at: datetime | None
    claimed_by: int | None


#: ``Session.info`` key: the breaches noted by :func:`record_breach`, not yet written by :func:`write_breaches`
_PENDING = "alur.breaches"


class _Breach(NamedTuple):
    """A breach waiting for :func:`write_breaches`: the statement's parameters, and the step's candidate
    roles as the case's task rows held them when the timer fired."""

    params: dict[str, Any]
    candidates: list[tuple[int, str]]


def record_breach(session: Session, case: Case, task: BreachedTask, escalate_to: str | None,
                  now: datetime) -> None:
    """Note the notifications of a newly breached step; :func:`write_breaches` writes them, one statement
    for every breach of the transaction (the timer worker's batch).

    Only an SLA timer (one with ``escalate_to``) notifies; see the module's docstring for who gets what.
    The step's candidate roles are taken now, as the task's row holds them (read with its candidates by
    the fire: no statement), before the fire's own write may cancel the task and drop them.
    """
    if not escalate_to:
        return
    # imported here: display imports cases, which imports sync, which imports this module
    from service.commands.display import case_label

    data = {"step": task.name, "due_at": task.due_at.isoformat() if task.due_at else None,
            "label": case_label(case), "role": escalate_to}
    session.info.setdefault(_PENDING, []).append(_Breach(
        {"case_id": case.id, "task_id": task.id, "unit_id": case.unit_id, "role": escalate_to,
         "user_id": task.claimed_by, "data": data, "now": now}, _candidates(session, task.id)))


def _candidates(session: Session, task_id: str) -> list[tuple[int, str]]:
    """(unit, role) of each candidate role of the task but the reporter's: from its row in the session
    (the fire read it with its candidates), else read."""
    row = session.identity_map.get(identity_key(Task, task_id))
    if isinstance(row, Task) and "candidates" in row.__dict__:
        found = [(candidate.unit_id, candidate.role) for candidate in row.candidates]
    else:
        with session.no_autoflush:
            found = [(unit_id, role) for unit_id, role in session.execute(
                select(TaskCandidate.unit_id, TaskCandidate.role).where(TaskCandidate.task_id == task_id))]
    return [(unit_id, role) for unit_id, role in found if role != REPORTER_ROLE]


def write_breaches(session: Session) -> int:
    """The notifications of every breach :func:`record_breach` noted in this session since the last call,
    as one INSERT … SELECT (none: no statement); returns how many breaches were written."""
    pending: list[_Breach] = session.info.pop(_PENDING, [])
    if not pending:
        return 0
    params: dict[str, Any] = {}
    roles = 0
    for number, breach in enumerate(pending):
        params.update({f"{key}_{number}": value for key, value in breach.params.items()})
        for unit_id, role in breach.candidates:
            params[f"cn_{roles}"], params[f"cunit_{roles}"], params[f"crole_{roles}"] = number, unit_id, role
            roles += 1
    with session.no_autoflush:
        session.execute(_breach_statement(len(pending), roles), params)
    return len(pending)


@built_once(maxsize=256)
def _breach_statement(count: int, roles: int) -> Insert:
    """:func:`write_breaches`' statement for ``count`` breaches whose steps have ``roles`` candidate roles
    in all, built once per shape (its values are parameters ``<name>_<row>``): the escalation role's
    holders in each case's unit, and the holders of each step's candidate roles (its claimant alone when
    claimed) who do not get that escalation. Its rows come breach by breach, each breach's escalations first."""
    table = cast(Table, Notification.__table__)
    types = {"case_id": table.c.case_id.type, "task_id": table.c.task_id.type, "unit_id": Integer(),
             "role": String(), "user_id": Integer(), "data": table.c.data.type, "now": table.c.created_at.type}
    breaches = _all([select(literal(number, Integer).label("n"),
                            *(bindparam(f"{key}_{number}", type_=kind).label(key) for key, kind in types.items()))
                     for number in range(count)]).cte("breaches")
    candidates = [select(bindparam(f"cn_{row}", type_=Integer).label("n"),
                         bindparam(f"cunit_{row}", type_=Integer).label("unit_id"),
                         bindparam(f"crole_{row}", type_=String).label("role")) for row in range(roles)]
    escalated = (role_holders(breaches.c.unit_id, breaches.c.role, breaches.c.now)
                 .join_from(breaches, User, true()).add_columns(breaches.c.n).cte("escalated"))
    parts = [select(escalated.c.id.label("user_id"), escalated.c.n, literal(0).label("rank"),
                    literal(NotificationKind.ESCALATION.value).label("kind"))]
    if candidates:
        role = _all(candidates).cte("candidate_roles")
        own = (role_holders(role.c.unit_id, role.c.role, breaches.c.now)
               .join_from(role, User, true()).join(breaches, breaches.c.n == role.c.n)
               .where(or_(breaches.c.user_id.is_(None), User.id == breaches.c.user_id),
                      ~exists().where(escalated.c.n == role.c.n, escalated.c.id == User.id))
               .add_columns(role.c.n).distinct().subquery())
        parts.append(select(own.c.id.label("user_id"), own.c.n, literal(1).label("rank"),
                            literal(NotificationKind.OVERDUE.value).label("kind")))
    found = _all(parts).subquery()
    source = (select(found.c.user_id, breaches.c.case_id, breaches.c.task_id, found.c.kind, breaches.c.data,
                     breaches.c.now)
              .join_from(found, breaches, breaches.c.n == found.c.n)
              .order_by(found.c.n, found.c.rank, found.c.user_id))
    return insert(table).from_select(["user_id", "case_id", "task_id", "kind", "data", "created_at"], source)


def _all(selects: Sequence[Select[*tuple[Any, ...]]]) -> Any:
    """The rows of all ``selects`` (UNION ALL), or of the only one."""
    return union_all(*selects) if len(selects) > 1 else selects[0]


# --- reading ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One notification as the list shows it."""

    id: int
    case_id: str
    task_id: str | None
    kind: str
    step: str
    due_at: datetime | None
    label: str
    role: str | None
    created_at: datetime
    read_at: datetime | None
    #: the unit's timezone, for showing the times
    timezone: str
    #: the task is still open (ready): the case still needs the user's attention
    open: bool

    @property
    def unread(self) -> bool:
        return self.read_at is None


@dataclass(frozen=True)
class NotificationPage:
    items: list[Entry]
    total: int
    unread: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)


def _entry(note: Notification, timezone: str, task_status: str | None) -> Entry:
    data = note.data or {}
    due = data.get("due_at")
    return Entry(note.id, note.case_id, note.task_id, note.kind, str(data.get("step") or ""),
                 datetime.fromisoformat(due) if isinstance(due, str) else None,
                 str(data.get("label") or ""), data.get("role"), note.created_at, note.read_at,
                 timezone, task_status == TaskStatus.READY.value)


def _mine(actor: Actor) -> Any:
    """The user's own notifications about cases they may (still) see."""
    return (select(Notification).join(Case, Case.id == Notification.case_id)
            .where(Notification.user_id == actor.user_id, access.visible_cases(actor)))


def _listed(actor: Actor) -> Any:
    return (_mine(actor).add_columns(Unit.timezone, Task.status).join(Unit, Unit.id == Case.unit_id)
            .outerjoin(Task, Task.id == Notification.task_id))


def list_notifications(services: Services, actor: Actor, page: int = 1, per_page: int = PER_PAGE) -> NotificationPage:
    """The user's notifications, newest first, a page of them; with how many there are and are unread."""
    page = max(page, 1)
    with services.db.reading() as session:
        total, unread = session.execute(
            _mine(actor).with_only_columns(func.count(Notification.id),
                                           func.count(Notification.id).filter(Notification.read_at.is_(None)),
                                           maintain_column_froms=False)
        ).one()
        rows = session.execute(_listed(actor).order_by(Notification.created_at.desc(), Notification.id.desc())
                               .offset((page - 1) * per_page).limit(per_page)).all()
        return NotificationPage([_entry(note, timezone, status) for note, timezone, status in rows],
                                total or 0, unread or 0, page, per_page)


def unread_count(services: Services, actor: Actor) -> int:
    """How many notifications the user has not read: one statement on ``ix_notifications_user_unread``."""
    with services.db.reading() as session:
        return session.scalar(_mine(actor).where(Notification.read_at.is_(None))
                              .with_only_columns(func.count(Notification.id), maintain_column_froms=False)) or 0


def attention(services: Services, actor: Actor, limit: int = ATTENTION_LIMIT) -> list[Entry]:
    """"Perlu perhatian Anda": the breached steps that reached the user and are still open, newest first,
    one entry per task (read or not). One statement."""
    with services.db.reading() as session:
        rows = session.execute(
            _listed(actor).where(TASK_IS_READY, Task.breached_at.is_not(None))
            .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit * 2)
        ).all()
    found: dict[str | None, Entry] = {}
    for note, timezone, status in rows:
        found.setdefault(note.task_id, _entry(note, timezone, status))
    return list(found.values())[:limit]


# --- marking read -----------------------------------------------------------------------------------

def mark_read(services: Services, actor: Actor, notification_id: int) -> Entry:
    """One of the user's notifications read (again: no change); another user's is :class:`NotFound`."""
    with services.db.transaction() as session:
        row = session.execute(_listed(actor).where(Notification.id == notification_id)).first()
        if row is None:
            raise NotFound(f"Notification {notification_id} does not exist or is not yours")
        note, timezone, status = row
        if note.read_at is None:
            note.read_at = utc_now()
        return _entry(note, timezone, status)


def _mark(session: Session, actor: Actor, *where: Any) -> int:
    result = session.execute(update(Notification).where(Notification.user_id == actor.user_id,
                                                        Notification.read_at.is_(None), *where)
                             .values(read_at=utc_now()).execution_options(synchronize_session=False))
    return int(cast(CursorResult[Any], result).rowcount)


def mark_all_read(services: Services, actor: Actor) -> int:
    """Every notification of the user read; how many were unread."""
    with services.db.transaction() as session:
        return _mark(session, actor)


def mark_case_read(services: Services, actor: Actor, case_id: str) -> int:
    """The user opened the case: its notifications to them are read (one UPDATE; none: nothing written)."""
    if not actor.user_id:
        return 0
    with services.db.transaction() as session:
        return _mark(session, actor, Notification.case_id == case_id)
