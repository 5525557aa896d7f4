"""Professional register sandbox (JulkiTerhikki/JulkiSuosikki-like), seeded from the same generator as the Helbit sandbox."""

from __future__ import annotations

from typing import Any

TITLE = "Valvira · JulkiTerhikki/JulkiSuosikki · Professional register"
DESCRIPTION = (
    "Rights to practise of social and health care professionals by 11-digit registration number, or by name and date of birth "
    "(namesakes exist); valid, limited and expired rights. Seeded consistently with the Helbit applicants."
)
PAGES = (("Haku · Search (JSON)", "/api/v1/professionals?last_name=Virtanen&first_name=Aino"), ("API docs", "/docs"))

__all__ = ["DESCRIPTION", "PAGES", "TITLE", "create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from connectors.valvira.sandbox.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
