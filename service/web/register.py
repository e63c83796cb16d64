"""Perkara: the case register — search, filters, paging and the CSV / XLSX export of the same set."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, render_template, request
from flask.typing import ResponseReturnValue

from service.commands import register, spreadsheets
from service.commands.register import RegisterRow
from service.engine import utc_now
from service.errors import InvalidInput
from service.web.helpers import actor, local_time, login_required, services, web_blueprint
from service.web.i18n import gettext as _
from service.web.public import mode_label

blp = web_blueprint("web_register", __name__)

#: the filter fields, as the page names them in an error
_FIELD_LABELS: dict[str, Callable[[], str]] = {
    "q": lambda: _("Search words"), "sop": lambda: _("SOP"), "status": lambda: _("Status"),
    "channel": lambda: _("Channel"), "mode": lambda: _("Reporting mode"), "from": lambda: _("Created from"),
    "to": lambda: _("Created until"), "late": lambda: _("Late"), "sort": lambda: _("Sort"),
    "page": lambda: _("Page"),
}


def status_label(status: str) -> str:
    return {"running": _("running"), "completed": _("completed"), "cancelled": _("cancelled"),
            "error": _("error")}.get(status, status)


def _problem(error: InvalidInput) -> str:
    """The error in the page's language, naming the field."""
    field = str((error.details or [{}])[0].get("field", "q"))
    label = _FIELD_LABELS.get(field, lambda: field)()
    if field == "q" and "narrow" in error.message:
        return _("More than %(count)s cases match: narrow the filters to export them.",
                 count=f"{register.EXPORT_CAP:,}".replace(",", "."))
    if field == "q":
        return _("%(field)s: at most %(count)s characters.", field=label, count=register.MAX_QUERY)
    if field in ("from", "to") and "before" in error.message:
        return _("%(field)s: the end date is before the start date.", field=label)
    if field in ("from", "to"):
        return _("%(field)s: enter a date as YYYY-MM-DD.", field=label)
    return _("%(field)s: the value is not valid.", field=label)


def _args(**changes: Any) -> dict[str, str]:
    values = {key: value for key, value in request.args.items() if key in _FIELD_LABELS}
    values.update({key: str(value) for key, value in changes.items()})
    return {key: value for key, value in values.items() if value not in ("", None)}


@blp.get("/perkara")
@login_required
def register_page() -> ResponseReturnValue:
    me = actor()
    sops = register.sops(services(), me)
    try:
        query = register.parse_query(request.args)
    except InvalidInput as error:
        return render_template("web/register.html", problem=_problem(error), found=None, sops=sops, args=_args(),
                               **_labels()), 400
    found = register.page(services(), me, query)
    return render_template("web/register.html", problem=None, found=found, query=query, sops=sops, args=_args(),
                           next_args=_args(page=query.page + 1), previous_args=_args(page=query.page - 1),
                           total_text=_amount(found.total, found.capped), **_labels())


def _labels() -> dict[str, Any]:
    return {"status_label": status_label, "mode_label": mode_label, "when": _when,
            "statuses": register.STATUSES, "modes": register.MODES,
            "sorts": {"newest": _("Newest first"), "oldest": _("Oldest first"),
                      "number": _("Registration number")}}


def _when(row: RegisterRow) -> str:
    return local_time(row.created_at, row.timezone)


def _amount(total: int, capped: bool) -> str:
    shown = f"{min(total, register.COUNT_CAP):,}".replace(",", ".")
    return shown + ("+" if capped else "")


def _headers() -> list[str]:
    return [_("Registration number"), _("SOP"), _("SOP key"), _("Unit"), _("Status"), _("Channel"),
            _("Reporting mode"), _("Created"), _("Completed"), _("Late")]


def _local(moment: datetime | None, timezone: str) -> datetime | None:
    """A naive local time (a spreadsheet's date cell has no zone)."""
    return moment.astimezone(ZoneInfo(timezone)).replace(tzinfo=None) if moment else None


def _cells(row: RegisterRow, dates: bool = True) -> list[Any]:
    """A row of the export: dates as local date-times (XLSX) or as text (CSV)."""
    created: Any = _local(row.created_at, row.timezone)
    completed: Any = _local(row.completed_at, row.timezone)
    if not dates:
        created, completed = (f"{value:%Y-%m-%d %H:%M}" if value else "" for value in (created, completed))
    return [row.registration_number or "", row.title, row.definition_key, row.unit, status_label(row.status),
            row.channel or "", mode_label(row.mode), created, completed, _("Yes") if row.late else _("No")]


def _export_rows() -> list[RegisterRow] | str:
    try:
        query = register.parse_query(request.args)
        return register.export_rows(services(), actor(), query)
    except InvalidInput as error:
        return _problem(error)


@blp.get("/perkara/ekspor.<string:kind>")
@login_required
def register_export(kind: str) -> ResponseReturnValue:
    if kind not in ("csv", "xlsx"):
        return render_template("web/error.html", status=404, message=_("Not found, or not visible to you."),
                               detail=None), 404
    rows = _export_rows()
    if isinstance(rows, str):
        return render_template("web/register.html", problem=rows, found=None, sops=register.sops(services(), actor()),
                               args=_args(), **_labels()), 400
    stamp = f"{utc_now():%Y%m%d-%H%M}"
    headers = _headers()
    if kind == "csv":
        lines = spreadsheets.csv_lines(headers, (dict(zip(headers, _cells(row, dates=False), strict=True))
                                                 for row in rows))
        body, mimetype = ("\ufeff" + "".join(lines)).encode(), "text/csv; charset=utf-8"
    else:
        body = spreadsheets.xlsx_bytes(_("Cases"), headers, (dict(zip(headers, _cells(row), strict=True))
                                                             for row in rows))
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="perkara-{stamp}.{kind}"'})

