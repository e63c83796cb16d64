"""schemathesis over ``/api/openapi.json``: every operation, signed in as an admin — no 500, and each
response matches the schema it is documented with (issue 12, the suite).

In-process (WSGI): schemathesis reads the spec from the app and calls it through Flask's test client.
The short run (``make test``) draws a few examples per operation on SQLite; the long run (``-m long``)
draws many more on PostgreSQL. Failures are collected per operation and reported together.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import checks as generic
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi import checks as openapi
from support.helpers import Persona, signed_in_now

SHORT_EXAMPLES = 6
LONG_EXAMPLES = 100
#: what every response must satisfy; negative/positive data checks are left out: the API answers 400 or
#: 422 by its own rules (e.g. an unknown unit is 422), which schemathesis cannot know from the schema
CHECKS = [generic.not_a_server_error, openapi.response_schema_conformance, openapi.status_code_conformance,
          openapi.content_type_conformance]
#: operations that end the token they are called with: a fresh one is taken after them
ENDS_TOKEN = ("/api/auth/logout", "/api/auth/password", "/password", "/disable")


@dataclass
class Run:
    """What one fuzzing run saw: calls, statuses, failures by operation, and the token in use."""

    app: Any
    admin: Persona
    persona: Persona
    calls: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, list[str]] = field(default_factory=dict)


def fuzz(app: Any, admin: Persona, examples: int) -> Run:
    """Call every operation ``examples`` times, with the admin's token or none."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    run = Run(app, admin, admin)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the spec has an operation schemathesis cannot read: {result.err()}"
        operations.append(result.ok())
    assert len(operations) >= 50, len(operations)
    for operation in operations:
        _fuzz_operation(run, operation, examples)
    return run


def _fuzz_operation(run: Run, operation: Any, examples: int) -> None:
    label = f"{operation.method.upper()} {operation.path}"

    @given(case=operation.as_strategy(), anonymous=st.booleans())
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    def one(case: Any, anonymous: bool) -> None:
        run.calls += 1
        headers = {} if anonymous else dict(run.persona.headers)
        try:
            response = case.call_and_validate(headers=headers, checks=CHECKS)
        except (Failure, FailureGroup) as exc:  # keep it, go on with the next example
            found = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
            run.failures.setdefault(label, []).extend(_describe(item) for item in found)
            return
        run.statuses[response.status_code] += 1
        if operation.path.endswith(ENDS_TOKEN):
            run.persona = signed_in_now(run.app.test_client(), run.admin)

    one()


def _describe(failure: Any) -> str:
    message = str(getattr(failure, "message", "") or failure).strip().splitlines()
    return f"{getattr(failure, 'title', type(failure).__name__)}: {message[0] if message else ''}"


def _report(run: Run) -> str:
    lines = [f"{run.calls} calls, statuses {dict(sorted(run.statuses.items()))}, "
             f"{len(run.failures)} operations failed:"]
    for label, found in sorted(run.failures.items()):
        lines.append(f"  {label}: {len(found)} × {sorted(set(found))[:3]}")
    return "\n".join(lines)


@pytest.fixture
def seeded(admin: Persona, review: dict[str, Any], start_review: Callable[..., dict[str, Any]]) -> Persona:
    """A unit, a deployed SOP and a running case, so some generated ids hit real rows."""
    start_review()
    return admin


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_operation_answers_without_500_and_as_documented(app: Any, seeded: Persona) -> None:
    run = fuzz(app, seeded, SHORT_EXAMPLES)
    assert not run.failures, _report(run)


@pytest.mark.long
@pytest.mark.postgres
def test_every_operation_answers_without_500_and_as_documented_long(
    app: Any, seeded: Persona, request: pytest.FixtureRequest
) -> None:
    run = fuzz(app, seeded, LONG_EXAMPLES)
    print(f"\nschemathesis long: {_report(run)}")
    assert not run.failures, _report(run)


@pytest.fixture
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """SQLite for the short run (parametrized), PostgreSQL for the long one."""
    if getattr(request, "param", "postgres") == "sqlite":
        target = tmp_path / "alur.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_db")
    return url
