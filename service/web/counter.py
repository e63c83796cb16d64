"""Pengaduan langsung: the counter registers a report that came in person, by phone, SMS, letter,
e-mail or the kotak saran, on the reporter's behalf, and prints the reporter's receipt.

Who may: the SOP's intake desk (:func:`service.commands.public.may_register`, the one rule that also
guards ``POST /api/intake`` and decides the navigation link); everyone else gets 403. The report goes
through the public intake command (:func:`service.commands.public.file_report` with ``registered_by``):
the SOP's identity policy, the encrypted identity, the evidence files and the channel are handled
exactly as for a report filed online. The form is plain HTML (it works without JavaScript): a refused
report comes back with the errors next to the fields and everything typed kept, except the files,
which a browser cannot put back.

After registering, the browser is sent to the receipt (POST-redirect-GET). The secret is not stored
anywhere: it travels to that one page in the session cookie, encrypted with the identity keys, and is
dropped from the session as it is shown — a reload shows the receipt without it.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from flask import g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import FileStorage

from service.commands import attachments
from service.commands import public as commands
from service.commands.context import Actor
from service.commands.identity import IdentityVault
from service.commands.public import ReportingSop
from service.config import ConfigError
from service.errors import InvalidInput
from service.web.helpers import actor, error_page, local_time, login_required, services, web_blueprint
from service.web.i18n import gettext as _
from service.web.public import _field_errors, _identity_fields, _identity_labels, _modes

blp = web_blueprint("web_counter", __name__)
#: session key: ``{"case": id, "sealed": the secret, encrypted}`` until the receipt shows it once
SESSION_RECEIPT = "counter_receipt"
#: the SOP's own channel field (e.g. DUMAS's ``saluran``: langsung, tertulis, surat elektronik)
SOP_CHANNEL_FIELD = "saluran"


def channel_labels() -> dict[str, str]:
    return {"langsung": _("In person (walk-in)"), "telepon": _("Phone"), "sms": _("SMS"), "surat": _("Letter"),
            "email": _("E-mail"), "kotak_saran": _("Suggestion box"), "media_sosial": _("Social media"),
            "online": _("Online form")}


def may_register_reports(me: Actor | None) -> bool:
    """Does the navigation show the counter: may ``me`` register reports to some SOP?"""
    if me is None:
        return False
    if "alur_counter_sops" not in g:
        g.alur_counter_sops = commands.counter_sops(services(), me)
    return bool(g.alur_counter_sops)


@blp.app_context_processor
def _navigation() -> dict[str, Any]:
    return {"may_register_reports": may_register_reports}


# --- the intake form as plain HTML fields ---------------------------------------------------------------

@dataclass
class Field:
    name: str
    label: str
    kind: str  # text, textarea, select, radio, date, email, url, number, checkbox, files
    required: bool = False
    help: str = ""
    options: list[str] = field(default_factory=list)
    max_length: int | None = None
    multiple: bool = False  # files: several allowed


def _kind(prop: dict[str, Any], ui: dict[str, Any]) -> tuple[str, bool] | None:
    """The input a JSON Schema property becomes, and whether it takes several files; None: not shown."""
    items: dict[str, Any] = prop["items"] if isinstance(prop.get("items"), dict) else {}
    if prop.get("type") == "array" and items.get("format") == "data-url":
        return "files", True
    if prop.get("format") == "data-url":
        return "files", False
    if prop.get("type") in ("integer", "number"):
        return "number", False
    if prop.get("type") == "boolean":
        return "checkbox", False
    if prop.get("type") != "string":
        return None
    if "enum" in prop:
        return ("radio" if ui.get("ui:widget") == "radio" else "select"), False
    if ui.get("ui:widget") == "textarea":
        return "textarea", False
    return {"date": "date", "email": "email", "uri": "url"}.get(str(prop.get("format")), "text"), False


def form_fields(form: dict[str, Any] | None) -> list[Field]:
    """The intake form's fields in the form's order (``ui:order``), with their titles and help."""
    schema = (form or {}).get("schema") or {}
    ui = (form or {}).get("ui") or {}
    properties: dict[str, Any] = schema.get("properties") or {}
    order = [name for name in ui.get("ui:order") or [] if name in properties]
    fields = []
    for name in [*order, *(name for name in properties if name not in order)]:
        prop = properties[name] if isinstance(properties[name], dict) else {}
        hints: dict[str, Any] = ui[name] if isinstance(ui.get(name), dict) else {}
        kind = _kind(prop, hints)
        if kind is None:
            continue
        fields.append(Field(name, str(prop.get("title") or name), kind[0], name in (schema.get("required") or []),
                            str(hints.get("ui:help") or prop.get("description") or ""),
                            [str(option) for option in prop.get("enum") or []],
                            prop.get("maxLength") if isinstance(prop.get("maxLength"), int) else None, kind[1]))
    return fields


def _data_url(upload: FileStorage) -> str:
    """An uploaded file as the data-url the forms declare; the command checks its size and content."""
    content = base64.b64encode(upload.read()).decode("ascii")
    name = quote(upload.filename or "lampiran", safe="")
    return f"data:{upload.mimetype or 'application/octet-stream'};name={name};base64,{content}"


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text  # refused by the form's type, named with its field


def _sop_channel(form: dict[str, Any] | None, channel: str) -> str | None:
    """The value of the SOP's own channel field that names the counter's channel (``kotak_saran`` →
    "kotak saran"), when the form has such a field and one of its options is that channel."""
    prop = (((form or {}).get("schema") or {}).get("properties") or {}).get(SOP_CHANNEL_FIELD) or {}
    wanted = channel.replace("_", " ").casefold()
    found = [str(option) for option in prop.get("enum") or [] if str(option).casefold() == wanted]
    return found[0] if len(found) == 1 else None


def _submitted(sop: ReportingSop, fields: list[Field]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(case data, identity) from the posted form: blank inputs are left out, as the public form does."""
    data: dict[str, Any] = {}
    for item in fields:
        if item.kind == "files":
            files = [_data_url(upload) for upload in request.files.getlist(item.name) if upload.filename]
            if files:
                data[item.name] = files if item.multiple else files[0]
        elif item.kind == "checkbox":
            data[item.name] = item.name in request.form
        elif (text := request.form.get(item.name, "").strip()):
            data[item.name] = _number(text) if item.kind == "number" else text
    channel = request.form.get("channel", "")
    if SOP_CHANNEL_FIELD not in data and (value := _sop_channel(sop.form, channel)) is not None:
        data[SOP_CHANNEL_FIELD] = value
    identity = {name: text for name in sop.policy.fields
                if (text := request.form.get(f"identity.{name}", "").strip())}
    return data, identity


def _errors(error: InvalidInput, sop: ReportingSop, form: dict[str, str]) -> dict[str, str]:
    """Field → its message in the page's language; the first message of a field wins."""
    found: dict[str, str] = {}
    for item in _field_errors(error, attachments.file_fields(sop.form), _identity_labels(sop.policy)):
        name, message = item["field"], item["message"]
        if name == "channel":
            message = _("Choose how the report reached the office.")
        elif name == "mode" and not form.get("mode"):
            message = _("Choose how the reporter's identity is kept.")
        found.setdefault(name, message)
    return found


# --- the pages --------------------------------------------------------------------------------------------

def _sops() -> list[ReportingSop]:
    sops = commands.counter_sops(services(), actor())
    if not sops:
        raise _Forbidden()
    return sops


class _Forbidden(Exception):
    """The user holds no intake desk: 403."""


@blp.errorhandler(_Forbidden)
def _forbidden(_error: _Forbidden) -> ResponseReturnValue:
    return error_page(403, _("Only the officers who receive an SOP's reports (its first step) may register them."))


def _chosen(sops: list[ReportingSop], value: str) -> ReportingSop | None:
    if not value and len(sops) == 1:
        return sops[0]
    return next((sop for sop in sops if f"{sop.unit}/{sop.definition_key}" == value), None)


def _form_page(sops: list[ReportingSop], chosen: ReportingSop | None, form: dict[str, str],
               errors: dict[str, str], status: int) -> ResponseReturnValue:
    fields = form_fields(chosen.form) if chosen else []
    placed = {"sop", "channel", "mode", *(f.name for f in fields),
              *(f"identity.{name}" for name in (chosen.policy.fields if chosen else ()))}
    return render_template(
        "web/counter.html", sops=sops, chosen=chosen, fields=fields, form=form, errors=errors,
        unplaced=[message for name, message in errors.items() if name not in placed],
        channels=[(value, channel_labels()[value]) for value in commands.COUNTER_CHANNELS],
        modes=_modes(chosen.policy.modes) if chosen else [],
        identity_fields=_identity_fields(chosen.policy) if chosen else []), status


@blp.get("/pengaduan-langsung")
@login_required
def counter_page() -> ResponseReturnValue:
    sops = _sops()
    value = request.args.get("sop", "")[:300]
    chosen = _chosen(sops, value)
    return _form_page(sops, chosen, {"sop": f"{chosen.unit}/{chosen.definition_key}" if chosen else value,
                                     "channel": "langsung"}, {}, 200)


@blp.post("/pengaduan-langsung")
@login_required
def register() -> ResponseReturnValue:
    sops = _sops()
    form = {key: value for key, value in request.form.items() if key != "csrf_token"}
    chosen = _chosen(sops, form.get("sop", "")[:300]) if form.get("sop") else None
    if chosen is None:
        return _form_page(sops, None, form, {"sop": _("Choose the office and procedure.")}, 422)
    data, identity = _submitted(chosen, form_fields(chosen.form))
    report = commands.PublicReport(unit=chosen.unit, definition_key=chosen.definition_key,
                                   mode=form.get("mode", "")[:20], data=data, identity=identity or None,
                                   channel=form.get("channel", "")[:30])
    vault = IdentityVault.of(services().settings)  # before the case exists: no key, nothing written
    try:
        receipt = commands.file_report(services(), report, registered_by=actor())
    except InvalidInput as error:
        return _form_page(sops, chosen, form, _errors(error, chosen, form), 422)
    sealed = vault.seal({"secret": receipt.secret})
    session[SESSION_RECEIPT] = {"case": receipt.case_id, "sealed": sealed}
    return redirect(url_for("web_counter.receipt_page", case_id=receipt.case_id), 303)


@blp.get("/pengaduan-langsung/tanda-terima/<case_id>")
@login_required
def receipt_page(case_id: str) -> ResponseReturnValue:
    receipt = commands.counter_receipt(services(), actor(), case_id[:64])
    pending = session.get(SESSION_RECEIPT)
    secret = None
    if isinstance(pending, dict) and pending.get("case") == case_id:
        session.pop(SESSION_RECEIPT, None)  # shown once: a reload shows the receipt without it
        try:
            secret = str(IdentityVault.of(services().settings).open(str(pending.get("sealed")))["secret"])
        except ConfigError:
            secret = None  # the keys changed meanwhile: the receipt says the secret cannot be shown
    mode = {item["value"]: item["label"] for item in _modes(commands.MODES)}.get(receipt.mode, receipt.mode)
    return render_template("web/counter_receipt.html", receipt=receipt, secret=secret, case_id=case_id,
                           channel=channel_labels().get(receipt.channel, receipt.channel), mode=mode,
                           registered_at=local_time(receipt.registered_at, receipt.timezone),
                           follow_up_url=url_for("web_public.follow_up_page", _external=True))
