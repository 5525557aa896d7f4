"""State of the Suomi.fi Messages sandbox: credentials, tokens, mailboxes, attachments, messages, events.

Tests inspect it through ``app.state.store`` (``store.messages``, ``store.events_for(...)``,
``store.advance(seconds)`` to let tokens and attachments expire). Every method takes the lock:
the HTML pages and the API may be served from different threads.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from connectors.suomifi_viestit.sandbox.seed import TestCitizen
from schemas.redaction import MASK

ATTACHMENT_LIFETIME = timedelta(hours=24)
#: "The data of messages sent by end users is retrievable for 60 days" (getV2Messages, getV1Attachment).
END_USER_DATA_LIFETIME = timedelta(days=60)
FIRST_MESSAGE_ID = 1_000_001
#: postV1ChangePassword: "at least 32 characters long and contains at least one lower case, upper case, number, and symbol character".
PASSWORD_MIN_LENGTH = 32


class MessagesApiError(Exception):
    """An answer other than success, in the spec's shape for the endpoint."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


@dataclass(repr=False)
class StoredAttachment:
    attachment_id: str
    system: str
    filename: str
    media_type: str
    content: bytes
    uploaded_at: datetime
    used: bool = False

    def __repr__(self) -> str:
        return f"StoredAttachment({self.attachment_id}, {self.filename!r}, {self.media_type}, {len(self.content)} bytes)"


@dataclass(repr=False)
class PaperLetter:
    """What went to Posti: the PDF, the address blocks and the print options."""

    pdf: StoredAttachment
    recipient_address: list[str]
    sender_address: list[str]
    posti_username: str
    cost_pool: str | None
    options: dict[str, Any]


@dataclass(repr=False)
class SentMessage:
    """One message the organisation sent. ``recipient_id`` is the raw hetu: never print it."""

    message_id: int
    external_id: str
    system: str
    service_id: str
    endpoint: Literal["electronic", "multichannel", "paper-mail-without-id"]
    channel: Literal["electronic", "paper"]
    recipient_id: str | None  # None for paper mail sent by address only
    title: str
    body: str
    body_format: str
    created_at: datetime
    request: dict[str, Any]
    attachments: list[StoredAttachment] = field(default_factory=list)
    paper: PaperLetter | None = None
    read_at: datetime | None = None
    ignored_fields: list[str] = field(default_factory=list)
    replies: list[MessageFromEndUser] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"SentMessage({self.message_id}, external_id={self.external_id!r}, channel={self.channel})"

    @property
    def reply_allowed(self) -> bool:
        """The recipient may answer: an electronic message sent with ``replyAllowedBy: Anyone``."""
        return self.channel == "electronic" and self.request.get("electronic", {}).get("replyAllowedBy") == "Anyone"


@dataclass(repr=False)
class EndUserAttachment:
    """A file a citizen attached to a message (``GET /v1/attachments/{id}`` serves it)."""

    attachment_id: str
    filename: str
    media_type: str
    content: bytes

    def as_json(self) -> dict[str, Any]:
        return {"attachmentId": self.attachment_id, "filename": self.filename, "mediaType": self.media_type, "sizeBytes": len(self.content)}


@dataclass(repr=False)
class MessageFromEndUser:
    """A message a citizen sent to the organisation: here always a reply to one of its messages.

    ``sender_id`` is the citizen's hetu (the real service puts it in ``sender.mailboxOwner.id``):
    never print it.
    """

    message_id: int
    system: str
    service_id: str
    sender_id: str
    sender_name: str
    title: str
    body: str
    created_at: datetime
    in_reply_to: SentMessage
    attachments: list[EndUserAttachment] = field(default_factory=list)

    def __repr__(self) -> str:
        return f"MessageFromEndUser({self.message_id}, in_reply_to={self.in_reply_to.message_id})"

    def as_json(self) -> dict[str, Any]:
        """``MessageFromEndUserResponseV2``: the thread's root is the message replied to, its externalId the thread's."""
        electronic = {
            "messageId": self.message_id,
            "createdAt": _iso(self.created_at),
            "title": self.title,
            "body": self.body,
            "attachments": [attachment.as_json() for attachment in self.attachments],
            "thread": {"rootMessageId": self.in_reply_to.message_id, "threadExternalId": self.in_reply_to.external_id},
        }
        return {
            "messageId": self.message_id,
            "createdAt": _iso(self.created_at),
            "electronic": electronic,
            "sender": {"mailboxOwner": {"id": self.sender_id, "name": self.sender_name}},
        }


@dataclass(frozen=True)
class StoredEvent:
    system: str
    type: str
    event_time: datetime
    metadata: dict[str, Any]

    def as_json(self) -> dict[str, Any]:
        return {"type": self.type, "eventTime": _iso(self.event_time), "metadata": self.metadata}


@dataclass
class Recipient:
    """A person shown on the mailbox page: a seeded test citizen or someone a message was sent to."""

    key: int
    hetu: str = field(repr=False)
    name: str | None
    active_mailbox: bool
    person_key: str | None = None

    @property
    def masked_hetu(self) -> str:
        """Birth date kept, the rest masked: enough to tell test persons apart."""
        return f"{self.hetu[:6]}{MASK[6:]}"


class ViestitStore:
    """Everything the sandbox remembers."""

    def __init__(
        self,
        *,
        credentials: dict[str, str],
        service_ids: dict[str, set[str]],
        citizens: Iterable[TestCitizen] = (),
        token_ttl_seconds: int = 900,
        events_page_size: int = 1000,
        password_change_interval_seconds: int = 0,
    ) -> None:
        self.lock = threading.RLock()
        self.credentials = dict(credentials)
        self.service_ids = {system: set(ids) for system, ids in service_ids.items()}
        self.token_ttl_seconds = token_ttl_seconds
        self.events_page_size = events_page_size
        self.password_change_interval = timedelta(seconds=password_change_interval_seconds)
        self.password_changed_at: dict[str, datetime] = {}
        self.citizens: dict[str, TestCitizen] = {}
        self.recipients: dict[str, Recipient] = {}
        self.tokens: dict[str, tuple[str, datetime]] = {}
        self.attachments: dict[str, StoredAttachment] = {}
        self.messages: dict[int, SentMessage] = {}
        self.from_end_users: dict[int, MessageFromEndUser] = {}
        self.end_user_attachments: dict[str, tuple[MessageFromEndUser, EndUserAttachment]] = {}
        self.by_external_id: dict[tuple[str, str], int] = {}
        self.events: list[StoredEvent] = []
        self.continuation_tokens: dict[str, tuple[str, int]] = {}
        self.tokens_issued = 0
        self._offset = timedelta(0)
        self._next_message_id = FIRST_MESSAGE_ID
        for citizen in citizens:
            self.add_citizen(citizen)

    # ------------------------------------------------------------------ time

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> None:
        """Move the sandbox's clock forward (tokens and unused attachments expire)."""
        with self.lock:
            self._offset += timedelta(seconds=seconds)

    # ------------------------------------------------------------------ people and mailboxes

    def add_citizen(self, citizen: TestCitizen) -> None:
        with self.lock:
            self.citizens[citizen.hetu] = citizen
            recipient = self._recipient(citizen.hetu)
            recipient.name = citizen.name
            recipient.active_mailbox = citizen.active_mailbox
            recipient.person_key = citizen.person_key

    def set_mailbox(self, hetu: str, active: bool) -> None:
        """Open or close a person's Suomi.fi mailbox."""
        with self.lock:
            self._recipient(hetu).active_mailbox = active

    def has_active_mailbox(self, hetu: str) -> bool:
        with self.lock:
            recipient = self.recipients.get(hetu)
            return bool(recipient and recipient.active_mailbox)

    def recipient_by_key(self, key: int) -> Recipient | None:
        with self.lock:
            return next((r for r in self.recipients.values() if r.key == key), None)

    def recipient_by_person_key(self, person_key: str) -> Recipient | None:
        """The recipient who is ``person_key`` in the shared sandbox population."""
        with self.lock:
            return next((r for r in self.recipients.values() if r.person_key == person_key), None)

    def recipient_list(self) -> list[Recipient]:
        with self.lock:
            return sorted(self.recipients.values(), key=lambda r: r.key)

    def _recipient(self, hetu: str) -> Recipient:
        recipient = self.recipients.get(hetu)
        if recipient is None:
            recipient = self.recipients[hetu] = Recipient(key=len(self.recipients) + 1, hetu=hetu, name=None, active_mailbox=False)
        return recipient

    # ------------------------------------------------------------------ tokens

    def issue_token(self, username: str, password: str) -> dict[str, Any]:
        with self.lock:
            if username not in self.credentials or not secrets.compare_digest(self.credentials[username], password):
                raise MessagesApiError(400, {"reason": "Authentication failed"})
            token = secrets.token_urlsafe(32)
            self.tokens[token] = (username, self.now() + timedelta(seconds=self.token_ttl_seconds))
            self.tokens_issued += 1
            return {"access_token": token, "expires_in": self.token_ttl_seconds, "token_type": "Bearer"}

    def system_for_token(self, token: str) -> str | None:
        """The system a live token belongs to; None for an unknown or expired token."""
        with self.lock:
            entry = self.tokens.get(token)
            if entry is None:
                return None
            system, expires_at = entry
            if self.now() >= expires_at:
                del self.tokens[token]
                return None
            return system

    def change_password(self, access_token: str, current_password: str, new_password: str) -> None:
        """``POST /v1/change-password``: the token in the body names the system; tokens already issued stay valid.

        Raises:
            MessagesApiError: 400 ``ErrorResponseV1`` for an unknown or expired token, a wrong current
                password, a new password the policy refuses, or a change too soon after the last one.
        """
        with self.lock:
            system = self.system_for_token(access_token)
            if system is None or not secrets.compare_digest(self.credentials[system], current_password):
                raise MessagesApiError(400, {"reason": "Authentication failed"})
            if problem := password_policy_problem(new_password):
                raise MessagesApiError(400, {"reason": f"Invalid new password: {problem}"})
            last = self.password_changed_at.get(system)
            if last is not None and self.now() - last < self.password_change_interval:
                raise MessagesApiError(400, {"reason": "Password was changed recently; try again later"})
            self.credentials[system] = new_password
            self.password_changed_at[system] = self.now()

    def expire_tokens(self) -> None:
        """Every token issued so far stops working (what a client sees after a long pause)."""
        with self.lock:
            self.tokens.clear()

    # ------------------------------------------------------------------ attachments

    def add_attachment(self, system: str, filename: str, media_type: str, content: bytes) -> StoredAttachment:
        with self.lock:
            attachment = StoredAttachment(str(uuid.uuid4()), system, filename, media_type, content, self.now())
            self.attachments[attachment.attachment_id] = attachment
            return attachment

    def usable_attachment(self, system: str, attachment_id: str) -> StoredAttachment | None:
        """An attachment this system uploaded that is still there (unused ones go after 24 h)."""
        with self.lock:
            attachment = self.attachments.get(attachment_id.lower())
            if attachment is None or attachment.system != system:
                return None
            if not attachment.used and self.now() - attachment.uploaded_at > ATTACHMENT_LIFETIME:
                del self.attachments[attachment.attachment_id]
                return None
            return attachment

    # ------------------------------------------------------------------ messages

    def existing_message_id(self, system: str, external_id: str) -> int | None:
        with self.lock:
            return self.by_external_id.get((system, external_id))

    def add_message(self, **fields: Any) -> SentMessage:
        """Record a new message and the events its channel produces."""
        with self.lock:
            message = SentMessage(message_id=self._next_message_id, created_at=self.now(), **fields)
            self._next_message_id += 1
            self.messages[message.message_id] = message
            self.by_external_id[(message.system, message.external_id)] = message.message_id
            if message.recipient_id is not None:
                self._recipient(message.recipient_id)
            for attachment in message.attachments:
                attachment.used = True
            if message.paper is not None:
                message.paper.pdf.used = True
            if message.channel == "electronic":
                self._event(message, "Electronic message created")
            else:
                self._event(message, "Paper mail created")
                self._event(message, "Sent for printing and enveloping")
            return message

    def mark_read(self, message_id: int) -> SentMessage | None:
        """The recipient opened an electronic message (from the mailbox page)."""
        with self.lock:
            message = self.messages.get(message_id)
            if message is None or message.channel != "electronic":
                return None
            if message.read_at is None:
                message.read_at = self.now()
                self._event(message, "Electronic message read")
            return message

    def receive_reply(self, message_id: int, title: str, body: str, attachments: Iterable[tuple[str, str, bytes]] = ()) -> MessageFromEndUser:
        """The recipient of message ``message_id`` answers it (what a citizen does in the Suomi.fi mailbox).

        Produces the ``Electronic message from end user`` event; ``GET /v2/messages/{id}`` then serves
        the reply and ``GET /v1/attachments/{id}`` its files (``(filename, media type, content)``).

        Raises:
            LookupError: no such message, or it does not allow replies (a paper letter, ``replyAllowedBy: No one``).
            ValueError: an empty title or body.
        """
        with self.lock:
            original = self.messages.get(message_id)
            if original is None or not original.reply_allowed or original.recipient_id is None:
                raise LookupError(f"message {message_id} cannot be replied to")
            if not title.strip() or not body.strip():
                raise ValueError("a reply needs a title and a body")
            citizen = self.recipients[original.recipient_id]
            reply = MessageFromEndUser(
                message_id=self._next_message_id,
                system=original.system,
                service_id=original.service_id,
                sender_id=original.recipient_id,
                sender_name=citizen.name or "Tuntematon",
                title=title.strip(),
                body=body,
                created_at=self.now(),
                in_reply_to=original,
            )
            self._next_message_id += 1
            for filename, media_type, content in attachments:
                attachment = EndUserAttachment(str(uuid.uuid4()), filename, media_type, content)
                reply.attachments.append(attachment)
                self.end_user_attachments[attachment.attachment_id] = (reply, attachment)
            self.from_end_users[reply.message_id] = reply
            original.replies.append(reply)
            metadata = {"messageId": reply.message_id, "serviceId": reply.service_id}
            self.events.append(StoredEvent(reply.system, "Electronic message from end user", reply.created_at, metadata))
            return reply

    def message_from_end_user(self, system: str, message_id: int) -> MessageFromEndUser | None:
        """A citizen's message to this system, while it is kept (60 days)."""
        with self.lock:
            message = self.from_end_users.get(message_id)
            if message is None or message.system != system or self.now() - message.created_at > END_USER_DATA_LIFETIME:
                return None
            return message

    def end_user_attachment(self, system: str, attachment_id: str) -> EndUserAttachment | None:
        """A file a citizen attached to a message to this system, while it is kept (60 days)."""
        with self.lock:
            entry = self.end_user_attachments.get(attachment_id.lower())
            if entry is None or self.message_from_end_user(system, entry[0].message_id) is None:
                return None
            return entry[1]

    def messages_to(self, hetu: str) -> list[SentMessage]:
        with self.lock:
            return [m for m in self.messages.values() if m.recipient_id == hetu]

    def message_by_external_id(self, external_id: str, system: str | None = None) -> SentMessage | None:
        with self.lock:
            for message in self.messages.values():
                if message.external_id == external_id and system in (None, message.system):
                    return message
            return None

    # ------------------------------------------------------------------ events

    def _event(self, message: SentMessage, event_type: str) -> None:
        metadata = {"messageId": message.message_id, "serviceId": message.service_id, "externalId": message.external_id}
        self.events.append(StoredEvent(message.system, event_type, self.now(), metadata))

    def events_for(self, system: str) -> list[StoredEvent]:
        with self.lock:
            return [event for event in self.events if event.system == system]

    def events_page(self, system: str, continuation_token: str | None) -> dict[str, Any]:
        """Up to ``events_page_size`` events after the token's position, and the token for the next poll.

        Raises:
            MessagesApiError: 400 for a token this system was never given.
        """
        with self.lock:
            position = 0
            if continuation_token is not None:
                entry = self.continuation_tokens.get(continuation_token)
                if entry is None or entry[0] != system:
                    raise MessagesApiError(400, {"reason": "Invalid continuation token"})
                position = entry[1]
            mine = [event for event in self.events if event.system == system]
            page = mine[position : position + self.events_page_size]
            token = secrets.token_urlsafe(24)
            self.continuation_tokens[token] = (system, position + len(page))
            return {"continuationToken": token, "events": [event.as_json() for event in page]}


def password_policy_problem(password: str) -> str | None:
    """What the API's password rule finds wrong with ``password`` (never the password itself); None if it passes."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"shorter than {PASSWORD_MIN_LENGTH} characters"
    classes = {
        "lower case": any(c.islower() for c in password),
        "upper case": any(c.isupper() for c in password),
        "number": any(c.isdigit() for c in password),
        "symbol": any(not c.isalnum() and not c.isspace() for c in password),
    }
    missing = [name for name, present in classes.items() if not present]
    return f"no {', no '.join(missing)} character" if missing else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
