"""The case page (timeline vs the SOP's Waktu, attachments, comments, diagram) and attachment downloads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Response, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue

from service.commands import attachments, comments, display, notifications
from service.commands.archive import archive_for
from service.commands.cases import case_page as case_page_parts
from service.commands.cases import get_case
from service.commands.display import ShownField
from service.commands.history import check_chain
from service.engine import utc_now
from service.engine.compiler import steps
from service.engine.properties import STANDARD_TIME
from service.store.models import Definition, HistoryEntry
from service.web.helpers import actor, local_time, login_required, safe_next, services, span, web_blueprint
from service.web.i18n import gettext as _

blp = web_blueprint("web_cases", __name__)


@dataclass(frozen=True)
class Event:
    entry: HistoryEntry
    when: str
    took: str | None  # from the task's creation to this entry (completions)
    waktu: str | None  # the SOP's standard time of the step
    late: bool  # the step's SLA timer fired before it was done
    data: list[ShownField]  # what a completed step decided, by its form's labels


def yes_no() -> tuple[str, str]:
    """What true and false read as on a page, in its language."""
    return _("Yes"), _("No")


def _timeline(history: list[HistoryEntry], waktu: dict[str, str], timezone: str,
              definition: Definition) -> list[Event]:
    words = yes_no()
    created: dict[str, datetime] = {}
    breached: set[str] = set()
    events = []
    for entry in history:
        took = None
        if entry.action == "task_created" and entry.task_id:
            created[entry.task_id] = entry.at
        if entry.action == "timer_fired" and entry.data.get("attached_to"):
            breached.add(str(entry.data["attached_to"]))
        if entry.action == "task_completed" and entry.task_id in created:
            took = span(entry.at - created[entry.task_id])
        pairs = (display.step_fields(services(), definition, entry.element_id, entry.data.get("data"), words)
                 if entry.action == "task_completed" else [])
        events.append(Event(entry, local_time(entry.at, timezone), took,
                            waktu.get(entry.element_id or "") if entry.action == "task_completed" else None,
                            entry.action == "task_completed" and (entry.element_id or "") in breached, pairs))
    return events


@blp.get("/cases/<case_id>")
@login_required
def case_page(case_id: str) -> ResponseReturnValue:
    page = case_page_parts(services(), actor(), case_id)
    notifications.mark_case_read(services(), actor(), case_id)  # opened: its notices to me are read
    view, files, reporter = page.view, page.files, page.reporter
    case = view.case
    infos = steps(case.definition.bpmn_xml.encode())
    waktu = {info.element_id: info.properties.get(STANDARD_TIME) or (info.sla_timer or "") for info in infos}
    timezone = case.unit.timezone
    done = [e.element_id for e in view.history if e.action == "task_completed" and e.element_id]
    markers: dict[str, Any] = {"done": sorted(set(done)), "current": [t.element_id for t in view.tasks]}
    return render_template(
        "web/case.html", case=case, view=view, label=display.case_label(case),
        chain=check_chain(case.id, view.history, case.history_head) if view.full else None,
        timeline=_timeline(view.history, waktu, timezone, case.definition),
        markers=markers, files=files, filenames={file.id: file.filename for file in files},
        report=report_of(view.data, case.definition, with_reporter=reporter is None),
        comments=page.comments,
        started=local_time(case.created_at, timezone), now=utc_now(),
        open_tasks=[(t, local_time(t.due_at, timezone)) for t in view.tasks],
        reporter=reporter)


@dataclass(frozen=True)
class Report:
    """The report a case started with, as its viewer may read it (never the reporter's identity)."""

    fields: list[ShownField]
    mode: str | None  # anonim, rahasia, biasa (a public or counter report)
    channel: str | None


def report_of(data: dict[str, Any], definition: Definition, with_reporter: bool = True) -> Report:
    """``data``: the case data as the viewer may see it; ``with_reporter``: with the identity mode and
    channel (the case page leaves them to its reporter box when it shows one)."""
    mode, channel = data.get(display.MODE_KEY), data.get(display.CHANNEL_KEY)
    return Report(display.report_fields(services(), definition, data, yes_no()),
                  str(mode) if with_reporter and mode else None, str(channel) if with_reporter and channel else None)


@blp.get("/cases/<case_id>/arsip.zip")
@login_required
def archive(case_id: str) -> ResponseReturnValue:
    """The completed case's archive (see :mod:`service.commands.archive`), for those who see all of it."""
    found = archive_for(services(), actor(), case_id)
    return send_file(found.path, mimetype="application/zip", as_attachment=True,
                     download_name=f"arsip-{found.label.replace('/', '-')}.zip", max_age=0)


@blp.get("/cases/<case_id>/diagram.bpmn")
@login_required
def diagram(case_id: str) -> ResponseReturnValue:
    view = get_case(services(), actor(), case_id)
    return Response(view.case.definition.bpmn_xml, mimetype="application/xml")


@blp.post("/cases/<case_id>/comments")
@login_required
def add_comment(case_id: str) -> ResponseReturnValue:
    task_id = request.form.get("task_id") or None
    comments.add_comment(services(), actor(), case_id, request.form.get("body", ""), task_id=task_id)
    default = url_for("web_cases.case_page", case_id=case_id)
    return redirect(safe_next(request.form.get("next"), default) + "#comments")


@blp.get("/attachments/<attachment_id>")
@login_required
def download(attachment_id: str) -> ResponseReturnValue:
    found, path = attachments.open_attachment(services(), actor(), attachment_id)
    return send_file(path, mimetype=found.content_type, as_attachment=True, download_name=found.filename,
                     max_age=0)
