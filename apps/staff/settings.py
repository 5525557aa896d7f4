"""Settings of the staff app (Kuntaflow Desk and the supervisors' confirmation pages), prefix ``KUNTAFLOW_STAFF_``.

The app runs on a fixed address from settings, so a link e-mailed to a member of staff still
works after a restart. Links in e-mails are always built from ``public_url``. The address, roles
and digest recipients are ``schemas.staff_roles.StaffRoleSettings``, which flows read too.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from schemas.data_home import DataHome
from schemas.staff_roles import StaffRoleSettings


class StaffSettings(StaffRoleSettings):
    """Where the staff app listens, its public address, its session cookie, and who may do what in it."""

    host: str = Field(default="127.0.0.1", description="The interface the staff app listens on.")
    port: int = Field(default=8010, ge=1, le=65535, description="The port the staff app listens on; fixed, so e-mailed links outlive a restart.")
    secret_key: SecretStr | None = Field(default=None, description="Signs the staff session cookie; generated once into the data directory when unset.")
    session_cookie: str = Field(default="kuntaflow_staff", pattern=r"^[A-Za-z0-9_]{1,64}$", description="The name of the signed session cookie.")
    session_hours: int = Field(default=10, ge=1, le=24, description="A sign-in lasts this long (a working day); then the provider is asked again.")

    @property
    def secure_cookies(self) -> bool:
        """Cookies only over HTTPS when staff reach the app over HTTPS."""
        return self.public_url.startswith("https://")

    def resolved_secret_key(self, home: DataHome | None = None) -> SecretStr:
        """The configured key, else one generated once (0600) into the data directory."""
        return (home or DataHome()).signing_key(self.secret_key, file="staff-secret.key", setting="KUNTAFLOW_STAFF_SECRET_KEY")
