"""Outlining, checking and compiling diagrams; the spec cache."""

from __future__ import annotations

import pytest
from support.helpers import ENGINE_DATA, review_variant

from service.engine import SpecCache, compile_definition, outline
from service.errors import InvalidDiagram

REVIEW = (ENGINE_DATA / "review.bpmn").read_bytes()
FORMS = {"uji-pengaduan", "uji-verifikasi"}


def compile_review(data: bytes = REVIEW) -> object:
    return compile_definition(data, FORMS.__contains__)


def refusal(data: bytes, forms: set[str] = FORMS) -> InvalidDiagram:
    with pytest.raises(InvalidDiagram) as raised:
        compile_definition(data, forms.__contains__)
    return raised.value


def test_outline_reads_key_lanes_forms_and_sop_facts() -> None:
    found = outline(REVIEW)
    assert (found.key, found.title) == ("review", "Review pengaduan (uji)")
    assert found.lanes == ("Pelapor", "Kasi", "Kabid")
    assert found.form_keys == FORMS
    assert found.metadata == {"nomor_sop": "UJI/001"}
    assert found.process_ids == {"review"} and found.called_elements == frozenset()


def test_compiled_spec_keeps_the_camunda_extensions() -> None:
    compiled = compile_definition(REVIEW, FORMS.__contains__)
    assert compiled.key == "review" and compiled.start_form_key == "uji-pengaduan"
    specs = {spec.bpmn_id: spec for spec in compiled.spec.task_specs.values() if spec.bpmn_id}
    assert specs["verifikasi"].extensions["camunda:formKey"] == "uji-verifikasi"
    assert specs["verifikasi"].extensions["waktu"] == "10 Menit"
    assert specs["verifikasi"].lane == "Kasi"
    assert specs["tindak_lanjut"].extensions["camunda:candidateGroups"] == "Kabid,Tim Audit"
    assert specs["sla_verifikasi"].extensions["eskalasi_ke"] == "Kabid"


def test_every_problem_is_listed_at_once_with_element_and_line() -> None:
    data = review_variant("review", ('hasil == "lengkap"', "hasil.upper()"), ('hasil == "ditolak"', "9**9"),
                          ('camunda:formKey="uji-verifikasi"', 'camunda:formKey="hilang"'),
                          ("<bpmn:timeDuration>PT10M</bpmn:timeDuration>",
                           "<bpmn:timeDuration>open('x')</bpmn:timeDuration>"))
    problems = refusal(data).details
    assert {p["element_id"] for p in problems} == {"f3", "f_tolak", "verifikasi", "sla_verifikasi"}
    lines = data.decode().splitlines()
    for problem in problems:  # the line is the element's own, or one of its children's
        opening = next(n for n, text in enumerate(lines, 1) if f'id="{problem["element_id"]}"' in text)
        assert problem["message"] and opening <= problem["line"] <= opening + 12


def test_a_diagram_without_an_executable_process_is_refused() -> None:
    error = refusal(REVIEW.replace(b'isExecutable="true"', b'isExecutable="false"'))
    assert error.details == [{"element_id": "review", "line": error.details[0]["line"],
                              "message": "Process is not executable (isExecutable is not 'true')"}]


def test_a_file_that_is_not_bpmn_is_refused() -> None:
    assert refusal(b"<html><body/></html>").details[0]["line"] == 1


def test_unknown_call_activity_is_refused_and_a_known_dependency_compiles() -> None:
    caller = review_variant("pemanggil", (
        '<bpmn:userTask id="tindak_lanjut" name="Tindak lanjut" camunda:candidateGroups="Kabid,Tim Audit">',
        '<bpmn:callActivity id="tindak_lanjut" name="Tindak lanjut" calledElement="sub">'),
        ("</bpmn:userTask>\n    <bpmn:boundaryEvent id=\"sla_tindak_lanjut\"",
         "</bpmn:callActivity>\n    <bpmn:boundaryEvent id=\"sla_tindak_lanjut\""))
    error = refusal(caller)
    assert [(p["element_id"], "sub" in p["message"]) for p in error.details] == [("tindak_lanjut", True)]
    sub = review_variant("sub")
    compiled = compile_definition(caller, FORMS.__contains__, [sub])
    assert "sub" in compiled.subprocess_specs


def test_timer_that_spiffworkflow_cannot_read_fails_at_compile_not_at_run_time() -> None:
    error = refusal(review_variant("review", (
        '<bpmn:timerEventDefinition id="td1"><bpmn:timeDuration>PT10M</bpmn:timeDuration></bpmn:timerEventDefinition>',
        '<bpmn:timerEventDefinition id="td1" />')))
    assert error.details and error.details[0]["element_id"] == "sla_verifikasi"


def test_spec_cache_builds_once_and_evicts_the_least_recent() -> None:
    cache, builds = SpecCache(capacity=2), []

    def build(name: str) -> object:
        builds.append(name)
        return compile_review()

    first = cache.get(1, lambda: build("1"))  # type: ignore[arg-type,return-value]
    assert cache.get(1, lambda: build("again")) is first  # type: ignore[arg-type,return-value]
    cache.get(2, lambda: build("2"))  # type: ignore[arg-type,return-value]
    cache.get(1, lambda: build("again"))  # type: ignore[arg-type,return-value]
    cache.get(3, lambda: build("3"))  # type: ignore[arg-type,return-value]  # evicts 2, the least recent
    cache.get(2, lambda: build("2 again"))  # type: ignore[arg-type,return-value]
    assert builds == ["1", "2", "3", "2 again"]
