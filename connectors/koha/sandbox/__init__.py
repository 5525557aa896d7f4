"""Koha REST API v1 sandbox: ``create_app()`` builds a seeded FastAPI fake; ``app.state.store`` holds its state."""

from connectors.koha.sandbox.app import create_app
from connectors.koha.sandbox.store import KohaStore

__all__ = ["KohaStore", "create_app"]
