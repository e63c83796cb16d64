"""Tables of DESIGN.md §2. Persistence only: no workflow logic, no HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar, Self, cast

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    inspect,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, make_transient_to_detached, mapped_column, relationship
from sqlalchemy.orm.util import identity_key

from service.engine.calendar import utc_now
from service.engine.states import TaskStatus
from service.store.states import OutboxStatus, RevisionStatus
from service.store.types import Digest, EntityId, StoredState, UTCDateTime


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[Any]: JSON}

    @classmethod
    def built(cls, values: Mapping[str, Any]) -> Self:
        """An object holding ``values`` as the ORM holds a row it loads: straight in the instance's dict,
        without attribute events (no change history to keep). For a row only ever inserted as it stands,
        or handed out to be read; on the hot paths the events cost more than the rest of building it."""
        row = cast(Self, inspect(cls).class_manager.new_instance())
        row.__dict__.update(values)
        return row

    @classmethod
    def as_loaded(cls, session: Session, values: dict[str, Any]) -> Self:
        """A row the caller read as plain columns, as the ORM would have loaded it (no SQL; a column not in
        ``values`` loads when first read once the row is in a session), unless the session holds it already.
        ``values`` holds the primary key (every column of it)."""
        mapper = inspect(cls)
        key = tuple(values[mapper.get_property_by_column(column).key] for column in mapper.primary_key)
        held = session.identity_map.get(identity_key(cls, key))
        if isinstance(held, cls):
            return held
        row = cls.built(values)
        make_transient_to_detached(row)
        return row


class Unit(Base):
    """An office (e.g. ``inspektorat-katingan``) with its own timezone and calendar."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Jakarta")
    #: weekday "0" (Monday) … "6" → ["08:00", "16:00"]; null means Monday–Friday 08:00–16:00
    working_hours: Mapped[dict[str, Any] | None] = mapped_column()
    #: a sub-unit (bidang, unit kerja, inspektorat pembantu) belongs to an office; tasks can be routed to it
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    #: the middle part of the unit's Nomor registrasi, e.g. ``DUMAS`` in ``001/DUMAS/XI/2026``
    registration_code: Mapped[str] = mapped_column(String(20), default="DUMAS", server_default="DUMAS")
    #: how a reporter reaches the office (shown on the public follow-up page); empty until an admin sets it
    contact_phone: Mapped[str | None] = mapped_column(String(50))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    contact_address: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class RegistrationCounter(Base):
    """The last Nomor registrasi a unit gave in a year; incremented in the case's own transaction."""

    __tablename__ = "registration_counters"
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class ClosedDay(Base):
    """A day a unit's office is closed besides the national holidays (cuti bersama, local closures)."""

    __tablename__ = "unit_closed_days"
    __table_args__ = (UniqueConstraint("unit_id", "day"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(40), default="libur")
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class UnitEvent(Base):
    """Append-only history of a unit's settings: created, office hours set, closed day added or removed,
    sub-unit created. ``actor`` is the username who did it (none for set-up tools)."""

    __tablename__ = "unit_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime] = mapped_column(default=utc_now)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(254))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: consecutive wrong passwords (web and API sign-in); reset by a right one or an admin unlock
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: no sign-in attempt is heard before this instant (the growing delay of :mod:`service.commands.signin`)
    locked_until: Mapped[datetime | None] = mapped_column()
    #: carried by every API token and web session; raised by disable, password change/reset and sign-out,
    #: which ends every token and session issued before
    credential_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    #: ``issuer subject`` of an account that signs in through single sign-on (OpenID Connect); null for
    #: accounts with a password only
    external_id: Mapped[str | None] = mapped_column(String(400), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    memberships: Mapped[list[Membership]] = relationship(back_populates="user", lazy="selectin")


class Membership(Base):
    """A user's role in a unit. A role is a lane name, or ``admin`` / ``process_owner``."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "unit_id", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(100))
    #: ``local`` (given in Alur) or ``sso`` (from the identity provider's claim: replaced at each SSO sign-in)
    source: Mapped[str] = mapped_column(String(10), default="local", server_default="local")
    user: Mapped[User] = relationship(back_populates="memberships")
    unit: Mapped[Unit] = relationship(lazy="joined")


class UserEvent(Base):
    """Append-only account history: created, disabled, enabled, password changed or reset, unlocked,
    locked by wrong passwords, signed out. ``actor`` is the username who did it (``system:cli``)."""

    __tablename__ = "user_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime] = mapped_column(default=utc_now)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SigninClient(Base):
    """Wrong passwords per client (a keyed hash of its address, never the address), for the sign-in
    throttle. A row is deleted once its client has been quiet for the throttle's memory."""

    __tablename__ = "signin_clients"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[datetime] = mapped_column(index=True)
    blocked_until: Mapped[datetime | None] = mapped_column()


class RateLimitCounter(Base):
    """A counter of the request rate limiter when every process shares it in the database
    (``ALUR_RATELIMIT_STORAGE_URI=database://``). The key names the limit, the endpoint and the client
    as a keyed hash of its address, never the address; rows past ``expires_at`` are deleted."""

    __tablename__ = "rate_limits"
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class Definition(Base):
    """One deployed revision of an SOP diagram."""

    __tablename__ = "definitions"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        Index("ix_definitions_key_checksum", "key", "checksum"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    title: Mapped[str] = mapped_column(String(300), default="")
    bpmn_xml: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(64))
    forms: Mapped[dict[str, Any]] = mapped_column(default=dict)
    #: the DMN decision tables its business rule tasks name: decision id → DMN XML (migration 0018)
    decisions: Mapped[dict[str, Any]] = mapped_column(default=dict)
    dependencies: Mapped[list[Any]] = mapped_column(default=list)
    sop_number: Mapped[str | None] = mapped_column(String(200))
    created_on: Mapped[date | None] = mapped_column(Date)
    revised_on: Mapped[date | None] = mapped_column(Date)
    effective_on: Mapped[date | None] = mapped_column(Date)
    approved_by: Mapped[str | None] = mapped_column(String(300))
    approved_at: Mapped[datetime | None] = mapped_column()
    sop_metadata: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default=RevisionStatus.ACTIVE.value)
    deployed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    deployed_at: Mapped[datetime] = mapped_column(default=utc_now)
    unit: Mapped[Unit] = relationship(lazy="joined")


class Case(Base):
    """A process instance, pinned to one revision; ``state`` is SpiffWorkflow state without the spec."""

    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(EntityId, primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"), index=True)
    #: no index of its own: ``ix_cases_unit_registration`` leads with it (migration 0020)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    business_key: Mapped[str | None] = mapped_column(String(200))
    tracking_code: Mapped[str | None] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[dict[str, Any]] = mapped_column(StoredState)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    next_timer_at: Mapped[datetime | None] = mapped_column()
    started_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(default=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column()
    #: consecutive failed timer sweeps; at the limit the case becomes status "error" (an incident)
    timer_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    #: the hash of the case's newest history row (null before the first): the chain's next link, kept
    #: on the row the optimistic lock guards, so appending needs no lookup and two appends cannot fork
    history_head: Mapped[str | None] = mapped_column(String(64))
    #: the office's register number (Nomor registrasi), e.g. ``001/DUMAS/XI/2026``, unique per unit
    registration_number: Mapped[str | None] = mapped_column(String(40))
    #: when the retention period's purge removed the case's personal data (null: not purged)
    purged_at: Mapped[datetime | None] = mapped_column()
    definition: Mapped[Definition] = relationship(lazy="joined")
    unit: Mapped[Unit] = relationship(lazy="joined")

    __table_args__ = (
        Index("ix_cases_unit_registration", "unit_id", "registration_number", unique=True),
        # partial (migration 0020): a finished case has no timer, most cases no business key
        Index("ix_cases_next_timer_at", "next_timer_at", postgresql_where=text("next_timer_at IS NOT NULL"),
              sqlite_where=text("next_timer_at IS NOT NULL")),
        Index("ix_cases_business_key", "business_key", postgresql_where=text("business_key IS NOT NULL"),
              sqlite_where=text("business_key IS NOT NULL")),
        # a reporter's case list, newest first (migration 0029); a case filed by no account is not in it
        Index("ix_cases_started_by", "started_by", "created_at", postgresql_where=text("started_by IS NOT NULL"),
              sqlite_where=text("started_by IS NOT NULL")),
    )

    __mapper_args__ = {"version_id_col": lock_version}


#: a ready task's status as SQL text (never a parameter: see :data:`TASK_IS_READY`)
_READY = f"'{TaskStatus.READY.value}'"
#: what the status indexes of ``tasks`` hold: the open tasks (migration 0024), or the claimed ones of them
_OPEN_TASKS = text(f"status = {_READY}")
_CLAIMED_OPEN_TASKS = text(f"status = {_READY} AND claimed_by IS NOT NULL")


class Task(Base):
    """Projection of a human task, written in the same transaction as the case state."""

    __tablename__ = "tasks"
    __table_args__ = (
        # Partial (migration 0024): a task is inserted ready and updated once, to completed or cancelled,
        # so these hold the open tasks only, where a completed one kept an entry forever. Only a query
        # saying :data:`TASK_IS_READY` uses them: an administrator's list and its capped count (due date or
        # creation order; the unit filter), "mine" (the claimed ones), the metrics' counts.
        Index("ix_tasks_ready_due", "due_at", "created_at", "id", postgresql_where=_OPEN_TASKS,
              sqlite_where=_OPEN_TASKS),
        Index("ix_tasks_ready_created", "created_at", "id", postgresql_where=_OPEN_TASKS, sqlite_where=_OPEN_TASKS),
        Index("ix_tasks_ready_claimed", "claimed_by", postgresql_where=_CLAIMED_OPEN_TASKS,
              sqlite_where=_CLAIMED_OPEN_TASKS),
        Index("ix_tasks_ready_unit_due", "unit_id", "due_at", postgresql_where=_OPEN_TASKS,
              sqlite_where=_OPEN_TASKS),
    )
    id: Mapped[str] = mapped_column(EntityId, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    definition_key: Mapped[str] = mapped_column(String(200))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(100))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    form_key: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime | None] = mapped_column()
    #: when an SLA timer on the task fired (the task stays open: the timers are non-interrupting)
    breached_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    completed_at: Mapped[datetime | None] = mapped_column()
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    unit: Mapped[Unit] = relationship(lazy="joined")
    candidates: Mapped[list[TaskCandidate]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", back_populates="task"
    )


#: THE test "the task is open (ready)" in SQL, with the value written into the statement's text. The
#: status indexes of ``tasks`` hold ready tasks only (partial, migration 0024), and a planner uses a
#: partial index only where the query's WHERE implies the index's: PostgreSQL's generic plan of a prepared
#: statement (psycopg prepares a statement once it ran five times on a connection) sees ``status = $1``
#: and cannot. (SQLite plans with the values bound, and again when they change.)
TASK_IS_READY = Task.status == literal_column(_READY, String())


#: the candidate rows that name a reporter (the partial indexes of a reporter's list)
_HAS_REPORTER = text("reporter_id IS NOT NULL")


class TaskCandidate(Base):
    """A role that may pick up an open task (its lane, or each of its candidateGroups).

    Rows exist only while the task is ready: the task list of a (unit, role) is these rows. Each holds a
    copy of the task's columns the list sorts and filters on (``due_at``, ``created_at``,
    ``definition_key``), so a page, a filtered page, its capped count and a keyset page are each one
    range of an index below, with no look-up of ``tasks`` but for the page's own rows (issue 13). The
    copies are taken when the row is built (:meth:`values_for`, the one place that copies them), and a due
    date that moves is written to the task and its candidates together (:mod:`service.commands.sync`);
    nothing else changes these columns of an open task.
    """

    __tablename__ = "task_candidates"
    __table_args__ = (
        # the due-date sorts and the due filters; the SOP filter read from the index too (after the
        # unique task id it orders nothing: both databases then read a filtered page from the index alone)
        Index("ix_task_candidates_due", "unit_id", "role", "due_at", "created_at", "task_id", "definition_key"),
        # the creation-date sorts, and the capped count without filters
        Index("ix_task_candidates_created", "unit_id", "role", "created_at", "task_id"),
        # a reporter's own rows, in the same two orders (migration 0028): only rows with a reporter
        Index("ix_task_candidates_reporter_due", "reporter_id", "unit_id", "role", "due_at", "created_at", "task_id",
              postgresql_where=_HAS_REPORTER, sqlite_where=_HAS_REPORTER),
        Index("ix_task_candidates_reporter_created", "reporter_id", "unit_id", "role", "created_at", "task_id",
              postgresql_where=_HAS_REPORTER, sqlite_where=_HAS_REPORTER),
    )
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[str] = mapped_column(String(100), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    #: the task's, as the list sorts and filters on them (see above)
    due_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    definition_key: Mapped[str] = mapped_column(String(200))
    #: on the reporter's row of a task, the user who filed the case (the case's ``started_by``, which
    #: never changes): a reporter's list walks their own rows, not every reporter's of the unit; null on
    #: every other row and for a case filed without an account
    reporter_id: Mapped[int | None] = mapped_column(Integer)
    task: Mapped[Task] = relationship(back_populates="candidates")

    #: the columns of the task a candidate row holds a copy of (``unit_id``: where the role is)
    COPIED: ClassVar[tuple[str, ...]] = ("unit_id", "due_at", "created_at", "definition_key")

    @classmethod
    def values_for(cls, task: Mapping[str, Any], role: str, reporter_id: int | None = None) -> dict[str, Any]:
        """The columns of the candidate row of ``role`` for a task (its columns by name): the one place
        that copies them. ``reporter_id``: see the column; the caller says which row is the reporter's."""
        return {"task_id": task["id"], "role": role, "reporter_id": reporter_id,
                **{key: task[key] for key in cls.COPIED}}


class CaseAccess(Base):
    """A (unit, role) with business in a case: it holds or held a task of it, received an escalation
    of it, or supervises the SOP (``pengawas``). Read by :mod:`service.commands.access` only.

    ``fields`` null: the role sees the whole case; a list: only these case fields (need-to-know, from
    the ``tampilkan`` property of the task that gave the access).
    """

    __tablename__ = "case_access"
    #: a (unit, role)'s cases newest first: the staff case list walks it (migration 0030)
    __table_args__ = (Index("ix_case_access_listed", "unit_id", "role", "case_created_at", "case_id"),)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(100), primary_key=True)
    fields: Mapped[list[Any] | None] = mapped_column()
    source: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[datetime] = mapped_column(default=utc_now)
    #: the case's ``created_at``, copied: the case list walks a (unit, role)'s rows in case order
    case_created_at: Mapped[datetime] = mapped_column()


class SopReach(Base):
    """A source of the visibility rule that sees at least one case of an SOP (migration 0031): the
    register's SOP filter reads these few rows, not the cases. Written by database triggers on ``cases``
    and ``case_access``, never by the code; read by :mod:`service.commands.access` only.

    ``(unit_id, '', 0, key)``: a case of the unit; ``(0, '', user_id, key)``: a case the user started;
    ``(unit_id, role, 0, key)``: a case the pair has an access row of. ``0`` and ``''`` stand for "none".
    """

    __tablename__ = "sop_reach"
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sop_key: Mapped[str] = mapped_column(String(200), primary_key=True)


class Schedule(Base):
    """A timer start event of a deployed revision: the worker starts a case at each ``next_run_at``."""

    __tablename__ = "schedules"
    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id", ondelete="CASCADE"), unique=True)
    expression: Mapped[str] = mapped_column(String(200))
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    last_run_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class HistoryEntry(Base):
    """Append-only audit trail; each row carries the hash of the previous row of its case."""

    __tablename__ = "history"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(EntityId)
    element_id: Mapped[str | None] = mapped_column(String(200))
    actor: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime] = mapped_column(default=utc_now)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(Digest)
    hash: Mapped[str] = mapped_column(Digest)


class BufferedMessage(Base):
    """A message that arrived before the process could catch it."""

    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utc_now)
    expires_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()


class OutboxItem(Base):
    """Something to send (notification, escalation); written with the command that caused it."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    #: not indexed (migration 0020): no query looks rows up by case, and cases are never deleted
    case_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    recipient_role: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: pending → sending (claimed until ``lease_until``) → sent | failed | skipped (nobody to mail)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.PENDING.value,
                                        server_default=OutboxStatus.PENDING.value, index=True)
    lease_until: Mapped[datetime | None] = mapped_column()
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)


class Reporter(Base):
    """Who filed a public report: the identity encrypted (never for ``anonim``), the follow-up secret hashed."""

    __tablename__ = "reporters"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), unique=True)
    mode: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(30), default="online")
    identity_ciphertext: Mapped[str | None] = mapped_column(Text)
    secret_hash: Mapped[str | None] = mapped_column(String(200))
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ConversationMessage(Base):
    """The two-way thread between the reporter and the office handling the case."""

    __tablename__ = "conversation"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(10))  # "pelapor" or "petugas"
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class DefinitionEvent(Base):
    """Append-only history of a revision: deployed, edited, approved, activated, retired."""

    __tablename__ = "definition_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str | None] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    at: Mapped[datetime] = mapped_column(default=utc_now)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class CaseMigration(Base):
    """A case moved to another revision, with what a revert needs (previous revision and state)."""

    __tablename__ = "case_migrations"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"))
    to_definition_id: Mapped[int] = mapped_column(ForeignKey("definitions.id"))
    previous_state: Mapped[dict[str, Any]] = mapped_column()
    previous_next_timer_at: Mapped[datetime | None] = mapped_column()
    #: the case's lock_version right after the migration: a revert is refused once the case moved on
    lock_version_after: Mapped[int] = mapped_column(Integer)
    migrated_by: Mapped[str | None] = mapped_column(String(100))
    migrated_at: Mapped[datetime] = mapped_column(default=utc_now)
    reverted_at: Mapped[datetime | None] = mapped_column()
    reverted_by: Mapped[str | None] = mapped_column(String(100))


class Attachment(Base):
    """A file added to a case; the bytes live under ``data_dir`` (content-addressed by sha256), not here."""

    __tablename__ = "attachments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    field: Mapped[str | None] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Comment(Base):
    """A staff note on a case (optionally written on one of its tasks)."""

    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(String(36))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    author: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class Notification(Base):
    """An in-app notice to one user ("Perlu perhatian Anda"): an escalation that reached them or an
    overdue step in their lane. ``read_at`` is null until the user opens or dismisses it."""

    __tablename__ = "notifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str | None] = mapped_column(EntityId)
    kind: Mapped[str] = mapped_column(String(30))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    read_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at", "created_at"),)


class CaseArchive(Base):
    """The archive of a completed case (a ZIP outside the database: case-file PDF, attachments, history
    with its hashes, the diagram and a manifest), written once by the worker."""

    __tablename__ = "case_archives"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    #: relative to the data directory
    path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class ActingGrant(Base):
    """An acting official (Plt. or Plh.): ``user_id`` holds ``role`` in the unit on behalf of ``for_user_id``
    from the opening of ``starts_on`` to the end of ``ends_on`` (days in the unit's timezone, kept as
    the UTC instants ``starts_at``/``ends_at`` that every check compares with)."""

    __tablename__ = "acting_grants"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    for_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(3))  # "Plt" | "Plh"
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    starts_at: Mapped[datetime] = mapped_column()
    ends_at: Mapped[datetime] = mapped_column()
    granted_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    revoked_at: Mapped[datetime | None] = mapped_column()

    __table_args__ = (Index("ix_acting_grants_user_ends", "user_id", "ends_at"),
                      Index("ix_acting_grants_unit_role", "unit_id", "role", "ends_at"))
