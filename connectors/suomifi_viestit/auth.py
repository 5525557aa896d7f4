"""Authentication to the Suomi.fi Messages REST API as ``httpx.Auth``.

``POST /v1/token`` with ``{"username", "password"}`` gives ``{"access_token", "expires_in",
"token_type": "Bearer"}`` (shared/specs/suomifi/messages-rest/messages-api.yaml, postV1Token).
The shared :class:`connectors.token_auth.BearerTokenAuth` caches the token until shortly before
``expires_in`` runs out and sends it as ``Authorization: Bearer …`` (the spec's apiKey scheme; eVaka
sends Bearer, matching ``token_type``). A 401 ("can result from using an expired token") fetches a
new token once and resends; a second 401 is final.
"""

from __future__ import annotations

from pydantic import SecretStr

from connectors.suomifi_viestit.errors import ViestitAuthenticationError, ViestitUnavailableError
from connectors.token_auth import BearerTokenAuth


class ViestitTokenAuth(BearerTokenAuth):
    """Username/password → bearer token, with the Messages connector's error classes and hint."""

    def __init__(self, base_url: str, username: str, password: SecretStr) -> None:
        super().__init__(
            f"{base_url.rstrip('/')}/v1/token",
            system="suomifi_viestit",
            json={"username": username, "password": password},
            unavailable=ViestitUnavailableError,
            refused=ViestitAuthenticationError,
            refused_message="POST /v1/token refused the system's credentials ({status}); check KUNTAFLOW_VIESTIT_USERNAME and KUNTAFLOW_VIESTIT_PASSWORD",
            endpoint_name="POST /v1/token",
        )
