"""Alur's BPMN dialect at deploy: every ``camunda:property`` is checked against the vocabulary of
:mod:`service.engine.properties` — an unknown or misspelt name, a name in the wrong place, a bad value
or an escalation to the step's own role is a 422 naming the element and its line."""

from __future__ import annotations

from typing import Any

import pytest
from support.helpers import deploy_bytes, review_variant

NOMOR = '<camunda:property name="nomor_sop" value="UJI/001" />'
WAKTU = '<camunda:property name="waktu" value="10 Menit" />'
ESKALASI = '<camunda:property name="eskalasi_ke" value="Kabid" />'


def _refused(client: Any, admin: Any, *replacements: tuple[str, str]) -> list[dict[str, Any]]:
    response = deploy_bytes(client, admin, review_variant("dialek", *replacements))
    assert response.status_code == 422, response.json
    assert response.json["code"] == "invalid_diagram"
    assert client.get("/api/definitions", headers=admin.headers).json == []
    return list(response.json["errors"])


@pytest.mark.parametrize(("written", "meant"), [("eskalasi", "eskalasi_ke"), ("tampilan", "tampilkan")])
def test_a_misspelt_property_is_refused_with_a_suggestion(client: Any, admin: Any, written: str,
                                                          meant: str) -> None:
    (error,) = _refused(client, admin, (WAKTU, f'{WAKTU}<camunda:property name="{written}" value="x" />'))
    assert error["element_id"] == "verifikasi" and error["line"]
    assert f"'{written}'" in error["message"] and f"did you mean '{meant}'" in error["message"]


def test_a_property_in_the_wrong_place_is_refused(client: Any, admin: Any) -> None:
    (error,) = _refused(client, admin, (WAKTU, f'{WAKTU}<camunda:property name="pengawas" value="Kabid" />'))
    assert error["element_id"] == "verifikasi" and "belongs on a process" in error["message"]


def test_a_process_property_with_a_bad_value_is_refused(client: Any, admin: Any) -> None:
    modes = '<camunda:property name="mode_pelapor" value="rahasia,publik" />'
    (error,) = _refused(client, admin, (NOMOR, NOMOR + modes))
    assert error["element_id"] == "dialek" and "'publik'" in error["message"]


def test_an_escalation_to_the_steps_own_lane_is_refused_naming_the_timer(client: Any, admin: Any) -> None:
    (error,) = _refused(client, admin, (ESKALASI, ESKALASI.replace("Kabid", "Kasi")))
    assert error["element_id"] == "sla_verifikasi" and error["line"]
    assert "'verifikasi'" in error["message"] and "own role" in error["message"]


def test_an_escalation_to_a_candidate_group_of_the_step_is_refused(client: Any, admin: Any) -> None:
    timer = ('<bpmn:boundaryEvent id="sla_tindak_lanjut" name="2 hari kerja" attachedToRef="tindak_lanjut" '
             'cancelActivity="false">')
    own = f'{timer}<bpmn:extensionElements><camunda:properties>' \
          '<camunda:property name="eskalasi_ke" value="Tim Audit" /></camunda:properties></bpmn:extensionElements>'
    (error,) = _refused(client, admin, (timer, own))
    assert error["element_id"] == "sla_tindak_lanjut"


def test_an_escalation_to_another_role_deploys(client: Any, admin: Any) -> None:
    upward = ESKALASI.replace("Kabid", "Kepala Dinas")
    response = deploy_bytes(client, admin, review_variant("dialek", (ESKALASI, upward)))
    assert response.status_code == 201, response.json
