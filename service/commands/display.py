"""How staff read a case: its name (the office's Nomor registrasi) and its fields by their form labels.

:func:`case_label` is the one rule for a case's display name on staff pages and in staff mail: the
Nomor registrasi (``001/DUMAS/XI/2026``), else the business key, else the start of its id. The
citizen's tracking code is for the reporter's pages and receipts only.

:func:`shown_fields` is the one mapping of (revision, form key, data) to what a person reads: each
field by the ``title`` of its property in the form (another form of the revision when that one does
not name it, else the key), booleans as Ya/Tidak, enum values by their ``enumNames`` / ``ui:enumNames``
/ ``oneOf`` titles, attachment references as attachment ids for the page to link.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from service.commands import attachments
from service.commands.cases import revision_forms
from service.commands.context import Services
from service.commands.identity_policy import policy_of
from service.commands.outcomes import field_labels, one_line
from service.commands.specs import compiled_for
from service.store.models import Case, Definition, HistoryEntry

#: what a boolean reads as; pages pass their translation
YES_NO = ("Ya", "Tidak")
#: case data a public report adds beside its form: the identity mode and the channel
MODE_KEY = "mode_pelapor"
CHANNEL_KEY = "saluran_pengaduan"


def label_of(registration_number: str | None, business_key: str | None, case_id: str) -> str:
    """THE display name of a case, from its columns (for callers that read only those)."""
    return one_line(registration_number) or one_line(business_key) or case_id[:8]


def case_label(case: Case) -> str:
    """The display name of a case: its Nomor registrasi, else its business key, else its short id."""
    return label_of(case.registration_number, case.business_key, case.id)


@dataclass(frozen=True)
class ShownField:
    """One field as a person reads it."""

    name: str
    label: str
    #: the value as text ("" when the value is only attachments)
    text: str
    #: ids of the attachments the value refers to, in order
    files: tuple[str, ...] = ()


@dataclass(frozen=True)
class FormKeys:
    """Which form each part of a revision uses."""

    start: str | None
    #: user task element id → its form key
    steps: Mapping[str, str]
    #: fields that name the reporter (identity and the SOP's identifying fields): never in the report
    identity: frozenset[str]


@dataclass(frozen=True)
class Decision:
    """A completed step: its name, who completed it, when, and what they decided."""

    entry: HistoryEntry
    name: str
    actor: str | None
    at: datetime
    fields: list[ShownField]


def form_keys(services: Services, definition: Definition) -> FormKeys:
    """The start form, each step's form and the identity fields of a revision (cached per revision)."""

    def build() -> FormKeys:
        with services.db.reading() as session:
            compiled = compiled_for(services, session, definition)
        steps: dict[str, str] = {}
        for process in (compiled.spec, *compiled.subprocess_specs.values()):
            for spec in process.task_specs.values():
                key = (getattr(spec, "extensions", None) or {}).get("camunda:formKey")
                element = getattr(spec, "bpmn_id", None) or spec.name
                if isinstance(key, str) and key and element:
                    steps.setdefault(str(element), key)
        start = compiled.start_form_key
        start_form = revision_forms(services, definition).get(start) if start else None
        identity = frozenset(policy_of(compiled.outline.metadata, start_form).fields)
        return FormKeys(start, steps, identity)

    return cast(FormKeys, services.memo.get(("form_keys", definition.id, definition.checksum), build))


def _properties(form: Any) -> dict[str, Any]:
    properties = ((form or {}).get("schema") or {}).get("properties") if isinstance(form, Mapping) else None
    return {name: prop for name, prop in properties.items() if isinstance(prop, Mapping)} \
        if isinstance(properties, Mapping) else {}


def _ui(form: Any, name: str) -> Mapping[str, Any]:
    ui = (form or {}).get("ui") if isinstance(form, Mapping) else None
    found = ui.get(name) if isinstance(ui, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def _order(form: Any) -> list[str]:
    """The form's field order: ``ui:order`` (without its ``*``), then the schema's."""
    ui = (form or {}).get("ui") if isinstance(form, Mapping) else None
    listed = ui.get("ui:order") if isinstance(ui, Mapping) else None
    named = [name for name in listed if isinstance(name, str) and name != "*"] if isinstance(listed, list) else []
    return list(dict.fromkeys([*named, *_properties(form)]))


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _choices(prop: Mapping[str, Any], ui: Mapping[str, Any]) -> dict[str, str]:
    """Value (as :func:`_key`) → its title, from ``oneOf``/``anyOf`` consts and ``enumNames``."""
    titles: dict[str, str] = {}
    for option in [*(prop.get("oneOf") or []), *(prop.get("anyOf") or [])]:
        if isinstance(option, Mapping) and "const" in option and isinstance(option.get("title"), str):
            titles.setdefault(_key(option["const"]), one_line(option["title"]))
    names = prop.get("enumNames") or ui.get("ui:enumNames")
    enum = prop.get("enum")
    if isinstance(enum, list) and isinstance(names, list):
        for value, name in zip(enum, names, strict=False):
            if isinstance(name, str) and name.strip():
                titles.setdefault(_key(value), one_line(name))
    return titles


def _text(value: Any, prop: Mapping[str, Any], ui: Mapping[str, Any], words: tuple[str, str]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return words[0] if value else words[1]
    if isinstance(value, list):
        items = prop.get("items")
        item_prop = items if isinstance(items, Mapping) else {}
        found = ui.get("items")
        item_ui: Mapping[str, Any] = {**ui, **found} if isinstance(found, Mapping) else ui
        return ", ".join(text for item in value if not _is_reference(item)
                         if (text := _text(item, item_prop, item_ui, words)))
    if isinstance(value, Mapping):
        nested = _properties({"schema": prop})
        return "; ".join(f"{one_line(str((nested.get(k) or {}).get('title') or k))}: "
                         f"{_text(v, nested.get(k) or {}, {}, words)}" for k, v in value.items())
    found = _choices(prop, ui).get(_key(value))
    return found if found is not None else str(value)


def _is_reference(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(attachments.REFERENCE)


def _files(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    return tuple(item.removeprefix(attachments.REFERENCE) for item in items if _is_reference(item))


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def labelled(forms: Mapping[str, Any], form_key: str | None, data: Mapping[str, Any],
             words: tuple[str, str] = YES_NO, only: Iterable[str] | None = None) -> list[ShownField]:
    """:func:`shown_fields` on a revision's forms snapshot (``only``: just these fields, in the form's order)."""
    form = forms.get(form_key) if form_key else None
    labels = {**field_labels(forms), **field_labels({"form": form} if form else {})}
    found: dict[str, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
    for source in ([form] if form else []) + [other for key, other in forms.items() if key != form_key]:
        for name, prop in _properties(source).items():
            found.setdefault(name, (prop, _ui(source, name)))
    wanted = set(data) if only is None else set(only) & set(data)
    names = [name for name in [*_order(form), *data] if name in wanted]
    out = []
    for name in dict.fromkeys(names):
        value = data[name]
        if _empty(value):
            continue
        prop, ui = found.get(name, ({}, {}))
        out.append(ShownField(name, labels.get(name) or name, _text(value, prop, ui, words), _files(value)))
    return out


def shown_fields(services: Services, definition: Definition, form_key: str | None, data: Mapping[str, Any],
                 words: tuple[str, str] = YES_NO) -> list[ShownField]:
    """THE mapping of (revision, form key, data) to [(label, shown value)]: see the module's docstring.

    Fields come in the form's order (``ui:order``, then the schema's), then any others in ``data``'s
    order; empty values are left out. ``words``: what true and false read as (Ya/Tidak; a page passes
    its translation).
    """
    return labelled(revision_forms(services, definition), form_key, data, words)


def report_fields(services: Services, definition: Definition, data: Mapping[str, Any],
                  words: tuple[str, str] = YES_NO) -> list[ShownField]:
    """The report the case started with: the start form's fields in ``data`` (the case data as the
    viewer may see it), never the fields that name the reporter."""
    keys = form_keys(services, definition)
    forms = revision_forms(services, definition)
    start = forms.get(keys.start) if keys.start else None
    names = [name for name in _properties(start) if name not in keys.identity]
    return labelled(forms, keys.start, data, words, only=names)


def step_fields(services: Services, definition: Definition, element_id: str | None, data: Any,
                words: tuple[str, str] = YES_NO) -> list[ShownField]:
    """What a step (a user task) decided: its submitted ``data`` by the labels of the step's form."""
    if not isinstance(data, Mapping):
        return []
    keys = form_keys(services, definition)
    return shown_fields(services, definition, keys.steps.get(element_id or ""), data, words)


def decisions(services: Services, definition: Definition, history: Iterable[HistoryEntry],
              words: tuple[str, str] = YES_NO) -> list[Decision]:
    """Each completed step of a case's history (as its viewer may read it), oldest first."""
    return [Decision(entry, one_line(str(entry.data.get("name") or entry.element_id or "")), entry.actor, entry.at,
                     step_fields(services, definition, entry.element_id, entry.data.get("data"), words))
            for entry in history if entry.action == "task_completed"]
