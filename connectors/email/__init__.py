"""E-mail connector (SMTP): typed outgoing messages with attachments, idempotent by Message-ID."""

from connectors.email.client import ALREADY_DELIVERED_MARKER, EmailClient
from connectors.email.errors import EmailAuthenticationError, EmailUnavailableError, MessageRejectedError, RecipientRefusedError
from connectors.email.models import ICS_CONTENT_TYPE, PDF_CONTENT_TYPE, XLSX_CONTENT_TYPE, EmailAttachment, OutgoingEmail, SendResult, message_id_for
from connectors.email.settings import EmailSettings

__all__ = [
    "ALREADY_DELIVERED_MARKER",
    "ICS_CONTENT_TYPE",
    "PDF_CONTENT_TYPE",
    "XLSX_CONTENT_TYPE",
    "EmailAttachment",
    "EmailAuthenticationError",
    "EmailClient",
    "EmailSettings",
    "EmailUnavailableError",
    "MessageRejectedError",
    "OutgoingEmail",
    "RecipientRefusedError",
    "SendResult",
    "message_id_for",
]
