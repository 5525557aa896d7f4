"""Authentication to the HR/payroll REST API as ``httpx.Auth``: OAuth2 client credentials.

``POST /api/v1/oauth/token`` with ``grant_type=client_credentials``, ``client_id`` and
``client_secret`` (form) gives ``{"access_token", "token_type": "Bearer", "expires_in"}``. The
shared :class:`connectors.token_auth.ClientCredentialsAuth` does the work (cached token, one
refresh on 401, one fetch at a time); the HR client passes its system name and error classes.
"""

from __future__ import annotations

from connectors.token_auth import ClientCredentialsAuth

__all__ = ["ClientCredentialsAuth"]
