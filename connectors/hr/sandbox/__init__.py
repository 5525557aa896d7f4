"""HR/payroll REST API sandbox: ``create_app()`` builds a seeded FastAPI fake; ``app.state.store`` holds its state.

``TITLE``, ``DESCRIPTION`` and ``PAGES`` are what the all-sandboxes server shows on its index page.
The app is imported lazily, so the connector's settings can read the sandbox credentials from
``seed`` without loading FastAPI.
"""

from __future__ import annotations

from typing import Any

TITLE = "Henkilöstöhallinto · Personaladministration · HR and payroll"
DESCRIPTION = (
    "HR/payroll REST API (OAuth2 client credentials, employees, employments with payroll status and missing start documents, "
    "units, cost centres and supervisors of Helsinki social and health care); idempotency keys on writes."
)
#: (label, path inside the sandbox) for people to open.
PAGES = (
    ("Palvelussuhteet (JSON) · Anställningar · Employments", "/_sandbox/employments"),
    ("API docs", "/docs"),
)

__all__ = ["DESCRIPTION", "PAGES", "TITLE", "HrStore", "client_environment", "create_app"]


def client_environment(base_url: str) -> dict[str, str]:
    """Settings that point the HR connector at this sandbox served at ``base_url`` (its mount point)."""
    return {"KUNTAFLOW_HR_BASE_URL": f"{base_url.rstrip('/')}/api/v1"}


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from connectors.hr.sandbox.app import create_app  # noqa: PLC0415 (lazy: importing the package must not load FastAPI)

        return create_app
    if name == "HrStore":
        from connectors.hr.sandbox.store import HrStore  # noqa: PLC0415 (lazy: importing the package must not load FastAPI)

        return HrStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
