"""Settings for the service desk REST API connector (env prefix ``KUNTAFLOW_SERVICEDESK_``).

The defaults point at the local sandbox as ``kuntaflow sandbox`` serves it (``/servicedesk`` on
port 8080) with the sandbox's operator account.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SANDBOX_URL = "http://127.0.0.1:8080/servicedesk/api/v1"
#: The sandbox's robot operator: the defaults, so the embedded stack needs no settings.
SANDBOX_USERNAME = "kuntaflow-robot"
SANDBOX_APP_PASSWORD = SecretStr("servicedesk-sandbox-app-password")


class ServiceDeskSettings(BaseSettings):
    """Where the service desk's API is and the robot's operator account there."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_SERVICEDESK_", extra="ignore")

    base_url: str = Field(default=SANDBOX_URL, description="The API root, ending in /api/v1.")
    username: str = Field(default=SANDBOX_USERNAME, min_length=1, description="The robot's operator account.")
    app_password: SecretStr = Field(default=SANDBOX_APP_PASSWORD, description="Application password of that account (HTTP Basic).")
    requested_by: str = Field(default="Kuntaflow HR-robotti", min_length=1, max_length=100, description="Shown as the requester on tickets.")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Per-request timeout.")
    retry_attempts: int = Field(default=4, ge=1, le=10, description="Attempts for a transient failure before giving up.")

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("base_url must be an http(s) URL ending in /api/v1")
        return value.rstrip("/")

    @field_validator("app_password")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("KUNTAFLOW_SERVICEDESK_APP_PASSWORD is empty")
        return value
