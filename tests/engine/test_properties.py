"""The vocabulary of Alur's BPMN properties has one home, and ``docs/DIALECT.md`` is generated from it."""

from __future__ import annotations

import re
from pathlib import Path

from service.engine import properties
from service.engine.properties import VOCABULARY, Place, dialect_markdown, problems

ROOT = Path(__file__).resolve().parents[2]
#: the property names Alur's code reads, spelled literally anywhere but in the vocabulary module
_LITERAL = re.compile(r"""(?:(?:properties|metadata|meta|extensions|props|facts)\.get|listed)\(\s*(?:[\w.]+,\s*)?"""
                      r"""["']([a-z_]+)["']""")


def test_the_dialect_document_is_generated_from_the_vocabulary() -> None:
    document = (ROOT / "docs" / "DIALECT.md").read_text(encoding="utf-8")
    assert document == dialect_markdown(), "regenerate: python -m service.engine.properties > docs/DIALECT.md"
    for name in VOCABULARY:
        assert f"| `{name}` |" in document


def test_every_name_is_a_module_constant_with_a_place_and_a_meaning() -> None:
    constants = {value for name, value in vars(properties).items() if name.isupper() and isinstance(value, str)}
    assert set(VOCABULARY) <= constants
    assert all(prop.places and prop.meaning and prop.example for prop in VOCABULARY.values())
    assert all(problems(prop.name, prop.example, next(iter(prop.places))) == [] for prop in VOCABULARY.values())


def test_no_reader_spells_a_property_name_itself() -> None:
    for path in (ROOT / "service").rglob("*.py"):
        if path.name == "properties.py":
            continue
        spelled = set(_LITERAL.findall(path.read_text(encoding="utf-8"))) & set(VOCABULARY)
        assert not spelled, f"{path.relative_to(ROOT)} spells {spelled}: import the name from service.engine.properties"


def test_suggestions_and_places() -> None:
    assert problems("eskalasi", "Kabid", Place.BOUNDARY_TIMER) == [
        "Unknown Alur property 'eskalasi'; did you mean 'eskalasi_ke'?"]
    assert "not on user task" in problems("eskalasi_ke", "Kabid", Place.USER_TASK)[0]
    assert problems("tanggal_efektif", "1 Januari 2024", Place.PROCESS)
    assert problems("tampilkan", "tanggapan, berkas tanggapan", Place.THROW_EVENT)
