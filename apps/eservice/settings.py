"""Settings of the citizen e-service, read from the environment with the prefix ``KUNTAFLOW_ESERVICE_``.

Nothing needs to be set for a local run on http://127.0.0.1:8000: the cookie-signing secret is
generated once into the data directory, sessions live in the queue's database, and the
Suomi.fi, Koha and Prefect sides use their own settings (``KUNTAFLOW_SUOMIFI_*``,
``KUNTAFLOW_KOHA_*``, ``PREFECT_API_URL``).
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.suomifi_tunnistus.settings import SANDBOX, SuomiFiSettings
from connectors.suomifi_valtuudet.settings import SANDBOX_URL as VALTUUDET_SANDBOX_URL
from connectors.suomifi_valtuudet.settings import ValtuudetSettings
from kuntaflow.settings import KuntaflowSettings
from schemas.web_address import public_base_url

TriggerKind = Literal["task", "event", "deployment", "event_and_deployment", "none"]


class EserviceSettings(BaseSettings):
    """How the e-service runs: its public address, cookies, sessions and how it starts the flow."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_ESERVICE_", extra="ignore")

    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The address citizens use, without a trailing slash; the SAML ACS and SLO URLs are built from it.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs the session cookie and seals session data; generated once into the data directory when unset. "
        "Every instance behind one address needs the same key.",
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Send cookies only over HTTPS. Unset: on when base_url is https, off for http://127.0.0.1 local runs.",
    )
    session_cookie: str = Field(default="kuntaflow_session", pattern=r"^[A-Za-z0-9_]{1,64}$")
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60, description="A session ends after this long without a request.")
    login_timeout_minutes: int = Field(default=10, ge=1, le=60, description="How long an unanswered Suomi.fi login request stays valid.")
    session_database_url: str | None = Field(default=None, description="Where sessions are kept (SQLAlchemy URL); the work-item queue's database when unset.")
    trigger: TriggerKind = Field(
        default="task",
        description="How a submitted application reaches a robot: the warm path's background task on a Prefect task worker "
        "(task, decided while the citizen waits), a Prefect event (the library-card deployment's trigger), "
        "a run of the deployment, event and deployment, or none (the deployment's schedule picks it up).",
    )
    deployment_name: str = Field(default="library-card/library-card", description="<flow name>/<deployment name> run by the 'deployment' trigger.")
    valtuudet: bool | None = Field(
        default=None,
        description="Let a guardian apply for a child through Suomi.fi Valtuudet (KUNTAFLOW_VALTUUDET_*). Unset: on when Suomi.fi "
        "is the sandbox or KUNTAFLOW_VALTUUDET_BASE_URL is set; false: guardians cannot apply for children here.",
    )
    library_rules_url: str = Field(
        default="https://keski.finna.fi/Content/kayttosaannot", description="The library rules the applicant accepts (linked from the form)."
    )
    libraries_cache_seconds: int = Field(default=300, ge=0, le=86_400, description="How long the home-library list from Koha is reused.")
    status_poll_seconds: float = Field(
        default=2,
        ge=0,
        le=3600,
        description="While an application is in processing, the status page's script asks for news this often and shows a decision "
        "in place; 0 turns the asking off (the 'check again' button stays).",
    )

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return public_base_url(value, setting="KUNTAFLOW_ESERVICE_BASE_URL", example="https://asiointi.example.fi")

    @property
    def secure_cookies(self) -> bool:
        """HTTPS-only cookies: as configured, else whenever the public address is https."""
        if self.cookie_secure is not None:
            return self.cookie_secure
        return urlsplit(self.base_url).scheme == "https"

    @property
    def root_path(self) -> str:
        """The path part of base_url ('' at the root), prefixed to every link."""
        return urlsplit(self.base_url).path.rstrip("/")

    def resolved_secret_key(self, engine: KuntaflowSettings) -> SecretStr:
        """The configured key, else one generated once (0600) into the engine's data directory."""
        return engine.signing_key(self.secret_key, file="eservice-secret.key", setting="KUNTAFLOW_ESERVICE_SECRET_KEY")

    def resolved_valtuudet(self) -> bool:
        if self.valtuudet is not None:
            return self.valtuudet
        return SuomiFiSettings().idp_metadata == SANDBOX or ValtuudetSettings().base_url != VALTUUDET_SANDBOX_URL

    def resolved_session_database_url(self, engine: KuntaflowSettings) -> str:
        return self.session_database_url or engine.queue_url
