"""Moving running cases from one revision of an SOP to another, in bulk, and back per case.

A dry run reports for each case whether it can move and why not. Executing moves the eligible cases
in batches, one transaction per case under the case's optimistic lock, so a case that a user or the
worker touches at the same moment is reported as failed and left as it was. Each move keeps a
snapshot (previous revision and state) in ``case_migrations``: the revert restores it as long as
the case has not moved on since.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.commands.calendars import calendar_for
from service.commands.cases import administered_case
from service.commands.context import Actor, Services
from service.commands.history import HistoryWriter
from service.commands.specs import compiled_for
from service.commands.sync import grant_supervisors, project_task, write_back
from service.engine import CaseRun, CaseStatus, utc_now
from service.engine.migrate import check, migrate
from service.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from service.store.models import TASK_IS_READY, Case, CaseMigration, Definition, Task
from service.store.states import RUNNABLE_REVISIONS

BATCH = 50


@dataclass
class MigrationRequest:
    from_version: int
    to_version: int
    dry_run: bool = True
    case_ids: list[str] | None = None


class MigrationOutcome(StrEnum):
    """What a migration (or its dry run) says of one case."""

    MOVABLE = "movable"  # dry run: it can move
    BLOCKED = "blocked"  # it cannot move: ``blockers`` say why
    MIGRATED = "migrated"
    SKIPPED = "skipped"  # not a running case of the source revision
    FAILED = "failed"  # touched by someone else meanwhile, or refused by the engine: left as it was


@dataclass
class CaseReport:
    case_id: str
    status: MigrationOutcome
    current: list[str] = field(default_factory=list)
    blockers: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None

    @property
    def can_move(self) -> bool:
        return self.status in (MigrationOutcome.MOVABLE, MigrationOutcome.MIGRATED)


@dataclass
class MigrationReport:
    key: str
    from_version: int
    to_version: int
    dry_run: bool
    cases: list[CaseReport]

    def count(self, status: MigrationOutcome) -> int:
        return sum(1 for case in self.cases if case.status == status)


def _revision(session: Session, key: str, number: int, field_name: str) -> Definition:
    row = session.scalar(select(Definition).where(Definition.key == key, Definition.version == number))
    if row is None:
        raise NotFound(f"SOP '{key}' has no version {number}", [{"field": field_name, "message": "unknown"}])
    return row


def _case_ids(session: Session, source: Definition, wanted: list[str] | None) -> list[str]:
    query = select(Case.id).where(Case.definition_id == source.id, Case.status == CaseStatus.RUNNING.value)
    found = list(session.scalars(query.order_by(Case.created_at, Case.id)))
    if wanted is None:
        return found
    present = set(found)
    return [case_id for case_id in dict.fromkeys(wanted) if case_id in present] + [
        case_id for case_id in dict.fromkeys(wanted) if case_id not in present]


def _batches(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start:start + BATCH]


def reproject(session: Session, case: Case, run: CaseRun) -> None:
    """Bring the open task rows of ``case`` in line with its (new) spec: names, lanes, forms, roles."""
    ready = {task.id: task for task in run.ready_tasks()}
    grant_supervisors(session, case, run.compiled)
    rows = session.scalars(select(Task).where(Task.case_id == case.id, TASK_IS_READY))
    for row in rows:
        task = ready.get(row.id)
        if task is None:
            continue
        row.name, row.lane, row.form_key, row.element_id = task.name, task.lane, task.form_key, task.element_id
        row.definition_key = case.definition.key
        project_task(session, case, row, task)


def _check_one(services: Services, session: Session, case_id: str, case: Case | None, source: Definition,
               target: Definition) -> tuple[CaseReport, CaseRun | None]:
    if case is None or case.definition_id != source.id or case.status != CaseStatus.RUNNING.value:
        reason = f"not a running case on version {source.version}"
        return CaseReport(case_id, MigrationOutcome.SKIPPED, reason=reason), None
    run = CaseRun.restore(compiled_for(services, session, source), case.state, calendar_for(session, case.unit))
    found = check(run.workflow, compiled_for(services, session, target))
    outcome = MigrationOutcome.MOVABLE if found.can_move else MigrationOutcome.BLOCKED
    report = CaseReport(case.id, outcome, found.current, [blocker.as_dict() for blocker in found.blockers])
    if not found.can_move:
        report.reason = "; ".join(blocker.reason for blocker in found.blockers)
    return report, run


def _attached(session: Session, definition: Definition) -> Definition:
    found = session.get(Definition, definition.id)
    assert found is not None  # revisions are never deleted
    return found


def _move_one(services: Services, actor: Actor, case_id: str, source: Definition, target: Definition) -> CaseReport:
    with services.db.transaction() as session:
        case = session.get(Case, case_id)
        source, target = _attached(session, source), _attached(session, target)
        report, run = _check_one(services, session, case_id, case, source, target)
        if case is None or run is None or report.status != MigrationOutcome.MOVABLE:
            return report
        previous_state, previous_timer = case.state, case.next_timer_at
        migrate(run.workflow, compiled_for(services, session, target))
        case.definition, case.definition_id = target, target.id
        reproject(session, case, run)
        history = HistoryWriter(session, case.id, actor.username)
        history.add("migrated", {"from_version": source.version, "to_version": target.version,
                                 "from_definition_id": source.id, "to_definition_id": target.id})
        write_back(session, case, run, history)
        session.flush()
        session.add(CaseMigration(case_id=case.id, from_definition_id=source.id, to_definition_id=target.id,
                                  previous_state=previous_state, previous_next_timer_at=previous_timer,
                                  lock_version_after=case.lock_version, migrated_by=actor.username))
        report.status = MigrationOutcome.MIGRATED
        return report


def migrate_cases(services: Services, actor: Actor, key: str, request: MigrationRequest) -> MigrationReport:
    """Dry-run or execute the move of running cases from one version of ``key`` to another."""
    if request.from_version == request.to_version:
        raise InvalidInput("from_version and to_version are the same",
                           [{"field": "to_version", "message": "must differ from from_version"}])
    with services.db.reading() as session:
        source = _revision(session, key, request.from_version, "from_version")
        target = _revision(session, key, request.to_version, "to_version")
        if not actor.is_member(source.unit_id):
            raise NotFound(f"No SOP with key '{key}'")
        if not actor.administers(source.unit_id):
            raise Forbidden("Only an administrator of the unit may migrate cases")
        if target.status not in RUNNABLE_REVISIONS:
            raise Conflict(f"Version {target.version} is {target.status}: cases move only to an approved or "
                           "active revision", [{"field": "to_version", "message": target.status}])
        ids = _case_ids(session, source, request.case_ids)
    reports: list[CaseReport] = []
    for batch in _batches(ids):
        if request.dry_run:
            with services.db.reading() as session:
                cases = {case.id: case for case in session.scalars(select(Case).where(Case.id.in_(batch)))}
                here = _attached(session, source), _attached(session, target)
                reports += [_check_one(services, session, case_id, cases.get(case_id), *here)[0] for case_id in batch]
            continue
        for case_id in batch:
            try:
                reports.append(_move_one(services, actor, case_id, source, target))
            except ServiceError as exc:  # a concurrent change (optimistic lock) or an engine error
                reports.append(CaseReport(case_id, MigrationOutcome.FAILED, reason=exc.message))
    return MigrationReport(key, source.version, target.version, request.dry_run, reports)


def revert_migration(services: Services, actor: Actor, case_id: str) -> Case:
    """Put a migrated case back on its previous revision and state, if it has not moved on since."""
    with services.db.transaction() as session:
        case = administered_case(session, actor, case_id, "revert a migration")
        record = session.scalar(select(CaseMigration).where(CaseMigration.case_id == case.id,
                                                            CaseMigration.reverted_at.is_(None))
                                .order_by(CaseMigration.id.desc()).limit(1))
        if record is None:
            raise Conflict(f"Case {case_id} has no migration to revert")
        if case.lock_version != record.lock_version_after or case.definition_id != record.to_definition_id:
            raise Conflict(f"Case {case_id} has moved on since it was migrated; it cannot be put back")
        previous = session.get(Definition, record.from_definition_id)
        assert previous is not None  # a foreign key
        run = CaseRun.restore(compiled_for(services, session, previous), record.previous_state,
                              calendar_for(session, case.unit))
        to_version = case.definition.version
        case.definition, case.definition_id = previous, previous.id
        reproject(session, case, run)
        history = HistoryWriter(session, case.id, actor.username)
        history.add("migration_reverted", {"from_version": to_version, "to_version": previous.version})
        write_back(session, case, run, history)
        record.reverted_at, record.reverted_by = utc_now(), actor.username
        return case
