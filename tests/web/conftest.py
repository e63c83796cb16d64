"""The web pages against a real database with the DUMAS SOP of the repository deployed.

Unit-level tests use Flask's test client (``web``); browser tests run the app with werkzeug's
server in a thread on 127.0.0.1:<free port> (``live_server``) and drive Debian's
``/usr/bin/chromium`` with Playwright (no browser is downloaded; requests to anything but the
live server are refused). The fixtures and helpers live in ``tests/support/web.py``.
"""

from support.web import (  # noqa: F401 - fixtures, found by pytest by name
    browser,
    dumas,
    forms_dir,
    live_server,
    new_page,
    sign_in,
)
