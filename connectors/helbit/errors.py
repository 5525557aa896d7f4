"""Helbit connector errors, on the shared hierarchy (connectors/errors.py)."""

from __future__ import annotations

from connectors.errors import BusinessRuleError, ConflictError, IntegrationError, NotFoundError, TransientError


class HelbitUnavailableError(TransientError):
    """The recruitment system is down, slow, rate-limiting or answering 5xx; retry later."""

    default_code = "HELBIT_UNAVAILABLE"


class HelbitAuthenticationError(IntegrationError):
    """The API token or the UI login was refused, or a write lacked its On-Behalf-Of user."""

    default_code = "HELBIT_AUTHENTICATION"


class HelbitValidationError(BusinessRuleError):
    """The recruitment system refused the change (422): the application moved on, was rejected meanwhile …"""

    default_code = "HELBIT_VALIDATION"


class ApplicationNotFoundError(NotFoundError):
    default_code = "APPLICATION_NOT_FOUND"


class JobNotFoundError(NotFoundError):
    default_code = "JOB_NOT_FOUND"


class SlotFullError(ConflictError):
    """The interview slot has no free seat left (409 ``slot_full``): try the next slot."""

    default_code = "SLOT_FULL"


class OpenJobsError(IntegrationError):
    """The public open-jobs API answered with a ``status`` other than ``OK``."""

    default_code = "OPEN_JOBS_NOT_OK"
