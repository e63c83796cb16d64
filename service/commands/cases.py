"""Starting, reading, messaging and cancelling cases."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import ColumnElement, Integer, Select, bindparam, select
from sqlalchemy.orm import Session, joinedload, load_only
from sqlalchemy.sql.base import ExecutableOption

from service import forms as form_files
from service.commands.access import (
    Visible,
    Walks,
    in_creation_order,
    read_with_case,
    visible,
    visible_case,
    visible_count,
    visible_page,
    walks_of,
)
from service.commands.attachments import files_of
from service.commands.calendars import closed_days, unit_calendar
from service.commands.comments import comments_of
from service.commands.context import COUNT_CAP, REPORTER_MESSAGE, Actor, Services
from service.commands.definitions import startable_with_days
from service.commands.history import HistoryWriter
from service.commands.identity import IdentityVault
from service.commands.identity_policy import policy_of
from service.commands.register import by_sop_and_status, search_condition
from service.commands.registration import next_registration_number
from service.commands.reporters import ReporterSummary, summary_of
from service.commands.specs import compiled_for
from service.commands.sync import Written, deliver_or_buffer, grant_supervisors, write_back
from service.engine import CaseRun, CaseStatus, WorkCalendar, utc_now
from service.engine.compiler import CompiledDefinition
from service.engine.messages import caught_messages
from service.errors import Conflict, Forbidden, InvalidInput
from service.store.built_once import built_once
from service.store.models import (
    TASK_IS_READY,
    Attachment,
    Case,
    CaseAccess,
    Comment,
    Definition,
    HistoryEntry,
    Reporter,
    Task,
    Unit,
)
from service.store.one_statement import ONE_STATEMENT, write_in_one


@dataclass
class StartRequest:
    definition_key: str
    version: int | None = None
    business_key: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def restore(services: Services, session: Session, case: Case, calendar: WorkCalendar | None = None) -> CaseRun:
    """The case's run; ``calendar`` when the caller read the unit's closed days already."""
    return CaseRun.restore(compiled_for(services, session, case.definition), case.state,
                           calendar or unit_calendar(services, case.unit, closed_days(session, case.unit_id)))


def revision_forms(services: Services, definition: Definition) -> dict[str, Any]:
    """A revision's forms snapshot, read once per process: its checksum covers the forms, so a draft
    saved in place gets a new key."""
    return cast(dict[str, Any], services.memo.get(("forms", definition.id, definition.checksum),
                                                  lambda: dict(definition.forms or {})))


@built_once()
def case_options() -> tuple[ExecutableOption, ...]:
    """Loader options for a case on the hot path: its revision without the diagram and forms (both
    come from the process's caches by id and checksum) and without the revision's unit."""
    return (joinedload(Case.definition).load_only(*REVISION_COLUMNS).lazyload(Definition.unit),)


REVISION_COLUMNS = (Definition.id, Definition.key, Definition.version, Definition.unit_id, Definition.checksum,
                     Definition.dependencies, Definition.status)


#: what an item of a case list shows (``CaseSummarySchema``): not the case's data nor its engine state, which
#: were read and decoded for each row before (their bytes were most of the list's client CPU)
SUMMARY_COLUMNS = (Case.id, Case.definition_id, Case.unit_id, Case.status, Case.business_key,
                   Case.registration_number, Case.next_timer_at, Case.created_at, Case.completed_at)


def check_business_key(value: str | None) -> None:
    """A business key is one line of printable text: it is shown in lists and goes into mail subjects."""
    if value is not None and any(ord(char) < 32 or char in "\x7f\x85\u2028\u2029" for char in value):
        raise InvalidInput("business_key must be one line of text, without line breaks or control characters",
                           [{"field": "business_key", "message": "contains a line break or control character"}])


def start_case(services: Services, actor: Actor, request: StartRequest) -> Case:
    return start_case_view(services, actor, request).case


def start_case_view(services: Services, actor: Actor, request: StartRequest) -> CaseView:
    """Start a case; the answer is built from what the command wrote (no reading back)."""
    check_business_key(request.business_key)
    with services.db.transaction() as session:
        session.info[ONE_STATEMENT] = True
        definition, days = startable_with_days(services, session, request.definition_key, request.version)
        compiled = compiled_for(services, session, definition)
        start_lane = compiled.start_lane
        if not (actor.administers(definition.unit_id)
                or (start_lane is not None and start_lane in actor.roles_in(definition.unit_id))):
            raise Forbidden(f"Starting '{definition.key}' needs the role {start_lane or 'admin'} "
                            f"in unit {definition.unit.code}")
        form_key = compiled.start_form_key
        start_form = revision_forms(services, definition).get(form_key) if form_key else None
        form_files.validate_data(start_form, request.data)
        data, identifying = _split_identifying(compiled, start_form, request.data)
        calendar = unit_calendar(services, definition.unit, days)
        run = CaseRun.start(compiled, data, calendar)
        case, written = _record_new_case(session, definition, run, actor.username,
                                                  started_by=actor.user_id or None,
                                                  business_key=request.business_key, data=data)
        if identifying:
            session.add(Reporter(case_id=case.id, mode="rahasia", channel="langsung",
                                 identity_ciphertext=IdentityVault.of(services.settings).seal(identifying)))
        entries = write_in_one(session, case, last=True)
    if not (actor.administers(case.unit_id) or (actor.user_id and case.started_by == actor.user_id)):
        return get_case(services, actor, case.id)  # the system actor: whatever visibility says
    return CaseView(case, written.new_tasks, entries, dict(case.data or {}), True)


def _split_identifying(compiled: CompiledDefinition, start_form: dict[str, Any] | None,
                       data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The start data without the SOP's identifying fields (``data_identitas``), and those fields.

    A case started through the API (a reporter account, staff) keeps them sealed like a public
    report's identity: they never reach the case data, its history or the workflow state.
    """
    identifying = policy_of(compiled.outline.metadata, start_form).identifying
    kept = {key: value for key, value in data.items() if key not in identifying}
    return kept, {key: value for key, value in data.items() if key in identifying and value not in (None, "")}


def record_new_case(session: Session, definition: Definition, run: CaseRun, actor_name: str, *,
                    started_by: int | None, business_key: str | None, data: dict[str, Any],
                    action: str = "case_started") -> Case:
    """Insert a case that the engine just started, with its first history rows and tasks."""
    return _record_new_case(session, definition, run, actor_name, started_by=started_by,
                            business_key=business_key, data=data, action=action)[0]


def _record_new_case(session: Session, definition: Definition, run: CaseRun, actor_name: str, *,
                     started_by: int | None, business_key: str | None, data: dict[str, Any],
                     action: str = "case_started") -> tuple[Case, Written]:
    now = utc_now()
    # every column given (the row is inserted as these values, see sync.save_case); added to the
    # session once the engine's outcome is known, so its row is one INSERT before the rows naming it.
    # Built as the ORM builds a row it loads (values straight into the instance's dict): nothing
    # reads attribute history of a row not yet written
    case = Case.built(dict(
        id=str(uuid.uuid4()), definition=definition, definition_id=definition.id, unit=definition.unit,
        unit_id=definition.unit_id, business_key=business_key, tracking_code=None,
        status=CaseStatus.RUNNING.value, state={}, data={}, lock_version=1, next_timer_at=None,
        started_by=started_by, created_at=now, updated_at=now, completed_at=None, timer_failures=0,
        last_error=None, history_head=None, purged_at=None,
        registration_number=next_registration_number(session, definition.unit, now)))
    read_with_case(session, case.id)  # a new case has no access rows yet
    history = HistoryWriter(session, case.id, actor_name, case=case)
    history.add(action, {"definition_key": definition.key, "version": definition.version})
    grant_supervisors(session, case, run.compiled)
    written = write_back(session, case, run, history, data_delta=data, before={})
    return case, written


def administered_case(session: Session, actor: Actor, case_id: str, action: str) -> Case:
    """The case, if the actor sees it (else 404) and administers its unit (else 403 naming ``action``)."""
    case = visible_case(session, actor, case_id)
    if not actor.administers(case.unit_id):
        raise Forbidden(f"Only an administrator of the unit may {action}")
    return case


@dataclass(frozen=True)
class CaseView:
    """A case as one viewer may see it: ``data`` and history rows are cut to a need-to-know grant."""

    case: Case
    tasks: list[Task]
    history: list[HistoryEntry]
    data: dict[str, Any] = field(default_factory=dict)
    full: bool = True


@built_once()
def _case_statement(lean: bool) -> Select[Case, CaseAccess]:
    return (select(Case, CaseAccess).outerjoin(CaseAccess, CaseAccess.case_id == Case.id)
            .options(*(case_options() if lean else ())).where(Case.id == bindparam("case_id")))


@built_once()
def _ready_tasks_statement() -> Select[Any]:
    return (select(Task).where(Task.case_id == bindparam("case_id"), TASK_IS_READY)
            .options(joinedload(Task.candidates)).order_by(Task.created_at))


@built_once()
def _history_statement() -> Select[Any]:
    return select(HistoryEntry).where(HistoryEntry.case_id == bindparam("case_id")).order_by(HistoryEntry.id)


def visible_with_grants(session: Session, actor: Actor, case_id: str, lean: bool = True) -> Visible:
    """:func:`~service.commands.access.visible`, with the case and its access rows read in one statement;
    ``lean``: the revision without its diagram and forms (:func:`case_options`)."""
    rows = session.execute(_case_statement(lean), {"case_id": case_id}).unique().all()
    return visible(session, actor, case_id, grants=[row for _case, row in rows if row is not None])


def get_case(services: Services, actor: Actor, case_id: str, lean: bool = False) -> CaseView:
    """One case with its ready tasks and history; ``lean`` when the caller reads nothing of the revision
    but its key and version (the revision's diagram and forms stay unread)."""
    with services.db.reading() as session:
        found = visible_with_grants(session, actor, case_id, lean)
        return case_view(session, found, _ready_tasks(session, case_id))


def _ready_tasks(session: Session, case_id: str) -> list[Task]:
    return list(session.scalars(_ready_tasks_statement(), {"case_id": case_id}).unique().all())


@dataclass(frozen=True)
class CasePage:
    """What the staff case page shows, each part as its viewer may see it."""

    view: CaseView
    files: list[Attachment]
    #: the reporter box (None: not a report, or a need-to-know viewer)
    reporter: ReporterSummary | None
    #: the staff notes (None: a need-to-know viewer reads none)
    comments: list[Comment] | None


def case_page(services: Services, actor: Actor, case_id: str, reporter: bool = True) -> CasePage:
    """The parts of a case a page shows (the case and task pages), read in one session after one
    decision of the visibility rule (each part decided again read the case and its access rows again:
    18 statements a case page); ``reporter``: with the reporter box."""
    with services.db.reading() as session:
        found = visible_with_grants(session, actor, case_id, lean=False)
        view = case_view(session, found, _ready_tasks(session, case_id))
        return CasePage(view, files_of(session, found), summary_of(session, actor, found) if reporter else None,
                        comments_of(session, found) if found.full else None)


def case_view(session: Session, found: Visible, tasks: list[Task],
              history: list[HistoryEntry] | None = None) -> CaseView:
    """The case as ``found`` lets its viewer see it, with ``tasks`` (its ready ones) and its history
    (read unless the caller has it)."""
    case = found.case
    if history is None:
        history = list(session.scalars(_history_statement(), {"case_id": case.id}).all())
    if not found.full:
        history = [_cut(entry, found) for entry in history]
    return CaseView(case, tasks, history, found.data(case.data), found.full)


def _cut(entry: HistoryEntry, found: Visible) -> HistoryEntry:
    """A detached copy of a history row holding only what a need-to-know viewer may read."""
    data = dict(entry.data or {})
    if isinstance(data.get("data"), dict):
        data["data"] = found.data(data["data"])
    kept = {key: value for key, value in data.items() if key in ("name", "lane", "data", "attached_to")}
    return HistoryEntry(id=entry.id, case_id=entry.case_id, task_id=entry.task_id, element_id=entry.element_id,
                        actor=entry.actor, action=entry.action, at=entry.at, data=kept, prev_hash=entry.prev_hash,
                        hash=entry.hash)


@dataclass
class CaseQuery:
    definition_key: str | None = None
    status: str | None = None
    business_key: str | None = None
    unit: str | None = None
    #: words of the case's data or history, or its Nomor registrasi / tracking code (the register's search)
    q: str | None = None
    page: int = 1
    per_page: int = 20


@dataclass(frozen=True)
class CaseList:
    """A page of the case list and its capped total (at most :data:`COUNT_CAP` + 1: "1,000+")."""

    items: list[CaseView]
    total: int
    total_capped: bool


#: the list's filters that are kept in its statement's shape (their values bound at execution)
_LIST_FILTERS = ("definition_key", "status", "business_key", "unit")


def list_cases(services: Services, actor: Actor, query: CaseQuery) -> CaseList:
    count, page, values = list_statements(services, actor, query)
    with services.db.reading() as session:
        counted = session.scalar(count, values) or 0
        items = [CaseView(row, [], []) for row in session.scalars(page, values).all()]
    return CaseList(items, min(counted, COUNT_CAP + 1), counted > COUNT_CAP)


def list_statements(services: Services, actor: Actor, query: CaseQuery
                    ) -> tuple[Select[Any], Select[Case], dict[str, Any]]:
    """The capped count and the page of :func:`list_cases`, and the values to execute them with: the cases
    the actor may see with the query's filters, newest first, each walk of
    :func:`~service.commands.access.first_visible` stopping at the page's end (or at the count's cap); a
    reporter's walks ``ix_cases_started_by`` (migration 0029), a staff member's ``ix_case_access_listed``
    per (unit, role) (migration 0030). The statements are kept per shape, but for a search."""
    walks, values = walks_of(actor)
    filters = tuple(name for name in _LIST_FILTERS if getattr(query, name))
    skipped = (query.page - 1) * query.per_page
    values.update({name: getattr(query, name) for name in filters}, skipped=skipped, per_page=query.per_page,
                  wanted=skipped + query.per_page)
    if query.q and query.q.strip():  # the search's words are written into its clause
        searched = search_condition(actor, " ".join(query.q.split()), services.db.is_postgres)
        return (*_list_statements(walks, [*_filtered(filters), searched]), values)
    return (*_list_shape(walks, filters), values)


@built_once(maxsize=64)
def _list_shape(walks: Walks, filters: tuple[str, ...]) -> tuple[Select[Any], Select[Case]]:
    return _list_statements(walks, _filtered(filters))


def _filtered(filters: tuple[str, ...]) -> list[ColumnElement[bool]]:
    """The list's filters (:data:`_LIST_FILTERS`) as clauses on :class:`Case`, their values bound by name."""
    clauses = by_sop_and_status(filters)
    if "business_key" in filters:
        clauses.append(Case.business_key == bindparam("business_key"))
    if "unit" in filters:
        clauses.append(Case.unit_id == select(Unit.id).where(Unit.code == bindparam("unit")).scalar_subquery())
    return clauses


def _list_statements(walks: Walks, where: list[ColumnElement[bool]]) -> tuple[Select[Any], Select[Case]]:
    wanted, skipped, per_page = (bindparam(name, type_=Integer()) for name in ("wanted", "skipped", "per_page"))
    shown = visible_page(walks, where, wanted, skipped, per_page)
    page = (select(Case).join(shown, shown.c.id == Case.id).options(load_only(*SUMMARY_COLUMNS), *case_options())
            .order_by(*in_creation_order((shown.c.created_at, shown.c.id))))
    return visible_count(walks, where), page


def send_message(services: Services, actor: Actor, case_id: str, name: str, payload: dict[str, Any]) -> bool:
    """Deliver a message to a case; buffer it when the process cannot catch it yet. True if delivered.

    Only a message some catch event of the case's diagram listens to is taken (422 naming ``name``
    otherwise), never the reporter's own (``pesan_pelapor``: the public side sends it), and at most
    ``max_buffered_messages`` wait per case (429).
    """
    with services.db.transaction() as session:
        case = visible_case(session, actor, case_id)
        if case.status != CaseStatus.RUNNING.value:
            raise Conflict(f"Case {case_id} is {case.status}; it takes no more messages")
        compiled = compiled_for(services, session, case.definition)
        if name == REPORTER_MESSAGE:
            raise InvalidInput(f"'{name}' is the reporter's message; only the public follow-up sends it",
                               [{"field": "name", "message": "reserved for the reporter"}])
        if name not in caught_messages(compiled):
            raise InvalidInput(f"No event of '{case.definition.key}' waits for a message named '{name}'",
                               [{"field": "name", "message": "not caught by this SOP"}])
        run = restore(services, session, case)
        return deliver_or_buffer(session, case, run, HistoryWriter(session, case.id, actor.username), name, payload,
                                 max_buffered=services.settings.max_buffered_messages)


def cancel_case(services: Services, actor: Actor, case_id: str, reason: str | None = None) -> Case:
    with services.db.transaction() as session:
        case = administered_case(session, actor, case_id, "cancel a case")
        if case.status != CaseStatus.RUNNING.value:
            raise Conflict(f"Case {case_id} is already {case.status}")
        run = restore(services, session, case)
        run.cancel()
        history = HistoryWriter(session, case.id, actor.username)
        case.status = CaseStatus.CANCELLED.value
        case.completed_at = utc_now()
        write_back(session, case, run, history)
        history.add("case_cancelled", {"reason": reason or ""})
        case.next_timer_at = None
        return case
