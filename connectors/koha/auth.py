"""Authentication to the Koha REST API v1 as ``httpx.Auth``.

OAuth2 client credentials (``POST /api/v1/oauth/token``, shared/specs/koha/api/v1/swagger/paths/oauth.yaml)
through the shared :class:`connectors.token_auth.ClientCredentialsAuth`: the token is cached until
shortly before ``expires_in`` and fetched again once when Koha answers 401 (an expired or revoked
token). Basic auth is ``httpx.BasicAuth``.
"""

from __future__ import annotations

import httpx
from pydantic import SecretStr

from connectors.koha.errors import KohaAuthenticationError, KohaUnavailableError
from connectors.koha.settings import KohaSettings
from connectors.token_auth import ClientCredentialsAuth


class KohaOAuth2(ClientCredentialsAuth):
    """Client-credentials bearer tokens for Koha, with Koha's error classes and hint."""

    def __init__(self, token_url: str, client_id: str, client_secret: SecretStr) -> None:
        super().__init__(
            token_url,
            client_id,
            client_secret,
            system="koha",
            unavailable=KohaUnavailableError,
            refused=KohaAuthenticationError,
            refused_message="OAuth2 client credentials refused ({status}); check the API key and RESTOAuth2ClientCredentials",
        )


def auth_for(settings: KohaSettings) -> httpx.Auth:
    """The ``httpx.Auth`` the settings ask for."""
    if settings.auth == "basic":
        assert settings.username is not None and settings.password is not None  # checked by KohaSettings
        return httpx.BasicAuth(settings.username, settings.password.get_secret_value())
    assert settings.client_id is not None and settings.client_secret is not None
    return KohaOAuth2(f"{settings.base_url.rstrip('/')}/oauth/token", settings.client_id, settings.client_secret)
