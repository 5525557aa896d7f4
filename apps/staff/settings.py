"""Settings of the staff app (Kuntaflow Desk and the supervisors' confirmation pages), prefix ``KUNTAFLOW_STAFF_``.

The app runs on a fixed address from settings, so a link e-mailed to a member of staff still
works after a restart. Links in e-mails are always built from ``public_url``.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from apps.staff.identity import Role
from schemas.data_home import DataHome
from schemas.employee import CONFIRMATION_PROCESS
from schemas.employee import PROCESS as EMPLOYMENT_START
from schemas.library_card import PROCESS as LIBRARY_CARD
from schemas.recruitment import PROCESS as MASS_RECRUITMENT
from schemas.web_address import public_base_url


class StaffSettings(BaseSettings):
    """Where the staff app listens, its public address, and who may do what in it."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_STAFF_", extra="ignore")

    host: str = Field(default="127.0.0.1", description="The interface the staff app listens on.")
    port: int = Field(default=8010, ge=1, le=65535, description="The port the staff app listens on; fixed, so e-mailed links outlive a restart.")
    public_url: str = Field(
        default="http://127.0.0.1:8010",
        description="The address staff use, without a trailing slash; every link in an e-mail is built from it.",
    )
    secret_key: SecretStr | None = Field(default=None, description="Signs the staff session cookie; generated once into the data directory when unset.")
    role_groups: dict[Role, list[str]] = Field(
        default={
            Role.LIBRARIAN: ["kirjasto"],
            Role.HR: ["henkilostopalvelut"],
            Role.RECRUITER: ["rekrytointi"],
            Role.ADMINISTRATOR: ["kuntaflow-admin"],
        },
        description="Which of the identity provider's groups give each role.",
    )
    role_processes: dict[Role, list[str]] = Field(
        default={
            Role.LIBRARIAN: [LIBRARY_CARD],
            Role.HR: [EMPLOYMENT_START, CONFIRMATION_PROCESS],
            Role.RECRUITER: [MASS_RECRUITMENT],
            Role.ADMINISTRATOR: [LIBRARY_CARD, EMPLOYMENT_START, CONFIRMATION_PROCESS, MASS_RECRUITMENT],
        },
        description="Whose cases each role sees and acts on. An administrator also reads the access log.",
    )

    session_cookie: str = Field(default="kuntaflow_staff", pattern=r"^[A-Za-z0-9_]{1,64}$", description="The name of the signed session cookie.")
    session_hours: int = Field(default=10, ge=1, le=24, description="A sign-in lasts this long (a working day); then the provider is asked again.")
    digest_recipients: dict[Role, list[str]] = Field(
        default={},
        description="Who gets each role's daily digest of waiting cases (e-mail addresses); a role with nobody gets none.",
    )

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS when staff reach the app over HTTPS."""
        return self.public_url.startswith("https://")

    def resolved_secret_key(self, home: DataHome | None = None) -> SecretStr:
        """The configured key, else one generated once (0600) into the data directory."""
        return (home or DataHome()).signing_key(self.secret_key, file="staff-secret.key", setting="KUNTAFLOW_STAFF_SECRET_KEY")

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        return public_base_url(value, setting="KUNTAFLOW_STAFF_PUBLIC_URL", example="https://desk.example.fi")
