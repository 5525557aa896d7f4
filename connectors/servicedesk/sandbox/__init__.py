"""Service desk REST API sandbox: ``create_app()`` builds a FastAPI fake; ``app.state.store`` holds its state.

``TITLE``, ``DESCRIPTION`` and ``PAGES`` are what the all-sandboxes server shows on its index page.
The app is imported lazily, so the connector's settings can read the sandbox account from ``seed``
without loading FastAPI.
"""

from __future__ import annotations

from typing import Any

TITLE = "Palvelupyynnöt · Serviceförfrågningar · Service desk"
DESCRIPTION = (
    "Service desk REST API: IT accounts with access profiles by title, access cards, keys and equipment as tickets "
    "with due dates, idempotent by external reference; comments and reminders; a board to move tickets along."
)
#: (label, path inside the sandbox) for people to open.
PAGES = (
    ("Tiketit · Ärenden · Tickets", "/_sandbox/tickets"),
    ("API docs", "/docs"),
)

__all__ = ["DESCRIPTION", "PAGES", "TITLE", "DeskStore", "client_environment", "create_app"]


def client_environment(base_url: str) -> dict[str, str]:
    """Settings that point the service desk connector at this sandbox served at ``base_url`` (its mount point)."""
    return {"KUNTAFLOW_SERVICEDESK_BASE_URL": f"{base_url.rstrip('/')}/api/v1"}


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from connectors.servicedesk.sandbox.app import create_app  # noqa: PLC0415 (lazy: importing the package must not load FastAPI)

        return create_app
    if name == "DeskStore":
        from connectors.servicedesk.sandbox.store import DeskStore  # noqa: PLC0415 (lazy: importing the package must not load FastAPI)

        return DeskStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
