"""Settings for the e-mail (SMTP) connector (env prefix ``KUNTAFLOW_EMAIL_``).

The defaults point at the local SMTP sandbox (``python -m connectors.email.sandbox``, port 8025).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.email_address import check_address

SANDBOX_SMTP_PORT = 8025


class EmailSettings(BaseSettings):
    """Which SMTP server to hand mail to, how to secure and sign in, and who the mail is from."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_EMAIL_", extra="ignore")

    host: str = Field(default="127.0.0.1", min_length=1, description="SMTP server (the city's relay, or the sandbox).")
    port: int = Field(default=SANDBOX_SMTP_PORT, ge=1, le=65535, description="587 for STARTTLS, 465 for SSL, 25 for a plain relay.")
    starttls: bool = Field(default=False, description="Upgrade the connection with STARTTLS before signing in (port 587).")
    use_ssl: bool = Field(default=False, description="Connect over TLS from the start (SMTPS, port 465).")
    ca_file: Path | None = Field(default=None, description="CA bundle to trust for TLS (a city's internal CA); the system's when unset.")
    username: str | None = Field(default=None, description="SMTP AUTH user; unset for a relay that trusts the host.")
    password: SecretStr | None = Field(default=None, description="SMTP AUTH password.")
    from_address: str = Field(default="no-reply@kuntaflow.example", description="Envelope sender and From address.")
    from_name: str = Field(default="Kuntaflow-kaupunki", max_length=200, description="Display name in From.")
    reply_to: str | None = Field(default=None, description="Reply-To address, e.g. HR's shared mailbox.")
    message_id_domain: str | None = Field(default=None, description="Right-hand side of Message-IDs; the From domain when unset.")
    timeout_seconds: float = Field(default=10.0, gt=0, description="Socket timeout per SMTP connection.")
    retry_attempts: int = Field(default=4, ge=1, le=10, description="Attempts for a transient failure before giving up.")
    retry_timeout_seconds: float = Field(default=60.0, gt=0, description="Time cap for all attempts of one send, waits included.")

    @field_validator("from_address", "reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        return None if value is None else check_address(value)

    @model_validator(mode="after")
    def _consistent(self) -> EmailSettings:
        if self.starttls and self.use_ssl:
            raise ValueError("choose KUNTAFLOW_EMAIL_STARTTLS or KUNTAFLOW_EMAIL_USE_SSL, not both")
        if bool(self.username) != bool(self.password and self.password.get_secret_value()):
            raise ValueError("KUNTAFLOW_EMAIL_USERNAME and KUNTAFLOW_EMAIL_PASSWORD go together")
        if self.username and self.password and not (self.username + self.password.get_secret_value()).isascii():
            raise ValueError("SMTP AUTH (smtplib) takes ASCII credentials only")
        return self

    @property
    def id_domain(self) -> str:
        """The domain Message-IDs are made in."""
        return self.message_id_domain or self.from_address.rsplit("@", 1)[1]
