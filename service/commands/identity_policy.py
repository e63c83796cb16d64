"""What an SOP asks of a reporter's identity: the modes it accepts, the identity fields it requires and
the start-form fields that identify the reporter. Declared on the process (see
:mod:`service.engine.properties`):

- ``mode_pelapor``: the accepted modes; absent or blank = all three.
- ``identitas_wajib``: the identity fields a ``rahasia`` or ``biasa`` report must carry; ``a|b`` means
  one of them (named by ``a`` when both are missing); absent or blank = ``nama``. It is the only
  source of what is required: the start form's ``required`` does not apply to identity fields.
- ``data_identitas``: start-form fields that identify the reporter (Kebumen's ``nip,unit_kerja``).
  They leave the intake form and join the identity: sent in ``identity`` (or, as start-form fields,
  in ``data``, whence they are moved), validated with the start form's rules, sealed with the
  identity and revealed with it — never in the case data, its history or the workflow state.

An ``anonim`` report keeps no identity, so an identity value there — an identifying field included —
is refused (422), not silently dropped: the reporter learns that what they typed would not be kept.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from service import forms as form_files
from service.commands.identity import IDENTITY_FIELDS
from service.engine.properties import ALTERNATIVE, IDENTIFYING_FIELDS, MODES, REPORTING_MODES, REQUIRED_IDENTITY, listed
from service.errors import ErrorDetail, InvalidInput

ANONYMOUS = MODES[0]
DEFAULT_REQUIRED: tuple[tuple[str, ...], ...] = (("nama",),)
#: The standard identity fields; an SOP adds its identifying fields (:meth:`IdentityPolicy.schema`).
IDENTITY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "nama": {"type": "string", "minLength": 1, "maxLength": 200},
        "nik": {"type": "string", "pattern": "^[0-9]{16}$"},
        "alamat": {"type": "string", "maxLength": 500},
        "telepon": {"type": "string", "pattern": "^(\\+62|0)[0-9]{8,13}$"},
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "pekerjaan": {"type": "string", "maxLength": 200},
    },
    "additionalProperties": False,
}
_FALLBACK_FIELD: dict[str, Any] = {"type": "string", "maxLength": 500}


@dataclass(frozen=True)
class IdentityPolicy:
    modes: tuple[str, ...] = MODES
    #: each entry a group of alternatives, one of which must be filled
    required: tuple[tuple[str, ...], ...] = DEFAULT_REQUIRED
    #: identifying start-form fields → their JSON Schema (from the start form)
    identifying: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def fields(self) -> tuple[str, ...]:
        """Every identity field of the SOP: the standard ones, then its identifying ones."""
        return IDENTITY_FIELDS + tuple(name for name in self.identifying if name not in IDENTITY_FIELDS)

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this SOP's identity (what is required is checked apart: alternatives)."""
        properties = {**IDENTITY_SCHEMA["properties"],
                      **{name: dict(prop) for name, prop in self.identifying.items() if name not in IDENTITY_FIELDS}}
        return {**IDENTITY_SCHEMA, "properties": properties}

    def alternatives(self, name: str) -> tuple[str, ...]:
        """The required group ``name`` belongs to (empty when it is optional)."""
        return next((group for group in self.required if name in group), ())


def _start_properties(start_form: Mapping[str, Any] | None) -> Mapping[str, Any]:
    properties = ((start_form or {}).get("schema") or {}).get("properties")
    return properties if isinstance(properties, Mapping) else {}


def _groups(metadata: Mapping[str, str]) -> tuple[tuple[str, ...], ...]:
    groups = tuple(tuple(name.strip() for name in entry.split(ALTERNATIVE) if name.strip())
                   for entry in listed(metadata, REQUIRED_IDENTITY))
    return tuple(group for group in groups if group) or DEFAULT_REQUIRED


def policy_of(metadata: Mapping[str, str], start_form: Mapping[str, Any] | None) -> IdentityPolicy:
    """The policy a deployed SOP declares (its process properties and its start form)."""
    properties = _start_properties(start_form)
    ui = (start_form or {}).get("ui") or {}
    modes = tuple(mode for mode in MODES if mode in listed(metadata, REPORTING_MODES)) or MODES
    identifying = {}
    for name in listed(metadata, IDENTIFYING_FIELDS):
        prop = copy.deepcopy(dict(properties.get(name) or _FALLBACK_FIELD))
        hint = (ui.get(name) or {}).get("ui:help") if isinstance(ui.get(name), Mapping) else None
        if hint and "description" not in prop:
            prop["description"] = hint  # an annotation: the identity input shows it as its help
        identifying[name] = prop
    return IdentityPolicy(modes, _groups(metadata), identifying)


def policy_issues(metadata: Mapping[str, str], start_form: Mapping[str, Any] | None) -> list[str]:
    """What is wrong with an SOP's identity fields against its start form, for the deploy checks (empty
    when nothing); the modes are checked with the vocabulary (:mod:`service.engine.properties`)."""
    issues: list[str] = []
    properties = _start_properties(start_form)
    identifying = listed(metadata, IDENTIFYING_FIELDS)
    for name in identifying:
        prop = properties.get(name)
        if name in IDENTITY_FIELDS:
            continue
        if not isinstance(prop, Mapping):
            issues.append(f"{IDENTIFYING_FIELDS}: '{name}' is not a field of the start form")
        elif prop.get("type") != "string":
            issues.append(f"{IDENTIFYING_FIELDS}: '{name}' must be a text field (type string)")
    known = set(IDENTITY_FIELDS) | set(identifying)
    issues += [f"{REQUIRED_IDENTITY}: '{name}' is neither an identity field ({', '.join(IDENTITY_FIELDS)}) "
               f"nor listed in {IDENTIFYING_FIELDS}"
               for group in _groups(metadata) for name in group if name not in known]
    return issues


def intake_form(start_form: Mapping[str, Any] | None, policy: IdentityPolicy) -> dict[str, Any] | None:
    """The start form without the identity fields, which travel separately and encrypted."""
    if start_form is None:
        return None
    fields = set(policy.fields)
    schema = copy.deepcopy(dict(start_form["schema"]))
    for name in fields:
        schema.get("properties", {}).pop(name, None)
    schema["required"] = [name for name in schema.get("required", []) if name not in fields]
    ui = {key: value for key, value in (start_form.get("ui") or {}).items() if key not in fields}
    if isinstance(ui.get("ui:order"), list):
        ui["ui:order"] = [name for name in ui["ui:order"] if name not in fields]
    return {"schema": schema, "ui": ui}


def _filled(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "")}


def _missing(policy: IdentityPolicy, identity: Mapping[str, Any]) -> list[ErrorDetail]:
    details = []
    for group in policy.required:
        if any(name in identity for name in group):
            continue
        message = (f"'{group[0]}' is a required property" if len(group) == 1
                   else "one of " + ", ".join(f"'{name}'" for name in group) + " is required")
        details.append({"field": f"identity.{group[0]}", "message": message, "alternatives": list(group)})
    return details


def _invalid(identity: dict[str, Any], schema: dict[str, Any]) -> list[ErrorDetail]:
    unknown = [name for name in identity if name not in schema["properties"]]
    details: list[ErrorDetail] = [{"field": f"identity.{name}", "message": "not an identity field of this SOP"}
                                  for name in unknown]
    try:
        form_files.validate_data({"schema": schema}, {k: v for k, v in identity.items() if k not in unknown})
    except InvalidInput as exc:
        details += [{**detail, "field": f"identity.{detail['field']}"} for detail in exc.details]
    return details


def split_identity(policy: IdentityPolicy, mode: str, data: Any,
                   identity: Mapping[str, Any] | None) -> tuple[Any, dict[str, Any] | None]:
    """(case data without identifying fields, the identity to seal or None); :class:`InvalidInput`
    naming ``mode``, ``identity`` or ``identity.<field>`` when the report breaks the SOP's policy."""
    if mode not in policy.modes:
        raise InvalidInput(f"This SOP accepts reports in mode {', '.join(policy.modes)} only",
                           [{"field": "mode", "message": f"not accepted; one of {', '.join(policy.modes)}"}])
    moved: dict[str, Any] = {}
    if isinstance(data, dict):
        moved = _filled({name: data[name] for name in policy.identifying if name in data})
        data = {key: value for key, value in data.items() if key not in policy.identifying}
    given = _filled(identity or {})
    if mode == ANONYMOUS:
        if given or moved:
            details = [{"field": "identity", "message": "must be empty for mode anonim"}] if given else []
            details += [{"field": f"identity.{name}", "message": "must be empty for mode anonim"} for name in moved]
            raise InvalidInput("An anonim report keeps no identity: leave identity empty", details)
        return data, None
    conflicts = [name for name in moved if name in given and given[name] != moved[name]]
    merged = {**moved, **given}
    details = [{"field": f"identity.{name}", "message": f"differs from data.{name}"} for name in conflicts]
    details += _invalid(merged, policy.schema()) + _missing(policy, merged)
    if details:
        raise InvalidInput(f"The identity has {len(details)} error(s)", details)
    return data, merged
