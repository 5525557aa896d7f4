"""Authentication to the Suomi.fi Messages REST API as ``httpx.Auth``.

``POST /v1/token`` with ``{"username", "password"}`` gives ``{"access_token", "expires_in",
"token_type": "Bearer"}`` (shared/specs/suomifi/messages-rest/messages-api.yaml, postV1Token).
The token is cached until shortly before ``expires_in`` runs out and sent as ``Authorization:
Bearer …`` (the spec's apiKey scheme; eVaka sends Bearer, matching ``token_type``). A 401 ("can
result from using an expired token") fetches a new token once and resends; a second 401 is final.
The token request goes through the same client and transport, so an in-process sandbox serves it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx
from pydantic import SecretStr, ValidationError

from connectors.suomifi_viestit.errors import ViestitAuthenticationError, ViestitUnavailableError
from connectors.suomifi_viestit.models import AccessToken

MAX_REFRESH_MARGIN_SECONDS = 30.0


class ViestitTokenAuth(httpx.Auth):
    """Username/password → bearer token, cached per client and refreshed once on 401."""

    requires_response_body = True

    def __init__(self, base_url: str, username: str, password: SecretStr, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.token_url = f"{base_url.rstrip('/')}/v1/token"
        self._username = username
        self._password = password
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
            json={"username": self._username, "password": self._password.get_secret_value()},
            headers={"Accept": "application/json"},
        )

    def _store(self, response: httpx.Response) -> None:
        response.read()
        status = response.status_code
        if status >= 500 or status == 429:
            # The API call itself has not been sent yet, so resending it is safe: "UNAVAILABLE" says so.
            raise ViestitUnavailableError(
                f"suomifi_viestit: token endpoint answered {status}", code="UNAVAILABLE", status_code=status, body=response.text
            )
        if status != 200:
            raise ViestitAuthenticationError(
                f"suomifi_viestit: POST /v1/token refused the system's credentials ({status}); "
                "check KUNTAFLOW_VIESTIT_USERNAME and KUNTAFLOW_VIESTIT_PASSWORD",
                status_code=status,
                body=response.text,
            )
        try:
            token = AccessToken.model_validate_json(response.content)
        except ValidationError:
            raise ViestitAuthenticationError("suomifi_viestit: POST /v1/token answered 200 without a usable token", status_code=status) from None
        if token.token_type.lower() != "bearer":
            raise ViestitAuthenticationError(f"suomifi_viestit: token type {token.token_type!r} is not Bearer", status_code=status)
        self._token = token.access_token
        margin = min(MAX_REFRESH_MARGIN_SECONDS, token.expires_in * 0.1)
        self._expires_at = self._clock() + token.expires_in - margin
        self.tokens_fetched += 1
