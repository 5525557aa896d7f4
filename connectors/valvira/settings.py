"""Settings for the professional register connector (env prefix ``KUNTAFLOW_VALVIRA_``); defaults: the sandbox under ``kuntaflow sandbox``."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SANDBOX_URL = "http://127.0.0.1:8080/valvira/api/v1"
SANDBOX_API_KEY = "valvira-sandbox-api-key"


class ValviraSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_VALVIRA_", extra="ignore")

    base_url: str = Field(default=SANDBOX_URL, description="The lookup API root, ending in /api/v1.")
    api_key: SecretStr = Field(default=SecretStr(SANDBOX_API_KEY), description="The employer organisation's API key.")
    timeout_seconds: float = Field(default=10.0, gt=0)
    retry_attempts: int = Field(default=4, ge=1, le=10)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("base_url must be an http(s) URL ending in /api/v1")
        return value.rstrip("/")
