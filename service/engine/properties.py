"""Alur's BPMN dialect: the names of the ``camunda:properties`` entries Alur reads, and what they mean.

Every module that reads one of these properties imports its name from here, so a name has one
spelling and one meaning. Lists are comma-separated; blanks are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping

# --- on a user task, start event or throw/end event --------------------------------------------------
#: Case fields shown to the reporter. On a Pelapor-lane task: the context of that task (e.g. the
#: office's ``kekurangan_laporan`` on "Melengkapi laporan"). On an event that notifies the Pelapor
#: (a message named ``…pelapor…`` or ``penerima=Pelapor``): the fields it *publishes* — the outcome
#: the reporter reads on the follow-up page and in the mail (tanggapan, alasan, surat balasan).
#: On a staff task: the only case fields that task's lane may read (need-to-know).
SHOWN_FIELDS = "tampilkan"
#: On a throw event: the role the message is for (default: the reporter for ``…pelapor…`` messages).
RECIPIENT = "penerima"
#: On an SLA timer boundary event: the role escalated to when the timer fires.
ESCALATE_TO = "eskalasi_ke"
#: On a user task: the case field whose value is the code of a sub-unit of the case's unit; the
#: task is routed to the members of that sub-unit only (e.g. ``bidang_tujuan``).
ROUTE_FIELD = "tujuan_unit"
#: Mutu Baku facts of a step, printed in the SOP document.
STEP_NUMBER = "langkah"
REQUIREMENTS = "kelengkapan"
STANDARD_TIME = "waktu"
OUTPUT = "output"

# --- on the process ------------------------------------------------------------------------------
#: Roles (besides the unit's administrators) who may reveal a ``rahasia`` reporter's identity.
IDENTITY_REVEALERS = "identitas_pelapor"
#: Roles that supervise every case of the SOP: they see every case without holding a task of it.
SUPERVISORS = "pengawas"
#: The reporting modes the SOP accepts from the public (``anonim``, ``rahasia``, ``biasa``).
REPORTING_MODES = "mode_pelapor"
#: Identity fields a report must carry (e.g. ``nama,nik,alamat,telepon,pekerjaan`` for 004).
REQUIRED_IDENTITY = "identitas_wajib"
#: Start-form fields that identify the reporter (e.g. Kebumen's ``nip,unit_kerja``): encrypted with
#: the identity, never kept in plain case data.
IDENTIFYING_FIELDS = "data_identitas"


def listed(properties: Mapping[str, str], name: str) -> list[str]:
    """The comma-separated entries of property ``name`` (empty when absent), in order, without blanks."""
    return [item.strip() for item in (properties.get(name) or "").split(",") if item.strip()]
