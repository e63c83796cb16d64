"""JSON Schema forms: ``forms/<formKey>.schema.json`` (+ ``.ui.json``), validated server-side.

A revision snapshots the forms it uses at deploy time, so later edits to the forms directory do
not change what running cases accept. Compiled validators are cached by the schema's checksum.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from service.errors import FormInvalid, InvalidDiagram

Form = dict[str, Any]  # {"schema": {...}, "ui": {...}}
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")
_REQUIRED = re.compile(r"^'(.+)' is a required property$")


def load_directory_form(directory: Path, key: str) -> Form | None:
    """The form ``key`` from the forms directory, or None when there is no such file."""
    if not _KEY.match(key):
        return None
    schema_path = directory / f"{key}.schema.json"
    if not schema_path.is_file():
        return None
    ui_path = directory / f"{key}.ui.json"
    return {
        "schema": json.loads(schema_path.read_text(encoding="utf-8")),
        "ui": json.loads(ui_path.read_text(encoding="utf-8")) if ui_path.is_file() else {},
    }


def check_form(key: str, form: Any) -> Form:
    """Validate an uploaded or directory form definition; raise :class:`InvalidDiagram`."""
    if not isinstance(form, dict) or not isinstance(form.get("schema"), dict):
        raise InvalidDiagram(f"Form '{key}' must be an object with a 'schema' object",
                             [{"field": f"forms.{key}", "message": "missing schema"}])
    try:
        Draft202012Validator.check_schema(form["schema"])
    except SchemaError as exc:
        raise InvalidDiagram(f"Form '{key}' has an invalid JSON Schema: {exc.message}",
                             [{"field": f"forms.{key}.schema", "message": exc.message}]) from exc
    return {"schema": form["schema"], "ui": form.get("ui") or {}}


def _canonical(schema: Mapping[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, separators=(",", ":"))


def forms_checksum(forms: Mapping[str, Form]) -> bytes:
    return _canonical({key: forms[key] for key in sorted(forms)}).encode()


@lru_cache(maxsize=512)
def _validator(canonical_schema: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(canonical_schema), format_checker=FormatChecker())


def validate_data(form: Form | None, data: Any) -> None:
    """Raise :class:`FormInvalid` naming each bad field (dotted path) of ``data``."""
    if not isinstance(data, dict):
        raise FormInvalid("Task data must be a JSON object", [{"field": "data", "message": "not an object"}])
    if form is None:
        return
    validator = _validator(_canonical(form["schema"]))
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if not errors:
        return
    details = []
    for error in errors:
        path = ".".join(str(part) for part in error.absolute_path)
        missing = _REQUIRED.match(error.message) if error.validator == "required" else None
        if missing is not None:
            path = ".".join(filter(None, [path, missing.group(1)]))
        # a long message quotes the value: keep its head and its tail ("… is too long"), which names the rule
        message = error.message if len(error.message) <= 300 else f"{error.message[:150]}…{error.message[-150:]}"
        details.append({"field": path or "data", "message": message})
    raise FormInvalid(f"The form data has {len(details)} error(s)", details)


def check_read_only(form: Form | None, data: Mapping[str, Any], current: Mapping[str, Any]) -> None:
    """A ``readOnly`` field (e.g. a figure a periodic report starts with) may come back only unchanged:
    the form shows it, nobody types it. Raise :class:`FormInvalid` naming each changed one."""
    properties = ((form or {}).get("schema") or {}).get("properties") or {}
    changed = [name for name, prop in properties.items()
               if isinstance(prop, dict) and prop.get("readOnly") is True and name in data
               and data[name] != current.get(name)]
    if changed:
        raise FormInvalid(f"{len(changed)} read-only field(s) changed",
                          [{"field": name, "message": "read-only: send the value shown, or leave it out"}
                           for name in changed])


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
