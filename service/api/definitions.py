"""SOP revisions: deploy, list, read."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView

from service.api.guards import Blueprint, load_json, max_json_depth
from service.api.security import BEARER, current_actor, services
from service.commands import definitions as commands
from service.errors import InvalidInput, NotFound
from service.store.models import Definition

blp = Blueprint("definitions", __name__, url_prefix="/api/definitions",
                description="Deployed SOP revisions (BPMN diagrams with their forms)")


class DefinitionSchema(ma.Schema):
    id = ma.fields.Integer()
    key = ma.fields.String()
    version = ma.fields.Integer()
    unit = ma.fields.Function(lambda d: d.unit.code)
    checksum = ma.fields.String()
    status = ma.fields.String()
    title = ma.fields.String()
    sop_number = ma.fields.String(allow_none=True)
    created_on = ma.fields.Date(allow_none=True)
    revised_on = ma.fields.Date(allow_none=True)
    effective_on = ma.fields.Date(allow_none=True)
    approved_by = ma.fields.String(allow_none=True)
    deployed_at = ma.fields.DateTime()
    metadata = ma.fields.Dict(attribute="sop_metadata")
    forms = ma.fields.Function(lambda d: sorted(d.forms or {}))
    decisions = ma.fields.Function(lambda d: sorted(d.decisions or {}))


class DeployFormSchema(ma.Schema):
    """Multipart fields besides the files ``bpmn`` (required) and ``forms`` (optional JSON)."""

    unit = ma.fields.String(validate=ma.validate.Length(max=64))
    title = ma.fields.String(validate=ma.validate.Length(max=300))
    sop_number = ma.fields.String(validate=ma.validate.Length(max=200))
    effective_on = ma.fields.String(validate=ma.validate.Length(max=10))
    approved_by = ma.fields.String(validate=ma.validate.Length(max=300))


class DeployFilesSchema(ma.Schema):
    bpmn = ma.fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
    forms = ma.fields.Raw(metadata={"type": "string", "format": "binary"})
    dmn = ma.fields.Raw(metadata={"type": "string", "format": "binary",
                                  "description": "a DMN decision table (repeatable)"})


def _uploaded_forms() -> dict[str, Any]:
    upload = request.files.get("forms")
    if upload is None:
        return {}
    try:
        forms = load_json(upload.read(), max_json_depth(), "forms")
    except ValueError as exc:  # not UTF-8 or not JSON
        raise InvalidInput("The forms file is not valid JSON",
                           [{"field": "forms", "message": str(exc)[:200]}]) from exc
    if not isinstance(forms, dict):
        raise InvalidInput("The forms file must be a JSON object {formKey: {schema, ui}}",
                           [{"field": "forms", "message": "not an object"}])
    return forms


def _uploaded_decisions() -> dict[str, bytes]:
    """The DMN files of the multipart field ``dmn`` (repeatable), by file name."""
    found: dict[str, bytes] = {}
    for position, upload in enumerate(request.files.getlist("dmn"), start=1):
        name = (upload.filename or "").strip()[:200] or f"dmn-{position}.dmn"
        found[name if name not in found else f"{name} ({position})"] = upload.read()
    return found


@blp.route("")
class Definitions(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, DefinitionSchema(many=True))
    def get(self) -> list[Definition]:
        """The latest revision of every SOP visible to you"""
        return commands.latest_per_key(services(), current_actor())

    @blp.doc(security=BEARER)
    @blp.arguments(DeployFormSchema(), location="form")
    @blp.arguments(DeployFilesSchema(), location="files")
    @blp.response(201, DefinitionSchema)
    @blp.alt_response(200, schema=DefinitionSchema, description="Same bytes and forms: the existing revision")
    @blp.alt_response(422, description="The diagram cannot be deployed; errors name element_id and line")
    @blp.alt_response(413, description="The upload is too large")
    def post(self, fields: dict[str, Any], files: dict[str, Any]) -> tuple[Definition, int]:
        """Deploy a revision of an SOP"""
        actor = current_actor()
        deploy = commands.DeployRequest(bpmn=files["bpmn"].read(), forms=_uploaded_forms(),
                                        decisions=_uploaded_decisions(), **fields)
        definition, created = commands.deploy(services(), actor, deploy)
        return definition, 201 if created else 200


@blp.route("/<string:key>/versions")
class Versions(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, DefinitionSchema(many=True))
    def get(self, key: str) -> list[Definition]:
        """All revisions of one SOP"""
        return commands.versions(services(), current_actor(), key)


@blp.route("/<string:key>/versions/<int:number>")
class Version(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, DefinitionSchema)
    def get(self, key: str, number: int) -> Definition:
        """One revision"""
        return commands.version(services(), current_actor(), key, number)


@blp.route("/<string:key>/versions/<int:number>/bpmn")
class VersionXml(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, description="The BPMN XML of the revision", content_type="application/xml")
    def get(self, key: str, number: int) -> Response:
        """The raw BPMN XML of one revision"""
        definition = commands.version(services(), current_actor(), key, number)
        return Response(definition.bpmn_xml, mimetype="application/xml")


@blp.route("/<string:key>/versions/<int:number>/decisions/<string:decision_id>")
class VersionDecision(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, description="The DMN XML of one decision table of the revision",
                  content_type="application/xml")
    def get(self, key: str, number: int, decision_id: str) -> Response:
        """The DMN XML of a decision table stored with one revision"""
        definition = commands.version(services(), current_actor(), key, number)
        text = (definition.decisions or {}).get(decision_id)
        if not isinstance(text, str):
            raise NotFound(f"Version {number} of '{key}' has no decision '{decision_id}'",
                           [{"field": "decision_id", "message": "unknown"}])
        return Response(text, mimetype="application/xml")
