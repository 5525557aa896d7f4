"""Authentication to the Koha REST API v1 as ``httpx.Auth``.

OAuth2 client credentials (``POST /api/v1/oauth/token``, shared/specs/koha/api/v1/swagger/paths/oauth.yaml):
the token is cached until shortly before ``expires_in`` and fetched again once when Koha answers
401 (an expired or revoked token). Basic auth is ``httpx.BasicAuth``. The token request goes
through the same client and transport, so a sandbox mounted in-process serves it too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx
from pydantic import ValidationError

from connectors.koha.errors import KohaAuthenticationError, KohaUnavailableError
from connectors.koha.models import OAuthToken
from connectors.koha.settings import KohaSettings

REFRESH_MARGIN_SECONDS = 30.0


class KohaOAuth2(httpx.Auth):
    """Client-credentials bearer tokens, cached per client and refreshed once on 401."""

    requires_response_body = True

    def __init__(self, token_url: str, client_id: str, client_secret: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = client_secret
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self.tokens_fetched = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None or self._clock() >= self._expires_at:
            self._store((yield self._token_request()))
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:
            # An expired or revoked token: fetch a new one and try once more; a second 401 is final.
            self._store((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request

    def _token_request(self) -> httpx.Request:
        return httpx.Request(
            "POST",
            self.token_url,
            data={"grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self._client_secret},
            headers={"Accept": "application/json"},
        )

    def _store(self, response: httpx.Response) -> None:
        status = response.status_code
        if status >= 500 or status == 429:
            # The API call itself was not sent, so it is safe to resend whatever it was.
            raise KohaUnavailableError(
                f"koha: token endpoint answered {status}", code="UNAVAILABLE", status_code=status, body=response.text
            )
        if status != 200:
            raise KohaAuthenticationError(
                f"koha: OAuth2 client credentials refused ({status}); check the API key and RESTOAuth2ClientCredentials",
                status_code=status,
                body=response.text,
            )
        try:
            token = OAuthToken.model_validate_json(response.content)
        except ValidationError:
            raise KohaAuthenticationError("koha: token endpoint answered 200 without a usable token", status_code=status) from None
        if token.token_type.lower() != "bearer":
            raise KohaAuthenticationError(f"koha: token type {token.token_type!r} is not Bearer", status_code=status)
        self._token = token.access_token
        self._expires_at = self._clock() + max(token.expires_in - REFRESH_MARGIN_SECONDS, 0.0)
        self.tokens_fetched += 1


def auth_for(settings: KohaSettings) -> httpx.Auth:
    """The ``httpx.Auth`` the settings ask for."""
    if settings.auth == "basic":
        assert settings.username is not None and settings.password is not None  # checked by KohaSettings
        return httpx.BasicAuth(settings.username, settings.password.get_secret_value())
    assert settings.client_id is not None and settings.client_secret is not None
    return KohaOAuth2(f"{settings.base_url.rstrip('/')}/oauth/token", settings.client_id, settings.client_secret.get_secret_value())
