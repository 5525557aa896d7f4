"""Settings for the HR/payroll REST API connector (env prefix ``KUNTAFLOW_HR_``).

The defaults point at the local sandbox as ``kuntaflow sandbox`` serves it (``/hr`` on port 8080)
with the sandbox's client credentials.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SANDBOX_URL = "http://127.0.0.1:8080/hr/api/v1"
#: The sandbox's robot client: the defaults, so the embedded stack needs no settings.
SANDBOX_CLIENT_ID = "kuntaflow-robot"
SANDBOX_CLIENT_SECRET = SecretStr("hr-sandbox-secret")


class HrSettings(BaseSettings):
    """Where the HR system's API is and the robot's client credentials there."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_HR_", extra="ignore")

    base_url: str = Field(default=SANDBOX_URL, description="The API root, ending in /api/v1.")
    client_id: str = Field(default=SANDBOX_CLIENT_ID, min_length=1, description="OAuth2 client id of the robot's integration user.")
    client_secret: SecretStr = Field(default=SANDBOX_CLIENT_SECRET, description="OAuth2 client secret.")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Per-request timeout.")
    retry_attempts: int = Field(default=4, ge=1, le=10, description="Attempts for a transient failure before giving up.")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("base_url must be an http(s) URL ending in /api/v1")
        return value.rstrip("/")

    @field_validator("client_secret")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("KUNTAFLOW_HR_CLIENT_SECRET is empty")
        return value
