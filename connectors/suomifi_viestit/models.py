"""Models for the Suomi.fi Messages REST API (v1 token and mailboxes, v2 messages, attachments, events).

Contract: shared/specs/suomifi/messages-rest/messages-api.yaml (OpenAPI 3.0.1, info.version 1.0.0).

Two kinds of model:

- what a caller builds (:class:`ElectronicMessage`, :class:`PaperMail`, :class:`NewElectronicMessage`,
  :class:`NewMultichannelMessage`): strict (unknown fields refused), snake_case, with the spec's
  defaults for the choices a municipality rarely changes. The client turns them into the spec's
  camelCase bodies at the moment of sending; Posti credentials and the sender's address come
  from settings, never from a robot.
- what the service answers (:class:`SendResult`, :class:`AttachmentReference`, :class:`EventsPage`
  …): lenient, because "new fields may be added to the JSON request and response bodies without
  being considered a breaking change" (spec description).

The recipient is a :class:`schemas.hetu.Hetu`, whose repr is masked; models holding one hide their
input in validation errors.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from connectors.letters.pdf import PostalAddress
from schemas.hetu import Hetu

#: ``Address.countryCode`` in the spec: ISO 3166-1 alpha-2, plus XK (Kosovo) and XX (unknown).
COUNTRY_CODES: tuple[str, ...] = (
    "AD",
    "AE",
    "AF",
    "AG",
    "AI",
    "AL",
    "AM",
    "AO",
    "AQ",
    "AR",
    "AS",
    "AT",
    "AU",
    "AW",
    "AX",
    "AZ",
    "BA",
    "BB",
    "BD",
    "BE",
    "BF",
    "BG",
    "BH",
    "BI",
    "BJ",
    "BL",
    "BM",
    "BN",
    "BO",
    "BQ",
    "BR",
    "BS",
    "BT",
    "BV",
    "BW",
    "BY",
    "BZ",
    "CA",
    "CC",
    "CD",
    "CF",
    "CG",
    "CH",
    "CI",
    "CK",
    "CL",
    "CM",
    "CN",
    "CO",
    "CR",
    "CU",
    "CV",
    "CW",
    "CX",
    "CY",
    "CZ",
    "DE",
    "DJ",
    "DK",
    "DM",
    "DO",
    "DZ",
    "EC",
    "EE",
    "EG",
    "EH",
    "ER",
    "ES",
    "ET",
    "FI",
    "FJ",
    "FK",
    "FM",
    "FO",
    "FR",
    "GA",
    "GB",
    "GD",
    "GE",
    "GF",
    "GG",
    "GH",
    "GI",
    "GL",
    "GM",
    "GN",
    "GP",
    "GQ",
    "GR",
    "GS",
    "GT",
    "GU",
    "GW",
    "GY",
    "HK",
    "HM",
    "HN",
    "HR",
    "HT",
    "HU",
    "ID",
    "IE",
    "IL",
    "IM",
    "IN",
    "IO",
    "IQ",
    "IR",
    "IS",
    "IT",
    "JE",
    "JM",
    "JO",
    "JP",
    "KE",
    "KG",
    "KH",
    "KI",
    "KM",
    "KN",
    "KP",
    "KR",
    "KW",
    "KY",
    "KZ",
    "LA",
    "LB",
    "LC",
    "LI",
    "LK",
    "LR",
    "LS",
    "LT",
    "LU",
    "LV",
    "LY",
    "MA",
    "MC",
    "MD",
    "ME",
    "MF",
    "MG",
    "MH",
    "MK",
    "ML",
    "MM",
    "MN",
    "MO",
    "MP",
    "MQ",
    "MR",
    "MS",
    "MT",
    "MU",
    "MV",
    "MW",
    "MX",
    "MY",
    "MZ",
    "NA",
    "NC",
    "NE",
    "NF",
    "NG",
    "NI",
    "NL",
    "NO",
    "NP",
    "NR",
    "NU",
    "NZ",
    "OM",
    "PA",
    "PE",
    "PF",
    "PG",
    "PH",
    "PK",
    "PL",
    "PM",
    "PN",
    "PR",
    "PS",
    "PT",
    "PW",
    "PY",
    "QA",
    "RE",
    "RO",
    "RS",
    "RU",
    "RW",
    "SA",
    "SB",
    "SC",
    "SD",
    "SE",
    "SG",
    "SH",
    "SI",
    "SJ",
    "SK",
    "SL",
    "SM",
    "SN",
    "SO",
    "SR",
    "SS",
    "ST",
    "SV",
    "SX",
    "SY",
    "SZ",
    "TC",
    "TD",
    "TF",
    "TG",
    "TH",
    "TJ",
    "TK",
    "TL",
    "TM",
    "TN",
    "TO",
    "TR",
    "TT",
    "TV",
    "TW",
    "TZ",
    "UA",
    "UG",
    "UM",
    "US",
    "UY",
    "UZ",
    "VA",
    "VC",
    "VE",
    "VG",
    "VI",
    "VN",
    "VU",
    "WF",
    "WS",
    "YE",
    "YT",
    "ZA",
    "ZM",
    "ZW",
    "XK",
    "XX",
)

#: ``POST /v1/mailboxes/active`` takes at most this many ids (``EndUsers.endUsers.maxItems``).
MAILBOX_BATCH_LIMIT = 10_000
#: ``POST /v2/attachments``: "HTTP content length exceeded 10485760 bytes." (413)
ATTACHMENT_MAX_BYTES = 10_485_760
#: Electronic messages carry at most 50 attachments (``ElectronicPart.attachments.maxItems``).
ELECTRONIC_ATTACHMENTS_MAX = 50
#: The content types ``POST /v2/attachments`` lists as supported.
ATTACHMENT_MEDIA_TYPES = frozenset(
    {
        "application/msword",
        "application/pdf",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "image/jpeg",
        "image/png",
        "text/plain",
    }
)

BodyFormat = Literal["Text", "Markdown"]
MessageServiceType = Literal["Normal", "Verifiable"]
ReplyAllowedBy = Literal["Anyone", "No one"]
Visibility = Literal["Normal", "Recipient only"]
SenderDetailsInNotifications = Literal["Organisation and service name", "None"]
Reminder = Literal["Default reminder", "No reminders"]


def _spec_country(address: PostalAddress) -> PostalAddress:
    if address.country_code not in COUNTRY_CODES:
        raise ValueError(f"country code {address.country_code} is not one Suomi.fi Messages accepts (ISO 3166 alpha-2, XK, XX)")
    return address


#: A postal address as Posti prints it; the same model the letter PDF uses for its address block.
Address = Annotated[PostalAddress, AfterValidator(_spec_country)]


class _Input(BaseModel):
    """What our code builds: unknown fields are a bug, so they are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True, hide_input_in_errors=True)


class _Answer(BaseModel):
    """What the service answers: new fields may appear at any time and are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel, populate_by_name=True)


# ------------------------------------------------------------------------------ what a caller builds


class AttachmentReference(_Answer):
    """An uploaded attachment (``messages.api.rest.v2.AttachmentReference``); removed if unused for 24 h."""

    attachment_id: UUID


class LocalisedTitle(_Input):
    fi: str = Field(min_length=1, max_length=256)
    sv: str = Field(min_length=1, max_length=256)
    en: str = Field(min_length=1, max_length=256)


class LocalisedContent(_Input):
    fi: str = Field(min_length=1, max_length=1500)
    sv: str = Field(min_length=1, max_length=1500)
    en: str = Field(min_length=1, max_length=1500)


class CustomisedNotification(_Input):
    """The text of the new-message notification e-mail/SMS, in all three languages."""

    title: LocalisedTitle
    content: LocalisedContent


class Notifications(_Input):
    """How the recipient is notified; ``reminder`` is the spec's ``unreadMessageNotification.reminder``."""

    sender_details_in_notifications: SenderDetailsInNotifications = "Organisation and service name"
    reminder: Reminder = "Default reminder"
    customised_new_message_notification: CustomisedNotification | None = None


class ElectronicMessage(_Input):
    """The electronic part of a message (``messages.api.rest.v2.ElectronicPart``)."""

    title: str = Field(min_length=1, max_length=256)
    body: str = Field(min_length=1, max_length=40_000)
    body_format: BodyFormat = "Text"
    message_service_type: MessageServiceType = "Normal"
    reply_allowed_by: ReplyAllowedBy = "No one"
    visibility: Visibility = "Normal"
    attachments: tuple[AttachmentReference, ...] = Field(default=(), max_length=ELECTRONIC_ATTACHMENTS_MAX)
    notifications: Notifications = Notifications()
    in_reply_to_message_id: int | None = Field(default=None, ge=1, description="Reply to a message an end user sent.")


class PaperMail(_Input):
    """The paper fallback of a multichannel message (``messages.api.rest.v2.PaperMailPart``).

    ``attachment`` is the one PDF Posti prints (upload it with ``upload_attachment(...,
    "application/pdf")``). The sender's address, the Posti credentials and the cost pool come from
    settings unless given here.
    """

    attachment: AttachmentReference
    recipient_address: Address
    sender_address: Address | None = None
    color_printing: bool = False
    create_address_page: bool = True
    rotate_landscape_pages: bool = False
    two_sided_printing: bool = False
    message_service_type: MessageServiceType = "Normal"
    cost_pool: str | None = Field(default=None, min_length=1, max_length=15, pattern=r"^[A-Z0-9]+$")


class NewElectronicMessage(_Input):
    """An electronic-only message (``POST /v2/messages/electronic``).

    ``external_id`` is the idempotency key: the same id sent twice is delivered once.
    """

    external_id: str = Field(min_length=1, max_length=256)
    recipient: Hetu
    electronic: ElectronicMessage


class NewMultichannelMessage(_Input):
    """Electronic if the recipient's mailbox is active, otherwise printed and posted (``POST /v2/messages``)."""

    external_id: str = Field(min_length=1, max_length=256)
    recipient: Hetu
    electronic: ElectronicMessage
    paper_mail: PaperMail


class NewPaperMailWithoutId(_Input):
    """Paper mail to an address only, no hetu or business ID (``POST /v2/paper-mail-without-id``)."""

    external_id: str = Field(min_length=1, max_length=256)
    paper_mail: PaperMail


# ------------------------------------------------------------------------------ what the service answers


class MessageResponse(_Answer):
    message_id: int


class MessageAlreadyExistsResponse(_Answer):
    """409: the message was accepted before. Only ``messageId`` matters; a missing reason must not fail a send."""

    message_id: int
    reason: str | None = None


class MessageIdResponse(_Answer):
    """``GET /v1/messages/id``: the messageId the service gave a message, by its externalId."""

    message_id: int


class AccessTokenResponse(_Answer):
    access_token: str = Field(min_length=1, repr=False)
    expires_in: int
    token_type: str


class EndUserAttachment(_Answer):
    """A file a citizen attached (``Attachment``); download it with ``end_user_attachment(attachment_id)``."""

    attachment_id: str
    filename: str | None = None
    media_type: str | None = None
    size_bytes: int | None = None


class MessageThread(_Answer):
    """``ThreadV2``: the thread's first message and, when we started it, our externalId for it."""

    root_message_id: int
    thread_external_id: str | None = None


class EndUserMessageContent(_Answer):
    """``ElectronicMessageFromEndUserV2``: the title and body are the citizen's words, kept out of reprs."""

    message_id: int
    created_at: datetime
    title: str = Field(repr=False)
    body: str = Field(repr=False)
    attachments: list[EndUserAttachment] = []
    thread: MessageThread | None = None


class MessageSenderActor(_Answer):
    """A person or organisation; ``id`` is a hetu or a business ID, so it never appears in a repr."""

    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel, populate_by_name=True, hide_input_in_errors=True)

    id: str = Field(repr=False)
    name: str = Field(repr=False)


class MessageSender(_Answer):
    mailbox_owner: MessageSenderActor
    person_sending_message_on_behalf_of_mailbox_owner: MessageSenderActor | None = None


class MessageFromEndUser(_Answer):
    """``GET /v2/messages/{id}`` (``MessageFromEndUserResponseV2``): what a citizen sent, kept 60 days."""

    model_config = ConfigDict(extra="ignore", frozen=True, alias_generator=to_camel, populate_by_name=True, hide_input_in_errors=True)

    message_id: int
    created_at: datetime
    electronic: EndUserMessageContent
    sender: MessageSender | None = None


class ErrorResponse(_Answer):
    """``ErrorResponseV1``."""

    reason: str


class ValidationErrorDetail(_Answer):
    error: str
    error_code: str | None = None


class ValidationErrorResponse(_Answer):
    """``ValidationErrorResponseV1``: what ``/v2/messages/electronic`` answers with 400."""

    reason: str
    validation_errors: list[ValidationErrorDetail] = []


class EndUserId(_Answer):
    id: str


class EndUsersWithActiveMailbox(_Answer):
    end_users_with_active_mailbox: list[EndUserId]


class SendResult(BaseModel):
    """The outcome of a send: store ``message_id`` whether the message was new or already sent.

    ``already_sent`` is True when the service answered 409 for a reused ``externalId``: the
    message had been accepted before (perhaps by a run that crashed before recording it), and the
    spec says to treat it as success.
    """

    model_config = ConfigDict(frozen=True)

    message_id: int
    external_id: str
    already_sent: bool
    trace_id: str | None = None


class EventType(StrEnum):
    """``GetV2Event.type`` values in the spec. Events of other types are still returned, as strings."""

    ELECTRONIC_MESSAGE_CREATED = "Electronic message created"
    ELECTRONIC_MESSAGE_FROM_END_USER = "Electronic message from end user"
    ELECTRONIC_MESSAGE_READ = "Electronic message read"
    RECEIPT_CONFIRMED = "Receipt confirmed"
    PAPER_MAIL_CREATED = "Paper mail created"
    SENT_FOR_PRINTING_AND_ENVELOPING = "Sent for printing and enveloping"
    POSTI_RECEIPT_CONFIRMED = "Posti: receipt confirmed"
    POSTI_RETURNED_TO_SENDER = "Posti: returned to sender"
    POSTI_UNRESOLVED = "Posti: unresolved"


class EventMetadata(_Answer):
    """The union of every v2 event's metadata; which fields are set depends on the event type.

    ``Electronic message from end user`` carries only ``messageId`` (the citizen's message, read it
    with ``message_from_end_user``) and ``serviceId``."""

    message_id: int
    service_id: str
    external_id: str | None = None
    receipt_confirmed_by: str | None = None
    posti_tracking_code: str | None = None
    recipient_signature: str | None = Field(default=None, repr=False)


class Event(_Answer):
    type: str
    event_time: datetime
    metadata: EventMetadata


class EventsPage(_Answer):
    """One ``GET /v2/events`` answer. Store ``continuation_token`` and pass it on the next poll;
    an empty ``events`` list means nothing more for now."""

    continuation_token: str
    events: list[Event]
