"""Deploying SOP revisions and reading them back."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, String, Table, bindparam, delete, func, inspect, or_, select
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.util import identity_key

from service import forms as form_files
from service.commands.accounts import unit_by_code
from service.commands.calendars import calendar_for, closed_days_column, days_of
from service.commands.context import PROCESS_OWNER_ROLE, Actor, Services
from service.commands.identity_policy import policy_issues
from service.engine import CompiledDefinition, DiagramOutline, compile_definition, dmn, limits, outline, utc_now
from service.engine import properties as sop_properties
from service.engine import sop_metadata as sop_metadata
from service.engine.compiler import routing_issues
from service.engine.deploy_checks import TextBounds
from service.engine.schedule import first_run, schedule_text
from service.errors import Conflict, Forbidden, InvalidDiagram, InvalidInput, NotFound
from service.store.built_once import built_once
from service.store.models import (
    BufferedMessage,
    Definition,
    DefinitionEvent,
    HistoryEntry,
    OutboxItem,
    Schedule,
    Task,
    TaskCandidate,
    Unit,
)
from service.store.states import RUNNABLE_REVISIONS, RevisionStatus


@dataclass
class DeployRequest:
    bpmn: bytes
    forms: Mapping[str, Any] = field(default_factory=dict)
    #: DMN files deployed with the diagram (file name → bytes); a decision not among them is read
    #: from the decisions directory (``<decisionRef>.dmn``)
    decisions: Mapping[str, bytes] = field(default_factory=dict)
    unit: str | None = None
    title: str | None = None
    sop_number: str | None = None
    effective_on: str | None = None
    approved_by: str | None = None
    #: ``"draft"``: an administrator's deploy stays a draft too (the modeler's "save as draft");
    #: ``None``: by role (administrators deploy active revisions, process owners drafts)
    status: str | None = None


@dataclass(frozen=True)
class Prepared:
    """A diagram checked and compiled for a unit, with what a revision of it stores."""

    compiled: CompiledDefinition
    forms: dict[str, Any]
    dependencies: list[Definition]
    checksum: str
    #: the decision tables of the diagram's business rule tasks: decision id → DMN XML
    decisions: dict[str, str] = field(default_factory=dict)


def _date(value: str | None, field_name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{field_name} must be a date like 2026-01-31",
                           [{"field": field_name, "message": f"not a date: {value!r}"}]) from exc


def _resolve_forms(services: Services, keys: frozenset[str], uploaded: Mapping[str, Any]) -> dict[str, Any]:
    snapshot: dict[str, Any] = {}
    for key in sorted(keys):
        if key in uploaded:
            snapshot[key] = form_files.check_form(key, uploaded[key])
            continue
        found = form_files.load_directory_form(services.settings.forms_dir, key)
        if found is not None:
            snapshot[key] = form_files.check_form(key, found)
    return snapshot


def revision_checksum(bpmn: bytes, forms: Mapping[str, Any], decisions: Mapping[str, str]) -> str:
    """A revision's checksum: its BPMN bytes, its forms' content and its decision tables."""
    return hashlib.sha256(bpmn + form_files.forms_checksum(forms) + dmn.checksum(decisions)).hexdigest()


def _resolve_decisions(services: Services, root_refs: frozenset[str], uploaded: Mapping[str, bytes],
                       dependencies: list[Definition]) -> dict[str, str]:
    """The decision tables a diagram needs: the uploaded DMN files (all of them, so a wrong one is
    refused rather than dropped), then for a decisionRef none of them holds, ``<decisionRef>.dmn`` of the
    decisions directory. Returns decision id → DMN XML text; :class:`InvalidDiagram` on a bad file."""
    texts = {decision_id: _utf8(data, source)
             for decision_id, (source, data) in zip(dmn.read_all(uploaded), uploaded.items(), strict=True)}
    for ref in sorted(root_refs - set(texts)):
        path = services.settings.decisions_dir / f"{ref}.dmn"
        if dmn.DECISION_ID.match(ref) and path.is_file():
            data = path.read_bytes()
            if dmn.read(data, path.name).decision_id == ref:
                texts[ref] = _utf8(data, path.name)
    called = {key: value for dep in dependencies for key, value in (dep.decisions or {}).items()}
    return {**called, **texts}


def _utf8(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidDiagram(f"DMN file {source} is not UTF-8",
                             [{"field": "dmn", "line": None, "message": "save the DMN file as UTF-8"}]) from exc


def _latest_active(session: Session, key: str, unit_id: int | None = None) -> Definition | None:
    query = select(Definition).where(Definition.key == key, Definition.status == RevisionStatus.ACTIVE.value)
    if unit_id is not None:
        query = query.where(Definition.unit_id == unit_id)
    return session.scalar(query.order_by(Definition.version.desc()).limit(1))


def prepare(services: Services, session: Session, unit_id: int, diagram: DiagramOutline,
            bpmn: bytes, uploaded_forms: Mapping[str, Any],
            uploaded_decisions: Mapping[str, bytes] | None = None) -> Prepared:
    """Resolve the forms and called SOPs of a diagram in ``unit_id``, run the deploy checks and compile;
    raises :class:`InvalidDiagram` listing every problem (element id and line)."""
    dependencies = [
        dep for called in sorted(diagram.called_elements - diagram.process_ids)
        if (dep := _latest_active(session, called, unit_id)) is not None
    ]
    snapshot = _resolve_forms(services, diagram.form_keys, uploaded_forms)
    decisions = _resolve_decisions(services, diagram.decision_refs, uploaded_decisions or {}, dependencies)
    compiled = compile_definition(bpmn, snapshot.__contains__, [dep.bpmn_xml.encode() for dep in dependencies],
                                  decisions=stored_decisions(decisions),
                                  limits=limits.current(), text_bounds=text_bounds())
    if routed := routing_issues(bpmn, snapshot):  # multi-instance dispositions (service/engine/compiler.py)
        raise InvalidDiagram(f"The diagram has {len(routed)} problem(s)", routed)
    start_form = snapshot.get(compiled.start_form_key or "")
    if problems := policy_issues(diagram.metadata, start_form):
        raise InvalidDiagram("The SOP's identity policy is not valid",
                             [{"element_id": diagram.key, "line": None, "message": text} for text in problems])
    checksum = revision_checksum(bpmn, snapshot, decisions)
    return Prepared(compiled, snapshot, dependencies, checksum, decisions)


def stored_decisions(decisions: Mapping[str, str]) -> dict[str, bytes]:
    """A revision's decision tables as the compiler reads them (file name → bytes)."""
    return {f"{decision_id}.dmn": text.encode("utf-8") for decision_id, text in decisions.items()}


def _length(model: type[Any], column: str) -> int:
    column_type = inspect(model).columns[column].type
    assert isinstance(column_type, String) and column_type.length is not None, column
    return column_type.length


def text_bounds() -> TextBounds:
    """How long each kind of diagram string may be: the shortest column it is stored in."""
    return TextBounds(
        key=min(_length(Definition, "key"), _length(Task, "definition_key")),
        element_id=min(_length(Task, "element_id"), _length(HistoryEntry, "element_id")),
        name=min(_length(Task, "name"), _length(Definition, "title")),
        role=min(_length(Task, "lane"), _length(TaskCandidate, "role"), _length(OutboxItem, "recipient_role")),
        form_key=_length(Task, "form_key"),
        message=_length(BufferedMessage, "name"),
        timer=_length(Schedule, "expression"),
    )


def _check_columns(definition: Definition) -> None:
    """Every text of the new revision fits its column (PostgreSQL refuses what SQLite would keep)."""
    problems = [
        {"field": column.key, "element_id": definition.key,
         "message": f"{len(value)} characters; at most {length} are kept"}
        for column in inspect(Definition).columns
        if isinstance(value := getattr(definition, column.key), str)
        and (length := getattr(column.type, "length", None)) and len(value) > length
    ]
    if problems:
        raise InvalidInput("Some SOP details are too long: " + ", ".join(p["field"] for p in problems), problems)


def derive_metadata(definition: Definition, props: Mapping[str, str], process_name: str) -> None:
    """The ``definitions`` columns of a revision whose SOP metadata (process properties) changed."""
    meta = sop_metadata.from_properties(props)
    definition.title = meta.judul or process_name
    definition.sop_number = meta.nomor_sop or None
    definition.created_on = meta.tanggal_pembuatan
    definition.revised_on = meta.tanggal_revisi
    definition.effective_on = meta.tanggal_efektif
    definition.approved_by = meta.disahkan_oleh.nama or None
    definition.sop_metadata = sop_metadata.as_json(props)
    _check_columns(definition)


def deploy(services: Services, actor: Actor, request: DeployRequest) -> tuple[Definition, bool]:
    """Deploy a revision; returns it and whether it is new (same bytes and forms → same revision)."""
    if request.status not in (None, RevisionStatus.DRAFT.value):
        raise InvalidInput("Only a draft may be asked for", [{"field": "status", "message": "must be draft"}])
    diagram = outline(request.bpmn)
    unit_code = request.unit or diagram.metadata.get(sop_properties.UNIT)
    if not unit_code:
        raise InvalidInput("Say which unit the SOP belongs to", [{"field": "unit", "message": "required"}])
    with services.db.transaction() as session:
        unit = unit_by_code(session, unit_code)
        if actor.administers(unit.id):
            status = request.status or RevisionStatus.ACTIVE.value
        elif PROCESS_OWNER_ROLE in actor.roles_in(unit.id):
            status = RevisionStatus.DRAFT.value
        else:
            raise Forbidden(f"Only administrators or process owners of {unit.code} may deploy")
        other_unit = session.scalar(
            select(Definition.unit_id).where(Definition.key == diagram.key, Definition.unit_id != unit.id).limit(1)
        )
        if other_unit is not None:
            raise Conflict(f"The key '{diagram.key}' belongs to another unit",
                           [{"element_id": diagram.key, "message": "process id already used by another unit"}])
        prepared = prepare(services, session, unit.id, diagram, request.bpmn, request.forms, request.decisions)
        checksum = prepared.checksum
        same = session.scalar(select(Definition).where(Definition.key == diagram.key,
                                                       Definition.checksum == checksum))
        if same is not None:
            return same, False
        meta = diagram.metadata
        latest = session.scalar(select(func.max(Definition.version)).where(Definition.key == diagram.key))
        definition = Definition(
            key=diagram.key, version=(latest or 0) + 1, unit_id=unit.id, unit=unit,
            title=request.title or meta.get(sop_properties.TITLE) or diagram.title,
            bpmn_xml=request.bpmn.decode("utf-8"), checksum=checksum, forms=prepared.forms,
            decisions=prepared.decisions,
            dependencies=[dep.id for dep in prepared.dependencies],
            sop_number=request.sop_number or meta.get(sop_properties.SOP_NUMBER) or None,
            created_on=_date(meta.get(sop_properties.CREATED_ON), sop_properties.CREATED_ON),
            revised_on=_date(meta.get(sop_properties.REVISED_ON), sop_properties.REVISED_ON),
            effective_on=_date(request.effective_on or meta.get(sop_properties.EFFECTIVE_ON), "effective_on"),
            approved_by=request.approved_by or meta.get(sop_properties.APPROVED_BY) or None,
            sop_metadata=sop_metadata.as_json(meta), status=status, deployed_by=actor.user_id or None,
        )
        _check_columns(definition)
        session.add(definition)
        session.flush()
        session.add(DefinitionEvent(definition_id=definition.id, actor=actor.username, action="deployed",
                                    data={"status": status, "checksum": checksum}))
        schedule_revision(session, definition, schedule_text(diagram.start_timer, diagram.start_properties))
        services.specs.get((definition.id, checksum), lambda: prepared.compiled)
        return definition, True


def schedule_revision(session: Session, definition: Definition, start_timer: str | None) -> None:
    """Called at deploy: the new active revision replaces the schedules of older ones of its key.

    ``start_timer`` is the revision's schedule text (:func:`service.engine.schedule.schedule_text`);
    a calendar schedule runs in the unit's calendar."""
    if definition.status != RevisionStatus.ACTIVE.value:
        return
    older = select(Definition.id).where(Definition.key == definition.key, Definition.id != definition.id)
    session.execute(delete(Schedule).where(Schedule.definition_id.in_(older)))
    if start_timer:
        session.add(Schedule(definition_id=definition.id, expression=start_timer,
                             next_run_at=first_run(start_timer, utc_now(), calendar_for(session, definition.unit))))


def _visible(actor: Actor, definition: Definition) -> bool:
    return actor.is_member(definition.unit_id)


def latest_per_key(services: Services, actor: Actor) -> list[Definition]:
    with services.db.reading() as session:
        newest = (select(Definition.key, func.max(Definition.version).label("v"))
                  .group_by(Definition.key).subquery())
        rows = session.scalars(
            select(Definition).join(newest, (Definition.key == newest.c.key) & (Definition.version == newest.c.v))
            .order_by(Definition.key)
        ).all()
        return [row for row in rows if _visible(actor, row)]


def revisions_per_key(services: Services, actor: Actor) -> list[tuple[Definition, list[Definition]]]:
    """Every SOP the actor may see (its newest revision's office is one of the actor's) as its newest
    revision and all of its revisions, oldest first, by key: one statement, without the diagrams, forms
    and decision tables (the modeler's index, which asked each key for its revisions, whole)."""
    unread = (defer(Definition.bpmn_xml), defer(Definition.forms), defer(Definition.decisions))
    with services.db.reading() as session:
        rows = session.scalars(select(Definition).options(*unread).order_by(Definition.key, Definition.version)).all()
    by_key: dict[str, list[Definition]] = {}
    for row in rows:
        by_key.setdefault(row.key, []).append(row)
    return [(revisions[-1], revisions) for revisions in by_key.values() if _visible(actor, revisions[-1])]


def versions(services: Services, actor: Actor, key: str) -> list[Definition]:
    with services.db.reading() as session:
        rows = session.scalars(select(Definition).where(Definition.key == key).order_by(Definition.version)).all()
        if not rows or not _visible(actor, rows[0]):
            raise NotFound(f"No SOP with key '{key}'")
        return list(rows)


def version(services: Services, actor: Actor, key: str, number: int) -> Definition:
    with services.db.reading() as session:
        row = session.scalar(select(Definition).where(Definition.key == key, Definition.version == number))
        if row is None or not _visible(actor, row):
            raise NotFound(f"SOP '{key}' has no version {number}")
        return row


def unit_today(definition: Definition, now: datetime | None = None) -> date:
    """Today's date in the revision's unit (Tanggal Efektif is a local date)."""
    return local_today(definition.unit.timezone, now)


def local_today(timezone: str, now: datetime | None = None) -> date:
    """Today's date in ``timezone``."""
    return (now or utc_now()).astimezone(ZoneInfo(timezone)).date()


def is_effective(definition: Definition, today: date) -> bool:
    """May new cases start on this revision today? Active without a Tanggal Efektif counts as effective."""
    return _effective(definition.status, definition.effective_on, today)


def _effective(status: str, effective_on: date | None, today: date) -> bool:
    if status == RevisionStatus.ACTIVE.value:
        return effective_on is None or effective_on <= today
    if status == RevisionStatus.APPROVED.value:
        return effective_on is not None and effective_on <= today
    return False


_REVISIONS = cast(Table, Definition.__table__)
_UNITS = cast(Table, Unit.__table__)
#: what of a deployed revision may still change (approval, activation, retirement): read on every start
_CHANGING = ("id", "version", "checksum", "status", "effective_on", "approved_by", "approved_at")
#: the rest but the diagram and decision tables (loaded only when the compiled-spec cache misses): fixed
#: by the revision's id and checksum (a draft saved in place gets a new checksum), so kept per process
_FIXED = tuple(column.key for column in _REVISIONS.c
               if column.key not in (*_CHANGING, "bpmn_xml", "decisions"))


#: the runnable statuses as the named parameters of :func:`_startable_statement` (the driver takes every
#: value by name)
_RUNNABLE = {f"runnable_{n}": status for n, status in enumerate(RUNNABLE_REVISIONS)}


@built_once()
def _startable_statement(pinned: bool, days: bool, every_key: bool = False) -> tuple[Select[Any], tuple[str, ...]]:
    """The candidate revisions of a key (the pinned version, else the runnable ones, newest first) with
    their unit, and the name of each column; built once per shape (``days``: the unit's closed days too;
    ``every_key``: the runnable ones of every key, with the key, by key)."""
    columns: list[Any] = [_REVISIONS.c[key] for key in _CHANGING]
    columns += [column.label(f"unit__{column.key}") for column in _UNITS.c]
    columns += [closed_days_column(_REVISIONS.c.unit_id).label("closed_days")] if days else []
    columns += [_REVISIONS.c.key] if every_key else []
    statement = select(*columns).join_from(_REVISIONS, _UNITS, _UNITS.c.id == _REVISIONS.c.unit_id)
    if not every_key:
        statement = statement.where(_REVISIONS.c.key == bindparam("key"))
    if pinned:
        statement = statement.where(_REVISIONS.c.version == bindparam("version"))
    else:
        # one comparison per status, not IN: an expanding IN is rewritten on every execution
        runnable = or_(*(_REVISIONS.c.status == bindparam(name) for name in _RUNNABLE))
        statement = statement.where(runnable).order_by(*([_REVISIONS.c.key] if every_key else []),
                                                       _REVISIONS.c.version.desc())
    return statement, tuple(statement.selected_columns.keys())


def startable(services: Services, session: Session, key: str, number: int | None) -> Definition:
    """The revision a new case runs on: the pinned version, else the newest approved or active one
    whose Tanggal Efektif has come in the unit's timezone (cases started before it keep the older one)."""
    return _startable(services, session, key, number, False)[0]


def startable_with_days(services: Services, session: Session, key: str,
                        number: int | None) -> tuple[Definition, tuple[date, ...]]:
    """:func:`startable`, with its unit's closed days read along (one statement)."""
    return _startable(services, session, key, number, True)


def _startable(services: Services, session: Session, key: str, number: int | None,
               days: bool) -> tuple[Definition, tuple[date, ...]]:
    """Read in the command's transaction, on its connection, straight through the driver (SQLAlchemy's
    execution context and result objects cost more client CPU than the statement; issue #13), or what a
    server process kept of that read while it listens for changes of revisions, units and closed days
    (:mod:`service.store.change_notices`). Whether a revision is effective today is decided on each call."""
    statement, names = _startable_statement(number is not None, days)
    found = services.db.changes.revisions((key, number, days), lambda: tuple(services.db.session_rows(
        session, statement, {"key": key, **_RUNNABLE} if number is None else {"key": key, "version": number},
        first=number is not None)))
    rows = [dict(zip(names, values, strict=True)) for values in found]
    if number is not None:
        row = rows[0] if rows else None
        if row is None:
            raise NotFound(f"SOP '{key}' has no version {number}", [{"field": "version", "message": "unknown"}])
        if row["status"] not in RUNNABLE_REVISIONS:
            raise Conflict(f"Version {number} of '{key}' is {row['status']}, not active")
        if not _effective(row["status"], row["effective_on"], local_today(row["unit__timezone"])):
            raise Conflict(f"Version {number} of '{key}' is not effective yet (from {row['effective_on']})")
    else:
        row = _first_effective(rows)
        if row is None:
            raise NotFound(f"No active SOP with key '{key}'", [{"field": "definition_key", "message": "unknown"}])
    return _revision(services, session, row), days_of(row["closed_days"] if days else None)


def _first_effective(rows: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The first of a key's runnable revisions (newest first) whose Tanggal Efektif has come in its
    unit's timezone."""
    return next((row for row in rows
                 if _effective(row["status"], row["effective_on"], local_today(row["unit__timezone"]))), None)


def startable_revisions(services: Services, session: Session) -> list[Definition]:
    """:func:`startable` (no pinned version) of every SOP that has a revision to start, by key: one
    statement, where asking each key cost one per SOP on every page that lists them (the navigation's
    counter link, the public report form)."""
    statement, names = _startable_statement(False, False, every_key=True)
    by_key: dict[str, list[dict[str, Any]]] = {}
    read = services.db.changes.revisions(
        "every key", lambda: tuple(services.db.session_rows(session, statement, dict(_RUNNABLE))))
    for values in read:
        row = dict(zip(names, values, strict=True))
        by_key.setdefault(row["key"], []).append(row)
    found = (_first_effective(rows) for rows in by_key.values())
    return [_revision(services, session, row) for row in found if row is not None]


def _revision(services: Services, session: Session, row: dict[str, Any]) -> Definition:
    """The revision of a :func:`_startable_statement` row, as the session would hold it loaded (its
    diagram and decision tables unloaded), with its unit."""
    unit = Unit.as_loaded(session, {column.key: row[f"unit__{column.key}"] for column in _UNITS.c})
    definition = held_revision(services, session, {key: row[key] for key in _CHANGING}, unit=unit)
    session.add(definition)  # and its unit with it
    return definition


def held_revision(services: Services, session: Session, values: dict[str, Any], **related: Any) -> Definition:
    """A revision a command read some columns of (``values``, with its ``id`` and ``checksum``), as the session
    would hold it loaded: the session's own copy when it has one. The columns that never change after
    deployment (:data:`_FIXED`, the forms among them) come from the process's memo, read once per revision;
    only the diagram and decision tables are left unloaded (read together, when the compiled-spec cache
    misses)."""
    held = session.identity_map.get(identity_key(Definition, values["id"]))
    if isinstance(held, Definition):
        return held
    fixed = services.memo.get(("revision", values["id"], values["checksum"]),
                              lambda: _fixed(services, session, values["id"]))
    return Definition.as_loaded(session, {**fixed, **values, **related})


def _fixed(services: Services, session: Session, revision_id: int) -> dict[str, Any]:
    """The columns :data:`_FIXED` of a revision."""
    values = services.db.session_rows(session, _fixed_statement(), {"id": revision_id}, first=True)[0]
    return dict(zip(_FIXED, values, strict=True))


@built_once()
def _fixed_statement() -> Select[Any]:
    return select(*(_REVISIONS.c[key] for key in _FIXED)).where(_REVISIONS.c.id == bindparam("id"))
