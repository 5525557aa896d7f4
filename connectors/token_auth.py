"""Bearer-token authentication shared by the REST connectors, as one ``httpx.Auth``.

Koha (OAuth2 client credentials, ``POST /api/v1/oauth/token``), the HR system (the same grant) and
Suomi.fi Messages (``POST /v1/token`` with a JSON username and password) all hand out a bearer token
with ``expires_in``. :class:`BearerTokenAuth` keeps it until shortly before it runs out (30 s, or a
tenth of a short lifetime), fetches a new one once when the API answers 401 (expired or revoked; a
second 401 is final) and serialises token fetches across threads, so a client shared by threads
asks for one token, not one per thread. The token request goes through the same client and
transport as the call, so a sandbox mounted in-process serves it too.

What differs per connector is a parameter: the token request's body (form or JSON), the system's
name, its error classes and the hint in the "refused" message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator, Mapping
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from connectors.errors import IntegrationError, TransientError

MAX_REFRESH_MARGIN_SECONDS = 30.0


class BearerToken(BaseModel):
    """A token endpoint's answer (OAuth's snake_case field names)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    access_token: str = Field(min_length=1, repr=False)
    token_type: str
    expires_in: float = Field(ge=0)


class BearerTokenAuth(httpx.Auth):
    """Bearer tokens from a token endpoint: cached, refreshed once on 401, one fetch at a time.

    Args:
        token_url: the token endpoint.
        system: the connector's name, at the start of every error message.
        form, json: the token request's body (exactly one); ``SecretStr`` values are revealed only
            when the request is built.
        unavailable: raised (code ``UNAVAILABLE``) when the endpoint answers 429 or 5xx; the API
            call has not gone out, so it is safe to resend.
        refused: raised when the credentials are refused or the answer holds no bearer token.
        refused_message: what a refusal says after ``"{system}: "``; ``{status}`` is filled in.
        endpoint_name: how messages name the token endpoint.
        clock: monotonic seconds (tests move it).
    """

    requires_response_body = True

    def __init__(
        self,
        token_url: str,
        *,
        system: str,
        form: Mapping[str, str | SecretStr] | None = None,
        json: Mapping[str, str | SecretStr] | None = None,
        unavailable: type[TransientError] = TransientError,
        refused: type[IntegrationError] = IntegrationError,
        refused_message: str = "credentials refused ({status})",
        endpoint_name: str = "token endpoint",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if (form is None) == (json is None):
            raise ValueError("give the token request a form or a JSON body, not both")
        self.token_url = token_url
        self.system = system
        self._form = form
        self._json = json
        self._unavailable = unavailable
        self._refused = refused
        self._refused_message = refused_message
        self._endpoint_name = endpoint_name
        self._clock = clock
        self._lock = threading.RLock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.tokens_fetched = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = yield from self._valid_token(stale=None)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            # Expired or revoked: a new token (unless another thread already got one) and one more try.
            token = yield from self._valid_token(stale=token)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def _valid_token(self, *, stale: str | None) -> Generator[httpx.Request, httpx.Response, str]:
        # The lock is held while the token request is out, so threads wait for that one answer; httpx
        # closes this generator if the request fails, which releases it.
        with self._lock:
            if self._token is None or self._token == stale or self._clock() >= self._expires_at:
                self._store((yield self._token_request()))
            assert self._token is not None
            return self._token

    def _token_request(self) -> httpx.Request:
        headers = {"Accept": "application/json"}
        if self._form is not None:
            return httpx.Request("POST", self.token_url, data=_revealed(self._form), headers=headers)
        assert self._json is not None
        return httpx.Request("POST", self.token_url, json=_revealed(self._json), headers=headers)

    def _store(self, response: httpx.Response) -> None:
        response.read()
        status = response.status_code
        if status >= 500 or status == 429:
            raise self._unavailable(f"{self.system}: {self._endpoint_name} answered {status}", code="UNAVAILABLE", status_code=status, body=response.text)
        if status != 200:
            raise self._refused(f"{self.system}: {self._refused_message.format(status=status)}", status_code=status, body=response.text)
        try:
            token = BearerToken.model_validate_json(response.content)
        except ValidationError:
            raise self._refused(f"{self.system}: {self._endpoint_name} answered 200 without a usable token", status_code=status) from None
        if token.token_type.lower() != "bearer":
            raise self._refused(f"{self.system}: token type {token.token_type!r} is not Bearer", status_code=status)
        self._token = token.access_token
        self._expires_at = self._clock() + token.expires_in - min(MAX_REFRESH_MARGIN_SECONDS, token.expires_in * 0.1)
        self.tokens_fetched += 1


class ClientCredentialsAuth(BearerTokenAuth):
    """OAuth2 client credentials (``grant_type=client_credentials`` with the id and secret as a form)."""

    def __init__(self, token_url: str, client_id: str, client_secret: SecretStr, *, system: str, **options: Any) -> None:
        options.setdefault("refused_message", "client credentials refused ({status}); check the client id and secret")
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
        super().__init__(token_url, system=system, form=form, **options)


def _revealed(values: Mapping[str, str | SecretStr]) -> dict[str, str]:
    return {name: value.get_secret_value() if isinstance(value, SecretStr) else value for name, value in values.items()}
