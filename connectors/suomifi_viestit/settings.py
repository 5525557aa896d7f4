"""Settings for the Suomi.fi Messages REST API connector (env prefix ``KUNTAFLOW_VIESTIT_``).

``base_url`` is a named environment (``prod``, ``qa``) or any URL, such as the sandbox. The
defaults point at the local sandbox (``kuntaflow sandbox``) with its account; the real
environments refuse to start with those sandbox credentials.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.letters.pdf import PostalAddress

#: The sandbox's sender: the defaults, so the embedded stack needs no settings.
SANDBOX_USERNAME = "kuntaflow-sandbox"
SANDBOX_PASSWORD = SecretStr("Sandbox-Viestit-Password-2026-0123456789!")
SANDBOX_SERVICE_ID = "kuntaflow-sandbox-kirjasto"
SANDBOX_POSTI_USERNAME = "KFLOW1"
SANDBOX_POSTI_PASSWORD = SecretStr("1234")
SANDBOX_CONTACT_EMAIL = "viestit@kuntaflow.example"

#: Named environments (the spec lists production; the QA host is the one DVV gives at onboarding).
ENVIRONMENTS = {
    "prod": "https://api.messages.suomi.fi",
    "qa": "https://api.messages-qa.suomi.fi",
}
SANDBOX_URL = "http://127.0.0.1:8080/suomifi_viestit"


class ViestitSettings(BaseSettings):
    """Where Suomi.fi Messages is, who we are there, and how paper mail is paid for."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_VIESTIT_", extra="ignore")

    base_url: str = Field(default=SANDBOX_URL, description="'prod', 'qa' or an API root URL (the sandbox by default).")
    username: str = Field(default=SANDBOX_USERNAME, min_length=1, description="The system's username, a.k.a. systemId.")
    password: SecretStr = Field(default=SANDBOX_PASSWORD, description="The system's password (rotate it at least yearly).")
    service_id: str = Field(default=SANDBOX_SERVICE_ID, min_length=1, max_length=64, description="sender.serviceId of the sending service.")

    posti_username: str = Field(default=SANDBOX_POSTI_USERNAME, min_length=6, max_length=6, description="Posti iPost username (6 characters).")
    posti_password: SecretStr = Field(default=SANDBOX_POSTI_PASSWORD, description="Posti iPost password (4 characters).")
    posti_contact_email: str = Field(default=SANDBOX_CONTACT_EMAIL, min_length=5, max_length=256, description="Who Posti contacts about print jobs.")
    cost_pool: str | None = Field(default=None, min_length=1, max_length=15, pattern=r"^[A-Z0-9]+$", description="Posti cost pool (kustannuspaikka).")

    sender_name: str = Field(default="Kuntaflow-kaupunki, kirjastopalvelut", min_length=1, max_length=256, description="Return address on paper mail.")
    sender_street_address: str = Field(default="Kirjastonkatu 1", min_length=1, max_length=256)
    sender_zip_code: str = Field(default="40100", min_length=1, max_length=64)
    sender_city: str = Field(default="Jyväskylä", min_length=1, max_length=256)
    sender_country_code: str = Field(default="FI", pattern=r"^[A-Z]{2}$")

    timeout_seconds: float = Field(default=30.0, gt=0, description="Per-request timeout (uploads of up to 10 MiB included).")
    retry_attempts: int = Field(default=4, ge=1, le=10, description="Attempts for a transient failure (5xx, timeouts) before giving up.")

    @field_validator("base_url")
    @classmethod
    def _named_or_url(cls, value: str) -> str:
        url = ENVIRONMENTS.get(value.strip().lower(), value.strip())
        if not url.startswith(("https://", "http://")):
            raise ValueError(f"base_url must be one of {', '.join(ENVIRONMENTS)} or an http(s) URL")
        return url.rstrip("/")

    @field_validator("posti_password")
    @classmethod
    def _four_characters(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) != 4:
            raise ValueError("the Posti password has exactly 4 characters")
        return value

    @model_validator(mode="after")
    def _no_sandbox_credentials_in_real_environments(self) -> ViestitSettings:
        if self.base_url in ENVIRONMENTS.values():
            if self.password.get_secret_value() == SANDBOX_PASSWORD.get_secret_value() or self.username == SANDBOX_USERNAME:
                raise ValueError("set KUNTAFLOW_VIESTIT_USERNAME and KUNTAFLOW_VIESTIT_PASSWORD for Suomi.fi Messages")
            if self.service_id == SANDBOX_SERVICE_ID:
                raise ValueError("set KUNTAFLOW_VIESTIT_SERVICE_ID for Suomi.fi Messages")
            if self.posti_username == SANDBOX_POSTI_USERNAME:
                raise ValueError("set KUNTAFLOW_VIESTIT_POSTI_USERNAME and KUNTAFLOW_VIESTIT_POSTI_PASSWORD for paper mail")
        return self

    @property
    def sender_address(self) -> PostalAddress:
        """The return address printed on paper mail."""
        return PostalAddress(
            name=self.sender_name,
            street_address=self.sender_street_address,
            zip_code=self.sender_zip_code,
            city=self.sender_city,
            country_code=self.sender_country_code,
        )
