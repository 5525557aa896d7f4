"""Sandbox OpenID Connect provider for staff sign-in, shaped like Keycloak (and Entra ID's endpoints).

``TITLE``, ``DESCRIPTION`` and ``PAGES`` are what ``connectors.sandbox_server`` shows on its index
page; ``client_environment`` points the staff app at the sandbox mounted at a base URL (the
issuer). The app is imported lazily, so reading the settings does not load FastAPI.
"""

from __future__ import annotations

from typing import Any

TITLE = "Henkilöstön kirjautuminen (OIDC) · Personalens inloggning · Staff sign-in (OIDC)"
DESCRIPTION = (
    "OpenID Connect provider like the city's Keycloak or Entra ID: discovery, authorization code with PKCE (S256), "
    "client authentication, RS256 ID tokens with a groups claim, JWKS, userinfo and RP-initiated logout; "
    "a staff picker with a librarian, an HR officer, a recruiter and an administrator."
)
#: (label, path inside the sandbox) for people to open.
PAGES = (
    ("Henkilökunta · Personal · Staff", "/_sandbox/staff"),
    ("Discovery", "/.well-known/openid-configuration"),
    ("API docs", "/docs"),
)

__all__ = ["DESCRIPTION", "PAGES", "TITLE", "client_environment", "create_app"]


def client_environment(base_url: str) -> dict[str, str]:
    """Settings that make the staff app sign in with this sandbox served at ``base_url`` (the issuer)."""
    return {"KUNTAFLOW_OIDC_ISSUER": base_url.rstrip("/")}


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from connectors.oidc.sandbox.app import create_app  # noqa: PLC0415 (lazy: importing the package must not load FastAPI)

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
