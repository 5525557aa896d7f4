"""Models for the e-mail (SMTP) connector: an outgoing message, its attachments, the send result.

The idempotency key a caller gives becomes the ``Message-ID`` (a hash of it, so the key's
wording is not exposed), so a message sent again after a lost answer is the same message: the
sandbox refuses to deliver a Message-ID twice, and a receiving mail system can tell the copies
apart. Nothing here may carry a henkilötunnus: e-mail is not a protected channel.
"""

from __future__ import annotations

import hashlib
from email.message import Message
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.email_address import Address
from schemas.redaction import HETU_PATTERN

#: Content types for the attachments the processes send.
ICS_CONTENT_TYPE = "text/calendar; method=REQUEST; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_CONTENT_TYPE = "application/pdf"


def message_id_for(idempotency_key: str, domain: str) -> str:
    """The ``Message-ID`` for an idempotency key: the same key always gives the same id."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:40]
    return f"<kf-{digest}@{domain}>"


def _parse_content_type(value: str) -> tuple[str, str, dict[str, str]]:
    probe = Message()
    probe["Content-Type"] = value
    maintype, subtype = probe.get_content_maintype(), probe.get_content_subtype()
    if "/" not in value.split(";", 1)[0] or not maintype or not subtype or maintype == "multipart":
        raise ValueError("content_type must be type/subtype (not multipart), e.g. text/calendar or application/pdf")
    params = dict((probe.get_params() or [])[1:])
    return maintype, subtype, params


class EmailAttachment(BaseModel):
    """One file attached to a message."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    filename: str = Field(min_length=1, max_length=200)
    content: bytes = Field(repr=False)
    content_type: str = Field(default="application/octet-stream", description="MIME type with parameters, e.g. ICS_CONTENT_TYPE.")

    @field_validator("filename")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if any(ch in value for ch in "/\\\r\n\x00"):
            raise ValueError("an attachment filename has no path separators or line breaks")
        return value

    @field_validator("content_type")
    @classmethod
    def _mime_type(cls, value: str) -> str:
        _parse_content_type(value)
        return value

    @property
    def mime_parts(self) -> tuple[str, str, dict[str, str]]:
        """(maintype, subtype, parameters) for ``EmailMessage.add_attachment``."""
        return _parse_content_type(self.content_type)

    @classmethod
    def calendar(cls, filename: str, ics: str, *, method: str = "REQUEST") -> EmailAttachment:
        """An iCalendar (.ics) invitation, e.g. an interview slot or the first working day."""
        return cls(filename=filename, content=ics.encode("utf-8"), content_type=f"text/calendar; method={method}; charset=utf-8")

    @classmethod
    def excel(cls, filename: str, content: bytes) -> EmailAttachment:
        """An .xlsx workbook, e.g. the recruiter's report."""
        return cls(filename=filename, content=content, content_type=XLSX_CONTENT_TYPE)


class OutgoingEmail(BaseModel):
    """One e-mail to send. ``idempotency_key`` names the business act (e.g. ``employment_start:123:welcome``)."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    to: list[Address] = Field(min_length=1, max_length=50)
    cc: list[Address] = Field(default_factory=list, max_length=50)
    subject: str = Field(min_length=1, max_length=250)
    text: str = Field(min_length=1, description="Plain-text body; always sent, the HTML is an alternative.")
    html: str | None = Field(default=None, description="Optional HTML alternative of the same content.")
    attachments: list[EmailAttachment] = Field(default_factory=list, max_length=20)
    reply_to: Address | None = None
    idempotency_key: str = Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$", description="Stable per business act; printable ASCII, no spaces.")

    @field_validator("subject")
    @classmethod
    def _one_line(cls, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise ValueError("a subject is one line")
        return value

    @model_validator(mode="after")
    def _never_a_hetu(self) -> OutgoingEmail:
        """E-mail is not a protected channel: no henkilötunnus in any text we send."""
        texts: dict[str, str] = {"subject": self.subject, "text": self.text, "html": self.html or "", "idempotency_key": self.idempotency_key}
        for attachment in self.attachments:
            texts[f"attachment {attachment.filename!r}"] = attachment.filename
            if attachment.mime_parts[0] == "text":
                texts[f"attachment {attachment.filename!r}"] += attachment.content.decode("utf-8", errors="replace")
        for name, text in texts.items():
            if HETU_PATTERN.search(text):
                raise ValueError(f"{HETU_PATTERN.sub('******-****', name)} holds a henkilötunnus; e-mail must never carry one")
        return self

    def __repr__(self) -> str:
        # Addresses, subject and body are personal data: keep them out of Robot and Prefect logs.
        names = [a.filename for a in self.attachments]
        return f"OutgoingEmail(idempotency_key={self.idempotency_key!r}, recipients={len(self.to) + len(self.cc)}, attachments={names!r})"

    __str__ = __repr__

    def __repr_args__(self) -> Any:
        yield "idempotency_key", self.idempotency_key


class SendResult(BaseModel):
    """What the mail server said. ``already_delivered``: the server had this Message-ID already."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    accepted: int = Field(description="How many recipients the server took.")
    refused: dict[str, int] = Field(default_factory=dict, repr=False, description="Address → SMTP code for recipients refused while others were taken.")
    already_delivered: bool = False
    server_reply: str = Field(default="", description="The server's final reply to DATA, e.g. '2.0.0 Ok: queued as 1A2B'.")
