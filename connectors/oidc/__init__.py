"""The city's OpenID Connect identity provider (Entra ID, Keycloak, ADFS): settings and its sandbox.

The staff app signs people in with Authlib's client against the provider's discovery document
(``apps/staff/signin.py``); this package holds what both sides agree on: the provider's issuer, the
client's registration (id, secret, redirect addresses), the scopes and the claim carrying groups.
"""

from connectors.oidc.settings import OidcSettings

__all__ = ["OidcSettings"]
