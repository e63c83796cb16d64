"""SOP revisions: metadata of drafts, approve/activate/retire, history, diff, SOP document, migrations."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import Response
from flask.views import MethodView

from service.api.cases import CaseSchema
from service.api.definitions import DefinitionSchema
from service.api.guards import Blueprint
from service.api.schemas import VERSION_RANGE
from service.api.security import BEARER, current_actor, services
from service.commands import cases as case_commands
from service.commands import migrations, revisions, sop_document
from service.commands.cases import CaseView
from service.engine import properties, sop_metadata
from service.store.models import Definition, DefinitionEvent

blp = Blueprint("revisions", __name__, url_prefix="/api/definitions",
                description="The revision workflow of SOPs: draft → approved → active → retired; diff, "
                            "SOP document, migration of running cases")
case_blp = Blueprint("case_migrations", __name__, url_prefix="/api/cases",
                     description="Reverting the migration of one case")
_LINES = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=2000)), validate=ma.validate.Length(max=100))


class RevisionSchema(DefinitionSchema):
    approved_at = ma.fields.DateTime(allow_none=True)


class MetadataSchema(ma.Schema):
    """SOP metadata and document sections of a draft; only the fields sent change."""

    title = ma.fields.String(validate=ma.validate.Length(max=300))
    sop_number = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    approved_by = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=300))
    created_on = ma.fields.Date(allow_none=True)
    revised_on = ma.fields.Date(allow_none=True)
    effective_on = ma.fields.Date(allow_none=True)
    dasar_hukum = _LINES
    kualifikasi_pelaksana = _LINES
    keterkaitan = _LINES
    peralatan = _LINES
    peringatan = _LINES
    pencatatan = _LINES


def _nip(value: str) -> None:
    if problem := properties.VOCABULARY[properties.APPROVER_NIP].problem(value):
        raise ma.ValidationError(problem)


class SignatorySchema(ma.Schema):
    """Disahkan oleh: the official who signed the SOP (printed in the SOP document)."""

    jabatan = ma.fields.String(load_default="", validate=ma.validate.Length(max=300))
    nama = ma.fields.String(load_default="", validate=ma.validate.Length(max=300))
    nip = ma.fields.String(load_default="", validate=_nip, metadata={"description": "18 digits, spaces allowed"})


class SopMetadataSchema(ma.Schema):
    """The SOP metadata kept in the revision's diagram (process properties); a PUT sets all of it."""

    judul = ma.fields.String(load_default="", validate=ma.validate.Length(max=300),
                             metadata={"description": "blank: the process name"})
    nomor_sop = ma.fields.String(load_default="", validate=ma.validate.Length(max=200))
    tanggal_pembuatan = ma.fields.Date(load_default=None, allow_none=True)
    tanggal_revisi = ma.fields.Date(load_default=None, allow_none=True)
    tanggal_efektif = ma.fields.Date(load_default=None, allow_none=True)
    disahkan_oleh = ma.fields.Nested(SignatorySchema, load_default=dict)
    dasar_hukum = _LINES
    kualifikasi_pelaksana = _LINES
    keterkaitan = _LINES
    peralatan = _LINES
    peringatan = _LINES
    pencatatan = _LINES

    @ma.pre_dump
    def _flat(self, meta: sop_metadata.SopMetadata, **_kwargs: Any) -> dict[str, Any]:
        return {**{name: getattr(meta, name) for name in ("judul", "nomor_sop", "tanggal_pembuatan",
                                                         "tanggal_revisi", "tanggal_efektif")},
                "disahkan_oleh": meta.disahkan_oleh,
                **{name: list(meta.section(name)) for name in sop_metadata.SECTION_NAMES}}

    @ma.post_load
    def _metadata(self, data: dict[str, Any], **_kwargs: Any) -> sop_metadata.SopMetadata:
        return sop_metadata.SopMetadata(
            judul=data["judul"], nomor_sop=data["nomor_sop"], tanggal_pembuatan=data["tanggal_pembuatan"],
            tanggal_revisi=data["tanggal_revisi"], tanggal_efektif=data["tanggal_efektif"],
            disahkan_oleh=sop_metadata.Signatory(**data["disahkan_oleh"]),
            sections={name: sop_metadata.lines(data.get(name)) for name in sop_metadata.SECTION_NAMES})


class ActivateSchema(ma.Schema):
    effective_on = ma.fields.Date(allow_none=True, metadata={"description": "default: the revision's own, else today"})


class EventSchema(ma.Schema):
    id = ma.fields.Integer()
    actor = ma.fields.String(allow_none=True)
    action = ma.fields.String()
    at = ma.fields.DateTime()
    data = ma.fields.Dict()


class DiffArgsSchema(ma.Schema):
    from_version = ma.fields.Integer(required=True, data_key="from", validate=VERSION_RANGE)
    to_version = ma.fields.Integer(required=True, data_key="to", validate=VERSION_RANGE)


class ElementChangeSchema(ma.Schema):
    id = ma.fields.String()
    type = ma.fields.String()
    name = ma.fields.String(allow_none=True)
    changes = ma.fields.Dict(metadata={"description": "fact → {from, to}"})


class DiffSchema(ma.Schema):
    added = ma.fields.List(ma.fields.Nested(ElementChangeSchema))
    removed = ma.fields.List(ma.fields.Nested(ElementChangeSchema))
    changed = ma.fields.List(ma.fields.Nested(ElementChangeSchema))


class MigrationRequestSchema(ma.Schema):
    from_version = ma.fields.Integer(required=True, validate=VERSION_RANGE)
    to_version = ma.fields.Integer(required=True, validate=VERSION_RANGE)
    dry_run = ma.fields.Boolean(load_default=True)
    case_ids = ma.fields.List(ma.fields.String(validate=ma.validate.Length(max=36)),
                              validate=ma.validate.Length(max=10000), load_default=None)


class CaseReportSchema(ma.Schema):
    case_id = ma.fields.String()
    status = ma.fields.String(metadata={"description": ", ".join(migrations.MigrationOutcome)})
    can_move = ma.fields.Boolean()
    current = ma.fields.List(ma.fields.String())
    blockers = ma.fields.List(ma.fields.Dict())
    reason = ma.fields.String(allow_none=True)


class MigrationReportSchema(ma.Schema):
    key = ma.fields.String()
    from_version = ma.fields.Integer()
    to_version = ma.fields.Integer()
    dry_run = ma.fields.Boolean()
    counts = ma.fields.Function(lambda r: {outcome.value: r.count(outcome) for outcome in migrations.MigrationOutcome})
    cases = ma.fields.List(ma.fields.Nested(CaseReportSchema))


@blp.route("/<string:key>/versions/<int:number>")
class RevisionMetadata(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(MetadataSchema())
    @blp.response(200, RevisionSchema)
    @blp.alt_response(409, description="The revision is not a draft")
    def patch(self, changes: dict[str, Any], key: str, number: int) -> Definition:
        """Edit the SOP metadata and document sections of a draft"""
        return revisions.update_metadata(services(), current_actor(), key, number, changes)


@blp.route("/<string:key>/versions/<int:number>/metadata")
class Metadata(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, SopMetadataSchema)
    def get(self, key: str, number: int) -> sop_metadata.SopMetadata:
        """The SOP metadata of a revision (Nomor SOP, tanggal, Disahkan oleh, the six boxes)"""
        return revisions.metadata(services(), current_actor(), key, number)

    @blp.doc(security=BEARER)
    @blp.arguments(SopMetadataSchema())
    @blp.response(200, SopMetadataSchema)
    @blp.alt_response(409, description="The revision is not a draft: approved, active and retired ones are immutable")
    def put(self, meta: sop_metadata.SopMetadata, key: str, number: int) -> sop_metadata.SopMetadata:
        """Set the SOP metadata of a draft; it is written into the draft's diagram"""
        return revisions.replace_metadata(services(), current_actor(), key, number, meta)


@blp.route("/<string:key>/versions/<int:number>/approve")
class Approve(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, RevisionSchema)
    @blp.alt_response(403, description="Needs the approver role of the unit")
    @blp.alt_response(409, description="The revision is not a draft")
    def post(self, key: str, number: int) -> Definition:
        """Approve a draft (you become Disahkan oleh)"""
        return revisions.approve(services(), current_actor(), key, number)


@blp.route("/<string:key>/versions/<int:number>/activate")
class Activate(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(ActivateSchema())
    @blp.response(200, RevisionSchema)
    @blp.alt_response(409, description="The revision is not approved")
    def post(self, body: dict[str, Any], key: str, number: int) -> Definition:
        """Activate an approved revision from its Tanggal Efektif (administrators)"""
        return revisions.activate(services(), current_actor(), key, number, body.get("effective_on"))


@blp.route("/<string:key>/versions/<int:number>/retire")
class Retire(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, RevisionSchema)
    @blp.alt_response(409, description="The revision is a draft or already retired")
    def post(self, key: str, number: int) -> Definition:
        """Retire a revision: no new cases start on it (administrators)"""
        return revisions.retire(services(), current_actor(), key, number)


@blp.route("/<string:key>/versions/<int:number>/events")
class Events(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, EventSchema(many=True))
    def get(self, key: str, number: int) -> list[DefinitionEvent]:
        """The revision's history: deployed, edited, approved, activated, retired"""
        return revisions.events(services(), current_actor(), key, number)


@blp.route("/<string:key>/diff")
class Diff(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(DiffArgsSchema(), location="query")
    @blp.response(200, DiffSchema)
    def get(self, args: dict[str, int], key: str) -> dict[str, Any]:
        """Elements added, removed and changed between two revisions"""
        found = revisions.diff(services(), current_actor(), key, args["from_version"], args["to_version"])
        return found.as_dict()


@blp.route("/<string:key>/versions/<int:number>/sop.html")
class SopHtml(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, description="The SOP document as HTML", content_type="text/html")
    def get(self, key: str, number: int) -> Response:
        """The SOP document of a revision (HTML)"""
        html = sop_document.sop_html(services(), current_actor(), key, number)
        return Response(html, mimetype="text/html")


@blp.route("/<string:key>/versions/<int:number>/sop.pdf")
class SopPdf(MethodView):
    @blp.doc(security=BEARER)
    @blp.response(200, description="The SOP document as PDF", content_type="application/pdf")
    def get(self, key: str, number: int) -> Response:
        """The SOP document of a revision (PDF)"""
        pdf = sop_document.sop_pdf(services(), current_actor(), key, number)
        return Response(pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="sop-{key}-v{number}.pdf"'})


@blp.route("/<string:key>/migrations")
class Migrations(MethodView):
    @blp.doc(security=BEARER)
    @blp.arguments(MigrationRequestSchema())
    @blp.response(200, MigrationReportSchema)
    @blp.alt_response(403, description="Administrators of the unit only")
    @blp.alt_response(409, description="The target revision is a draft or retired")
    def post(self, body: dict[str, Any], key: str) -> migrations.MigrationReport:
        """Move running cases between revisions (dry_run reports per case whether it can move)"""
        return migrations.migrate_cases(services(), current_actor(), key, migrations.MigrationRequest(**body))


@case_blp.route("/<string:case_id>/migration/revert")
class RevertMigration(MethodView):
    @case_blp.doc(security=BEARER)
    @case_blp.response(200, CaseSchema)
    @case_blp.alt_response(409, description="No migration to revert, or the case moved on since")
    def post(self, case_id: str) -> CaseView:
        """Put a migrated case back on its previous revision and state"""
        actor = current_actor()
        migrations.revert_migration(services(), actor, case_id)
        return case_commands.get_case(services(), actor, case_id)

