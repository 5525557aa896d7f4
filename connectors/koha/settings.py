"""Settings for the Koha REST API v1 connector (env prefix ``KUNTAFLOW_KOHA_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SANDBOX_URL = "http://127.0.0.1:8080/koha/api/v1"
"""Koha's REST root where ``kuntaflow sandbox`` serves it (``/koha`` on port 8080), like every connector's default."""


class KohaSettings(BaseSettings):
    """Where Koha is and how to sign in. The default points at the local sandbox (``kuntaflow sandbox``)."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_KOHA_", extra="ignore")

    base_url: str = Field(default=SANDBOX_URL, description="Koha's REST root, ending in /api/v1.")
    auth: Literal["oauth2", "basic"] = Field(default="oauth2", description="RESTOAuth2ClientCredentials or RESTBasicAuth.")
    client_id: str | None = Field(default="kuntaflow", description="OAuth2 client id (a Koha API key of the robot's staff patron).")
    client_secret: SecretStr | None = Field(default=SecretStr("sandbox-secret"), description="OAuth2 client secret.")
    username: str | None = Field(default=None, description="Basic auth user (staff patron userid).")
    password: SecretStr | None = Field(default=None, description="Basic auth password.")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Per-request timeout.")
    retry_attempts: int = Field(default=4, ge=1, le=10, description="Attempts for a transient failure before giving up.")
    hetu_key_attribute: str = Field(
        default="SOTU",
        max_length=10,
        description="Extended attribute type code that holds the hetu key (Koha-Suomi's 'Sotu-avain'); never the hetu itself.",
    )
    guarantor_attribute: str = Field(
        default="TAKAAJA",
        max_length=10,
        description="Extended attribute type code that links a child to its guarantor's patron_id.",
    )
    page_size: int = Field(default=100, ge=1, le=1000, description="_per_page for list calls.")

    @model_validator(mode="after")
    def _credentials_for_the_chosen_auth(self) -> KohaSettings:
        if self.auth == "oauth2" and not (self.client_id and self.client_secret and self.client_secret.get_secret_value()):
            raise ValueError("KUNTAFLOW_KOHA_CLIENT_ID and KUNTAFLOW_KOHA_CLIENT_SECRET are needed for OAuth2")
        if self.auth == "basic" and not (self.username and self.password and self.password.get_secret_value()):
            raise ValueError("KUNTAFLOW_KOHA_USERNAME and KUNTAFLOW_KOHA_PASSWORD are needed for basic auth")
        return self
