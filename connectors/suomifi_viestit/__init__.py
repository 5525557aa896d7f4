"""Suomi.fi Messages (Suomi.fi-viestit) REST API connector: mailbox check, electronic and multichannel
messages with paper fallback, paper mail by address, attachments, events, citizens' messages, password change.
Contract: shared/specs/suomifi/messages-rest/messages-api.yaml."""

from connectors.suomifi_viestit.client import ViestitClient
from connectors.suomifi_viestit.errors import (
    AttachmentTooLargeError,
    MailboxNotInUseError,
    RepliedMessageNotFoundError,
    UnsupportedAttachmentError,
    ViestitAuthenticationError,
    ViestitRejectedError,
    ViestitUnavailableError,
)
from connectors.suomifi_viestit.models import (
    Address,
    AttachmentReference,
    CustomisedNotification,
    ElectronicMessage,
    Event,
    EventMetadata,
    EventsPage,
    EventType,
    LocalisedContent,
    LocalisedTitle,
    MessageFromEndUser,
    NewElectronicMessage,
    NewMultichannelMessage,
    NewPaperMailWithoutId,
    Notifications,
    PaperMail,
    SendResult,
)
from connectors.suomifi_viestit.settings import ViestitSettings

__all__ = [
    "Address",
    "AttachmentReference",
    "AttachmentTooLargeError",
    "CustomisedNotification",
    "ElectronicMessage",
    "Event",
    "EventMetadata",
    "EventType",
    "EventsPage",
    "LocalisedContent",
    "LocalisedTitle",
    "MailboxNotInUseError",
    "MessageFromEndUser",
    "NewElectronicMessage",
    "NewMultichannelMessage",
    "NewPaperMailWithoutId",
    "Notifications",
    "PaperMail",
    "RepliedMessageNotFoundError",
    "SendResult",
    "UnsupportedAttachmentError",
    "ViestitAuthenticationError",
    "ViestitClient",
    "ViestitRejectedError",
    "ViestitSettings",
    "ViestitUnavailableError",
]
