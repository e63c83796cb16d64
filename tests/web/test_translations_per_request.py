"""A page looks its translations up once, for its templates and its Python code (``service.web.i18n``).

flask-babel's callables looked them up for every string: about 200 lookups on a register page, a
quarter of its rendering CPU (issue 13). The count is asserted; the pages stay translated, in both
languages, within one client's session and after a switch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask_babel import Domain
from support.web import Dumas, csrf_of


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Each lookup of translations flask-babel makes (its domain's ``get_translations``, still run)."""
    seen: list[str] = []
    real = Domain.get_translations

    def counted(self: Domain) -> Any:
        seen.append(self.domain[0])
        return real(self)

    monkeypatch.setattr(Domain, "get_translations", counted)
    yield seen


@pytest.mark.parametrize("path", ["/perkara", "/tasks", "/notifikasi"])
def test_a_page_looks_its_translations_up_once(dumas: Dumas, sign_in: Callable[[str], Any], lookups: list[str],
                                               path: str) -> None:
    dumas.start(uraian="Pungutan liar di loket")
    web = sign_in("inspektur")
    page = web.get(path)
    assert page.status_code == 200 and ">Perkara</a>" in page.text
    lookups.clear()
    page = web.get(path)
    assert page.status_code == 200
    assert len(lookups) == 1, len(lookups)

    web.post("/language", data={"lang": "en", "next": path, "csrf_token": csrf_of(page.text)})
    lookups.clear()
    english = web.get(path)
    assert english.status_code == 200 and ">Cases</a>" in english.text and ">Perkara</a>" not in english.text
    assert len(lookups) == 1, len(lookups)


def test_the_register_sorts_read_in_the_reader_s_language(dumas: Dumas, sign_in: Callable[[str], Any]) -> None:
    """Strings translated by the pages' Python code (the register's sort labels) follow the language."""
    dumas.start(uraian="Pungutan liar di loket")
    web = sign_in("inspektur")
    page = web.get("/perkara")
    assert "Terbaru dahulu" in page.text and "Newest first" not in page.text
    web.post("/language", data={"lang": "en", "next": "/perkara", "csrf_token": csrf_of(page.text)})
    english = web.get("/perkara").text
    assert "Newest first" in english and "Terbaru dahulu" not in english
