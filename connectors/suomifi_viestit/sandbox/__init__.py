"""Suomi.fi Messages REST API sandbox: ``create_app()`` builds a seeded FastAPI fake; ``app.state.store`` holds its state.

``TITLE``, ``DESCRIPTION`` and ``PAGES`` are what ``connectors.sandbox_server`` shows on its index page.
The app is imported lazily, so the connector's settings can read the sandbox account from
``seed`` without loading FastAPI.
"""

from __future__ import annotations

from typing import Any

TITLE = "Suomi.fi-viestit · Suomi.fi Messages"
DESCRIPTION = (
    "Suomi.fi Messages REST API (token, password change, mailbox check, v2 messages, paper mail by address, attachments, events, "
    "citizens' replies) with test citizens' mailboxes; paper letters keep their PDF."
)
#: The spec's operations this sandbox serves, as "METHOD /path" of shared/specs/suomifi/messages-rest/messages-api.yaml.
OPERATIONS = frozenset(
    {
        "POST /v1/token",
        "POST /v1/change-password",
        "POST /v1/mailboxes/active",
        "POST /v2/attachments",
        "POST /v2/messages/electronic",
        "POST /v2/messages",
        "POST /v2/paper-mail-without-id",
        "GET /v1/messages/id",
        "GET /v2/messages/{id}",
        "GET /v1/attachments/{id}",
        "GET /v2/events",
    }
)
#: (label, path inside the sandbox) for people to open.
PAGES = (
    ("Postilaatikot · Brevlådor · Mailboxes", "/_sandbox/mailboxes"),
    ("API docs", "/docs"),
)

__all__ = ["DESCRIPTION", "OPERATIONS", "PAGES", "TITLE", "ViestitSandboxSettings", "ViestitStore", "client_environment", "create_app"]


def client_environment(base_url: str) -> dict[str, str]:
    """Settings that point the Suomi.fi Messages connector at this sandbox served at ``base_url`` (its mount point)."""
    return {"KUNTAFLOW_VIESTIT_BASE_URL": base_url.rstrip("/")}


def __getattr__(name: str) -> Any:
    if name in ("create_app", "ViestitSandboxSettings"):
        from connectors.suomifi_viestit.sandbox import app  # noqa: PLC0415 (lazy: importing the package must not load FastAPI)

        return getattr(app, name)
    if name == "ViestitStore":
        from connectors.suomifi_viestit.sandbox.store import ViestitStore  # noqa: PLC0415 (lazy: importing the package must not load FastAPI)

        return ViestitStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
