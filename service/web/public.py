"""The public's pages (no login): file a report, follow it up; and the reporter box of the staff case page.

Every page calls :mod:`service.commands.public` or :mod:`service.commands.reporters` only. The
secret is shown once, in the answer to the submission, and is never kept: after a code + secret
check the session holds the case id and an expiry (a signed cookie, readable by its holder, so
nothing secret goes in it). A wrong secret and an unknown code render the same page. Nothing
here logs a request, a code or an identity; the limiter keys clients by a salted hash.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Response, jsonify, redirect, render_template, request, send_file, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

from service.api.limits import FOLLOW_UP_LIMIT, limiter, submission_limit
from service.commands import attachments, outcomes, reporters
from service.commands import public as commands
from service.commands.identity_policy import IdentityPolicy
from service.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from service.web.helpers import actor, error_page, local_time, login_required, services, web_blueprint
from service.web.i18n import gettext as _

blp = web_blueprint("web_public", __name__)
SESSION_CASE = "public_case"
SESSION_UNTIL = "public_until"
SESSION_SECONDS = 20 * 60
MAX_MESSAGE = 5000


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


blp.after_request(_no_store)


def _public_http_error(error: HTTPException) -> tuple[str | Response, int]:
    if error.code == 429 and not request.is_json:
        return render_template("web/public_error.html", message=_locked_or_busy()), 429
    return error_page(error.code or 500)


blp.register_error_handler(HTTPException, _public_http_error)


def _locked_or_busy() -> str:
    return _("Too many attempts from this device. Wait a minute, then try again.")


# --- messages for people, in the page's language ------------------------------------------------------

def _field_message(field: str, message: str) -> str:
    name = field.rsplit(".", 1)[-1]
    if field == "identity" or "empty for mode anonim" in message:
        return _("An anonymous report keeps no identity: leave the identity fields empty.")
    if field == "mode":
        return _("This procedure does not take reports in this way. Choose one of the ways shown.")
    if "not an identity field" in message:
        return _("This procedure does not ask for this information.")
    if "required property" in message:
        return _("Please fill in this field.")
    if name == "nik":
        return _("The NIK has 16 digits, as on the KTP.")
    if name == "telepon":
        return _("A phone number starts with 08 or +62, followed by 8 to 13 digits.")
    if name == "email":
        return _("This is not an email address.")
    if "file" in message:
        return _("Only PDF, PNG or JPEG files of at most 2 MB are accepted (checked by their content).")
    if "too long" in message:
        return _("This text is too long.")
    if "non-empty" in message or "too short" in message:
        return _("Please fill in this field.")
    if "is not one of" in message:
        return _("Choose one of the options.")
    return _("This value is not valid.")


def _field_errors(error: InvalidInput, file_fields: list[str],
                  labels: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The command's errors with Indonesian messages; a file's index is folded into its field; a
    missing one of several alternatives (``identitas_wajib`` ``alamat|email``) names them all."""
    out = []
    for detail in error.details:
        field = str(detail.get("field", ""))
        head = field.split(".", 1)[0]
        shown = head if head in file_fields else field
        alternatives = detail.get("alternatives") or []
        message = (_("Fill in at least one of these: %(fields)s.",
                     fields=", ".join((labels or {}).get(name, name) for name in alternatives))
                   if len(alternatives) > 1 else _field_message(field, str(detail.get("message", ""))))
        out.append({"field": shown, "message": message})
    return out


def _invalid(errors: list[dict[str, str]]) -> tuple[Response, int]:
    return jsonify({"message": _("Some fields are not valid. Check the marked fields."), "errors": errors}), 422


# --- filing a report ------------------------------------------------------------------------------------

def _modes(allowed: tuple[str, ...]) -> list[dict[str, str]]:
    """The ways of reporting the SOP accepts (``mode_pelapor``), each with what it means."""
    return [mode for mode in _all_modes() if mode["value"] in allowed]


def mode_label(mode: str) -> str:
    """How the reporter chose to report (anonim / rahasia / biasa), as the report form names it."""
    return next((choice["label"] for choice in _all_modes() if choice["value"] == mode), mode)


def _all_modes() -> list[dict[str, str]]:
    return [
        {"value": "anonim", "label": _("Anonymous"),
         "help": _("We keep no name or contact. Only your tracking code and secret link you to the report; "
                   "the office answers you on the follow-up page.")},
        {"value": "rahasia", "label": _("Confidential"),
         "help": _("Your identity is stored encrypted. Only the officers the SOP allows may open it, each time "
                   "with a recorded reason; the others handling your report do not see it.")},
        {"value": "biasa", "label": _("Regular"),
         "help": _("Your identity is stored encrypted; the officers handling your report may see it, and every "
                   "look is recorded.")},
    ]


def _identity_labels(policy: IdentityPolicy) -> dict[str, str]:
    labels = {"nama": _("Full name"), "nik": _("NIK (KTP number)"), "alamat": _("Address"),
              "telepon": _("Mobile phone"), "email": _("Email"), "pekerjaan": _("Occupation")}
    return {name: labels.get(name) or str(policy.identifying[name].get("title") or name) for name in policy.fields}


def _identity_fields(policy: IdentityPolicy) -> list[dict[str, str]]:
    """The identity inputs of the SOP: the standard ones and its identifying ones (``data_identitas``),
    required ones marked (``identitas_wajib``; each of several alternatives says so in its help)."""
    labels = _identity_labels(policy)
    helps = {"nik": _("16 digits, as on the KTP."), "telepon": _("For example 081234567890."),
             "email": _("We send a receipt with the tracking code (never the secret).")}
    types = {"email": "email", "telepon": "tel"}
    autocomplete = {"nama": "name", "alamat": "street-address", "telepon": "tel", "email": "email",
                    "pekerjaan": "organization-title"}
    fields = []
    for name in policy.fields:
        group = policy.alternatives(name)
        help_text = helps.get(name) or str((policy.identifying.get(name) or {}).get("description") or "")
        if len(group) > 1:
            either = _("Fill in at least one of these: %(fields)s.", fields=", ".join(labels[n] for n in group))
            help_text = f"{help_text} {either}".strip()
        fields.append({"name": name, "label": labels[name], "help": help_text, "type": types.get(name, "text"),
                       "autocomplete": autocomplete.get(name, "off"), "required": "1" if group else ""})
    return fields


def _report_labels() -> dict[str, str]:
    return {
        "modeLegend": _("How should we keep your identity?"),
        "identityLegend": _("Your identity"),
        "identityHelp": _("Fields marked * are required. Give an email to receive a receipt and replies."),
        "submit": _("Send report"),
        "failed": _("The report could not be sent. Try again."),
        "receiptTitle": _("Your report has been received"),
        "receiptIntro": _("Keep these two numbers: with them you follow your report and answer the office."),
        "code": _("Tracking code"),
        "secret": _("Secret"),
        "writeDown": _("Write both down now. The secret is shown only this once and cannot be recovered: "
                       "nobody at the office knows it."),
        "mailed": _("A receipt with the tracking code (not the secret) is being sent to your email."),
        "followUp": _("Follow up a report"),
        "copy": _("Copy"),
        "copyHelp": _("Copy the tracking code and the secret"),
        "copied": _("Copied. Paste them somewhere safe."),
        "copyFailed": _("Copying is not possible here: the numbers are selected, copy them with Ctrl+C or your "
                        "phone's menu."),
        "download": _("Download"),
        "downloadHelp": _("Download a text file with the tracking code and the secret"),
        "downloaded": _("The file is in your downloads. Keep it where others cannot read it."),
        "fileTitle": _("Report receipt"),
        "followUpAddress": _("Follow-up page"),
        "date": _("Date"),
    }


@blp.get("/lapor")
def report_page() -> ResponseReturnValue:
    sops = commands.reporting_sops(services())
    chosen_value = request.args.get("sop", "")[:300]
    if not chosen_value and len(sops) == 1:
        chosen_value = f"{sops[0].unit}/{sops[0].definition_key}"
    chosen = next((s for s in sops if f"{s.unit}/{s.definition_key}" == chosen_value), None)
    island = None
    if chosen is not None:
        form = chosen.form or {"schema": {"type": "object", "properties": {}}, "ui": {}}
        island = {"schema": form["schema"], "ui": form.get("ui") or {}, "unit": chosen.unit,
                  "definitionKey": chosen.definition_key, "submitUrl": url_for("web_public.submit"),
                  "modes": _modes(chosen.policy.modes), "identityFields": _identity_fields(chosen.policy),
                  "followUpUrl": url_for("web_public.follow_up_page"), "labels": _report_labels()}
    return render_template("web/public_report.html", sops=sops, chosen=chosen, chosen_value=chosen_value,
                           island=island)


@blp.post("/lapor/kirim")
@limiter.limit(submission_limit)
def submit() -> ResponseReturnValue:
    """JSON from the report island → 201 with the code and the secret (their only appearance), or 422."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _invalid([{"field": "data", "message": _("This value is not valid.")}])
    mode = body.get("mode")
    if mode not in commands.MODES:
        return _invalid([{"field": "mode", "message": _("Choose how your identity is kept.")}])
    identity = body["identity"] if isinstance(body.get("identity"), dict) else None
    data: dict[str, Any] = body["data"] if isinstance(body.get("data"), dict) else {}
    report = commands.PublicReport(unit=str(body.get("unit", ""))[:64],
                                   definition_key=str(body.get("definition_key", ""))[:200], mode=mode,
                                   data=data, identity=identity)
    sop = next((s for s in commands.reporting_sops(services())
                if (s.unit, s.definition_key) == (report.unit, report.definition_key)), None)
    try:
        receipt = commands.file_report(services(), report)
    except InvalidInput as error:
        return _invalid(_field_errors(error, attachments.file_fields(sop.form if sop else None),
                                      _identity_labels(sop.policy) if sop else None))
    mailed = mode != "anonim" and bool((identity or {}).get("email"))
    return jsonify({"tracking_code": receipt.tracking_code, "secret": receipt.secret, "mailed": mailed}), 201


# --- follow-up --------------------------------------------------------------------------------------------

def _session_case() -> str | None:
    case_id, until = session.get(SESSION_CASE), session.get(SESSION_UNTIL)
    if not isinstance(case_id, str) or not isinstance(until, (int, float)) or until < time.time():
        _forget()
        return None
    session[SESSION_UNTIL] = int(time.time()) + SESSION_SECONDS  # active use keeps it open
    return case_id


def _forget() -> None:
    session.pop(SESSION_CASE, None)
    session.pop(SESSION_UNTIL, None)


def _sign_in_page(error: str | None, status: int) -> ResponseReturnValue:
    return render_template("web/public_sign_in.html", error=error), status


@blp.app_template_filter("grouped")
def grouped(digits: str) -> str:
    """A 16-digit code in groups of four, easier to copy."""
    return " ".join(digits[i:i + 4] for i in range(0, len(digits), 4))


@blp.app_template_filter("shown_value")
def shown_value(value: Any) -> str:
    """A published field's value as a person reads it (Ya/Tidak, lists joined)."""
    return outcomes.shown_value(value)


def _status_page(case_id: str, error: str | None = None, status_code: int = 200) -> ResponseReturnValue:
    status = commands.follow_up_case(services(), case_id)
    task = status.tasks[0] if status.tasks and error is None else None
    island = None
    if task is not None:
        form = task.form or {"schema": {"type": "object", "properties": {}}, "ui": {}}
        island = {"schema": form.get("schema"), "ui": form.get("ui") or {}, "formData": {},
                  "submitUrl": url_for("web_public.complete_task", task_id=task.id)}
    return render_template("web/public_follow_up.html", status=status, task=task, island=island, error=error,
                           sent=request.args.get("terkirim") == "1", mode_label=mode_label(status.mode),
                           when=lambda moment: local_time(moment, status.timezone)), status_code


@blp.get("/lapor/tindak-lanjut")
def follow_up_page() -> ResponseReturnValue:
    case_id = _session_case()
    if case_id is None:
        return _sign_in_page(None, 200)
    return _status_page(case_id)


@blp.post("/lapor/tindak-lanjut")
@limiter.limit(FOLLOW_UP_LIMIT)
def follow_up_sign_in() -> ResponseReturnValue:
    code = request.form.get("code", "")[:40]
    secret = "".join(request.form.get("secret", "").split())[:100]  # shown in groups of four
    _forget()
    try:
        case_id = commands.verify(services(), code, secret) if secret else None
    except TooManyRequests:
        return _sign_in_page(_("This code is locked after too many wrong secrets. Contact the office that "
                               "handles your report."), 429)
    except NotFound:
        case_id = None
    if case_id is None:
        return _sign_in_page(_("No report matches this code and secret. Check both and try again."), 404)
    session[SESSION_CASE] = case_id
    session[SESSION_UNTIL] = int(time.time()) + SESSION_SECONDS
    return redirect(url_for("web_public.follow_up_page"))


@blp.post("/lapor/tindak-lanjut/pesan")
@limiter.limit(FOLLOW_UP_LIMIT)
def add_message() -> ResponseReturnValue:
    case_id = _session_case()
    if case_id is None:
        return redirect(url_for("web_public.follow_up_page"))
    text = request.form.get("text", "").strip()
    if not text or len(text) > MAX_MESSAGE:
        return _status_page(case_id, _("Write a message of at most 5000 characters."), 422)
    try:
        commands.message_case(services(), case_id, text)
    except Conflict:
        return _status_page(case_id, _("This report is closed; it takes no more messages."), 409)
    return redirect(url_for("web_public.follow_up_page", terkirim=1) + "#pesan")


@blp.post("/lapor/tindak-lanjut/tugas/<task_id>")
@limiter.limit(FOLLOW_UP_LIMIT)
def complete_task(task_id: str) -> ResponseReturnValue:
    """JSON from the task form island (the staff one): ``{"data"}`` → ``{"redirect"}``, or 422."""
    case_id = _session_case()
    if case_id is None:
        return jsonify({"message": _("Your session has ended. Enter the code and secret again."),
                        "errors": []}), 401
    body = request.get_json(silent=True)
    data = body.get("data") if isinstance(body, dict) else None
    status = commands.follow_up_case(services(), case_id)
    task = next((t for t in status.tasks if t.id == task_id), None)
    try:
        commands.complete_case_task(services(), case_id, task_id, data)
    except InvalidInput as error:
        return _invalid(_field_errors(error, attachments.file_fields(task.form if task else None)))
    return jsonify({"redirect": url_for("web_public.follow_up_page")})


@blp.get("/lapor/tindak-lanjut/lampiran/<attachment_id>")
@limiter.limit(FOLLOW_UP_LIMIT)
def download(attachment_id: str) -> ResponseReturnValue:
    """A file the office published to the reporter, or one the reporter sent; 404 for anything else."""
    case_id = _session_case()
    if case_id is None:
        return redirect(url_for("web_public.follow_up_page"))
    found, path = commands.case_attachment(services(), case_id, attachment_id[:64])
    return send_file(path, mimetype=found.content_type, as_attachment=True, download_name=found.filename,
                     max_age=0)


@blp.post("/lapor/tindak-lanjut/keluar")
def sign_out() -> ResponseReturnValue:
    _forget()
    return redirect(url_for("web_public.follow_up_page"))


# --- the staff side: the reporter box of the case page ------------------------------------------------

@blp.post("/cases/<case_id>/pelapor/pesan")
@login_required
def message_to_reporter(case_id: str) -> ResponseReturnValue:
    text = request.form.get("text", "").strip()
    if not text or len(text) > MAX_MESSAGE:
        return error_page(422, _("Write a message of at most 5000 characters."))
    reporters.post_to_reporter(services(), actor(), case_id, text)
    return redirect(url_for("web_cases.case_page", case_id=case_id) + "#pelapor")


@blp.post("/cases/<case_id>/pelapor/buka-kunci")
@login_required
def unlock(case_id: str) -> ResponseReturnValue:
    """Unlock the follow-up code (locked after too many wrong secrets), with a reason for the history."""
    try:
        reporters.unlock_follow_up(services(), actor(), case_id, request.form.get("reason", "")[:1000])
    except InvalidInput:
        return error_page(422, _("Say why you unlock the code (at least 10 characters)."))
    except Conflict:
        pass  # unlocked meanwhile (by someone else): the page shows it
    return redirect(url_for("web_cases.case_page", case_id=case_id) + "#pelapor")


@blp.post("/cases/<case_id>/pelapor/identitas")
@login_required
def reveal(case_id: str) -> ResponseReturnValue:
    reason = request.form.get("reason", "")[:1000]
    try:
        found = reporters.reveal_identity(services(), actor(), case_id, reason)
    except InvalidInput:
        return render_template("web/public_identity.html", case_id=case_id, identity=None, reason=reason,
                               error=_("Say why you need the identity (at least 10 characters).")), 422
    return render_template("web/public_identity.html", case_id=case_id, identity=found.identity,
                           mode=found.mode, reason=reason.strip(), error=None)
