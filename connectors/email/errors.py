"""E-mail (SMTP) connector errors, on the shared hierarchy (connectors/errors.py).

Messages name SMTP reply codes and counts, never addresses, subjects or bodies: an address is
personal data and a body may be too.
"""

from __future__ import annotations

from typing import Any

from connectors.errors import BusinessRuleError, IntegrationError, TransientError


class EmailUnavailableError(TransientError):
    """The mail server refused the connection, timed out, hung up or answered 4xx; send again later."""

    default_code = "EMAIL_UNAVAILABLE"


class EmailAuthenticationError(IntegrationError):
    """The mail server refused our SMTP credentials (535), wants authentication we do not offer (530),
    or its TLS certificate is not one we trust (``TLS_UNTRUSTED``): settings to fix, not an outage."""

    default_code = "EMAIL_AUTHENTICATION"


class RecipientRefusedError(BusinessRuleError):
    """The mail server permanently refused every recipient (5xx at RCPT: no such mailbox, bad domain).

    ``refused`` maps each refused address to its SMTP code; it is kept on the error for the
    manual-handling view and never put in the message text.
    """

    default_code = "EMAIL_RECIPIENT_REFUSED"

    def __init__(self, message: str, *, refused: dict[str, int], **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.refused = dict(refused)


class MessageRejectedError(BusinessRuleError):
    """The mail server permanently refused the message itself (5xx at MAIL or DATA: too large, content policy)."""

    default_code = "EMAIL_MESSAGE_REJECTED"
