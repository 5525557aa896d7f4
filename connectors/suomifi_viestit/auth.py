"""Authentication to the Suomi.fi Messages REST API as ``httpx.Auth``.

``POST /v1/token`` with ``{"username", "password"}`` gives ``{"access_token", "expires_in",
"token_type": "Bearer"}`` (shared/specs/suomifi/messages-rest/messages-api.yaml, postV1Token).
The shared :class:`connectors.token_auth.BearerTokenAuth` caches the token until shortly before
``expires_in`` runs out and sends it as ``Authorization: Bearer …`` (the spec's apiKey scheme; eVaka
sends Bearer, matching ``token_type``). A 401 ("can result from using an expired token") fetches a
new token once and resends; a second 401 is final.

The password is read anew for every token request from ``passwords`` (a callable), so a rotated
password reaches every worker on its next token fetch, at the latest on its next 401. While a
rotation is under way the callable gives the current password and then the pending one: when
the service refuses the first (it has already accepted the new one), the next is tried.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence

import httpx
from pydantic import SecretStr

from connectors.suomifi_viestit.errors import ViestitAuthenticationError, ViestitUnavailableError
from connectors.token_auth import BearerTokenAuth

PasswordSource = Callable[[], Sequence[SecretStr]]


class ViestitTokenAuth(BearerTokenAuth):
    """Username/password → bearer token, with the Messages connector's error classes and hint."""

    def __init__(self, base_url: str, username: str, password: SecretStr | PasswordSource) -> None:
        self._passwords: PasswordSource = password if callable(password) else (lambda: [password])
        self._username = username
        super().__init__(
            f"{base_url.rstrip('/')}/v1/token",
            system="suomifi_viestit",
            json={"username": username},  # the password is read and added at each token request (_request_with)
            unavailable=ViestitUnavailableError,
            refused=ViestitAuthenticationError,
            refused_message="POST /v1/token refused the system's credentials ({status}); check KUNTAFLOW_VIESTIT_USERNAME and KUNTAFLOW_VIESTIT_PASSWORD",
            endpoint_name="POST /v1/token",
        )

    def _valid_token(self, *, stale: str | None) -> Generator[httpx.Request, httpx.Response, str]:
        with self._lock:
            if self._token is None or self._token == stale or self._clock() >= self._expires_at:
                candidates = list(self._passwords())
                if not candidates:
                    raise ViestitAuthenticationError(f"{self.system}: no password to log in with")
                for index, password in enumerate(candidates):
                    response = yield self._request_with(password)
                    if response.status_code == 400 and index + 1 < len(candidates):
                        response.read()
                        continue  # refused: the next candidate (a rotation's pending password)
                    self._store(response)
                    break
            assert self._token is not None
            return self._token

    def _request_with(self, password: SecretStr) -> httpx.Request:
        body = {"username": self._username, "password": password.get_secret_value()}
        return httpx.Request("POST", self.token_url, json=body, headers={"Accept": "application/json"})
