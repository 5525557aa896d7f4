"""Suomi.fi e-Identification (Suomi.fi-tunnistus): the e-service's SAML 2.0 service provider.

See README.md. The e-service uses :class:`ServiceProvider`; the sandbox IdP is in ``sandbox``.
"""

from connectors.suomifi_tunnistus.errors import AuthenticationError, SamlConfigurationError
from connectors.suomifi_tunnistus.models import (
    DomesticAddress,
    ForeignAddress,
    HomeMunicipality,
    IdpLogoutResult,
    LoginRedirect,
    LogoutOutcome,
    LogoutRedirect,
    LogoutTarget,
    SamlSession,
    SamlSessionStore,
    SuomiFiIdentity,
)
from connectors.suomifi_tunnistus.replay import ReplayCache, SqlReplayCache
from connectors.suomifi_tunnistus.settings import SuomiFiSettings
from connectors.suomifi_tunnistus.sp import ServiceProvider

__all__ = [
    "AuthenticationError",
    "DomesticAddress",
    "ForeignAddress",
    "HomeMunicipality",
    "IdpLogoutResult",
    "LoginRedirect",
    "LogoutOutcome",
    "LogoutRedirect",
    "LogoutTarget",
    "ReplayCache",
    "SamlConfigurationError",
    "SamlSession",
    "SamlSessionStore",
    "ServiceProvider",
    "SqlReplayCache",
    "SuomiFiIdentity",
    "SuomiFiSettings",
]
