"""Valtuudet connector errors, on the shared hierarchy (connectors/errors.py)."""

from __future__ import annotations

from connectors.errors import IntegrationError, TransientError


class ValtuudetUnavailableError(TransientError):
    """The service is down, slow or answering 5xx; try again later."""

    default_code = "VALTUUDET_UNAVAILABLE"


class ValtuudetRefusedError(IntegrationError):
    """The service refused the e-service's checksum, OAuth secret, code or token (a configuration or replay problem)."""

    default_code = "VALTUUDET_REFUSED"
