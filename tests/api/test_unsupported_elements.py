"""Elements the engine would silently skip, and multi-instance collections, are judged at deploy."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from sqlalchemy import func, select
from support.helpers import Persona, deploy_bytes, review_variant

from service.store.models import Definition

CATCH = ('<bpmn:intermediateCatchEvent id="tunggu_info" name="Informasi tambahan diterima">',
         '</bpmn:intermediateCatchEvent>')


def _as(tag: str) -> bytes:
    text = review_variant("unsupported").decode()
    text = text.replace(CATCH[0], f'<bpmn:{tag} id="tunggu_info" name="Informasi tambahan diterima">')
    text = text.replace(CATCH[1], f"</bpmn:{tag}>")
    text = text.replace('<bpmn:messageEventDefinition id="med1" messageRef="Msg_info" />', "")
    return text.encode()


def _collection(expression: str) -> tuple[tuple[str, str]]:
    return ((
        '<bpmn:outgoing>f4</bpmn:outgoing>',
        '<bpmn:outgoing>f4</bpmn:outgoing>'
        f'<bpmn:multiInstanceLoopCharacteristics camunda:collection="{expression}" '
        'camunda:elementVariable="bidang" />'),)


def _with_collection(expression: str) -> bytes:
    return review_variant("unsupported", *_collection(expression))


@pytest.mark.parametrize("diagram", [_as("receiveTask"), _as("sendTask"), _with_collection("().__class__"),
                                     _with_collection("daftar_bidang +")],
                         ids=["receiveTask", "sendTask", "collection-dunder", "collection-syntax"])
def test_refused_at_deploy_naming_the_element(app: Any, client: Any, admin: Persona, diagram: bytes) -> None:
    response = deploy_bytes(client, admin, diagram)
    assert response.status_code == 422, response.json
    assert [e["element_id"] for e in response.json["errors"]] == ["tunggu_info" if b"Task id=\"tunggu" in diagram
                                                                  else "tindak_lanjut"]
    with app.extensions["alur.services"].db.reading() as session:
        assert session.scalar(select(func.count()).select_from(Definition)) == 0


#: the verification form of review.bpmn, also naming the bidang to dispose to (a list of sub-unit codes)
_WITH_LIST = {"uji-verifikasi": {"schema": {"type": "object", "properties": {
    "hasil": {"type": "string", "enum": ["lengkap", "kurang", "ditolak"]},
    "daftar_bidang": {"type": "array", "uniqueItems": True, "items": {"type": "string"}}}}}}
_ROUTED = ('<bpmn:userTask id="tindak_lanjut" name="Tindak lanjut" camunda:candidateGroups="Kabid,Tim Audit">',
           '<bpmn:userTask id="tindak_lanjut" name="Tindak lanjut" camunda:candidateGroups="Kabid,Tim Audit">'
           '<bpmn:extensionElements><camunda:properties><camunda:property name="tujuan_unit" value="bidang" />'
           '</camunda:properties></bpmn:extensionElements>')


def _forms(forms: dict[str, Any]) -> Any:
    return (io.BytesIO(json.dumps(forms).encode()), "forms.json")


def test_a_plain_collection_variable_deploys(client: Any, admin: Persona) -> None:
    """A list a form provides, each instance routed to the sub-unit it stands for (``tujuan_unit`` =
    its element variable): see tests/sops/test_parallel_dispositions.py."""
    diagram = review_variant("unsupported", *_collection("daftar_bidang"), _ROUTED)
    response = deploy_bytes(client, admin, diagram, forms=_forms(_WITH_LIST))
    assert response.status_code == 201, response.json


def test_a_collection_needs_routing_and_a_list_field(client: Any, admin: Persona) -> None:
    unrouted = deploy_bytes(client, admin, _with_collection("daftar_bidang"), forms=_forms(_WITH_LIST))
    no_list = deploy_bytes(client, admin, review_variant("unsupported", *_collection("daftar_bidang"), _ROUTED))
    for response in (unrouted, no_list):
        assert response.status_code == 422, response.json
        assert {e["element_id"] for e in response.json["errors"]} == {"tindak_lanjut"}
