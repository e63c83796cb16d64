"""``/metrics`` in the Prometheus text format: request counts and latency, cases and tasks by state."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from flask import Blueprint, Flask, Response, current_app, g, request
from sqlalchemy import Select, bindparam, func, select

from service.api.security import services
from service.engine import CaseStatus, utc_now
from service.store.models import TASK_IS_READY, Case, Task

blp = Blueprint("metrics", __name__)

#: how many tasks are open, and how many of them are past their due date at ``now``: read from a partial
#: index of ``tasks`` (migration 0024), not from the table
OPEN_TASKS: Select[int] = select(func.count()).select_from(Task).where(TASK_IS_READY)
OVERDUE_TASKS: Select[int] = OPEN_TASKS.where(Task.due_at < bindparam("now", type_=Task.due_at.type))


class RequestStats:
    """Per-process counters of requests by (method, endpoint, status) and their total seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count: dict[tuple[str, str, int], int] = defaultdict(int)
        self.seconds: dict[tuple[str, str, int], float] = defaultdict(float)

    def record(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        with self._lock:
            self.count[(method, endpoint, status)] += 1
            self.seconds[(method, endpoint, status)] += seconds

    def lines(self) -> list[str]:
        with self._lock:
            items = sorted(self.count.items())
            seconds = dict(self.seconds)
        out = ["# TYPE alur_http_requests_total counter", "# TYPE alur_http_request_seconds_sum counter"]
        for (method, endpoint, status), count in items:
            labels = f'method="{method}",endpoint="{endpoint}",status="{status}"'
            out.append(f"alur_http_requests_total{{{labels}}} {count}")
            out.append(f"alur_http_request_seconds_sum{{{labels}}} {seconds[(method, endpoint, status)]:.6f}")
        return out


STATS_KEY = "alur.request_stats"


def init_app(app: Flask) -> None:
    stats = RequestStats()
    app.extensions[STATS_KEY] = stats

    @app.before_request
    def _start_timer() -> None:
        g.alur_started = time.perf_counter()

    @app.after_request
    def _record(response: Response) -> Response:
        started = g.get("alur_started")
        if started is not None:
            stats.record(request.method, request.endpoint or "unknown", response.status_code,
                         time.perf_counter() - started)
        return response

    app.register_blueprint(blp)


@blp.get("/metrics")
def metrics() -> Response:
    """Prometheus metrics."""
    lines: list[str] = current_app.extensions[STATS_KEY].lines()
    with services().db.reading() as session:
        lines.append("# TYPE alur_cases gauge")
        for status, count in session.execute(select(Case.status, func.count()).group_by(Case.status)):
            lines.append(f'alur_cases{{status="{status}"}} {count}')
        ready = session.scalar(OPEN_TASKS) or 0
        overdue = session.scalar(OVERDUE_TASKS, {"now": utc_now()}) or 0
        due_timers = session.scalar(select(func.count()).select_from(Case).where(
            Case.status == CaseStatus.RUNNING.value, Case.next_timer_at <= utc_now())) or 0
    lines += ["# TYPE alur_tasks_ready gauge", f"alur_tasks_ready {ready}",
              "# TYPE alur_tasks_overdue gauge", f"alur_tasks_overdue {overdue}",
              "# TYPE alur_timers_due gauge", f"alur_timers_due {due_timers}"]
    return Response("\n".join(lines) + "\n", mimetype="text/plain; version=0.0.4")
