"""Typed client for the Suomi.fi Valtuudet HPA web API (acting on behalf of a person; reference/suomifi.md §3).

The flow a guardian goes through, one method per step:

1. :meth:`ValtuudetClient.register` the logged-in delegate (server to server, checksum header);
2. send the browser to :meth:`~ValtuudetClient.authorize_url`, where the delegate picks the principal;
3. the callback's ``code`` → :meth:`~ValtuudetClient.exchange_code` (Basic auth with the OAuth secret);
4. :meth:`~ValtuudetClient.principals`: whom the delegate chose (Bearer + checksum);
5. :meth:`~ValtuudetClient.authorization` for each: ``ALLOWED`` or ``DISALLOWED``;
6. :meth:`~ValtuudetClient.unregister` the session.

The delegate's and principals' henkilötunnus travel in URL paths, as the API defines; the shared HTTP
base logs and reports paths with any hetu masked, and nothing here logs a path or a body.
"""

from __future__ import annotations

import base64
import uuid
from urllib.parse import quote, urlencode

import httpx
from pydantic import BaseModel, Field, SecretStr

from connectors.errors import AutomationError
from connectors.http import ConnectorClient, ErrorDetails, RetryPolicy
from connectors.suomifi_valtuudet.checksum import HEADER, header_value
from connectors.suomifi_valtuudet.errors import ValtuudetRefusedError, ValtuudetUnavailableError
from connectors.suomifi_valtuudet.models import Authorization, Principal, Registration
from connectors.suomifi_valtuudet.settings import ValtuudetSettings
from schemas.hetu import Hetu

SYSTEM = "suomifi_valtuudet"
LANGUAGES = ("fi", "sv", "en")


class _Token(BaseModel):
    access_token: SecretStr = Field(min_length=1)


class ValtuudetClient(ConnectorClient):
    """The HPA web API with the e-service's client id and secrets. Contract: connectors/suomifi_valtuudet/README.md."""

    def __init__(self, settings: ValtuudetSettings | None = None, *, transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None) -> None:
        self.settings = settings or ValtuudetSettings()
        self.api = self.api_client(
            self.settings, system=SYSTEM, error_mapper=_map_error, transient_error=ValtuudetUnavailableError, transport=transport, retry=retry
        )

    # ------------------------------------------------------------------ the flow

    def register(self, delegate: Hetu) -> Registration:
        """Step 1: a session for the logged-in delegate."""
        path = f"/service/hpa/user/register/{quote(self.settings.client_id, safe='')}/{delegate.value}?requestId={_request_id()}"
        return self.api.request_model(Registration, "GET", path, headers=self._checksum(path))

    def authorize_url(self, registration: Registration, *, redirect_uri: str, state: str, language: str = "fi") -> str:
        """Step 2: where the browser goes to pick the principal; it comes back to ``redirect_uri?code=…&state=…``."""
        query = {
            "client_id": self.settings.client_id,
            "response_type": "code",
            "redirect_uri": redirect_uri,
            "user": registration.user_id,
            "state": state,
            "lang": language if language in LANGUAGES else "fi",
        }
        return f"{self.settings.base_url}/oauth/authorize?{urlencode(query)}"

    def exchange_code(self, code: str, *, redirect_uri: str) -> SecretStr:
        """Step 3: the callback's one-time code for an access token.

        Raises:
            ValtuudetRefusedError: the code was used already, expired, or the OAuth secret is wrong.
        """
        query = urlencode({"code": code, "grant_type": "authorization_code", "redirect_uri": redirect_uri})
        basic = base64.b64encode(f"{self.settings.client_id}:{self.settings.oauth_secret.get_secret_value()}".encode()).decode("ascii")
        token = self.api.request_model(_Token, "POST", f"/oauth/token?{query}", headers={"Authorization": f"Basic {basic}"})
        return token.access_token

    def principals(self, registration: Registration, token: SecretStr) -> list[Principal]:
        """Step 4: the people the delegate chose on the authorize page."""
        path = f"/service/hpa/api/delegate/{quote(registration.session_id, safe='')}?requestId={_request_id()}"
        return self.api.request_model(list[Principal], "GET", path, headers=self._bearer(token, path))

    def authorization(self, registration: Registration, token: SecretStr, principal: Principal) -> Authorization:
        """Step 5: may the delegate act for this principal (the rules engine's answer)."""
        person = Hetu(principal.person_id)  # ValueError before anything is sent if the answer held no hetu
        path = f"/service/hpa/api/authorization/{quote(registration.session_id, safe='')}/{person.value}?requestId={_request_id()}"
        return self.api.request_model(Authorization, "GET", path, headers=self._bearer(token, path))

    def unregister(self, registration: Registration) -> None:
        """Step 6: end the session at the service."""
        path = f"/service/hpa/user/unregister/{quote(registration.session_id, safe='')}?requestId={_request_id()}"
        self.api.request("GET", path, headers=self._checksum(path))

    # ------------------------------------------------------------------ headers

    def _checksum(self, path: str) -> dict[str, str]:
        return {HEADER: header_value(self.settings.client_id, self.settings.client_secret.get_secret_value(), path)}

    def _bearer(self, token: SecretStr, path: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token.get_secret_value()}", **self._checksum(path)}


def _request_id() -> str:
    return str(uuid.uuid4())


def _map_error(response: httpx.Response, details: ErrorDetails) -> AutomationError | None:
    if response.status_code in (400, 401, 403):
        return ValtuudetRefusedError(f"{SYSTEM}: the service refused the request ({response.status_code})", **details)
    return None
