"""Service desk connector errors, on the shared hierarchy (connectors/errors.py)."""

from __future__ import annotations

from connectors.errors import BusinessRuleError, IntegrationError, NotFoundError, TransientError


class ServiceDeskUnavailableError(TransientError):
    """The service desk is down, slow, rate-limiting or answering 5xx; retry later."""

    default_code = "SERVICEDESK_UNAVAILABLE"


class ServiceDeskAuthenticationError(IntegrationError):
    """The service desk refused the robot's operator account or application password."""

    default_code = "SERVICEDESK_AUTHENTICATION"


class ServiceDeskRejectedError(IntegrationError):
    """The service desk refused the request's shape (400): our bug or a changed contract."""

    default_code = "SERVICEDESK_REJECTED"


class ReferenceConflictError(IntegrationError):
    """The external reference already names a different request: two business acts share a key."""

    default_code = "REFERENCE_CONFLICT"


class ServiceDeskValidationError(BusinessRuleError):
    """The service desk refused the data (422): an unknown access profile, a due date in the past …"""

    default_code = "SERVICEDESK_VALIDATION"


class TicketClosedError(BusinessRuleError):
    """The ticket is done or cancelled: it takes no comments, reminders or cancellation."""

    default_code = "TICKET_CLOSED"


class TicketNotFoundError(NotFoundError):
    default_code = "TICKET_NOT_FOUND"
