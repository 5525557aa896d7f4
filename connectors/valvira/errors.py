"""Register connector errors, on the shared hierarchy (connectors/errors.py)."""

from __future__ import annotations

from connectors.errors import IntegrationError, TransientError


class ValviraUnavailableError(TransientError):
    """The register is down, slow, rate-limiting or answering 5xx; retry later."""

    default_code = "VALVIRA_UNAVAILABLE"


class ValviraAuthenticationError(IntegrationError):
    """The register refused the organisation's API key."""

    default_code = "VALVIRA_AUTHENTICATION"
