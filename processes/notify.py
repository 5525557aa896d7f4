"""Telling a person something: Suomi.fi Messages, else e-mail, else a printed letter, in their language.

Every process that writes to a citizen uses :class:`Notifier`. The channel is chosen once
(``schemas.messages.choose_channel``: an active mailbox wins, then the person's preference and what
they gave) and **checkpointed before anything is sent** (``<step>_channel``). A retry reads that
checkpoint and sends on the same channel again, under the same ``externalId`` / idempotency key, so
the peer treats the resend as the message it already has: a robot that dies after sending never
makes the person hear twice through two channels, even when their mailbox closed in between.

A channel may still turn out closed while sending, and then the next one is checkpointed and used:

- Suomi.fi Messages answers ``MAILBOX_NOT_IN_USE``: safe on any attempt, because Messages answers a
  reused ``externalId`` with 409 before it looks at the mailbox, so that answer proves nothing went
  out under this id;
- the mail server refuses the address: safe only on the attempt that chose e-mail; on a later
  attempt an earlier one may have delivered it, so the item goes to a person (``NOTIFICATION_REFUSED``).

Once sent, ``<step>_sent`` (:class:`MessageSent`) holds the channel and the peer's message id, and a
retry skips the step.

Messages reaches people by henkilötunnus only (a printed letter goes through its printing service
too). A process that knows a person only by the salted hetu key (Koha holds nothing else) is given a
:class:`HetuSource`: how Kuntaflow lawfully reaches that person's henkilötunnus, each read with its
purpose. :class:`NoHetuSource` is the one to use until a person vault is configured; a vault, or a
city's own register behind a connector, plugs in by implementing ``hetu_for``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from connectors.email.client import EmailClient
from connectors.email.errors import MessageRejectedError, RecipientRefusedError
from connectors.email.models import OutgoingEmail
from connectors.errors import BusinessRuleError
from connectors.letters import Letter, PostalAddress, render_letter
from connectors.suomifi_viestit import ElectronicMessage, MailboxNotInUseError, NewElectronicMessage, NewMultichannelMessage, PaperMail, ViestitClient
from processes.checkpoints import Checkpoint, Checkpoints
from schemas.hetu import Hetu
from schemas.library_card import FinnishAddress
from schemas.messages import Channel, Language, MessageText, NotificationPreference, choose_channel

log = logging.getLogger(__name__)


class Recipient(BaseModel):
    """Who is told, and every way Kuntaflow lawfully has of reaching them. Its repr shows no personal data."""

    model_config = ConfigDict(frozen=True)

    name: str = Field(repr=False, description="As a letter's address block reads: 'Surname First Names'.")
    language: Language = Language.FI
    hetu: Hetu | None = Field(default=None, repr=False, description="Needed for a Suomi.fi mailbox and a printed letter.")
    email: str | None = Field(default=None, repr=False)
    postal_address: FinnishAddress | None = Field(default=None, repr=False)
    preference: NotificationPreference = NotificationPreference.SUOMI_FI


class ChannelChosen(Checkpoint):
    """The channel a message goes out on, recorded before sending; every retry uses it."""

    STEP = "notify_channel"
    channel: Channel
    external_id: str


class MessageSent(Checkpoint):
    """How a message went out; ``external_id`` makes a resend after a crash a no-op at the peer."""

    STEP = "message_sent"
    channel: Channel
    message_id: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class LetterHeading:
    """How a printed letter names itself: the PDF's file name and the case reference under the date."""

    file_name: str
    reference: str
    dated: date


class HetuSource(Protocol):
    """Where a process finds the henkilötunnus of a person it knows by the salted hetu key only."""

    def hetu_for(self, hetu_key: str, *, purpose: str) -> Hetu | None:
        """The person's henkilötunnus, or None when Kuntaflow has no lawful copy; ``purpose`` goes to the access log."""
        ...


class NoHetuSource:
    """Kuntaflow holds no henkilötunnus for people it knows only from Koha: Messages and letters are out of reach."""

    def hetu_for(self, hetu_key: str, *, purpose: str) -> Hetu | None:
        return None


class Notifier:
    """Sends one message to one person through the first channel that takes it, at most one channel per message."""

    def __init__(self, viestit: ViestitClient, email: EmailClient, *, replies_allowed: bool = False) -> None:
        """``replies_allowed``: the citizen may answer a Suomi.fi message; a reply becomes a ``citizen_reply`` work item."""
        self.viestit = viestit
        self.email = email
        self.replies_allowed = replies_allowed

    def notify(self, recipient: Recipient, text: MessageText, *, external_id: str, checkpoints: Checkpoints, step: str, letter: LetterHeading) -> MessageSent:
        """Send ``text`` once; ``step`` names this message's checkpoints (``<step>_channel``, ``<step>_sent``).

        Raises:
            BusinessRuleError: ``NOTIFICATION_REFUSED``, the mail server refused on a retry an address
                an earlier attempt may already have written to.
        """
        sent_step, channel_step = f"{step}_sent", f"{step}_channel"
        done = checkpoints.get(MessageSent, sent_step)
        if done is not None:
            log.info("The %s went out on an earlier attempt by %s (checkpoint %s); skipped.", step, done.channel.value, sent_step)
            return done
        chosen = checkpoints.get(ChannelChosen, channel_step)
        chosen_now = chosen is None
        channel = self.first_channel(recipient) if chosen is None else chosen.channel
        if chosen is None:
            checkpoints.record(ChannelChosen(channel=channel, external_id=external_id), channel_step)
        else:
            log.info("The %s goes out by %s, as an earlier attempt chose (checkpoint %s).", step, channel.value, channel_step)
        message_id: str | None = None
        while channel is not Channel.NONE:
            message_id = self.send(channel, recipient, text, external_id=external_id, letter=letter)
            if message_id is not None:
                break
            if channel is Channel.EMAIL and not chosen_now:
                raise BusinessRuleError(
                    f"the mail server refused the {step} e-mail on a retry; an earlier attempt may have sent it, so no other channel is tried",
                    code="NOTIFICATION_REFUSED",
                )
            channel = self.next_channel(channel, recipient)
            checkpoints.record(ChannelChosen(channel=channel, external_id=external_id), channel_step)
            chosen_now = True
        if channel is Channel.NONE:
            log.warning("No mailbox, e-mail or address to send the %s to.", step)
        sent = MessageSent(channel=channel, message_id=message_id, external_id=external_id)
        checkpoints.record(sent, sent_step)
        return sent

    def first_channel(self, recipient: Recipient) -> Channel:
        mailbox = recipient.hetu is not None and self.viestit.has_active_mailbox(recipient.hetu)
        return choose_channel(mailbox_active=mailbox, preference=recipient.preference, email=recipient.email, postal_address=_letter_address(recipient))

    @staticmethod
    def next_channel(closed: Channel, recipient: Recipient) -> Channel:
        """The channel after one that turned out closed: the mailbox → e-mail or letter; e-mail → letter."""
        if closed is Channel.SUOMI_FI:
            return choose_channel(mailbox_active=False, preference=recipient.preference, email=recipient.email, postal_address=_letter_address(recipient))
        if closed is Channel.EMAIL and _letter_address(recipient) is not None:
            return Channel.LETTER
        return Channel.NONE

    def send(self, channel: Channel, recipient: Recipient, text: MessageText, *, external_id: str, letter: LetterHeading) -> str | None:
        """The peer's message id, or None when the channel turned out closed (nothing went out)."""
        if channel is Channel.SUOMI_FI:
            return self.send_electronic(external_id, recipient, text)
        if channel is Channel.EMAIL:
            assert recipient.email is not None  # choose_channel picks e-mail only with an address
            return self.send_email(external_id, recipient.email, text)
        return self.send_letter(external_id, recipient, text, letter)

    def send_electronic(self, external_id: str, recipient: Recipient, text: MessageText) -> str | None:
        assert recipient.hetu is not None
        try:
            result = self.viestit.send_electronic(
                NewElectronicMessage(external_id=external_id, recipient=recipient.hetu, electronic=electronic(text, replies_allowed=self.replies_allowed))
            )
        except MailboxNotInUseError:
            log.warning("Suomi.fi Messages: the mailbox is no longer in use; falling back.")
            return None
        if result.already_sent:
            log.info("Suomi.fi Messages had %s already (message %s): not sent twice.", external_id, result.message_id)
        return str(result.message_id)

    def send_email(self, external_id: str, address: str, text: MessageText) -> str | None:
        email = OutgoingEmail(to=[address], subject=text.title, text=text.body, idempotency_key=external_id)
        try:
            return self.email.send(email).message_id
        except (RecipientRefusedError, MessageRejectedError) as refused:
            log.warning("The mail server refused the e-mail (%s); falling back.", refused.code)
            return None

    def send_letter(self, external_id: str, recipient: Recipient, text: MessageText, heading: LetterHeading) -> str:
        """Upload the letter PDF and send it through Messages' printing service (multichannel: a
        mailbox opened in the meantime gets the electronic part instead)."""
        assert recipient.hetu is not None
        letter = self.letter(recipient, text, heading)
        attachment = self.viestit.upload_attachment(f"{heading.file_name}.pdf", render_letter(letter), "application/pdf")
        result = self.viestit.send_multichannel(
            NewMultichannelMessage(
                external_id=external_id,
                recipient=recipient.hetu,
                electronic=electronic(text, replies_allowed=self.replies_allowed),
                paper_mail=PaperMail(attachment=attachment, recipient_address=letter.recipient, sender_address=letter.sender),
            )
        )
        return str(result.message_id)

    def letter(self, recipient: Recipient, text: MessageText, heading: LetterHeading) -> Letter:
        """The printed message, addressed to the recipient's permanent address, signed by the sender in the settings."""
        address = recipient.postal_address
        assert address is not None  # choose_channel picks a letter only with an address
        sender = self.viestit.settings.sender_address
        return Letter(
            sender=sender,
            recipient=PostalAddress(name=recipient.name, street_address=address.street_address, zip_code=address.postal_code, city=address.post_office),
            dated=heading.dated,
            title=text.title,
            paragraphs=text.paragraphs,
            reference=heading.reference,
            signature=sender.name,
        )


def _letter_address(recipient: Recipient) -> FinnishAddress | None:
    """A letter goes through Messages' printing service, which takes the recipient by henkilötunnus."""
    return recipient.postal_address if recipient.hetu is not None else None


def electronic(text: MessageText, *, replies_allowed: bool = False) -> ElectronicMessage:
    """The message as Suomi.fi Messages takes it; with ``replies_allowed`` anyone may answer it."""
    return ElectronicMessage(title=text.title, body=text.body, reply_allowed_by="Anyone" if replies_allowed else "No one")


__all__ = ["ChannelChosen", "HetuSource", "LetterHeading", "MessageSent", "NoHetuSource", "Notifier", "Recipient"]
