"""The pages' translations, looked up once per request.

flask-babel's Jinja callables look the translations up again for every string: each lookup finds the
request's babel context, its locale and the locale's name through Flask's context proxies. A register
page translates about 200 strings and spent a quarter of its rendering CPU there (issue 13: 15 CPU-ms
a page, cProfile). The locale cannot change within a request (flask-babel keeps it per request too,
and the language switch redirects), so the translations are taken once and kept on ``g``, for the
templates and for the pages' Python code alike.
"""

from __future__ import annotations

from typing import Any

from babel.support import NullTranslations
from flask import Flask, g, has_app_context
from flask_babel import get_translations

#: ``g`` attribute: this request's translations
_KEPT = "_alur_translations"


def request_translations() -> NullTranslations:
    """This request's translations (flask-babel's :func:`~flask_babel.get_translations`, once)."""
    if not has_app_context():
        return get_translations()  # flask-babel's: none (the source strings)
    found: NullTranslations | None = g.get(_KEPT)
    if found is None:
        found = get_translations()
        setattr(g, _KEPT, found)
    return found


def gettext(string: str, **variables: Any) -> str:
    """flask-babel's :func:`~flask_babel.gettext` (the pages' Python code imports it as ``_``), through
    :func:`request_translations`."""
    translated = request_translations().ugettext(string)
    return translated % variables if variables else translated


def install(app: Flask) -> None:
    """Make Jinja's ``_``, ``gettext`` and ``ngettext`` (and the ``{% trans %}`` tag) use
    :func:`request_translations`, formatted as flask-babel's callables are (Jinja's new style)."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=gettext,  # Jinja formats the variables itself: it passes the string alone
        ngettext=lambda singular, plural, n: request_translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: request_translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: request_translations().unpgettext(
            context, singular, plural, n),
        newstyle=True)
