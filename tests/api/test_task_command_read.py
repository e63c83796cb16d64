"""A command on a task (complete, claim, unclaim) reads the task, its case and the case's access rows in one
statement through the driver (issue 13), and holds them in its session as the ORM would have loaded them:
persistent, nothing changed, with the values the ORM reads, and every relationship the command follows
loaded or in the session (no statement of its own). A change is then tracked as on a row the ORM loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import OperationalError
from support.helpers import services_of, sql_statements

from service.commands import tasks
from service.commands.cases import case_options
from service.commands.context import Actor
from service.store.models import Base, Case, CaseAccess, Task

ADMIN = Actor(0, "system", True, {})


def _columns(row: Base) -> dict[str, Any]:
    """The column values ``row`` holds (none loaded by reading them)."""
    return {attr.key: row.__dict__[attr.key] for attr in inspect(row).mapper.column_attrs if attr.key in row.__dict__}


def _orm_read(app: Any, task_id: str) -> tuple[Task, Case, list[CaseAccess]]:
    """The same rows as the ORM loads them: the task with its unit and candidates, the case with its unit and
    revision (as :func:`case_options` loads it), the case's access rows."""
    with services_of(app).db.reading() as session:
        task = session.get(Task, task_id)
        assert task is not None
        case = session.scalars(select(Case).where(Case.id == task.case_id).options(*case_options())).one()
        grants = list(session.scalars(select(CaseAccess).where(CaseAccess.case_id == case.id)))
        return task, case, grants


@pytest.mark.parametrize("with_calendar", [True, False], ids=["complete", "claim"])
def test_a_commands_task_read_holds_the_rows_as_the_orm_loads_them(
        app: Any, start_review: Callable[..., dict[str, Any]], with_calendar: bool) -> None:
    task_id = start_review()["tasks"][0]["id"]
    orm_task, orm_case, orm_grants = _orm_read(app, task_id)
    services = services_of(app)
    with services.db.transaction() as session, sql_statements(services.db.engine) as seen:
        found = tasks._task_for(services, session, ADMIN, task_id, with_calendar=with_calendar)
        task, case = found.task, found.visible.case
        grants = [row for row in session.identity_map.values() if isinstance(row, CaseAccess)]
        held = [task, task.unit, *task.candidates, case, case.unit, case.definition, case.definition.unit, *grants]
        assert [candidate.task for candidate in task.candidates] == [task] * len(task.candidates)
        assert len(seen) == 1, seen  # the read: every relationship above was loaded or in the session

        assert not session.new and not session.dirty and not session.deleted
        for row in held:
            state = inspect(row)
            assert state.persistent and not state.modified and not state.committed_state, row
            assert state.session is session
        assert task.unit is case.unit  # one object per row, as in the ORM's identity map

        assert _columns(task) == _columns(orm_task)
        assert sorted(map(_columns, task.candidates), key=str) == sorted(map(_columns, orm_task.candidates), key=str)
        assert _columns(case) == {key: value for key, value in _columns(orm_case).items()
                                  if with_calendar or key != "state"}
        assert ("state" in inspect(case).unloaded) is not with_calendar
        revision = _columns(case.definition)  # the ORM's columns, and from the memo the fixed ones
        assert {key: revision[key] for key in _columns(orm_case.definition)} == _columns(orm_case.definition)
        assert {"bpmn_xml", "decisions"} <= inspect(case.definition).unloaded
        assert case.definition.forms is not None and case.definition.title is not None
        assert len(seen) == 1, seen  # the forms and title were held: no read of the revision (nor its diagram)
        assert _columns(case.unit) == _columns(orm_case.unit)
        assert sorted(map(_columns, grants), key=str) == sorted(map(_columns, orm_grants), key=str)
        assert grants, "a started case has access rows"

        task.claimed_by = 42
        assert list(session.dirty) == [task]
        assert inspect(task).attrs.claimed_by.history.deleted == [None]
        session.rollback()


@pytest.mark.parametrize("with_calendar", [True, False], ids=["complete", "claim"])
def test_the_read_of_a_command_that_runs_the_engine_locks_the_case_row(
        app: Any, start_review: Callable[..., dict[str, Any]], with_calendar: bool) -> None:
    """PostgreSQL: a completion holds the case row from its read on (the lock order: case, then tasks);
    a claim does not lock it."""
    services = services_of(app)
    if not services.db.is_postgres:
        pytest.skip("SQLite has no row locks: a writer holds the whole database")
    case = start_review()
    with services.db.transaction() as session:
        tasks._task_for(services, session, ADMIN, case["tasks"][0]["id"], with_calendar=with_calendar)
        with services.db.engine.connect() as other:
            lock = text("SELECT id FROM cases WHERE id = :id FOR UPDATE NOWAIT")
            if with_calendar:
                with pytest.raises(OperationalError, match="could not obtain lock"):
                    other.execute(lock, {"id": case["id"]})
            else:
                assert str(other.execute(lock, {"id": case["id"]}).scalar()) == case["id"]
            other.rollback()
