"""Elements the engine would silently skip, and multi-instance collections, are judged at deploy."""

from __future__ import annotations

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


def _with_collection(expression: str) -> bytes:
    return review_variant("unsupported", (
        '<bpmn:outgoing>f4</bpmn:outgoing>',
        '<bpmn:outgoing>f4</bpmn:outgoing>'
        f'<bpmn:multiInstanceLoopCharacteristics camunda:collection="{expression}" '
        'camunda:elementVariable="bidang" />'))


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


def test_a_plain_collection_variable_deploys(client: Any, admin: Persona) -> None:
    response = deploy_bytes(client, admin, _with_collection("daftar_bidang"))
    assert response.status_code == 201, response.json
