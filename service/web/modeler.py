"""The modeler: edit an SOP revision's diagram in bpmn-js, lint it, save it as a draft, approve,
activate, and compare two revisions side by side.

The page is a JS island (``static/src/modeler.js``); everything else here answers it in JSON. Who
may do what is decided by the commands: the page only hides the buttons one could not use.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Response, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import generate_csrf

from service.commands import definitions, drafts, revisions
from service.commands.context import Actor
from service.documents.waktu import waktu
from service.errors import ErrorDetail, InvalidInput, ServiceError
from service.store.models import Definition
from service.store.states import RevisionStatus
from service.web import check_messages, metadata_form
from service.web.helpers import actor, error_page, login_required, services, wants_json, web_blueprint
from service.web.i18n import gettext as _

blp = web_blueprint("web_modeler", __name__)


def _json(code: int, message: str, errors: list[ErrorDetail] | None = None, **extra: Any) -> Response:
    response = jsonify({"message": message, "errors": errors or [], **extra})
    response.status_code = code
    return response


def _modeler_error(error: ServiceError) -> ResponseReturnValue:
    """The modeler's calls get the details (element ids, lines) with a message for people."""
    messages = {
        403: _("You may not do this with this revision."),
        404: _("Not found, or not visible to you."),
        409: _("This revision changed in the meantime. Reload the page."),
        413: _("The diagram is too large."),
        422: _("The diagram has problems; nothing was saved."),
    }
    if not wants_json():
        return error_page(error.status)
    details = error.details or ([{"message": error.message}] if error.status in (409, 422) else [])
    if error.status == 422:  # the diagram's problems: the check list shows them in the user's language
        details = check_messages.with_text(details)
    return _json(error.status, messages.get(error.status, _("Something went wrong on the server; nothing was saved.")),
                 details)


blp.register_error_handler(ServiceError, _modeler_error)


def may_model(me: Actor | None) -> bool:
    """Does the navigation show the modeler: is ``me`` process owner, approver or admin somewhere?"""
    return me is not None and (me.is_admin or any(drafts.may_open(me, unit_id) for unit_id in me.roles_by_unit))


@blp.app_context_processor
def _navigation() -> dict[str, Any]:
    return {"may_model": may_model}


def _xml() -> bytes:
    """The diagram of a JSON body ``{"xml": "..."}``."""
    body = request.get_json(silent=True)
    xml = body.get("xml") if isinstance(body, dict) else None
    if not isinstance(xml, str) or not xml.strip():
        raise InvalidInput("Send the diagram as {\"xml\": \"...\"}", [{"field": "xml", "message": "required"}])
    return xml.encode("utf-8")


def _summary(definition: Definition) -> dict[str, Any]:
    return {"key": definition.key, "version": definition.version, "status": definition.status,
            "checksum": definition.checksum, "approved_by": definition.approved_by,
            "effective_on": definition.effective_on.isoformat() if definition.effective_on else None,
            "url": url_for("web_modeler.modeler_page", key=definition.key, number=definition.version)}


#: The Waktu picker's units: the timer function a step's SLA timer calls, and its label
_WAKTU_UNITS = (("menit_kerja", "working minutes"), ("jam_kerja", "working hours"), ("hari_kerja", "working days"),
                ("hari_kalender", "days (calendar)"))
_SENTINEL = 7654321


def _waktu_units() -> list[dict[str, str]]:
    """For each unit of the Waktu picker, the words of the Mutu Baku Waktu for ``{n}`` of it, from
    :func:`service.documents.waktu.waktu`: the one rule that reads a step's Waktu from its SLA timer
    (the SOP document and the SLA report print it), so the text the picker writes is what they print."""
    labels = {"working minutes": _("working minutes"), "working hours": _("working hours"),
              "working days": _("working days"), "days (calendar)": _("days (calendar)")}
    units = []
    for function, label in _WAKTU_UNITS:
        words = waktu(f"{function}({_SENTINEL})")
        assert words is not None and str(_SENTINEL) in words, function
        units.append({"function": function, "label": labels[label],
                      "template": words.replace(str(_SENTINEL), "{n}")})
    return units


def _page_config(me: Actor, definition: Definition, others: list[Definition]) -> dict[str, Any]:
    key, number, unit_id = definition.key, definition.version, definition.unit_id
    roles = me.roles_in(unit_id)
    forms = drafts.form_choices(services(), me, key, number)
    return {
        "key": key, "version": number, "status": definition.status, "checksum": definition.checksum,
        "canSave": drafts.may_edit(me, unit_id),
        "canApprove": definition.status == RevisionStatus.DRAFT.value and revisions.APPROVER_ROLE in roles,
        "canActivate": definition.status == RevisionStatus.APPROVED.value and me.administers(unit_id),
        "versions": [{"version": o.version, "status": o.status} for o in others],
        "urls": {
            "diagram": url_for("web_modeler.diagram", key=key, number=number),
            # + "/<version>/diagram.bpmn": the diagram of another revision (the diff)
            "revisions": url_for("web_modeler.modeler_page", key=key, number=number).rsplit("/", 1)[0],
            "check": url_for("web_modeler.check", key=key, number=number),
            "save": url_for("web_modeler.save", key=key, number=number),
            "approve": url_for("web_modeler.approve", key=key, number=number),
            "activate": url_for("web_modeler.activate", key=key, number=number),
            "forms": url_for("web_modeler.forms", key=key, number=number),
            "diff": url_for("web_modeler.diff", key=key),
        },
        "csrf": generate_csrf(),
        "messages": _client_messages(),
        "forms": [{"key": c.key, "title": c.title} for c in forms],
        "waktu": _waktu_units(),
        "lintRules": check_messages.lint_rules(),
        "kinds": check_messages.element_kinds(),
        "strings": check_messages.bpmn_js_strings(),
    }


def _client_messages() -> dict[str, str]:
    """What the page's script says, translated here so one catalog holds every string."""
    return {
        "loading": _("Loading the diagram…"), "loadFailed": _("The diagram could not be loaded."),
        "checking": _("Checking…"), "noProblems": _("Alur's checks found no problems."),
        "problems": _("Alur's checks: %(n)s problem(s)", n="{n}"), "line": _("line %(n)s", n="{n}"),
        "saving": _("Saving…"), "created": _("Saved as draft version %(n)s.", n="{n}"),
        "updated": _("Draft version %(n)s saved.", n="{n}"), "unchanged": _("No changes to save."),
        "saveFailed": _("Not saved."), "approved": _("Approved."), "activated": _("Active."),
        "networkError": _("The server could not be reached; nothing was saved."),
        "formNone": _("— no form —"),
        "added": _("added"), "removed": _("removed"), "changed": _("changed"),
        "diffEmpty": _("The two revisions have the same elements and facts."),
        "unsaved": _("There are unsaved changes."),
        "checkedClean": _("No problems: Alur's checks and bpmnlint found nothing."),
        "checkedProblems": _("%(n)s problem(s) to fix before saving", n="{n}"),
        "lintOnly": _("%(n)s note(s) from bpmnlint", n="{n}"),
        "sourceAlur": _("Alur"), "sourceLint": _("bpmnlint"), "error": _("error"), "warning": _("warning"),
        "lane": _("lane %(name)s", name="{name}"), "flowFrom": _("flow from %(a)s to %(b)s", a="{a}", b="{b}"),
        "timerOf": _("time limit of %(name)s", name="{name}"), "diagram": _("The diagram"),
        "groupPerformer": _("Performer"), "groupForm": _("Form"), "groupStandard": _("Service standard"),
        "performerRole": _("Role (lane name)"),
        "performerOf": _("Done by the lane %(name)s. Move the step into another lane to change who does it.",
                         name="{name}"),
        "performerNone": _("This step is in no lane."),
        "form": _("Form"), "formDescription": _("The forms of the forms directory and of this SOP."),
        "requirements": _("Requirements"), "time": _("Time"), "timeAmount": _("Time: amount"),
        "timeUnit": _("Time: unit"), "output": _("Output"),
        "timeWrites": _("Writes the Mutu Baku “%(text)s” and the SLA timer %(timer)s.", text="{text}", timer="{timer}"),
        "timeTextOnly": _("This step has no SLA timer: only the Mutu Baku text “%(text)s” is written.",
                          text="{text}"),
        "timeOther": _("The SLA timer %(timer)s is not one of these units: change it in the timer's advanced settings.",
                       timer="{timer}"),
        "timeInvalid": _("Give a whole number of at least 1."), "today": _("today (in the unit)"),
    }


@blp.get("/modeler")
@login_required
def modeler_index() -> ResponseReturnValue:
    me = actor()
    sops = [(latest, all_revisions) for latest, all_revisions in definitions.revisions_per_key(services(), me)
            if drafts.may_open(me, latest.unit_id)]
    return render_template("web/modeler_index.html", sops=sops)


def _page(key: str, number: int, form: Mapping[str, str] | None = None,
          errors: list[ErrorDetail] | None = None) -> str:
    me = actor()
    definition = drafts.open_revision(services(), me, key, number)
    others = definitions.versions(services(), me, key)
    events = revisions.events(services(), me, key, number)
    values = form if form is not None else metadata_form.values(revisions.metadata(services(), me, key, number))
    return render_template("web/modeler.html", definition=definition, versions=others, events=events,
                           config=_page_config(me, definition, others), metadata=values,
                           metadata_fields=metadata_form.FIELDS,
                           metadata_errors={str(e.get("field")): e.get("message") for e in errors or []},
                           may_edit_metadata=definition.status == RevisionStatus.DRAFT and drafts.may_edit(
                               me, definition.unit_id))


@blp.get("/modeler/<key>/<int:number>")
@login_required
def modeler_page(key: str, number: int) -> ResponseReturnValue:
    return _page(key, number)


@blp.post("/modeler/<key>/<int:number>/metadata")
@login_required
def metadata(key: str, number: int) -> ResponseReturnValue:
    """The "Metadata SOP" panel: the SOP metadata of a draft, written into its diagram."""
    try:
        revisions.replace_metadata(services(), actor(), key, number, metadata_form.parse(request.form))
    except InvalidInput as error:
        return _page(key, number, request.form, error.details), 422
    return redirect(url_for("web_modeler.modeler_page", key=key, number=number, _anchor="metadata"), 303)


@blp.get("/modeler/<key>/<int:number>/diagram.bpmn")
@login_required
def diagram(key: str, number: int) -> ResponseReturnValue:
    definition = drafts.open_revision(services(), actor(), key, number)
    return Response(definition.bpmn_xml, mimetype="application/xml")


@blp.get("/modeler/<key>/<int:number>/forms")
@login_required
def forms(key: str, number: int) -> ResponseReturnValue:
    choices = drafts.form_choices(services(), actor(), key, number)
    return jsonify({"forms": [{"key": c.key, "title": c.title} for c in choices]})


@blp.post("/modeler/<key>/<int:number>/check")
@login_required
def check(key: str, number: int) -> ResponseReturnValue:
    problems = drafts.check(services(), actor(), key, number, _xml())
    return jsonify({"errors": check_messages.with_text(problems)})


@blp.post("/modeler/<key>/<int:number>/drafts")
@login_required
def save(key: str, number: int) -> ResponseReturnValue:
    body = request.get_json(silent=True)
    expected = body.get("checksum") if isinstance(body, dict) and isinstance(body.get("checksum"), str) else None
    saved = drafts.save(services(), actor(), key, number, _xml(), expected)
    return _json(201 if saved.outcome == "created" else 200, "", outcome=saved.outcome, **_summary(saved.definition))


@blp.post("/modeler/<key>/<int:number>/approve")
@login_required
def approve(key: str, number: int) -> ResponseReturnValue:
    return jsonify(_summary(revisions.approve(services(), actor(), key, number)))


@blp.post("/modeler/<key>/<int:number>/activate")
@login_required
def activate(key: str, number: int) -> ResponseReturnValue:
    body = request.get_json(silent=True)
    raw = body.get("effective_on") if isinstance(body, dict) else None
    try:
        effective_on = date.fromisoformat(raw) if isinstance(raw, str) and raw else None
    except ValueError as exc:
        raise InvalidInput("effective_on must be a date like 2026-01-31",
                           [{"field": "effective_on", "message": "not a date"}]) from exc
    return jsonify(_summary(revisions.activate(services(), actor(), key, number, effective_on)))


@blp.get("/modeler/<key>/diff")
@login_required
def diff(key: str) -> ResponseReturnValue:
    try:
        old, new = int(request.args.get("from", "")), int(request.args.get("to", ""))
    except ValueError:
        return _json(422, _("Choose two versions to compare."), [{"field": "from", "message": "not a number"}])
    return jsonify(revisions.diff(services(), actor(), key, old, new).as_dict())


# --- the decision editor: one decision table of a revision in dmn-js -----------------------------------

def _decision_url(key: str, number: int, decision_id: str) -> str:
    return url_for("web_modeler.decision_page", key=key, number=number, decision_id=decision_id)


@blp.get("/modeler/<key>/<int:number>/keputusan/<decision_id>")
@login_required
def decision_page(key: str, number: int, decision_id: str) -> ResponseReturnValue:
    """The decision table ``decision_id`` of a revision in dmn-js's editor (who may: as the modeler)."""
    me = actor()
    definition = drafts.open_revision(services(), me, key, number)
    text = (definition.decisions or {}).get(decision_id)
    if not isinstance(text, str):
        return error_page(404)
    config = {
        "key": key, "version": number, "decisionId": decision_id, "checksum": definition.checksum,
        "dmn": text, "canSave": drafts.may_edit(me, definition.unit_id), "csrf": generate_csrf(),
        "urls": {"save": _decision_url(key, number, decision_id)},
        "messages": {
            "loading": _("Loading the decision table…"), "loadFailed": _("The decision table could not be loaded."),
            "saving": _("Saving…"), "created": _("Saved as draft version %(n)s.", n="{n}"),
            "updated": _("Draft version %(n)s saved.", n="{n}"), "unchanged": _("No changes to save."),
            "saveFailed": _("Not saved."), "unsaved": _("There are unsaved changes."),
            "networkError": _("The server could not be reached; nothing was saved."),
            "line": _("line %(n)s", n="{n}"),
        },
    }
    return render_template("web/decisions.html", definition=definition, decision_id=decision_id, config=config)


@blp.post("/modeler/<key>/<int:number>/keputusan/<decision_id>")
@login_required
def save_decision(key: str, number: int, decision_id: str) -> ResponseReturnValue:
    """Save the edited table as a draft, like the modeler's "Save draft" (the same command and checks)."""
    body = request.get_json(silent=True)
    expected = body.get("checksum") if isinstance(body, dict) and isinstance(body.get("checksum"), str) else None
    try:
        saved = drafts.save(services(), actor(), key, number, None, expected, table=(decision_id, _xml()))
    except InvalidInput as error:  # the table's problems, in the user's language
        if not wants_json():
            raise
        return _json(422, _("The decision table has problems; nothing was saved."),
                     check_messages.with_text(error.details or [{"message": error.message}]))
    summary = _summary(saved.definition)
    return _json(201 if saved.outcome == "created" else 200, "", outcome=saved.outcome, **summary,
                 decision_url=_decision_url(saved.definition.key, saved.definition.version, decision_id))
