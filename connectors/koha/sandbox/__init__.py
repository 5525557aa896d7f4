"""Koha REST API v1 sandbox: ``create_app()`` builds a seeded FastAPI fake; ``app.state.store`` holds its state.

``TITLE``, ``DESCRIPTION`` and ``PAGES`` are what the all-sandboxes server shows on its index page.
"""

from connectors.koha.sandbox.app import create_app
from connectors.koha.sandbox.store import KohaStore

TITLE = "Kirjastojärjestelmä Koha · Bibliotekssystem · Library system"
DESCRIPTION = (
    "Koha REST API v1 (OAuth2 client credentials and basic auth): patrons with Koha's query language and paging, "
    "extended attributes (hetu key, guarantor), Keski-like libraries and patron categories; patrons from the shared sandbox people."
)
#: (label, path inside the sandbox) for people to open.
PAGES = (
    ("Kirjastot ja luokat · Bibliotek · Libraries", "/_sandbox/"),
    ("Asiakkaat · Låntagare · Patrons", "/_sandbox/patrons"),
    ("API docs", "/docs"),
)

__all__ = ["DESCRIPTION", "PAGES", "TITLE", "KohaStore", "client_environment", "create_app"]


def client_environment(base_url: str) -> dict[str, str]:
    """Settings that point the Koha connector at this sandbox served at ``base_url`` (its mount point)."""
    return {"KUNTAFLOW_KOHA_BASE_URL": f"{base_url.rstrip('/')}/api/v1"}
