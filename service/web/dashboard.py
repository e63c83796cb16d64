"""Dasbor: the head-of-office dashboard (``/dasbor``), its print view for the semester report
(``/dasbor/cetak``), and its downloads: the SLA report as CSV or XLSX and the SOP document as PDF.

Who may open it and what it counts is :mod:`service.commands.dashboard`; this module turns the query
string into a period (a preset, or from/to dates in the office's timezone) and the figures into tables
and the charts' data (drawn by ``static/src/dashboard.js``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from flask import Response, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale

from service.commands import dashboard as figures
from service.commands.context import Actor
from service.commands.reports import SlaRow, sla_report
from service.commands.sla_tables import sla_csv, sla_filename, sla_xlsx
from service.commands.sop_document import sop_pdf
from service.engine.schedule import period_of
from service.errors import Forbidden, InvalidInput
from service.web.helpers import actor, error_page, local_time, login_required, services, web_blueprint
from service.web.i18n import gettext as _

blp = web_blueprint("web_dashboard", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Errors = dict[str, str]


def _forbidden(error: Forbidden) -> ResponseReturnValue:
    return error_page(403, _("Only heads of office and pengawas may open the dashboard."))


blp.register_error_handler(Forbidden, _forbidden)


@blp.app_context_processor
def _navigation() -> dict[str, Any]:
    return {"may_view_dashboard": figures.may_view_dashboard}


def _locale() -> str:
    return str(get_locale() or "id")


def preset_label(preset: str) -> str:
    labels = {"bulan": _("This month"), "triwulan": _("This quarter"), "semester": _("This semester"),
              "tahun": _("This year")}
    return labels.get(preset, preset)


def _day(args: Mapping[str, str], name: str, errors: Errors) -> date | None:
    text = (args.get(name) or "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = _("Enter a date such as 2026-01-31.")
        return None


def _period(args: Mapping[str, str], office: figures.Office, default: str) -> tuple[date, date, str, Errors]:
    """The days the query asks for: a preset's period of today when one is chosen, else from/to (both),
    else the default preset's. Wrong input falls back to the default, with the wrong field named."""
    errors: Errors = {}
    preset = (args.get("preset") or "").strip()
    today = datetime.now(ZoneInfo(office.timezone)).date()
    if preset in figures.PRESETS:
        return (*figures.preset_days(preset, today), preset, errors)
    if preset:
        errors["preset"] = _("Choose one of the listed periods.")
    first, last = _day(args, "from", errors), _day(args, "to", errors)
    if (first is None) != (last is None) and not errors:
        errors["from" if first is None else "to"] = _("Enter both dates of the period, or choose a period.")
    if first is not None and last is not None and not errors:
        if last < first:
            errors["to"] = _("The end of the period is before its start.")
        elif (last - first).days >= figures.MAX_DAYS:
            errors["to"] = _("The period is too long: at most five years.")
        else:
            return first, last, "", errors
    return (*figures.preset_days(default, today), default, errors)


def office_seconds(seconds: float | None) -> str:
    """A duration of office time: minutes under an hour, else hours with one decimal."""
    if seconds is None:
        return "—"
    if seconds < 3600:
        return _("%(n)s office min", n=format_decimal(round(seconds / 60), locale=_locale()))
    return _("%(n)s office h", n=format_decimal(round(seconds / 3600, 1), format="#,##0.#", locale=_locale()))


def share(value: float | None) -> str:
    return "—" if value is None else format_percent(value, format="#,##0%", locale=_locale())


def period_label(first: date, last: date) -> str:
    """``Semester II 2025`` when the days are a calendar period, else ``1 Oktober 2025 – 31 Desember 2025``."""
    for kind in ("tahunan", "semester", "triwulan", "bulanan"):
        found = period_of(kind, first)
        if found.start == first and found.last_day == last:
            return found.label
    pattern = "d MMMM yyyy"
    return f"{format_date(first, pattern, locale=_locale())} – {format_date(last, pattern, locale=_locale())}"


def _chart_data(board: figures.Dashboard, titles: dict[str, str]) -> dict[str, Any]:
    """What ``dashboard.js`` draws: the same figures as the page's tables."""
    names = (("received", _("Received")), ("open", _("Still open")), ("late", _("Late")), ("closed", _("Closed")))
    steps = []
    for index, row in enumerate(board.sops):
        judged = [step for step in board.steps.get(row.key, []) if step.within_target is not None]
        steps.append({"canvas": f"chart-steps-{index}", "label": _("Within time (%)"),
                      "labels": [step.name for step in judged],
                      "values": [round(step.within_target * 100, 1) for step in judged
                                 if step.within_target is not None]})
    return {
        "sops": {"labels": [row.title for row in board.sops],
                 "series": [{"label": label, "values": [getattr(row, name) for row in board.sops]}
                            for name, label in names]},
        "channels": {"label": _("Reports received"),
                     "labels": [f"{titles.get(item.key, item.key)}: {item.channel}" for item in board.channels],
                     "values": [item.count for item in board.channels]},
        "steps": steps,
    }


def _render(template: str, default: str) -> ResponseReturnValue:
    me = actor()
    office, offices = figures.choose_office(services(), me, request.args.get("unit") or None)
    first, last, preset, errors = _period(request.args, office, default)
    board = figures.dashboard(services(), me, office, first, last)
    titles = {row.key: row.title for row in [*board.sops, *board.periodic]}
    query = {"unit": office.code, "from": first.isoformat(), "to": last.isoformat()}
    page = render_template(
        template, board=board, office=office, offices=offices, errors=errors, preset=preset,
        presets=[(name, preset_label(name)) for name in figures.PRESETS], titles=titles, query=query,
        chart_data=_chart_data(board, titles), office_seconds=office_seconds, share=share,
        label=period_label(first, last), when=lambda moment: local_time(moment, office.timezone),
        args={"from": request.args.get("from", ""), "to": request.args.get("to", "")} if errors else
        {"from": first.isoformat(), "to": last.isoformat()},
    )
    return page, 400 if errors else 200


@blp.get("/dasbor")
@login_required
def dashboard_page() -> ResponseReturnValue:
    return _render("web/dashboard.html", "bulan")


@blp.get("/dasbor/cetak")
@login_required
def dashboard_print() -> ResponseReturnValue:
    """The semester report (or the period asked for) to print: the same figures, on paper."""
    return _render("web/dashboard_print.html", "semester")


def _sla_rows(me: Actor, key: str) -> list[SlaRow]:
    office, _offices = figures.choose_office(services(), me, request.args.get("unit") or None)
    first, last, _preset, errors = _period(request.args, office, "bulan")
    if errors:
        raise InvalidInput("; ".join(f"{name}: {message}" for name, message in errors.items()))
    span = figures.period(first, last, office.timezone)
    return sla_report(services(), me, key, None, span.start, span.end)


@blp.get("/dasbor/sla/<key>.csv")
@login_required
def sla_csv_download(key: str) -> ResponseReturnValue:
    rows = _sla_rows(actor(), key)
    return Response(sla_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{sla_filename(rows, "csv")}"'})


@blp.get("/dasbor/sla/<key>.xlsx")
@login_required
def sla_xlsx_download(key: str) -> ResponseReturnValue:
    rows = _sla_rows(actor(), key)
    return Response(sla_xlsx(rows), mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{sla_filename(rows, "xlsx")}"'})


@blp.get("/dasbor/sop/<key>/<int:number>.pdf")
@login_required
def sop_document(key: str, number: int) -> ResponseReturnValue:
    me = actor()
    if not figures.may_view_dashboard(me):
        raise Forbidden("Only heads of office and pengawas read the dashboard")
    pdf = sop_pdf(services(), me, key, number)
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="sop-{key}-v{number}.pdf"'})
