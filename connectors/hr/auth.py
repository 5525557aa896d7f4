"""Authentication to the HR/payroll REST API as ``httpx.Auth``: OAuth2 client credentials.

``POST /api/v1/oauth/token`` with ``grant_type=client_credentials``, ``client_id`` and
``client_secret`` (form) gives ``{"access_token", "token_type": "Bearer", "expires_in"}``. The token
is cached until shortly before it runs out; a 401 (expired or revoked) fetches a new one once and
resends, a second 401 is final. The token request goes through the same client and transport, so
an in-process sandbox serves it too.

The class is written for any client-credentials API (token URL, system name and error classes
are parameters), so it can move to ``connectors/`` for the other connectors that repeat it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from connectors.errors import IntegrationError, TransientError

MAX_REFRESH_MARGIN_SECONDS = 30.0


class AccessToken(BaseModel):
    access_token: str
    token_type: str
    expires_in: float


class ClientCredentialsAuth(httpx.Auth):
    """Bearer tokens from an OAuth2 client-credentials grant, cached per client, refreshed once on 401."""

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        *,
        system: str,
        unavailable: type[TransientError] = TransientError,
        refused: type[IntegrationError] = IntegrationError,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.system = system
        self._client_id = client_id
        self._client_secret = client_secret
        self._unavailable = unavailable
        self._refused = refused
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
            self._store((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request

    def _token_request(self) -> httpx.Request:
        form = {"grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self._client_secret.get_secret_value()}
        return httpx.Request("POST", self.token_url, data=form, headers={"Accept": "application/json"})

    def _store(self, response: httpx.Response) -> None:
        status = response.status_code
        if status >= 500 or status == 429:
            # The API call itself has not gone out, so resending it is safe: "UNAVAILABLE" tells ApiClient so.
            raise self._unavailable(f"{self.system}: token endpoint answered {status}", code="UNAVAILABLE", status_code=status, body=response.text)
        if status != 200:
            raise self._refused(f"{self.system}: client credentials refused ({status}); check the client id and secret", status_code=status, body=response.text)
        try:
            token = AccessToken.model_validate_json(response.content)
        except ValidationError:
            raise self._refused(f"{self.system}: token endpoint answered 200 without a usable token", status_code=status) from None
        if token.token_type.lower() != "bearer":
            raise self._refused(f"{self.system}: token type {token.token_type!r} is not Bearer", status_code=status)
        self._token = token.access_token
        self._expires_at = self._clock() + token.expires_in - min(MAX_REFRESH_MARGIN_SECONDS, token.expires_in * 0.1)
        self.tokens_fetched += 1
