"""Professional register sandbox (JulkiTerhikki/JulkiSuosikki-like), seeded from the same generator as the Helbit sandbox."""

from __future__ import annotations

from typing import Any

TITLE = "Valvira · JulkiTerhikki/JulkiSuosikki · Professional register"
DESCRIPTION = (
    "Rights to practise of social and health care professionals by 11-digit registration number, or by name and date of birth "
    "(namesakes exist); valid, limited and expired rights. Seeded consistently with the Helbit applicants."
)
PAGES = (("Haku · Search (JSON)", "/_sandbox/professionals?last_name=Virtanen&first_name=Aino"), ("API docs", "/docs"))

__all__ = ["DESCRIPTION", "PAGES", "TITLE", "client_environment", "create_app"]


def client_environment(base_url: str) -> dict[str, str]:
    """Settings that point the valvira connector at this sandbox served at ``base_url`` (its mount point)."""
    return {"KUNTAFLOW_VALVIRA_BASE_URL": f"{base_url.rstrip('/')}/api/v1"}


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from connectors.valvira.sandbox.app import create_app  # noqa: PLC0415 (lazy: importing the package must not load FastAPI)

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
