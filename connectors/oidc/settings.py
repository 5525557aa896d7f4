"""Settings for the OpenID Connect provider staff sign in with (env prefix ``KUNTAFLOW_OIDC_``).

The defaults point at the local OIDC sandbox (``kuntaflow sandbox``, mounted at ``/oidc``) and
the staff app on its default address. Against the city's provider set the issuer (its discovery
document is ``{issuer}/.well-known/openid-configuration``), the client id and secret it issued,
and register ``redirect_uri`` and ``post_logout_redirect_uri`` with it exactly as set here.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.data_home import DataHome
from schemas.web_address import public_base_url

SANDBOX_ISSUER = "http://127.0.0.1:8080/oidc"
DEFAULT_STAFF_URL = "http://127.0.0.1:8010"
#: The staff app's sign-in callback and where the provider returns a person after signing out.
CALLBACK_PATH = "/kirjaudu/paluu"
SIGNED_OUT_PATH = "/kirjaudu/uloskirjautunut"


class OidcSettings(BaseSettings):
    """The provider (issuer), the staff app's registration with it, and how groups are carried."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_OIDC_", extra="ignore")

    issuer: str = Field(default=SANDBOX_ISSUER, description="The provider's issuer; discovery is {issuer}/.well-known/openid-configuration.")
    client_id: str = Field(default="kuntaflow-desk", min_length=1, max_length=200, description="The staff app's client id at the provider.")
    client_secret: SecretStr | None = Field(
        default=None, description="The client's secret (client_secret_basic); generated once into the data directory for the sandbox when unset."
    )
    scope: str = Field(default="openid profile email groups", description="Scopes asked for; must include openid.")
    groups_claim: str = Field(default="groups", min_length=1, description="The ID token claim that lists the person's groups (Entra ID, Keycloak: groups).")
    redirect_uri: str | None = Field(
        default=None, description="The sign-in callback registered with the provider; the staff app's {public_url}/kirjaudu/paluu when unset."
    )
    post_logout_redirect_uri: str | None = Field(
        default=None,
        description="Where the provider sends a person after signing out, registered with it; {public_url}/kirjaudu/uloskirjautunut when unset.",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, description="HTTP timeout for discovery, JWKS and token requests.")

    @field_validator("issuer", "redirect_uri", "post_logout_redirect_uri")
    @classmethod
    def _absolute(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        return public_base_url(value, setting=f"KUNTAFLOW_OIDC_{info.field_name.upper()}", example="https://login.example.fi/realms/city")

    @field_validator("scope")
    @classmethod
    def _openid(cls, value: str) -> str:
        if "openid" not in value.split():
            raise ValueError("KUNTAFLOW_OIDC_SCOPE must include openid")
        return value

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def callback_url(self, staff_url: str = DEFAULT_STAFF_URL) -> str:
        """The registered sign-in callback of a staff app at ``staff_url``."""
        return self.redirect_uri or f"{staff_url.rstrip('/')}{CALLBACK_PATH}"

    def signed_out_url(self, staff_url: str = DEFAULT_STAFF_URL) -> str:
        """The registered post-logout address of a staff app at ``staff_url``."""
        return self.post_logout_redirect_uri or f"{staff_url.rstrip('/')}{SIGNED_OUT_PATH}"

    def resolved_client_secret(self, home: DataHome | None = None) -> SecretStr:
        """The configured secret, else one generated once (0600) into the data directory, which the sandbox reads too."""
        if self.client_secret is not None:
            return self.client_secret
        return (home or DataHome()).signing_key(None, file="oidc-client.secret", setting="KUNTAFLOW_OIDC_CLIENT_SECRET")


def staff_redirects(staff_url: str) -> dict[str, str]:
    """The environment that registers a staff app served at ``staff_url`` with the provider (the local stack)."""
    base = staff_url.rstrip("/")
    return {"KUNTAFLOW_OIDC_REDIRECT_URI": f"{base}{CALLBACK_PATH}", "KUNTAFLOW_OIDC_POST_LOGOUT_REDIRECT_URI": f"{base}{SIGNED_OUT_PATH}"}
