"""E-mail sandbox: an SMTP server (:class:`SmtpSandbox`, aiosmtpd) and a web app over the same :class:`Mailbox`.

``TITLE``, ``DESCRIPTION`` and ``PAGES`` are what the all-sandboxes server shows on its index
page; it runs :func:`lifespan` beside the mounted app, which starts the SMTP side on
``KUNTAFLOW_EMAIL_SANDBOX_SMTP_PORT`` (8025) over the app's mailbox. Anything else serving
``create_app()`` starts it with :func:`serve_smtp`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.email.sandbox.mailbox import Mailbox, ReceivedMessage
from connectors.email.sandbox.smtp import SmtpSandbox
from connectors.servers import free_port
from schemas.data_home import DataHome

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


class EmailSandboxSettings(BaseSettings):
    """How ``kuntaflow sandbox`` runs the e-mail sandbox (env prefix ``KUNTAFLOW_EMAIL_SANDBOX_``)."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_EMAIL_SANDBOX_", extra="ignore")

    smtp_host: str = Field(default="127.0.0.1", description="Where the SMTP side listens.")
    smtp_port: int = Field(default=8025, ge=1, le=65535, description="The SMTP port (KUNTAFLOW_EMAIL_PORT of the connector).")
    keep_eml: bool = Field(default=False, description="Also write each message as an .eml file under <data dir>/email-sandbox.")


def create_app(mailbox: Mailbox | None = None) -> Any:
    """The mailbox web app (imported lazily: the SMTP side does not need FastAPI).

    Without a ``mailbox``, a new one that keeps .eml files when ``KUNTAFLOW_EMAIL_SANDBOX_KEEP_EML`` is set.
    """
    from connectors.email.sandbox.app import create_app as build  # noqa: PLC0415 (lazy: the SMTP side does not need FastAPI)

    if mailbox is None:
        data_dir = None
        if EmailSandboxSettings().keep_eml:
            data_dir = DataHome().resolved_data_dir / "email-sandbox"
        mailbox = Mailbox(data_dir=data_dir)
    return build(mailbox)


@contextmanager
def lifespan(app: Any) -> Iterator[SmtpSandbox]:
    """The SMTP side, for the all-sandboxes server: runs while the server runs."""
    settings = EmailSandboxSettings()
    with serve_smtp(app, host=settings.smtp_host, port=settings.smtp_port) as smtp:
        app.state.smtp = smtp
        try:
            yield smtp
        finally:
            app.state.smtp = None


def client_environment(base_url: str) -> dict[str, str]:
    """Settings that point the e-mail connector at this sandbox's SMTP side, for a server mounting the
    sandbox at ``base_url``: a free port is chosen now, so the connector knows it before the server starts."""
    host = urlsplit(base_url).hostname or "127.0.0.1"
    port = str(free_port(host))
    return {
        "KUNTAFLOW_EMAIL_SANDBOX_SMTP_HOST": host,
        "KUNTAFLOW_EMAIL_SANDBOX_SMTP_PORT": port,
        "KUNTAFLOW_EMAIL_HOST": host,
        "KUNTAFLOW_EMAIL_PORT": port,
    }


def serve_smtp(app: Any, *, host: str = "127.0.0.1", port: int | None = None, **options: Any) -> SmtpSandbox:
    """An SMTP sandbox feeding ``app``'s mailbox, not yet started: ``with serve_smtp(app, port=8025): …``."""
    return SmtpSandbox(app.state.store, host=host, port=port, **options)


__all__ = [
    "DESCRIPTION",
    "PAGES",
    "TITLE",
    "EmailSandboxSettings",
    "Mailbox",
    "ReceivedMessage",
    "SmtpSandbox",
    "client_environment",
    "create_app",
    "lifespan",
    "serve_smtp",
]
