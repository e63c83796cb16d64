"""The official SOP document (HTML, PDF) of a stored revision."""

from __future__ import annotations

from service.commands.context import Actor, Services
from service.commands.definitions import version
from service.documents import SopDocument, render_html, render_pdf, sop_document
from service.store.models import Definition


def document_of(definition: Definition, highlight: frozenset[str] = frozenset()) -> SopDocument:
    """The document of a stored revision; ``highlight``: the steps a case went through (its case file)."""
    return sop_document(
        bpmn=definition.bpmn_xml.encode(), title=definition.title, office=definition.unit.name,
        sop_number=definition.sop_number, created_on=definition.created_on, revised_on=definition.revised_on,
        effective_on=definition.effective_on, approved_by=definition.approved_by,
        version=definition.version, status=definition.status, highlight=highlight,
    )


def document_for(services: Services, actor: Actor, key: str, number: int) -> SopDocument:
    return document_of(version(services, actor, key, number))


def sop_html(services: Services, actor: Actor, key: str, number: int) -> str:
    return render_html(document_for(services, actor, key, number))


def sop_pdf(services: Services, actor: Actor, key: str, number: int) -> bytes:
    return render_pdf(document_for(services, actor, key, number))
