"""Suomi.fi Messages REST API sandbox: ``create_app()`` builds a seeded FastAPI fake; ``app.state.store`` holds its state.

``TITLE``, ``DESCRIPTION`` and ``PAGES`` are what ``connectors.sandbox_server`` shows on its index page.
"""

from connectors.suomifi_viestit.sandbox.app import ViestitSandboxSettings, create_app
from connectors.suomifi_viestit.sandbox.store import ViestitStore

TITLE = "Suomi.fi-viestit · Suomi.fi Messages"
DESCRIPTION = (
    "Suomi.fi Messages REST API (token, mailbox check, v2 messages, attachments, events) with test citizens' mailboxes; "
    "paper letters keep their PDF."
)
#: (label, path inside the sandbox) for people to open.
PAGES = (
    ("Postilaatikot · Brevlådor · Mailboxes", "/_sandbox/mailboxes"),
    ("API docs", "/docs"),
)

__all__ = ["DESCRIPTION", "PAGES", "TITLE", "ViestitSandboxSettings", "ViestitStore", "create_app"]
