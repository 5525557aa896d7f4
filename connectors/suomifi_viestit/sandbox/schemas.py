"""Request bodies the sandbox accepts, written from shared/specs/suomifi/messages-rest/messages-api.yaml.

Field names are the spec's own (camelCase), constraints are the spec's (lengths, enums, item
counts). These models are deliberately separate from the client's (``connectors.suomifi_viestit.models``):
a sandbox that shared the client's models could not catch the client's mistakes.

Unknown fields are accepted and ignored, as the real service does: the spec declares no
``additionalProperties: false`` and says "new fields may be added to the JSON request and response
bodies without being considered a breaking change", so a client written for a newer version still
works. The sandbox keeps their dotted names (:func:`unknown_fields`, ``SentMessage.ignored_fields``),
so a test can still catch a misspelt optional field (``colourPrinting``) of our own client.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from connectors.suomifi_viestit.models import COUNTRY_CODES

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"

Uuid = Annotated[str, StringConstraints(pattern=UUID_PATTERN)]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Text256 = Annotated[str, StringConstraints(min_length=1, max_length=256)]
Text1500 = Annotated[str, StringConstraints(min_length=1, max_length=1500)]
EndUserIdText = Annotated[str, StringConstraints(min_length=9, max_length=11)]
MessageServiceType = Literal["Normal", "Verifiable"]
CountryCode = Literal[COUNTRY_CODES]  # type: ignore[valid-type]


class _Spec(BaseModel):
    # strict: JSON true is a boolean, "1" is not a number; hide_input: a hetu never lands in an error text.
    model_config = ConfigDict(extra="allow", strict=True, hide_input_in_errors=True)


def unknown_fields(model: BaseModel, prefix: str = "") -> list[str]:
    """The dotted names of the fields the spec does not define, anywhere in a parsed body."""
    found = [f"{prefix}{name}" for name in (model.__pydantic_extra__ or {})]
    for name in type(model).model_fields:
        value = getattr(model, name)
        children = value if isinstance(value, list) else [value]
        for index, child in enumerate(children):
            if isinstance(child, BaseModel):
                where = f"{prefix}{name}[{index}]." if isinstance(value, list) else f"{prefix}{name}."
                found.extend(unknown_fields(child, where))
    return found


class AccessTokenRequestBody(_Spec):
    password: str
    username: str


class ChangePasswordRequestBody(_Spec):
    accessToken: str
    currentPassword: str
    newPassword: str


class EndUserId(_Spec):
    id: EndUserIdText


class EndUsers(_Spec):
    endUsers: list[EndUserId] = Field(min_length=1, max_length=10_000)


class AttachmentReference(_Spec):
    attachmentId: Uuid


class UnreadMessageNotification(_Spec):
    reminder: Literal["Default reminder", "No reminders"]


class CustomisedMessageNotificationTitle(_Spec):
    en: Text256
    fi: Text256
    sv: Text256


class CustomisedMessageNotificationContent(_Spec):
    en: Text1500
    fi: Text1500
    sv: Text1500


class CustomisedMessageNotification(_Spec):
    content: CustomisedMessageNotificationContent
    title: CustomisedMessageNotificationTitle


class MessageNotifications(_Spec):
    customisedNewMessageNotification: CustomisedMessageNotification | None = None
    senderDetailsInNotifications: Literal["Organisation and service name", "None"]
    unreadMessageNotification: UnreadMessageNotification


class ElectronicPart(_Spec):
    attachments: list[AttachmentReference] = Field(max_length=50)
    body: Annotated[str, StringConstraints(min_length=1, max_length=40_000)]
    bodyFormat: Literal["Text", "Markdown"]
    inReplyToMessageId: int | None = None
    messageServiceType: MessageServiceType
    notifications: MessageNotifications
    replyAllowedBy: Literal["Anyone", "No one"]
    title: Text256
    visibility: Literal["Normal", "Recipient only"]


class Recipient(_Spec):
    id: EndUserIdText


class Sender(_Spec):
    serviceId: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Address(_Spec):
    additionalName: Text256 | None = None
    city: Text256
    countryCode: CountryCode
    name: Text256
    streetAddress: Text256
    zipCode: Annotated[str, StringConstraints(min_length=1, max_length=64)]

    def lines(self) -> list[str]:
        lines = [self.name, *([self.additionalName] if self.additionalName else []), self.streetAddress]
        return [*lines, f"{self.zipCode} {self.city}", *([self.countryCode] if self.countryCode != "FI" else [])]


class ContactDetails(_Spec):
    email: Annotated[str, StringConstraints(min_length=5, max_length=256)]


class PostiMessaging(_Spec):
    contactDetails: ContactDetails
    password: Annotated[str, StringConstraints(min_length=4, max_length=4)]
    username: Annotated[str, StringConstraints(min_length=6, max_length=6)]


class PrintingAndEnvelopingService(_Spec):
    # JSON Schema patterns are unanchored: '[A-Z0-9]+' asks for at least one such character somewhere.
    costPool: Annotated[str, StringConstraints(min_length=1, max_length=15, pattern=r"[A-Z0-9]+")] | None = None
    postiMessaging: PostiMessaging


class PaperMailAddressHolder(_Spec):
    address: Address


class PaperMailPart(_Spec):
    attachments: list[AttachmentReference] = Field(min_length=1, max_length=1)
    colorPrinting: bool
    createAddressPage: bool
    messageServiceType: MessageServiceType
    printingAndEnvelopingService: PrintingAndEnvelopingService
    recipient: PaperMailAddressHolder
    rotateLandscapePages: bool
    sender: PaperMailAddressHolder
    twoSidedPrinting: bool


class ElectronicMessageRequestBody(_Spec):
    electronic: ElectronicPart
    externalId: ExternalId
    recipient: Recipient
    sender: Sender


class MultichannelMessageRequestBody(_Spec):
    electronic: ElectronicPart
    externalId: ExternalId
    paperMail: PaperMailPart
    recipient: Recipient
    sender: Sender


class PaperMailWithoutIdRequestBody(_Spec):
    externalId: ExternalId
    paperMail: PaperMailPart
    sender: Sender
