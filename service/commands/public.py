"""Reports from the public: filing (online or registered by staff), follow-up with code + secret.

The reporter's identity never enters the case data: it is split off, encrypted (``identity``)
or, for ``anonim``, not kept at all. What an SOP accepts and requires (modes, identity fields, the
start-form fields that identify the reporter) is its identity policy (:mod:`.identity_policy`).
The follow-up secret is stored as an argon2 hash (parameters sized for a 16-digit random secret,
see :mod:`.passwords`); 20 wrong secrets lock the code, counted atomically, and staff of the case
may unlock it (:func:`service.commands.reporters.unlock_follow_up`). Nothing here sees or stores
an IP address.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import literal, select, update
from sqlalchemy.orm import Session

from service import forms as form_files
from service.commands import attachments, outcomes
from service.commands.access import visible_case
from service.commands.accounts import unit_by_code
from service.commands.calendars import unit_calendar
from service.commands.cases import record_new_case, restore
from service.commands.context import REPORTER_MESSAGE, Actor, Services
from service.commands.definitions import startable_revisions, startable_with_days
from service.commands.history import HistoryWriter
from service.commands.identity import IdentityVault
from service.commands.identity_policy import MODES, IdentityPolicy, intake_form, policy_of, split_identity
from service.commands.passwords import hash_secret, secret_needs_rehash, verify_secret
from service.commands.reporters import intake_desk
from service.commands.specs import compiled_for
from service.commands.sync import BufferFull, deliver_or_buffer
from service.commands.tasks import complete_open
from service.documents.waktu import waktu
from service.engine import CaseRun, CaseStatus, CompiledDefinition, utc_now
from service.engine.compiler import StepInfo, steps
from service.engine.properties import SHOWN_FIELDS, listed
from service.errors import Conflict, Forbidden, InvalidInput, NotFound, TooManyRequests
from service.store.models import (
    TASK_IS_READY,
    Attachment,
    Case,
    ConversationMessage,
    Definition,
    HistoryEntry,
    OutboxItem,
    Reporter,
    Task,
    Unit,
)
from service.store.types import UTCDateTime

CHANNELS = ("online", "langsung", "telepon", "sms", "email", "kotak_saran", "surat", "media_sosial")
PUBLIC_ACTOR = "publik"
REPORTER_LANE = "Pelapor"
MAX_WRONG_SECRETS = 20
STATUS_TEXT = {
    CaseStatus.RUNNING.value: "Laporan Anda sedang ditindaklanjuti",
    CaseStatus.ERROR.value: "Laporan Anda sedang ditindaklanjuti",
    CaseStatus.COMPLETED.value: "Penanganan laporan Anda telah selesai",
    CaseStatus.CANCELLED.value: "Laporan Anda tidak dilanjutkan",
}
#: the status of a completed case whose outcome the office published (shown with it, below the status)
COMPLETED_WITH_OUTCOME = "Penanganan laporan Anda telah selesai. Hasilnya dapat Anda baca di bawah ini."


@dataclass
class PublicReport:
    unit: str
    definition_key: str
    mode: str
    data: dict[str, Any] = field(default_factory=dict)
    identity: dict[str, Any] | None = None
    channel: str = "online"


@dataclass(frozen=True)
class Receipt:
    tracking_code: str
    secret: str
    case_id: str = ""  # for the counter's receipt page (the public answer carries code and secret only)


def _digits(count: int) -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(count))


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code if ch.isdigit())


def _intake(definition: Definition, compiled: CompiledDefinition) -> tuple[IdentityPolicy, dict[str, Any] | None]:
    """The SOP's identity policy and its intake form (the start form without the identity fields)."""
    form_key = compiled.start_form_key
    start_form = (definition.forms or {}).get(form_key) if form_key else None
    policy = policy_of(compiled.outline.metadata, start_form)
    return policy, intake_form(start_form, policy)


def file_report(services: Services, report: PublicReport, registered_by: Actor | None = None) -> Receipt:
    """Start a case for a report; returns the tracking code and the secret (shown once)."""
    if report.mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}", [{"field": "mode", "message": report.mode}])
    if report.channel not in CHANNELS:
        raise InvalidInput(f"channel must be one of {', '.join(CHANNELS)}",
                           [{"field": "channel", "message": report.channel}])
    with services.db.transaction() as session:
        unit = unit_by_code(session, report.unit)
        definition, closed_days = startable_with_days(services, session, report.definition_key, None)
        if definition.unit_id != unit.id:
            raise NotFound(f"{unit.code} has no SOP '{report.definition_key}'",
                           [{"field": "definition_key", "message": "unknown in this unit"}])
        if registered_by is not None and not may_register(registered_by, unit.id, _desk(services, definition)):
            raise Forbidden(f"Only the intake desk of {unit.code} may register reports to '{definition.key}'")
        compiled = compiled_for(services, session, definition)
        start_lane = compiled.start_lane
        if start_lane != REPORTER_LANE:
            raise Forbidden(f"SOP '{definition.key}' does not take reports from the public")
        policy, intake = _intake(definition, compiled)
        # identifying fields leave the case data here, before the case (state, history) exists
        case_data, identity = split_identity(policy, report.mode, report.data, report.identity)
        form_files.validate_data(intake, case_data)
        # evidence is written to disk once; the case keeps references, never the base64
        prepared, files = attachments.store_files(services, intake, case_data)
        data = {**prepared, "mode_pelapor": report.mode, "saluran_pengaduan": report.channel}
        run = CaseRun.start(compiled, data, unit_calendar(services, unit, closed_days))
        actor_name = registered_by.username if registered_by else PUBLIC_ACTOR
        case = record_new_case(session, definition, run, actor_name,
                               started_by=registered_by.user_id if registered_by else None,
                               business_key=None, data=data)
        session.add_all(attachments.rows(case.id, None, files, registered_by.user_id if registered_by else None))
        code, secret = _unique_code(session), _digits(16)
        case.tracking_code = code
        case.business_key = code
        session.add(Reporter(
            case_id=case.id, mode=report.mode, channel=report.channel, secret_hash=hash_secret(secret),
            identity_ciphertext=IdentityVault.of(services.settings).seal(identity) if identity else None,
        ))
        if identity and identity.get("email"):
            session.add(OutboxItem(kind="receipt", case_id=case.id, unit_id=unit.id, recipient_role=REPORTER_LANE,
                                   payload={}))
        return Receipt(code, secret, case.id)


@dataclass(frozen=True)
class ReportingSop:
    """An SOP the public may file reports to: its start lane is the Pelapor's."""

    unit: str
    unit_name: str
    definition_key: str
    title: str
    form: dict[str, Any] | None  # the intake form: the start form without the identity fields
    policy: IdentityPolicy  # the modes it accepts, the identity fields it requires and its identifying fields
    unit_id: int = 0
    desk: str | None = None  # the lane that registers its reports at the counter (:func:`may_register`)


def reporting_sops(services: Services) -> list[ReportingSop]:
    """Every SOP currently startable whose start event lies in the Pelapor lane, by office and title."""
    found = []
    with services.db.reading() as session:
        for definition in startable_revisions(services, session):
            compiled = compiled_for(services, session, definition)
            start_lane = compiled.start_lane
            if start_lane != REPORTER_LANE:
                continue
            policy, intake = _intake(definition, compiled)
            found.append(ReportingSop(definition.unit.code, definition.unit.name, definition.key,
                                      definition.title or definition.key, intake, policy,
                                      unit_id=definition.unit_id, desk=_desk(services, definition)))
    return sorted(found, key=lambda sop: (sop.unit_name, sop.title))


def _unique_code(session: Session) -> str:
    while True:
        code = _digits(16)
        if session.scalar(select(Case.id).where(Case.tracking_code == code)) is None:
            return code


def verify(services: Services, code: str, secret: str) -> str:
    """The case id of a code + secret, for a page that keeps it for a while instead of the secret."""
    return _verified_case(services, code, secret)


def _verified_case(services: Services, code: str, secret: str) -> str:
    """The case id for a code + secret; wrong ones count towards the lock (404 either way).

    The secret is checked outside any transaction (argon2 takes milliseconds). Every wrong one is
    then counted by one conditional UPDATE (``failed_attempts + 1 … WHERE locked_at IS NULL``, the
    lock set by the same statement that reaches :data:`MAX_WRONG_SECRETS`): concurrent wrong secrets
    each count once and none counts after the lock, on PostgreSQL (row lock) as on SQLite (write
    lock). A right secret that arrives after the lock is refused too.
    """
    normalized = normalize_code(code)
    with services.db.reading() as session:
        row = session.execute(select(Case.id, Reporter.id, Reporter.secret_hash, Reporter.failed_attempts,
                                     Reporter.locked_at)
                              .join(Reporter, Reporter.case_id == Case.id)
                              .where(Case.tracking_code == normalized)).first()
    if row is None:
        verify_secret(None, secret)  # the same work as a real check: an unknown code looks like a wrong secret
        raise NotFound("No report with this code and secret")
    case_id, reporter_id, secret_hash, failed, locked_at = row
    if locked_at is not None:
        raise _locked()
    if verify_secret(secret_hash, secret):
        if failed or (secret_hash and secret_needs_rehash(secret_hash)):
            _accept(services, reporter_id, secret_hash, secret)
        return str(case_id)
    if _count_wrong_secret(services, reporter_id) is None:
        raise _locked()
    raise NotFound("No report with this code and secret")


def _locked() -> TooManyRequests:
    return TooManyRequests("This code is locked after too many wrong secrets; contact the office")


def _accept(services: Services, reporter_id: int, secret_hash: str | None, secret: str) -> None:
    """A right secret clears the count, and a hash made with older parameters is stored anew
    (:func:`~service.commands.passwords.secret_needs_rehash`) — unless the code was locked meanwhile."""
    fresh = hash_secret(secret) if secret_hash and secret_needs_rehash(secret_hash) else secret_hash
    with services.db.transaction() as session:
        result = session.execute(update(Reporter)
                                 .where(Reporter.id == reporter_id, Reporter.locked_at.is_(None),
                                        Reporter.secret_hash == secret_hash)
                                 .values(failed_attempts=0, secret_hash=fresh)
                                 .execution_options(synchronize_session=False))
        cleared = int(getattr(result, "rowcount", 0))
    if not cleared and _is_locked(services, reporter_id):
        raise _locked()


def _is_locked(services: Services, reporter_id: int) -> bool:
    with services.db.reading() as session:
        return session.scalar(select(Reporter.locked_at).where(Reporter.id == reporter_id)) is not None


def _count_wrong_secret(services: Services, reporter_id: int) -> int | None:
    """Count one wrong secret; the count afterwards, or None when the code was already locked."""
    with services.db.transaction() as session:
        counted = session.execute(
            update(Reporter).where(Reporter.id == reporter_id, Reporter.locked_at.is_(None))
            .values(failed_attempts=Reporter.failed_attempts + 1,
                    locked_at=sql_case((Reporter.failed_attempts + 1 >= MAX_WRONG_SECRETS,
                                        literal(utc_now(), UTCDateTime())), else_=Reporter.locked_at))
            .returning(Reporter.failed_attempts).execution_options(synchronize_session=False)
        ).scalar()
    return None if counted is None else int(counted)


@dataclass(frozen=True)
class ReporterTask:
    id: str
    name: str
    form: dict[str, Any] | None
    context: dict[str, Any]


@dataclass(frozen=True)
class FollowUp:
    tracking_code: str
    status: str
    status_text: str
    created_at: datetime
    updated_at: datetime
    steps: list[str]
    messages: list[dict[str, Any]]
    tasks: list[ReporterTask]
    timezone: str = "Asia/Jakarta"  # the office's, for showing times
    #: of a completed case: the last message the office published to the reporter (its answer or reason)
    outcome: dict[str, Any] | None = None
    #: the report as the reporter sent it: the intake form's fields (no identity), ``{"name", "label",
    #: "value"}`` with files as ``{"attachment_id", "filename"}``; a field an officer's step rewrote is left out
    submission: list[dict[str, Any]] = field(default_factory=list)
    mode: str = ""  # anonim / rahasia / biasa
    channel: str = "online"
    #: what happened that the reporter may know, oldest first: ``{"kind", "at", "name"}`` (see :func:`_timeline`)
    timeline: list[dict[str, Any]] = field(default_factory=list)
    #: the Mutu Baku Waktu of the SOP's longest officer step, in words ("60 hari"), from its SLA timer
    expected_time: str | None = None
    #: how to reach the office: ``phone``, ``email``, ``address`` (those it set)
    contact: dict[str, str] = field(default_factory=dict)


def follow_up(services: Services, code: str, secret: str) -> FollowUp:
    return follow_up_case(services, _verified_case(services, code, secret))


def follow_up_case(services: Services, case_id: str) -> FollowUp:
    """What :func:`follow_up` shows, for a case id that :func:`verify` returned."""
    with services.db.reading() as session:
        case = session.get(Case, case_id)
        assert case is not None
        ready = session.scalars(select(Task).where(Task.case_id == case.id, TASK_IS_READY)
                                .order_by(Task.created_at)).all()
        thread = session.scalars(select(ConversationMessage).where(ConversationMessage.case_id == case.id)
                                 .order_by(ConversationMessage.id)).all()
        published = [outcomes.office_message(entry) for entry in outcomes.notifications(session, case.id)]
        forms = case.definition.forms or {}
        step_infos = steps(case.definition.bpmn_xml.encode())
        step_props = {step.element_id: dict(step.properties) for step in step_infos}
        messages: list[dict[str, Any]] = [{"from": m.sender, "text": m.text, "at": m.created_at, "fields": []}
                                          for m in thread]
        messages += published
        messages.sort(key=lambda m: m["at"])
        outcome = published[-1] if published and case.status == CaseStatus.COMPLETED.value else None
        tasks = [
            ReporterTask(t.id, t.name, forms.get(t.form_key) if t.form_key else None,
                         {k: case.data.get(k) for k in _shown_fields(step_props.get(t.element_id, {}))
                          if k in (case.data or {})})
            for t in ready if t.lane == REPORTER_LANE
        ]
        reporter = session.scalars(select(Reporter).where(Reporter.case_id == case.id)).first()
        history = session.scalars(select(HistoryEntry).where(HistoryEntry.case_id == case.id,
                                                             HistoryEntry.action.in_(_TIMELINE_ACTIONS))
                                  .order_by(HistoryEntry.id)).all()
        _policy, intake = _intake(case.definition, compiled_for(services, session, case.definition))
        return FollowUp(case.tracking_code or "", case.status,
                        COMPLETED_WITH_OUTCOME if outcome else STATUS_TEXT[case.status], case.created_at,
                        case.updated_at, [t.name for t in ready if t.lane != REPORTER_LANE], messages, tasks,
                        case.unit.timezone, outcome,
                        submission=_submission(session, case, intake, history),
                        mode=reporter.mode if reporter else "", channel=reporter.channel if reporter else "online",
                        timeline=_timeline(case, history, thread, published),
                        expected_time=expected_time(step_infos), contact=office_contact(session, case.unit))


#: the history rows the reporter's timeline and :func:`_submission` read (never who did it, nor notes)
_TIMELINE_ACTIONS = ("task_created", "task_completed", "case_completed", "case_cancelled")


def _lanes(history: Sequence[HistoryEntry]) -> dict[str, str | None]:
    """Task id → lane, from the case's ``task_created`` rows."""
    return {row.task_id: (row.data or {}).get("lane") for row in history
            if row.action == "task_created" and row.task_id}


def _submission(session: Session, case: Case, intake: Mapping[str, Any] | None,
                history: Sequence[HistoryEntry]) -> list[dict[str, Any]]:
    """The intake form's fields as the reporter (or the counter, for them) filled them in, in the form's
    order, with their labels and files; identity fields are not in the intake form. A field that an
    officer's step wrote since is left out: its value is no longer what the reporter sent."""
    if not intake:
        return []
    schema = intake.get("schema") or {}
    declared = list((schema.get("properties") or {}).keys())
    order = [name for name in (intake.get("ui") or {}).get("ui:order") or [] if name in declared]
    names = [*order, *(name for name in declared if name not in order)]
    lanes = _lanes(history)
    rewritten = {key for row in history if row.action == "task_completed"
                 and lanes.get(row.task_id or "") != REPORTER_LANE
                 for key in ((row.data or {}).get("data") or {})}
    return outcomes.published_fields(session, case.id, {"intake": intake},
                                     [name for name in names if name not in rewritten], case.data or {})


def _timeline(case: Case, history: Sequence[HistoryEntry], thread: Sequence[ConversationMessage],
              published: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """What happened to the report that its reporter may know, oldest first. Kinds: ``received``,
    ``in_process`` (an officer's step began: its name only), ``asked``/``answered`` (a step of the
    reporter's), ``message_sent``/``message_received`` (the thread), ``published`` (the office's
    notification, its text), ``completed``, ``cancelled``. Never an actor, a note, a reason or a unit."""
    lanes = _lanes(history)
    events: list[dict[str, Any]] = [{"kind": "received", "at": case.created_at, "name": ""}]
    for row in history:
        data = row.data or {}
        name = str(data.get("name") or "")
        if row.action == "task_created":
            events.append({"kind": "asked" if data.get("lane") == REPORTER_LANE else "in_process",
                           "at": row.at, "name": name})
        elif row.action == "task_completed" and lanes.get(row.task_id or "") == REPORTER_LANE:
            events.append({"kind": "answered", "at": row.at, "name": name})
        elif row.action in ("case_completed", "case_cancelled"):
            events.append({"kind": row.action.removeprefix("case_"), "at": row.at, "name": ""})
    events += [{"kind": "message_sent" if m.sender == "pelapor" else "message_received", "at": m.created_at,
                "name": ""} for m in thread]
    events += [{"kind": "published", "at": m["at"], "name": m["text"]} for m in published]
    order = {"received": 0, "in_process": 2, "completed": 3, "cancelled": 3}
    return sorted(events, key=lambda event: (event["at"], order.get(event["kind"], 1)))


#: minutes of one unit of a Waktu, to find the longest (a working day counted as 8 of 24 hours, 5 of 7 days)
_MINUTES = {"menit": 1, "jam": 60, "hari": 1440, "minggu": 10080, "bulan": 43200, "tahun": 525600}
_WORKING = 3 * 7 / 5


def _span(words: str) -> float:
    """A Waktu in words (:func:`~service.documents.waktu.waktu`) as an approximate number of minutes."""
    parts = words.split()
    total = 0.0
    for index, part in enumerate(parts):
        if part.isdigit() and index + 1 < len(parts):
            total += int(part) * _MINUTES.get(parts[index + 1], 0)
    return total * _WORKING if "kerja" in parts else total


def expected_time(step_infos: Sequence[StepInfo]) -> str | None:
    """The Mutu Baku Waktu of the longest officer step (not the Pelapor's) that has an SLA timer, in words."""
    found = [words for step in step_infos if step.lane != REPORTER_LANE
             if (words := waktu(step.sla_timer)) is not None]
    return max(found, key=_span) if found else None


def office_contact(session: Session, unit: Unit) -> dict[str, str]:
    """How a reporter reaches the office: the unit's contact, else its office's (a sub-unit's parent)."""
    for candidate in (unit, session.get(Unit, unit.parent_id) if unit.parent_id else None):
        if candidate is None:
            continue
        given = (("phone", candidate.contact_phone), ("email", candidate.contact_email),
                 ("address", candidate.contact_address))
        found = {key: value.strip() for key, value in given if value and value.strip()}
        if found:
            return found
    return {}


def _shown_fields(properties: dict[str, str]) -> list[str]:
    """Case data a reporter's task shows them: the task's ``tampilkan`` property (comma-separated)."""
    return listed(properties, SHOWN_FIELDS)


def reporter_attachment(services: Services, code: str, secret: str, attachment_id: str) -> tuple[Attachment, Path]:
    """An attachment the holder of code + secret may download (published to them, or theirs); else 404."""
    return outcomes.reporter_attachment(services, _verified_case(services, code, secret), attachment_id)


def case_attachment(services: Services, case_id: str, attachment_id: str) -> tuple[Attachment, Path]:
    """:func:`reporter_attachment` for a case id that :func:`verify` returned."""
    return outcomes.reporter_attachment(services, case_id, attachment_id)


def reporter_message(services: Services, code: str, secret: str, text: str) -> bool:
    """The reporter adds information: kept in the thread and sent to the case as a BPMN message."""
    return message_case(services, _verified_case(services, code, secret), text)


def message_case(services: Services, case_id: str, text: str) -> bool:
    """:func:`reporter_message` for a case id that :func:`verify` returned."""
    with services.db.transaction() as session:
        case = session.get(Case, case_id)
        assert case is not None
        if case.status != CaseStatus.RUNNING.value:
            raise Conflict("This report is closed; it takes no more messages")
        session.add(ConversationMessage(case_id=case.id, sender="pelapor", text=text))
        history = HistoryWriter(session, case.id, PUBLIC_ACTOR)
        run = restore(services, session, case)
        try:
            return deliver_or_buffer(session, case, run, history, REPORTER_MESSAGE, {"teks": text},
                                     max_buffered=services.settings.max_buffered_messages)
        except BufferFull:
            return False  # the text is in the thread for the office; no more BPMN copies wait in the case


def reporter_complete(services: Services, code: str, secret: str, task_id: str, data: Any) -> None:
    """The holder of code + secret does the work of the Pelapor lane (e.g. completing a report)."""
    complete_case_task(services, _verified_case(services, code, secret), task_id, data)


def complete_case_task(services: Services, case_id: str, task_id: str, data: Any) -> None:
    """:func:`reporter_complete` for a case id that :func:`verify` returned (the one completion path)."""
    with services.db.transaction() as session:
        task = session.get(Task, task_id)
        if task is None or task.case_id != case_id or task.lane != REPORTER_LANE:
            raise NotFound(f"Task {task_id} is not a task of this report")
        case = session.get(Case, case_id)
        assert case is not None
        complete_open(services, session, case, task, data, PUBLIC_ACTOR, None)


# --- the counter: reports staff register for a reporter (walk-in, phone, sms, letter, e-mail, kotak saran) ---

#: the channels a report reaches the counter by: every channel but the public form's own (``online``)
COUNTER_CHANNELS = tuple(channel for channel in CHANNELS if channel != "online")


def _desk(services: Services, definition: Definition) -> str | None:
    desk: str | None = services.memo.get(("intake_desk", definition.id, definition.checksum),
                                         lambda: intake_desk(definition.bpmn_xml.encode()))
    return desk


def may_register(actor: Actor, unit_id: int, desk: str | None) -> bool:
    """Who registers reports to an SOP on a reporter's behalf (the counter page, its navigation link and
    ``POST /api/intake``): a holder of the SOP's intake desk — the lane of its first user task
    (:func:`~service.commands.reporters.intake_desk`) — in the SOP's unit, and global administrators."""
    return actor.is_admin or (desk is not None and desk in actor.roles_in(unit_id))


def counter_sops(services: Services, actor: Actor) -> list[ReportingSop]:
    """The reporting SOPs whose reports ``actor`` may register at the counter (:func:`may_register`)."""
    if not actor.is_admin and not actor.roles_by_unit:
        return []
    return [sop for sop in reporting_sops(services) if may_register(actor, sop.unit_id, sop.desk)]


@dataclass(frozen=True)
class CounterReceipt:
    """What the counter's receipt shows besides the secret (never stored: shown once, when registered)."""

    tracking_code: str
    registration_number: str | None
    office: str
    contact: dict[str, str]
    sop_title: str
    sop_number: str | None
    channel: str
    mode: str
    registered_at: datetime
    timezone: str
    #: the Mutu Baku Waktu the reporter may expect (:func:`expected_time`), in words
    expected_time: str | None


def counter_receipt(services: Services, actor: Actor, case_id: str) -> CounterReceipt:
    """The receipt of a registered report, for whoever may see its case (the clerk who registered it)."""
    with services.db.reading() as session:
        case = visible_case(session, actor, case_id)
        reporter = session.scalar(select(Reporter).where(Reporter.case_id == case.id))
        if reporter is None or not case.tracking_code:
            raise NotFound(f"Case {case_id} was not filed as a report")
        definition = case.definition
        return CounterReceipt(case.tracking_code, case.registration_number, case.unit.name,
                              office_contact(session, case.unit), definition.title or definition.key,
                              definition.sop_number, reporter.channel, reporter.mode, case.created_at,
                              case.unit.timezone, expected_time(steps(definition.bpmn_xml.encode())))
