"""Citizens' replies become work items a person handles, linked to the case they answer.

A citizen answers a message the city sent (a decision sent with ``replyAllowedBy: Anyone``) in
their Suomi.fi mailbox. Suomi.fi Messages reports an ``Electronic message from end user`` event;
:meth:`ReplyIntake.poll` reads the events page by page, fetches each such message with
``GET /v2/messages/{id}`` and adds a ``citizen_reply`` work item:

- reference ``viestit-<messageId>``: the same event read twice is the same item (the queue's
  (process, reference) is unique), so a crash between queueing and saving the cursor adds nothing twice;
- payload :class:`CitizenReply` (title, body, sender): sealed at rest like every payload;
- ``parent_id`` the case replied to: the thread's ``threadExternalId`` is the externalId we sent,
  ``<prefix>-<work item id>-<step>``, and the case counts only when one of its checkpoints recorded that
  very externalId (or the thread's root messageId); otherwise no parent and ``original_case`` says so.

The item stays NEW (no robot claims ``citizen_reply``): staff read it with ``kuntaflow queue show``, answer
the citizen, and close it with ``kuntaflow queue mark-done ID --reason …``. The events' continuation token
is saved after each page is handled (``CURSOR`` in the engine's store). Logs name message and item ids
only, never the title, the body or the sender.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, SecretStr

from connectors.suomifi_viestit import EventType, MessageFromEndUser, ViestitClient
from kuntaflow.secret_store import SecretStore
from kuntaflow.workitems import ItemNotFoundError, WorkItem, WorkQueue
from schemas.citizen_reply import PROCESS

logger = logging.getLogger("processes.citizen_reply")

#: Where the last handled ``/v2/events`` continuation token is kept (opaque; grants nothing without a token).
CURSOR = "viestit-events-cursor"
#: ``<prefix>-<work item id>-<step>``, how processes name what they send (``kuntaflow-library-card-42-decision``).
KUNTAFLOW_EXTERNAL_ID = re.compile(r"^.+-(?P<item_id>\d+)-[a-z][a-z_-]*$")


class ReplyAttachment(BaseModel):
    attachment_id: str
    filename: str | None = None
    media_type: str | None = None
    size_bytes: int | None = None


class CitizenReply(BaseModel):
    """A ``citizen_reply`` work item's payload: what the citizen wrote and which case it answers."""

    message_id: int = Field(description="Suomi.fi Messages' id of the citizen's message.")
    received_at: datetime
    title: str
    body: str
    sender_name: str | None = None
    sender_id: str | None = Field(default=None, description="The mailbox owner's henkilötunnus or business ID.")
    on_behalf_name: str | None = Field(default=None, description="Who wrote it for the mailbox owner, if someone did.")
    attachments: list[ReplyAttachment] = []
    in_reply_to_message_id: int | None = Field(default=None, description="Our message the thread started with.")
    thread_external_id: str | None = Field(default=None, description="The externalId we sent that message with.")
    original_case: str = Field(description="'<process> #<id>' of the case answered, or why none was found.")


@dataclass
class IntakeResult:
    events_read: int = 0
    replies: int = 0
    created: list[int] = field(default_factory=list)
    already_queued: list[int] = field(default_factory=list)


class ReplyIntake:
    """Reads Suomi.fi Messages' events and queues every citizen's reply once."""

    def __init__(self, viestit: ViestitClient, queue: WorkQueue, cursor: SecretStore) -> None:
        self.viestit = viestit
        self.queue = queue
        self.cursor = cursor

    def poll(self) -> IntakeResult:
        """Every page of events the service has now; the cursor is saved after each page is handled."""
        result = IntakeResult()
        stored = self.cursor.read(CURSOR)
        token = stored.value.get_secret_value() if stored else None
        for page in self.viestit.poll_events(token):
            result.events_read += len(page.events)
            for event in page.events:
                if event.type == EventType.ELECTRONIC_MESSAGE_FROM_END_USER:
                    result.replies += 1
                    self._queue_reply(event.metadata.message_id, result)
            self.cursor.write(CURSOR, SecretStr(page.continuation_token))
        return result

    def _queue_reply(self, message_id: int, result: IntakeResult) -> None:
        reference = f"viestit-{message_id}"
        existing = self.queue.find_ids(PROCESS, [reference])
        if existing:
            result.already_queued.append(existing[reference])
            return
        message = self.viestit.message_from_end_user(message_id)
        original = self.original_case(message)
        payload = _payload(message, original)
        item = self.queue.add(PROCESS, reference=reference, payload=payload, parent_id=original.id if original else None, actor="suomifi_viestit")
        result.created.append(item.id)
        logger.info("citizen reply: Suomi.fi message %s queued as work item %s (answers %s)", message_id, item.id, payload.original_case)

    def original_case(self, message: MessageFromEndUser) -> WorkItem | None:
        """The work item whose send started the thread, when its checkpoints prove it."""
        thread = message.electronic.thread
        if thread is None or not thread.thread_external_id:
            return None
        match = KUNTAFLOW_EXTERNAL_ID.match(thread.thread_external_id)
        if match is None:
            return None
        try:
            candidate = self.queue.get(int(match["item_id"]))
        except ItemNotFoundError:
            return None
        for checkpoint in self.queue.checkpoints(candidate.id).values():
            if checkpoint.get("external_id") == thread.thread_external_id or _same_message(checkpoint.get("message_id"), thread.root_message_id):
                return candidate
        return None


def _same_message(recorded: Any, root_message_id: int) -> bool:
    return recorded is not None and str(recorded) == str(root_message_id)


def _payload(message: MessageFromEndUser, original: WorkItem | None) -> CitizenReply:
    thread = message.electronic.thread
    sender = message.sender
    on_behalf = sender.person_sending_message_on_behalf_of_mailbox_owner if sender else None
    if original is not None:
        described = f"{original.process} #{original.id}"
    elif thread is not None and thread.thread_external_id:
        described = "no Kuntaflow case sent this thread's first message"
    else:
        described = "not a reply to a message Kuntaflow sent"
    return CitizenReply(
        message_id=message.message_id,
        received_at=message.created_at,
        title=message.electronic.title,
        body=message.electronic.body,
        sender_name=sender.mailbox_owner.name if sender else None,
        sender_id=sender.mailbox_owner.id if sender else None,
        on_behalf_name=on_behalf.name if on_behalf else None,
        attachments=[ReplyAttachment(**attachment.model_dump()) for attachment in message.electronic.attachments],
        in_reply_to_message_id=thread.root_message_id if thread else None,
        thread_external_id=thread.thread_external_id if thread else None,
        original_case=described,
    )
