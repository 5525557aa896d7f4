"""Helbit-like recruitment sandbox: ``create_app()`` builds the seeded FastAPI fake; ``app.state.store`` holds its state.

``TITLE``, ``DESCRIPTION`` and ``PAGES`` are what the all-sandboxes server shows on its index page.
The app is imported lazily, so the connector's settings can read the sandbox credentials without
loading FastAPI.
"""

from __future__ import annotations

from typing import Any

TITLE = "Helbit · Rekrytointi · Recruitment"
DESCRIPTION = (
    "Helbit-like recruitment system: public open-jobs API (v2.3 shape), applications API modelled on Greenhouse Harvest "
    "(stages, reject, hire, group interview slots with capacity), and the recruiter web UI with the Excel export. "
    "Seeded jobs of 20 to 1,000 applicants. UI login: rekrytoija / rekry2026."
)
PAGES = (
    ("Rekrytoijan käyttöliittymä · Recruiter UI", "/ui/login"),
    ("Avoimet työpaikat (JSON) · Open jobs", "/portal-api/recruitment/v2.3/open-jobs?client=helsinki&lang=fi_FI"),
    ("API docs", "/docs"),
)

__all__ = ["DESCRIPTION", "PAGES", "TITLE", "client_environment", "create_app"]


def client_environment(base_url: str) -> dict[str, str]:
    """Settings that point the helbit connector at this sandbox served at ``base_url`` (its mount point)."""
    return {"KUNTAFLOW_HELBIT_BASE_URL": base_url.rstrip("/")}


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from connectors.helbit.sandbox.app import create_app  # noqa: PLC0415 (lazy: importing the package must not load FastAPI)

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
