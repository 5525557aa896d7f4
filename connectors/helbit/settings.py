"""Settings for the Helbit connector (env prefix ``KUNTAFLOW_HELBIT_``).

The defaults point at the local sandbox as ``kuntaflow sandbox`` serves it (``/helbit`` on port
8080) with the sandbox's API token and the robot's UI login.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SANDBOX_URL = "http://127.0.0.1:8080/helbit"
SANDBOX_UI_USERNAME = "robotti.rekry"
SANDBOX_UI_PASSWORD = "helbit-sandbox-ui-password"
SANDBOX_API_TOKEN = "helbit-sandbox-api-token"
SANDBOX_USER_ID = 9001


class HelbitSettings(BaseSettings):
    """Where the recruitment system is, and the robot's credentials for its API and its web UI."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_HELBIT_", extra="ignore")

    base_url: str = Field(default=SANDBOX_URL, description="The system's root: the open-jobs API, /api and /ui live under it.")
    client: str = Field(default="helsinki", min_length=1, description="The client id of the public open-jobs API.")
    api_token: SecretStr = Field(default=SecretStr(SANDBOX_API_TOKEN), description="Applications API token (HTTP Basic user name).")
    on_behalf_of: int = Field(default=SANDBOX_USER_ID, description="The robot's user id, sent as On-Behalf-Of on writes (audit).")
    ui_username: str = Field(default=SANDBOX_UI_USERNAME, min_length=1)
    ui_password: SecretStr = Field(default=SecretStr(SANDBOX_UI_PASSWORD))
    timeout_seconds: float = Field(default=15.0, gt=0)
    retry_attempts: int = Field(default=4, ge=1, le=10)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("base_url must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("api_token", "ui_password")
    @classmethod
    def _not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value():
            raise ValueError("a Helbit credential is empty")
        return value
