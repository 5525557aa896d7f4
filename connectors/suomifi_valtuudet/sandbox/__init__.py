"""Sandbox Suomi.fi Valtuudet (HPA web API): ``create_app()`` builds the FastAPI app.

``TITLE``, ``DESCRIPTION`` and ``PAGES`` are what ``connectors.sandbox_server`` shows on its index page.
"""

from __future__ import annotations

from typing import Any

TITLE = "Suomi.fi-valtuudet · Suomi.fi-fullmakter · Suomi.fi e-Authorizations"
DESCRIPTION = (
    "HPA web API (acting on behalf of a person): checksum-signed session registration, the authorize page where a "
    "guardian picks a child (fi/sv/en), the OAuth code exchange, the delegate and authorization calls (ALLOWED for a "
    "guardian's child under 18, DISALLOWED otherwise), and the REST check without UI. People: the shared sandbox population."
)
PAGES = (("API docs", "/docs"),)

__all__ = ["DESCRIPTION", "PAGES", "TITLE", "client_environment", "create_app"]


def client_environment(base_url: str) -> dict[str, str]:
    """Settings that point the Valtuudet connector at this sandbox served at ``base_url`` (its mount point)."""
    return {"KUNTAFLOW_VALTUUDET_BASE_URL": base_url.rstrip("/")}


def __getattr__(name: str) -> Any:
    if name in ("create_app", "SandboxClient"):
        from connectors.suomifi_valtuudet.sandbox import app  # noqa: PLC0415 (lazy: importing the package must not load FastAPI)

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
