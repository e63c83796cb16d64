"""Security headers of every response, pages and API alike: the one place that sets them.

HTML (the staff and public pages, ``/api/docs``) gets the pages' Content-Security-Policy: no inline
script anywhere; styles may be inline (bpmn-js and React set style attributes). Everything else (API
JSON, files, probes) gets ``default-src 'none'``: a browser that opens it renders and runs nothing.
Framing is refused everywhere, referrers stay on the site, and ``Strict-Transport-Security`` is sent
when the request came over HTTPS (directly, or through a trusted proxy: ``ALUR_TRUSTED_PROXIES``).
A view that sets one of these headers itself keeps its own value. With single sign-on, forms may also
lead to the identity provider's origin: signing out ends the session there too (a redirect after the
sign-out form, which ``form-action`` governs).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

from service.commands.context import SERVICES_KEY

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
            "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            "frame-ancestors 'none'")
NO_CONTENT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: one year; sent over HTTPS only (a browser ignores it over plain HTTP anyway)
HSTS = "max-age=31536000"

ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


_CSP = "content-security-policy"
_HSTS = "strict-transport-security"


def security_headers(response: Response) -> Response:
    headers = response.headers
    present = {name.lower() for name, _ in headers}  # one pass (each ``setdefault`` scanned them all twice)
    headers.extend([(name, value) for name, value in ALWAYS.items() if name.lower() not in present])
    if _CSP not in present:
        headers.add("Content-Security-Policy", current_app.config["ALUR_PAGE_CSP"]
                    if response.mimetype == "text/html" else NO_CONTENT_CSP)
    if _HSTS not in present and request.is_secure:
        headers.add("Strict-Transport-Security", HSTS)
    return response


def page_csp(sso_discovery_url: str | None) -> str:
    """:data:`PAGE_CSP`, with the identity provider's origin added to ``form-action`` when there is one."""
    if not sso_discovery_url:
        return PAGE_CSP
    parts = urlsplit(sso_discovery_url)
    return PAGE_CSP.replace("form-action 'self'", f"form-action 'self' {parts.scheme}://{parts.netloc}")


def init_app(app: Flask) -> None:
    sso = app.extensions[SERVICES_KEY].settings.sso
    app.config["ALUR_PAGE_CSP"] = page_csp(sso.discovery_url if sso else None)
    app.after_request(security_headers)
