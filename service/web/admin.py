"""Administrasi: accounts (create, roles, disable, password reset) and unit settings (office hours, closed
days, sub-units) for global administrators and ``admin@UNIT``.

Every action is a command of :mod:`service.commands.users`, :mod:`service.commands.accounts` or
:mod:`service.commands.calendars` — the same ones the API and the CLI call — which decide who may do
what, validate, and write the account's ``user_events`` or the unit's ``unit_events``. This module only
turns form fields into their arguments and their errors into Indonesian messages next to the fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.commands import accounts, calendars, users
from service.commands.context import ADMIN_ROLE, PROCESS_OWNER_ROLE, Actor
from service.commands.revisions import APPROVER_ROLE
from service.engine.calendar import DEFAULT_HOURS
from service.engine.properties import SUPERVISORS
from service.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from service.web.helpers import actor, error_page, login_required, services, web_blueprint
from service.web.i18n import gettext as _

blp = web_blueprint("web_admin", __name__)

#: the roles every unit knows besides its SOPs' lanes (suggested in the role field)
FIXED_ROLES = (ADMIN_ROLE, APPROVER_ROLE, PROCESS_OWNER_ROLE, SUPERVISORS)
Errors = dict[str, str]


def event_label(action: str) -> str:
    """An entry of an account's or a unit's history, for people (also the status line after an action)."""
    labels = {
        "created": _("Created"), "disabled": _("Deactivated"), "enabled": _("Activated again"),
        "password_changed": _("Password changed by the user"), "password_reset": _("Password reset"),
        "unlocked": _("Sign-in unlocked"), "locked": _("Sign-in locked after wrong passwords"),
        "signed_out": _("Signed out everywhere"), "role_added": _("Role added"), "role_removed": _("Role removed"),
        "hours_set": _("Office hours changed"), "closed_day_added": _("Closed day added"),
        "closed_day_removed": _("Closed day removed"), "sub_unit_created": _("Sub-unit created"),
        "contact_set": _("Contact for reporters changed"),
        "acting_granted": _("Made an acting official (Plt./Plh.)"), "acting_revoked": _("Acting grant ended"),
        "sso_created": _("Created at the first single sign-on"), "sso_roles": _("Roles changed by single sign-on"),
    }
    return labels.get(action, action)


def may_administer(me: Actor | None) -> bool:
    """Does the navigation show the administration?"""
    return me is not None and users.is_an_administrator(me)


@blp.app_context_processor
def _navigation() -> dict[str, Any]:
    return {"may_administer": may_administer, "event_label": event_label}


def forbidden_page(error: Forbidden) -> ResponseReturnValue:
    """The administration's 403 page (also for :mod:`service.web.acting`)."""
    return error_page(403, _("Only an administrator of this unit may open this page."))


blp.register_error_handler(Forbidden, forbidden_page)


def _field_errors(error: ServiceError, default_field: str) -> Errors:
    """The command's error as Indonesian messages per form field."""
    out: Errors = {}
    for detail in error.details or [{"field": default_field, "message": ""}]:
        field = str(detail.get("field") or default_field)
        out.setdefault("role" if field == "roles" else field, _message(field, str(detail.get("message", "")), error))
    return out


def _message(field: str, message: str, error: ServiceError) -> str:
    if field == "username":
        return (_("This username is already taken.") if isinstance(error, Conflict)
                else _("A username is 1 to 100 letters, digits and . _ @ - (starting with a letter or digit)."))
    if field in ("password", "new_password"):
        return _("The password needs 8 to 500 characters.")
    if field == "email":
        return _("This is not an e-mail address.")
    if field in ("role", "roles", "unit"):
        if isinstance(error, Conflict):
            return (_("You cannot remove your own admin role.") if "own" in message
                    else _("The account's last role cannot be removed: deactivate the account instead.")
                    if "last" in message else _("The user already has this role."))
        if isinstance(error, NotFound):
            return _("Unknown unit or role.")
        return _("Choose a role and a unit.")
    if field.startswith("hours"):
        return _("Give the opening and the closing time in whole minutes, the opening before the closing, "
                 "at least an hour apart.")
    if field == "day":
        return (_("This day is already a closed day of the unit.") if isinstance(error, Conflict)
                else _("Give a date."))
    if field == "note":
        return _("A note has at most 300 characters.")
    if field == "code":
        return (_("A unit with this code already exists.") if isinstance(error, Conflict)
                else _("A unit code is 2 to 64 lower-case letters, digits and dashes."))
    if field == "name":
        return _("A unit needs a name of 1 to 200 characters.")
    if field == "contact_phone":
        return _("A phone number has 5 to 50 digits, spaces, dashes or brackets, and may start with +.")
    if field == "contact_email":
        return _("This is not an e-mail address.")
    if field == "contact_address":
        return _("An address has at most 300 characters.")
    return _("This value is not valid.")


def _done() -> str | None:
    """The action just done (``?selesai=…`` after the redirect), as a known history entry."""
    done = request.args.get("selesai", "")
    return done if event_label(done) != done else None


# --- users ------------------------------------------------------------------------------------------

def _users_page(form: Mapping[str, str] | None = None, errors: Errors | None = None) -> str:
    me = actor()
    units = accounts.managed_units(services(), me)
    chosen = request.args.get("unit") or None
    listed = users.list_users(services(), me, chosen)
    roles = sorted({*FIXED_ROLES, *(m.role for user in listed for m in user.memberships)})
    return render_template("web/admin_users.html", users=listed, units=units, chosen=chosen, roles=roles,
                           form=form or {}, errors=errors or {}, done=_done())


@blp.get("/admin")
@login_required
def index() -> ResponseReturnValue:
    return redirect(url_for("web_admin.user_list"))


@blp.get("/admin/pengguna")
@login_required
def user_list() -> ResponseReturnValue:
    return _users_page()


@blp.post("/admin/pengguna")
@login_required
def user_create() -> ResponseReturnValue:
    form = request.form
    username = form.get("username", "").strip()[:101]
    role, unit = form.get("role", "").strip()[:101], form.get("unit", "").strip()[:65]
    typed = form.get("password", "")[:501]
    password = typed or users.temporary_password()
    try:
        created = users.create(services(), actor(), username, password, [f"{role}@{unit}"] if role or unit else [],
                               email=form.get("email", "")[:300], display_name=form.get("display_name", "")[:200])
    except (InvalidInput, Conflict, NotFound) as error:
        return _users_page(form, _field_errors(error, "username")), error.status
    return _user_page(created.username, temporary=None if typed else password, done="created")


def _user_page(username: str, errors: Errors | None = None, temporary: str | None = None,
               done: str | None = None) -> str:
    me = actor()
    user = users.get(services(), me, username)
    units = accounts.managed_units(services(), me)
    return render_template("web/admin_user.html", user=user, units=units, roles=FIXED_ROLES,
                           events=users.history(services(), me, username), errors=errors or {},
                           temporary=temporary, done=done or _done(), form=request.form)


@blp.get("/admin/pengguna/<username>")
@login_required
def user_detail(username: str) -> ResponseReturnValue:
    return _user_page(username)


def _back(username: str, done: str) -> ResponseReturnValue:
    return redirect(url_for("web_admin.user_detail", username=username, selesai=done), 303)


@blp.post("/admin/pengguna/<username>/nonaktifkan")
@login_required
def user_disable(username: str) -> ResponseReturnValue:
    try:
        users.disable(services(), actor(), username)
    except Conflict:
        return _user_page(username, {"active": _("You cannot deactivate your own account.")}), 409
    return _back(username, "disabled")


@blp.post("/admin/pengguna/<username>/aktifkan")
@login_required
def user_enable(username: str) -> ResponseReturnValue:
    users.enable(services(), actor(), username)
    return _back(username, "enabled")


@blp.post("/admin/pengguna/<username>/buka-kunci")
@login_required
def user_unlock(username: str) -> ResponseReturnValue:
    users.unlock(services(), actor(), username)
    return _back(username, "unlocked")


@blp.post("/admin/pengguna/<username>/sandi")
@login_required
def user_password(username: str) -> ResponseReturnValue:
    typed = request.form.get("password", "")[:501]
    password = typed or users.temporary_password()
    try:
        users.reset_password(services(), actor(), username, password)
    except InvalidInput as error:
        return _user_page(username, _field_errors(error, "password")), 422
    except Conflict:
        return _user_page(username, {"password": _("Change your own password on the password page.")}), 409
    return _user_page(username, temporary=None if typed else password, done="password_reset")


@blp.post("/admin/pengguna/<username>/peran")
@login_required
def role_add(username: str) -> ResponseReturnValue:
    role, unit = request.form.get("role", "").strip()[:101], request.form.get("unit", "").strip()[:65]
    try:
        users.add_role(services(), actor(), username, f"{role}@{unit}")
    except (InvalidInput, Conflict) as error:
        return _user_page(username, _field_errors(error, "role")), error.status
    return _back(username, "role_added")


@blp.post("/admin/pengguna/<username>/peran/hapus")
@login_required
def role_remove(username: str) -> ResponseReturnValue:
    try:
        users.remove_role(services(), actor(), username, request.form.get("role", "")[:200])
    except (InvalidInput, Conflict) as error:
        return _user_page(username, {"remove": _field_errors(error, "role").popitem()[1]}), error.status
    return _back(username, "role_removed")


# --- units ------------------------------------------------------------------------------------------

@blp.get("/admin/unit")
@login_required
def unit_list() -> ResponseReturnValue:
    return render_template("web/admin_units.html", units=accounts.managed_units(services(), actor()))


WEEKDAYS = range(7)


def _hours_rows(unit_hours: dict[str, Any] | None, form: Mapping[str, str] | None) -> list[dict[str, Any]]:
    if form is not None:
        return [{"day": d, "open": bool(form.get(f"open_{d}")), "opens": form.get(f"opens_{d}", ""),
                 "closes": form.get(f"closes_{d}", "")} for d in WEEKDAYS]
    hours = unit_hours or {str(d): [o.strftime("%H:%M"), c.strftime("%H:%M")] for d, (o, c) in DEFAULT_HOURS.items()}
    return [{"day": d, "open": str(d) in hours, "opens": hours.get(str(d), ["08:00", ""])[0],
             "closes": hours.get(str(d), ["", "16:00"])[1]} for d in WEEKDAYS]


def _unit_page(code: str, errors: Errors | None = None, hours_form: Mapping[str, str] | None = None) -> str:
    me = actor()
    unit, closed_days, events = calendars.unit_settings(services(), me, code)
    subs = accounts.sub_units(services(), me, code) if unit.parent_id is None else []
    return render_template("web/admin_unit.html", unit=unit, closed_days=closed_days, events=events, sub_units=subs,
                           hours=_hours_rows(unit.working_hours, hours_form), kinds=calendars.CLOSED_DAY_KINDS,
                           errors=errors or {}, hours_failed=any(key.startswith("hours") for key in errors or {}),
                           form=request.form, done=_done())


@blp.get("/admin/unit/<code>")
@login_required
def unit_detail(code: str) -> ResponseReturnValue:
    return _unit_page(code)


def _to_unit(code: str, done: str) -> ResponseReturnValue:
    return redirect(url_for("web_admin.unit_detail", code=code, selesai=done), 303)


@blp.post("/admin/unit/<code>/jam-kerja")
@login_required
def unit_hours(code: str) -> ResponseReturnValue:
    form = request.form
    hours = {str(d): [form.get(f"opens_{d}", "")[:20], form.get(f"closes_{d}", "")[:20]]
             for d in WEEKDAYS if form.get(f"open_{d}")}
    try:
        calendars.set_working_hours(services(), actor(), code, hours)
    except InvalidInput as error:
        return _unit_page(code, _field_errors(error, "hours"), form), 422
    return _to_unit(code, "hours_set")


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw.strip()[:10])
    except ValueError as exc:
        raise InvalidInput("Not a date", [{"field": "day", "message": "not a date"}]) from exc


@blp.post("/admin/unit/<code>/libur")
@login_required
def closed_day_add(code: str) -> ResponseReturnValue:
    form = request.form
    try:
        calendars.add_closed_day(services(), actor(), code, _day(form.get("day", "")), form.get("kind", "")[:40],
                                 form.get("note", "").strip()[:301])
    except (InvalidInput, Conflict) as error:
        return _unit_page(code, _field_errors(error, "day")), error.status
    return _to_unit(code, "closed_day_added")


@blp.post("/admin/unit/<code>/libur/hapus")
@login_required
def closed_day_remove(code: str) -> ResponseReturnValue:
    calendars.remove_closed_day(services(), actor(), code, _day(request.form.get("day", "")))
    return _to_unit(code, "closed_day_removed")


@blp.post("/admin/unit/<code>/sub-unit")
@login_required
def sub_unit_create(code: str) -> ResponseReturnValue:
    form = request.form
    try:
        accounts.create_unit(services(), form.get("code", "").strip()[:65], form.get("name", "").strip()[:201],
                             parent=code, actor=actor())
    except (InvalidInput, Conflict) as error:
        return _unit_page(code, _field_errors(error, "code")), error.status
    return _to_unit(code, "sub_unit_created")


@blp.post("/admin/unit/<code>/kontak")
@login_required
def unit_contact(code: str) -> ResponseReturnValue:
    """The office's contact that reporters see on the follow-up page (phone, e-mail, address)."""
    contact = {name: request.form.get(name, "")[:length + 1] for name, length in calendars.CONTACT_FIELDS.items()}
    try:
        calendars.set_contact(services(), actor(), code, contact)
    except InvalidInput as error:
        return _unit_page(code, _field_errors(error, "contact_phone")), 422
    return _to_unit(code, "contact_set")
