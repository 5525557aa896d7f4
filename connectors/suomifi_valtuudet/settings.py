"""Settings for the Suomi.fi Valtuudet (e-Authorizations, HPA web API) connector, prefix ``KUNTAFLOW_VALTUUDET_``.

The defaults point at the sandbox under ``kuntaflow sandbox`` with its test client; a city sets the
base URL, client id and the two secrets it got at onboarding (production base URL
``https://asiointivaltuustarkistus.suomi.fi``).
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SANDBOX_URL = "http://127.0.0.1:8080/suomifi_valtuudet"
SANDBOX_CLIENT_ID = "kuntaflow-sandbox"
SANDBOX_CLIENT_SECRET = "valtuudet-sandbox-checksum-key"
SANDBOX_OAUTH_SECRET = "valtuudet-sandbox-oauth-secret"
SANDBOX_REST_API_KEY = "valtuudet-sandbox-rest-api-key"


class ValtuudetSettings(BaseSettings):
    """Where the HPA web API is and the e-service's credentials for it."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_VALTUUDET_", extra="ignore")

    base_url: str = Field(default=SANDBOX_URL, description="The service root (without /service or /oauth).")
    client_id: str = Field(default=SANDBOX_CLIENT_ID, min_length=1, max_length=200, description="The e-service's client id from onboarding.")
    client_secret: SecretStr = Field(
        default=SecretStr(SANDBOX_CLIENT_SECRET), description="The checksum key: HMAC-SHA256 key of the X-AsiointivaltuudetAuthorization header."
    )
    oauth_secret: SecretStr = Field(default=SecretStr(SANDBOX_OAUTH_SECRET), description="The OAuth API secret for the token exchange (Basic auth).")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    retry_attempts: int = Field(default=3, ge=1, le=10)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("KUNTAFLOW_VALTUUDET_BASE_URL must be an http(s) URL")
        return value.rstrip("/")
