"""Kuntaflow Desk, the staff app (``create_app`` in app.py); imported lazily, so reading its settings loads no web stack."""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from apps.staff.app import create_app  # noqa: PLC0415 (lazy: the CLI reads StaffSettings without FastAPI and Authlib)

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
