"""Koha REST API v1 sandbox: ``create_app()`` builds a seeded FastAPI fake; ``app.state.store`` holds its state."""

from connectors.koha.sandbox.app import create_app
from connectors.koha.sandbox.store import KohaStore

__all__ = ["KohaStore", "client_environment", "create_app"]


def client_environment(base_url: str) -> dict[str, str]:
    """Settings that point the Koha connector at this sandbox served at ``base_url`` (its mount point)."""
    return {"KUNTAFLOW_KOHA_BASE_URL": f"{base_url.rstrip('/')}/api/v1"}
