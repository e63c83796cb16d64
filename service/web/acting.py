"""Administrasi › Plt./Plh.: an administrator grants a user a role of a unit on behalf of its holder for a
range of days, and may end a grant early. The rules (who may, which role, overlaps, in force when) are
:mod:`service.commands.acting`'s; this page turns the form into its arguments and its errors into
Indonesian messages next to the fields."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask import redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from service.commands import accounts, acting
from service.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError
from service.web.admin import forbidden_page
from service.web.helpers import actor, login_required, services, web_blueprint
from service.web.i18n import gettext as _

blp = web_blueprint("web_acting", __name__)
blp.register_error_handler(Forbidden, forbidden_page)
Errors = dict[str, str]


def _message(field: str, error: ServiceError) -> str:
    if field in ("username", "for_username") and isinstance(error, NotFound):
        return _("No user has this username.")
    if field == "for_username":
        return (_("Nobody acts on their own behalf.") if "same" in str(error.details)
                else _("That user does not hold this role in the unit."))
    if field == "role":
        return _("Choose one of the unit's working roles (not admin).")
    if field == "unit":
        return _("Unknown unit.")
    if field == "kind":
        return _("Choose Plt. or Plh.")
    if field == "starts_on" and isinstance(error, Conflict):
        return _("This user already acts in this role for part of that period.")
    if field in ("starts_on", "ends_on"):
        return _("Give the first and the last day, the last not before the first, at most a year apart.")
    return _("This value is not valid.")


def _page(form: Mapping[str, str] | None = None, errors: Errors | None = None,
          status: int = 200) -> ResponseReturnValue:
    me = actor()
    grants = acting.grants_of(services(), me)
    units = accounts.managed_units(services(), me)
    return render_template("web/admin_acting.html", grants=grants, units=units, form=form or {}, errors=errors or {},
                           done=request.args.get("selesai")), status


@blp.get("/admin/plt")
@login_required
def grant_list() -> ResponseReturnValue:
    return _page()


def _date(form: Mapping[str, str], field: str, errors: Errors) -> date:
    try:
        return date.fromisoformat(form.get(field, ""))
    except ValueError:
        errors[field] = _("Give a date.")
        return date.min


@blp.post("/admin/plt")
@login_required
def grant_create() -> ResponseReturnValue:
    form = {key: request.form.get(key, "").strip()[:200] for key in
            ("username", "for_username", "role", "unit", "kind", "starts_on", "ends_on")}
    errors: Errors = {}
    first, last = _date(form, "starts_on", errors), _date(form, "ends_on", errors)
    if errors:
        return _page(form, errors, 422)
    try:
        acting.grant(services(), actor(), acting.GrantRequest(form["username"], form["role"], form["unit"],
                                                              form["for_username"], form["kind"], first, last))
    except (InvalidInput, NotFound, Conflict) as exc:
        for detail in exc.details or [{"field": "unit"}]:
            field = str(detail.get("field") or "unit")
            errors.setdefault(field, _message(field, exc))
        return _page(form, errors, 422 if not isinstance(exc, NotFound) else 404)
    return redirect(url_for("web_acting.grant_list", selesai="diberikan"))


@blp.post("/admin/plt/<int:grant_id>/akhiri")
@login_required
def grant_revoke(grant_id: int) -> ResponseReturnValue:
    acting.revoke(services(), actor(), grant_id)
    return redirect(url_for("web_acting.grant_list", selesai="diakhiri"))
