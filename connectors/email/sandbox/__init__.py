"""E-mail sandbox: an SMTP server (:class:`SmtpSandbox`, aiosmtpd) and a web app over the same :class:`Mailbox`.

``TITLE``, ``DESCRIPTION`` and ``PAGES`` are what the all-sandboxes server shows on its index
page. A server that mounts ``create_app()`` also starts the SMTP side with :func:`serve_smtp`,
which shares the app's mailbox: mounted apps get no lifespan events of their own.
"""

from __future__ import annotations

from typing import Any

from connectors.email.sandbox.mailbox import Mailbox, ReceivedMessage
from connectors.email.sandbox.smtp import SmtpSandbox

TITLE = "Sähköposti · E-post · E-mail"
DESCRIPTION = (
    "A local SMTP server (port 8025 by default) that keeps every message, delivers a Message-ID once "
    "and can refuse recipients or fail on purpose; mailbox pages per recipient."
)
#: (label, path inside the sandbox) for people to open.
PAGES = (
    ("Postilaatikot · Brevlådor · Mailboxes", "/_sandbox/mailbox"),
    ("API docs", "/docs"),
)


def create_app(mailbox: Mailbox | None = None) -> Any:
    """The mailbox web app (imported lazily: the SMTP side does not need FastAPI)."""
    from connectors.email.sandbox.app import create_app as build

    return build(mailbox)


def serve_smtp(app: Any, *, host: str = "127.0.0.1", port: int | None = None, **options: Any) -> SmtpSandbox:
    """An SMTP sandbox feeding ``app``'s mailbox, not yet started: ``with serve_smtp(app, port=8025): …``."""
    return SmtpSandbox(app.state.store, host=host, port=port, **options)


__all__ = ["DESCRIPTION", "PAGES", "TITLE", "Mailbox", "ReceivedMessage", "SmtpSandbox", "create_app", "serve_smtp"]
