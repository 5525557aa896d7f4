"""Suomi.fi Messages connector errors, on the shared hierarchy (connectors/errors.py)."""

from __future__ import annotations

from connectors.errors import BusinessRuleError, IntegrationError, TransientError


class ViestitUnavailableError(TransientError):
    """Suomi.fi Messages is down, slow or answered 5xx ("your system should automatically retry")."""

    default_code = "VIESTIT_UNAVAILABLE"


class ViestitAuthenticationError(IntegrationError):
    """The system's username/password were refused, or a fresh token was refused too (401 twice)."""

    default_code = "VIESTIT_AUTHENTICATION"


class ViestitRejectedError(IntegrationError):
    """400: "there should be something to fix in the request that your system has generated"."""

    default_code = "VIESTIT_REJECTED"


class MailboxNotInUseError(BusinessRuleError):
    """The recipient has no active Suomi.fi mailbox (``MAILBOX_NOT_IN_USE``): send paper or e-mail instead."""

    default_code = "MAILBOX_NOT_IN_USE"


class RepliedMessageNotFoundError(BusinessRuleError):
    """The message being replied to no longer exists (``MESSAGE_BEING_REPLIED_TO_NOT_FOUND``; kept 60 days)."""

    default_code = "MESSAGE_BEING_REPLIED_TO_NOT_FOUND"


class AttachmentTooLargeError(BusinessRuleError):
    """The attachment is over the 10 485 760-byte upload limit: a person must shrink or split it."""

    default_code = "ATTACHMENT_TOO_LARGE"


class UnsupportedAttachmentError(BusinessRuleError):
    """The attachment's type is not one Suomi.fi Messages accepts, or it is empty or not what it claims to be."""

    default_code = "UNSUPPORTED_ATTACHMENT"
