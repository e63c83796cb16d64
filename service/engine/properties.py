"""Alur's BPMN dialect: every ``camunda:properties`` entry Alur reads, what it means, where it may
stand and what its value must look like.

Every module that reads one of these properties imports its name from here, so a name has one
spelling and one meaning; the deploy checks (:mod:`service.engine.deploy_checks`) refuse a name
that is not in :data:`VOCABULARY`, one in the wrong place and a value its check rejects, and
``docs/DIALECT.md`` is generated from this module (:func:`dialect_markdown`). Lists are
comma-separated; blanks are dropped.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum


class Place(Enum):
    """Where a property may stand: the element whose ``extensionElements`` hold it."""

    PROCESS = "process"
    USER_TASK = "user task"
    START_EVENT = "start event"
    THROW_EVENT = "throw/end event"
    BOUNDARY_TIMER = "boundary timer"


# --- the names ---------------------------------------------------------------------------------------
SHOWN_FIELDS = "tampilkan"
RECIPIENT = "penerima"
ESCALATE_TO = "eskalasi_ke"
ROUTE_FIELD = "tujuan_unit"
STEP_NUMBER = "langkah"
REQUIREMENTS = "kelengkapan"
STANDARD_TIME = "waktu"
OUTPUT = "output"
IDENTITY_REVEALERS = "identitas_pelapor"
SUPERVISORS = "pengawas"
REPORTING_MODES = "mode_pelapor"
REQUIRED_IDENTITY = "identitas_wajib"
IDENTIFYING_FIELDS = "data_identitas"
SOP_NUMBER = "nomor_sop"
CREATED_ON = "tanggal_pembuatan"
REVISED_ON = "tanggal_revisi"
EFFECTIVE_ON = "tanggal_efektif"
APPROVED_BY = "disahkan_oleh"
APPROVER_POSITION = "disahkan_oleh_jabatan"
APPROVER_NIP = "disahkan_oleh_nip"
UNIT = "unit"
TITLE = "judul"
LEGAL_BASIS = "dasar_hukum"
QUALIFICATIONS = "kualifikasi_pelaksana"
RELATED_SOPS = "keterkaitan"
EQUIPMENT = "peralatan"
WARNINGS = "peringatan"
RECORDS = "pencatatan"
PERIOD = "periode"
REPORT_OF = "rekap_sop"
REPORT_CHANNEL = "rekap_saluran"
REPORT_OUTCOMES = "rekap_keputusan"
RETENTION_YEARS = "retensi_tahun"
#: The boxes of the SOP document filled from process properties: (property, heading), in print order.
SOP_SECTIONS: tuple[tuple[str, str], ...] = (
    (LEGAL_BASIS, "Dasar Hukum"),
    (QUALIFICATIONS, "Kualifikasi Pelaksana"),
    (RELATED_SOPS, "Keterkaitan"),
    (EQUIPMENT, "Peralatan/Perlengkapan"),
    (WARNINGS, "Peringatan"),
    (RECORDS, "Pencatatan dan Pendataan"),
)

#: The reporting modes a reporter may choose (``mode_pelapor`` lists some of them).
MODES = ("anonim", "rahasia", "biasa")
#: ``periode``: the calendar periods a periodic SOP may run per, and their length in months.
PERIOD_MONTHS = {"bulanan": 1, "triwulan": 3, "semester": 6, "tahunan": 12}
#: ``identitas_wajib``: ``a|b`` means one of ``a`` and ``b``.
ALTERNATIVE = "|"
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def listed(properties: Mapping[str, str], name: str) -> list[str]:
    """The comma-separated entries of property ``name`` (empty when absent), in order, without blanks."""
    return [item.strip() for item in (properties.get(name) or "").split(",") if item.strip()]


def _entries(value: str) -> list[str]:
    return listed({"v": value}, "v")


# --- value checks: None when the value is fine, else what is wrong -------------------------------------
def _any_text(_value: str) -> str | None:
    return None


def _one_role(value: str) -> str | None:
    if not value.strip():
        return "names no role"
    return "names one role, not a list" if "," in value else None


def _roles(value: str) -> str | None:
    return None if _entries(value) else "names no role"


def _field_name(value: str) -> str | None:
    return None if _FIELD.match(value.strip()) else f"{value!r} is not a field name (letters, digits, _)"


def _field_names(value: str) -> str | None:
    names = [name for entry in _entries(value) for name in entry.split(ALTERNATIVE)]
    if not names:
        return "names no field"
    wrong = [name for name in names if not _FIELD.match(name.strip())]
    return f"not field names: {', '.join(map(repr, wrong))}" if wrong else None


def _modes(value: str) -> str | None:
    wrong = [mode for mode in _entries(value) if mode not in MODES]
    return f"unknown modes {', '.join(map(repr, wrong))} (known: {', '.join(MODES)})" if wrong else None


def _nip(value: str) -> str | None:
    """A civil servant's NIP: 18 digits, printed in groups (``19740111 199311 1 002``)."""
    digits = value.replace(" ", "")
    return None if not digits or (digits.isdigit() and len(digits) == 18) else f"{value!r} is not an NIP (18 digits)"


def _date(value: str) -> str | None:
    if not value.strip():
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        return f"{value!r} is not a date like 2026-01-31"
    return None


def _period(value: str) -> str | None:
    known = ", ".join(PERIOD_MONTHS)
    return None if value.strip() in PERIOD_MONTHS else f"{value!r} is not a calendar period (known: {known})"


def _years(value: str) -> str | None:
    text = value.strip()
    return None if text.isdigit() and 1 <= int(text) <= 100 else "a whole number of years from 1 to 100"


def _definition_key(value: str) -> str | None:
    return None if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", value.strip()) else f"{value!r} is not an SOP key"


@dataclass(frozen=True)
class Property:
    name: str
    places: frozenset[Place]
    meaning: str
    value: str  # what the value is, in words
    example: str
    check: Callable[[str], str | None]

    def problem(self, value: str) -> str | None:
        return self.check(value)


_STEP = frozenset({Place.USER_TASK, Place.START_EVENT, Place.THROW_EVENT})
_P = Property
VOCABULARY: dict[str, Property] = {p.name: p for p in (
    _P(SHOWN_FIELDS, frozenset({Place.USER_TASK, Place.THROW_EVENT}),
       "Case fields shown. On a Pelapor-lane task: the context of that task (e.g. ``kekurangan_laporan``). "
       "On an event that notifies the Pelapor: the fields it publishes (the outcome the reporter reads). "
       "On a staff task: the only case fields that task's lane may read (need-to-know).",
       "comma list of case field names", "tanggapan,berkas_tanggapan", _field_names),
    _P(RECIPIENT, frozenset({Place.THROW_EVENT}),
       "The role the message is for (default: the reporter for ``…pelapor…`` messages).",
       "comma list of roles", "Pelapor", _roles),
    _P(ESCALATE_TO, frozenset({Place.BOUNDARY_TIMER}),
       "The role escalated to (mailed, and given access to the case) when the SLA timer fires; never the "
       "step's own lane or candidate group.", "one role", "Kepala Dinas", _one_role),
    _P(ROUTE_FIELD, frozenset({Place.USER_TASK}),
       "The case field holding the code of a sub-unit of the case's unit; the task goes to that "
       "sub-unit's members only. On a multi-instance task over a list of codes (``camunda:collection``), "
       "its ``camunda:elementVariable``: each instance goes to the sub-unit it stands for.",
       "one case field name", "bidang_tujuan", _field_name),
    _P(STEP_NUMBER, _STEP, "The seed's step number(s) (Mutu Baku), printed in the SOP document.",
       "text", "3", _any_text),
    _P(REQUIREMENTS, _STEP, "Mutu Baku Kelengkapan: what the step needs.", "text", "Formulir pengaduan",
       _any_text),
    _P(STANDARD_TIME, _STEP, "Mutu Baku Waktu as the seed words it.", "text", "30 Menit", _any_text),
    _P(OUTPUT, _STEP, "Mutu Baku Output: what the step produces.", "text", "Surat Pengaduan WBS", _any_text),
    _P(IDENTITY_REVEALERS, frozenset({Place.PROCESS}),
       "Roles (besides the unit's administrators) who may reveal a ``rahasia`` reporter's identity "
       "(default: the lane of the first step).", "comma list of roles", "Inspektur", _roles),
    _P(SUPERVISORS, frozenset({Place.PROCESS}),
       "Roles that supervise every case of the SOP: they see every case without holding a task of it.",
       "comma list of roles", "Kepala Dinas,Sekretaris", _roles),
    _P(REPORTING_MODES, frozenset({Place.PROCESS}),
       "The reporting modes the SOP accepts from the public (blank: all three).",
       f"comma list of {', '.join(MODES)}", "rahasia,biasa", _modes),
    _P(REQUIRED_IDENTITY, frozenset({Place.PROCESS}),
       "Identity fields a ``rahasia`` or ``biasa`` report must carry; ``a|b`` means one of them "
       "(blank: ``nama``).", "comma list of field names, ``|`` between alternatives",
       "nama,nik,alamat,telepon|email", _field_names),
    _P(IDENTIFYING_FIELDS, frozenset({Place.PROCESS}),
       "Start-form fields that identify the reporter: sealed with the identity, never kept in the case data.",
       "comma list of start-form field names", "nip,unit_kerja", _field_names),
    _P(SOP_NUMBER, frozenset({Place.PROCESS}), "Nomor SOP, printed in the SOP document.", "text",
       "503.7101.411/DPMPTSP-2024", _any_text),
    _P(CREATED_ON, frozenset({Place.PROCESS}), "Tanggal Pembuatan of the SOP.", "date (YYYY-MM-DD) or blank",
       "2024-01-01", _date),
    _P(REVISED_ON, frozenset({Place.PROCESS}), "Tanggal Revisi of the SOP.", "date (YYYY-MM-DD) or blank",
       "2024-06-01", _date),
    _P(EFFECTIVE_ON, frozenset({Place.PROCESS}), "Tanggal Efektif of the SOP.", "date (YYYY-MM-DD) or blank",
       "2024-01-01", _date),
    _P(APPROVER_POSITION, frozenset({Place.PROCESS}),
       "Disahkan oleh: the jabatan of the official who signed the SOP.", "text",
       "Kepala Dinas Penanaman Modal dan Pelayanan Terpadu Satu Pintu Kabupaten Lamandau", _any_text),
    _P(APPROVED_BY, frozenset({Place.PROCESS}),
       "Disahkan oleh: the name of the official who signed the SOP (printed in the SOP document; "
       "not an Alur login).", "text", "MUL'ATMIDY, S.Sos., M.A.P.", _any_text),
    _P(APPROVER_NIP, frozenset({Place.PROCESS}), "Disahkan oleh: that official's NIP.",
       "18 digits, spaces allowed, or blank", "19790402 200502 1 004", _nip),
    _P(UNIT, frozenset({Place.PROCESS}), "The code of the unit the SOP belongs to (when the deploy names none).",
       "unit code", "dpmptsp-lamandau", _any_text),
    _P(TITLE, frozenset({Place.PROCESS}), "The SOP's title (default: the process name).", "text",
       "SOP Whistle Blowing System", _any_text),
    _P(PERIOD, frozenset({Place.START_EVENT}),
       "On a timer start event (a periodic SOP): the case runs once per calendar period, at the opening of "
       "office hours (the unit's timezone) on the first working day of the period — ``triwulan`` on 1 Jan, "
       "1 Apr, 1 Jul and 1 Oct, ``semester`` on 1 Jan and 1 Jul — and reports on the period just ended. "
       "The timer's cycle must say the same length (``R/P3M`` for ``triwulan``, ``R/P6M`` for ``semester``).",
       f"one of {', '.join(PERIOD_MONTHS)}", "semester", _period),
    _P(REPORT_OF, frozenset({Place.START_EVENT}),
       "On a ``periode`` start event: the key of the SOP whose cases (all its revisions, in the same unit) "
       "the periodic case counts — received, finished, late, per step, per channel and per outcome — into "
       "its initial data for the report form.", "an SOP key", "dumas-inspektorat-katingan", _definition_key),
    _P(REPORT_CHANNEL, frozenset({Place.START_EVENT}),
       "With ``rekap_sop``: the case field of that SOP holding the channel a report came in by.",
       "one case field name", "saluran", _field_name),
    _P(REPORT_OUTCOMES, frozenset({Place.START_EVENT}),
       "With ``rekap_sop``: the case fields of that SOP holding its decisions, counted per value.",
       "comma list of case field names", "hasil_verifikasi,kategori_telaah", _field_names),
    _P(RETENTION_YEARS, frozenset({Place.PROCESS}),
       "Years a completed case is kept whole after it completed; then the worker purges the reporter's "
       "identity, attachments, free text and history rows, keeping an anonymous statistical record (the "
       "case's archive, made at completion, stays). Blank: kept whole.", "whole years, 1-100", "5", _years),
    *(_P(name, frozenset({Place.PROCESS}), f"The SOP document's box \"{heading}\".",
         "text, one entry per line", "UU No. 25 Tahun 2009 tentang Pelayanan Publik", _any_text)
      for name, heading in SOP_SECTIONS),
)}


def problems(name: str | None, value: str, place: Place | None) -> list[str]:
    """What is wrong with property ``name=value`` standing at ``place`` (``None``: an element that may
    hold no Alur property), each a sentence for a 422."""
    known = VOCABULARY.get(name or "")
    if known is None:
        close = difflib.get_close_matches(name or "", VOCABULARY, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f" (known: {', '.join(sorted(VOCABULARY))})"
        return [f"Unknown Alur property '{name}'{hint}"]
    if place not in known.places:
        where = " or ".join(p.value for p in Place if p in known.places)
        return [f"Property '{known.name}' belongs on a {where}, not on {place.value if place else 'this element'}"]
    wrong = known.problem(value)
    return [f"Property '{known.name}': {wrong}"] if wrong else []


def dialect_markdown() -> str:
    """``docs/DIALECT.md``: the vocabulary as a table (regenerate with ``python -m service.engine.properties``)."""
    lines = [
        "# Alur's BPMN dialect",
        "",
        "<!-- Generated from service/engine/properties.py by `python -m service.engine.properties > "
        "docs/DIALECT.md`; do not edit by hand. -->",
        "",
        "Alur reads these `camunda:properties` entries (Camunda 7 extension elements, as the modeler's "
        "properties panel writes them). At deploy every `camunda:property` directly under an element's "
        "`extensionElements` is checked (`service/engine/deploy_checks.py`): an unknown name (with a "
        "\"did you mean\" suggestion), a name in the wrong place, or a value its check rejects is a 422 "
        "naming the element id and line. An `eskalasi_ke` naming the lane or candidate group of the step "
        "its timer is attached to (an escalation to oneself) is refused too. At run time an escalation "
        "to a role nobody holds in the unit is an incident (`GET /api/reports/incidents`).",
        "",
        "| property | where | meaning | value (check) | example |",
        "|---|---|---|---|---|",
    ]
    for prop in VOCABULARY.values():
        where = ", ".join(p.value for p in Place if p in prop.places)
        meaning = prop.meaning.replace("|", "\\|")
        value = prop.value.replace("|", "\\|")
        lines.append(f"| `{prop.name}` | {where} | {meaning} | {value} | `{prop.example}` |")
    lines += ["", "Places: *throw/end event* is an intermediate throw or end event (a message to a role or the "
              "reporter); *boundary timer* is a timer boundary event (the step's SLA).", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(dialect_markdown(), end="")
