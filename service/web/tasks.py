"""The task list (filters, counts, paging, claim/unclaim; htmx refreshes) and the task page with its form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel.numbers import format_decimal
from flask import jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from werkzeug.datastructures import MultiDict

from service.commands import attachments, display, notifications
from service.commands import task_list as listing
from service.commands import tasks as task_commands
from service.commands.cases import case_page
from service.commands.task_list import SORTS, TaskQuery
from service.engine import utc_now
from service.store.models import Task
from service.web.cases import report_of, yes_no
from service.web.helpers import actor, local_time, login_required, services, sla_state, span, web_blueprint
from service.web.notifications import kind_text

blp = web_blueprint("web_tasks", __name__)
PER_PAGE = 25
STATUSES = ("all", "unclaimed", "mine")


@dataclass(frozen=True)
class Filters:
    sop: str = ""
    lane: str = ""
    status: str = "all"
    overdue: str = ""
    q: str = ""
    sort: str = "due_at"
    #: the keyset cursor of the page shown (empty: the first page)
    cursor: str = ""

    @classmethod
    def parse(cls, values: MultiDict[str, str]) -> Filters:
        def pick(name: str, allowed: tuple[str, ...], default: str) -> str:
            value = values.get(name, default)
            return value if value in allowed else default

        return cls(sop=values.get("sop", "")[:200], lane=values.get("lane", "")[:100],
                   status=pick("status", STATUSES, "all"), overdue=pick("overdue", ("", "1", "0"), ""),
                   q=values.get("q", "")[:100], sort=pick("sort", tuple(SORTS), "due_at"),
                   cursor=values.get("cursor", "")[:400])

    def query(self) -> TaskQuery:
        return TaskQuery(definition_key=self.sop or None, lane=self.lane or None, mine=self.status == "mine",
                         unclaimed=self.status == "unclaimed",
                         overdue=None if not self.overdue else self.overdue == "1", search=self.q or None,
                         sort=self.sort, cursor=self.cursor or None, per_page=PER_PAGE)

    def args(self, **changes: Any) -> dict[str, Any]:
        values = {"sop": self.sop, "lane": self.lane, "status": self.status, "overdue": self.overdue, "q": self.q,
                  "sort": self.sort, "cursor": self.cursor, **changes}
        return {key: value for key, value in values.items() if value not in ("", None)}


@dataclass(frozen=True)
class Row:
    task: Task
    label: str | None
    sla: str | None
    due: str
    age: str
    claimed: str  # "me", "other" or ""


def _rows(found: list[Task], now: datetime) -> list[Row]:
    labels = listing.case_labels(services(), (task.case_id for task in found))
    me = actor().user_id
    return [Row(task, labels.get(task.case_id), sla_state(task.due_at, task.created_at, now),
                local_time(task.due_at, task.unit.timezone), span(now - task.created_at),
                "" if task.claimed_by is None else ("me" if task.claimed_by == me else "other"))
            for task in found]


def amount(count: int, capped: bool = False) -> str:
    """A count in the page's language ("1.000" in Indonesian), with "+" when counting stopped at the cap."""
    return format_decimal(min(count, listing.COUNT_CAP) if capped else count, locale=str(get_locale() or "id")) + (
        "+" if capped else "")


def _results(filters: Filters) -> dict[str, Any]:
    now = utc_now()
    query = filters.query()
    found = listing.page_tasks(services(), actor(), query, now=now)
    counts = listing.count_by_definition(services(), actor(), TaskQuery(), now=now)
    return {"rows": _rows(found.items, now), "total": found.total,
            "total_text": amount(found.total, found.total_capped), "filters": filters, "next_cursor": found.next_cursor,
            "counts": {key: amount(count, count > query.count_cap) for key, count in counts.items()}}


@blp.get("/")
def home() -> ResponseReturnValue:
    return redirect(url_for("web_tasks.task_list"))


@blp.get("/tasks")
@login_required
def task_list() -> ResponseReturnValue:
    filters = Filters.parse(request.args)
    context = _results(filters)
    if request.headers.get("HX-Request"):
        return render_template("web/_task_results.html", **context)
    lanes = sorted({role for roles in actor().roles_by_unit.values() for role in roles})
    attention = notifications.attention(services(), actor())  # "Perlu perhatian Anda": one query, full page only
    return render_template("web/tasks.html", lanes=lanes, attention=attention, kind_text=kind_text,
                           attention_due={entry.id: local_time(entry.due_at, entry.timezone) for entry in attention},
                           **context)


def _after_change() -> ResponseReturnValue:
    filters = Filters.parse(request.form)
    if request.headers.get("HX-Request"):
        return render_template("web/_task_results.html", **_results(filters))
    return redirect(url_for("web_tasks.task_list", **filters.args()))


@blp.post("/tasks/<task_id>/claim")
@login_required
def claim(task_id: str) -> ResponseReturnValue:
    task_commands.claim(services(), actor(), task_id)
    if request.form.get("open"):
        return redirect(url_for("web_tasks.task_page", task_id=task_id))
    return _after_change()


@blp.post("/tasks/<task_id>/unclaim")
@login_required
def unclaim(task_id: str) -> ResponseReturnValue:
    task_commands.unclaim(services(), actor(), task_id)
    return _after_change()


@dataclass(frozen=True)
class Step:
    """A completed step of the case, as the task page shows it above the form."""

    decision: display.Decision
    when: str


@blp.get("/tasks/<task_id>")
@login_required
def task_page(task_id: str) -> ResponseReturnValue:
    """The task: the case's report and the decisions so far, then the form, then the case data."""
    view = task_commands.get_task(services(), actor(), task_id)
    parts = case_page(services(), actor(), view.task.case_id, reporter=False)
    case_view, stored = parts.view, parts.files
    case, words = case_view.case, yes_no()
    timezone = view.task.unit.timezone
    form = view.form or {"schema": {"type": "object", "properties": {}}, "ui": {}}
    files = set(attachments.file_fields(form))
    properties = (form.get("schema") or {}).get("properties") or {}
    initial = {k: v for k, v in view.case_data.items() if k in properties and k not in files}
    island = {"schema": form.get("schema"), "ui": form.get("ui") or {}, "formData": initial,
              "submitUrl": url_for("web_tasks.complete", task_id=task_id)}
    steps = [Step(decision, local_time(decision.at, timezone))
             for decision in display.decisions(services(), case.definition, case_view.history, words)]
    return render_template("web/task.html", view=view, task=view.task, island=island, case=case,
                           label=display.case_label(case), report=report_of(case_view.data, case.definition),
                           steps=steps, filenames={file.id: file.filename for file in stored},
                           case_data=display.shown_fields(services(), case.definition, view.task.form_key,
                                                          view.case_data, words),
                           comments=parts.comments,
                           due=local_time(view.task.due_at, view.task.unit.timezone),
                           sla=sla_state(view.task.due_at, view.task.created_at, utc_now()))


@blp.post("/tasks/<task_id>/complete")
@login_required
def complete(task_id: str) -> ResponseReturnValue:
    """JSON from the form island: ``{"data": {...}}`` → 200 ``{"redirect"}``, or 422 with field errors."""
    body = request.get_json(silent=True)
    data = body.get("data") if isinstance(body, dict) else None
    case = task_commands.complete(services(), actor(), task_id, data)
    return jsonify({"redirect": url_for("web_cases.case_page", case_id=case.id, done=task_id)})
