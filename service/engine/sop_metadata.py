"""The SOP's metadata as the revision's own data: process-level ``camunda:properties`` of the BPMN file.

Nomor SOP, Tanggal Pembuatan/Revisi/Efektif, *Disahkan oleh* (jabatan, nama, NIP) and the six boxes
of the SOP document (Dasar Hukum … Pencatatan dan Pendataan, one entry per line) live in the diagram,
so one file is the revision: the modeler and ``alur export`` carry them, and the ``definitions``
columns are derived from them. The names are those of :mod:`service.engine.properties`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lxml import etree

from service.engine import properties as p
from service.engine.deploy_checks import NS, bpmn, camunda
from service.engine.safe_xml import parse_xml

#: the properties this module owns, in the order they are written
DATE_NAMES = (p.CREATED_ON, p.REVISED_ON, p.EFFECTIVE_ON)
SECTION_NAMES = tuple(name for name, _heading in p.SOP_SECTIONS)
NAMES = (p.TITLE, p.SOP_NUMBER, *DATE_NAMES, p.APPROVER_POSITION, p.APPROVED_BY, p.APPROVER_NIP, *SECTION_NAMES)


@dataclass(frozen=True)
class Signatory:
    """*Disahkan oleh*: the official who signed the SOP (not an Alur login)."""

    jabatan: str = ""
    nama: str = ""
    nip: str = ""


@dataclass(frozen=True)
class SopMetadata:
    judul: str = ""
    nomor_sop: str = ""
    tanggal_pembuatan: date | None = None
    tanggal_revisi: date | None = None
    tanggal_efektif: date | None = None
    disahkan_oleh: Signatory = field(default_factory=Signatory)
    #: section property name (``dasar_hukum`` …) → its entries
    sections: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def section(self, name: str) -> tuple[str, ...]:
        return tuple(self.sections.get(name, ()))


def lines(value: str | list[Any] | tuple[Any, ...] | None) -> tuple[str, ...]:
    """The entries of a section: one per line (a list is taken as it is), blanks dropped."""
    items = value.splitlines() if isinstance(value, str) else list(value or ())
    return tuple(text for item in items if (text := " ".join(str(item).split())))


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if value and value.strip() else None
    except ValueError:
        return None  # the deploy checks refuse it; a stored revision never has one


def from_properties(props: Mapping[str, str]) -> SopMetadata:
    return SopMetadata(
        judul=props.get(p.TITLE, "").strip(),
        nomor_sop=props.get(p.SOP_NUMBER, "").strip(),
        tanggal_pembuatan=_date(props.get(p.CREATED_ON)),
        tanggal_revisi=_date(props.get(p.REVISED_ON)),
        tanggal_efektif=_date(props.get(p.EFFECTIVE_ON)),
        disahkan_oleh=Signatory(props.get(p.APPROVER_POSITION, "").strip(), props.get(p.APPROVED_BY, "").strip(),
                                props.get(p.APPROVER_NIP, "").strip()),
        sections={name: lines(props.get(name)) for name in SECTION_NAMES if lines(props.get(name))},
    )


def to_properties(meta: SopMetadata) -> dict[str, str]:
    """The properties that hold ``meta``, blanks left out, in :data:`NAMES` order."""
    values = {
        p.TITLE: meta.judul, p.SOP_NUMBER: meta.nomor_sop,
        p.CREATED_ON: meta.tanggal_pembuatan.isoformat() if meta.tanggal_pembuatan else "",
        p.REVISED_ON: meta.tanggal_revisi.isoformat() if meta.tanggal_revisi else "",
        p.EFFECTIVE_ON: meta.tanggal_efektif.isoformat() if meta.tanggal_efektif else "",
        p.APPROVER_POSITION: meta.disahkan_oleh.jabatan, p.APPROVED_BY: meta.disahkan_oleh.nama,
        p.APPROVER_NIP: meta.disahkan_oleh.nip,
        **{name: "\n".join(meta.section(name)) for name in SECTION_NAMES},
    }
    return {name: value.strip() for name in NAMES if (value := values[name]).strip()}


def as_json(props: Mapping[str, str]) -> dict[str, Any]:
    """``definitions.sop_metadata``: the process properties, the six boxes as lists."""
    return {name: list(lines(value)) if name in SECTION_NAMES else value for name, value in props.items()}


def _main(root: etree._Element) -> etree._Element:
    found = root.xpath("//bpmn:process[@isExecutable='true']", namespaces=NS)
    if not found:
        raise ValueError("no executable process")
    return found[0]


def process_properties(xml: bytes) -> dict[str, str]:
    main = _main(parse_xml(xml).getroot())
    return {prop.get("name"): prop.get("value") or ""
            for prop in main.xpath("./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS)
            if prop.get("name")}


def read(xml: bytes) -> SopMetadata:
    return from_properties(process_properties(xml))


def _properties_element(main: etree._Element) -> etree._Element:
    extensions = main.find(bpmn("extensionElements"))
    if extensions is None:
        extensions = etree.Element(bpmn("extensionElements"))
        documentation = main.findall(bpmn("documentation"))
        main.insert(main.index(documentation[-1]) + 1 if documentation else 0, extensions)
    found = extensions.find(camunda("properties"))
    if found is None:
        found = etree.SubElement(extensions, camunda("properties"))
    return found


def write(xml: bytes, values: Mapping[str, str]) -> bytes:
    """``xml`` with the metadata properties set to ``values`` (a name absent or blank is removed);
    Alur's other process properties and everything else stay as they are."""
    tree = parse_xml(xml)
    container = _properties_element(_main(tree.getroot()))
    existing = {prop.get("name"): prop for prop in container.findall(camunda("property"))}
    for name in NAMES:
        value = (values.get(name) or "").strip()
        prop = existing.get(name)
        if not value:
            if prop is not None:
                container.remove(prop)
            continue
        if prop is None:
            prop = etree.SubElement(container, camunda("property"), name=name)
        prop.set("value", value)
    if len(container) == 0:
        container.getparent().remove(container)
    out: bytes = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    return out


def carry(xml: bytes, base: Mapping[str, Any]) -> bytes:
    """A new draft made from a revision starts with that revision's metadata (``base``: its
    ``sop_metadata``): names the new diagram does not set are taken over."""
    own = process_properties(xml)
    missing = {name: "\n".join(lines(value)) if isinstance(value, list | tuple) else str(value or "")
               for name, value in base.items() if name in NAMES and name not in own}
    if not any(value.strip() for value in missing.values()):
        return xml
    return write(xml, {**own, **missing})
