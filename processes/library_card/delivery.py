"""Telling the citizen the library-card decision: Suomi.fi Messages, else e-mail, else a printed letter.

The channel is chosen by ``schemas.library_card.choose_channel`` (an active mailbox wins, then the
citizen's preference and what they gave). A channel that turns out closed when used falls back: a
mailbox closed since the check → e-mail or letter; an address the mail server refuses → letter. The
message carries a stable ``externalId`` (the e-mail the same idempotency key), so a resend after a
crash between sending and the checkpoint is a no-op at the peer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from connectors.email.client import EmailClient
from connectors.email.errors import MessageRejectedError, RecipientRefusedError
from connectors.email.models import OutgoingEmail
from connectors.letters import Letter, PostalAddress, render_letter
from connectors.suomifi_viestit import (
    ElectronicMessage,
    MailboxNotInUseError,
    NewElectronicMessage,
    NewMultichannelMessage,
    PaperMail,
    ViestitClient,
)
from schemas.library_card import Channel, DecisionText, Language, LibraryCardApplication, VerifiedPerson, choose_channel

log = logging.getLogger(__name__)

#: The letter's file name as the recipient sees it.
FILE_NAME = {Language.FI: "Kirjastokorttipaatos", Language.SV: "Beslut-om-bibliotekskort", Language.EN: "Library-card-decision"}

#: How a letter names the case, by language.
CASE_NAME = {Language.FI: "Kirjastokorttihakemus", Language.SV: "Ansökan om bibliotekskort", Language.EN: "Library card application"}


@dataclass(frozen=True)
class Delivery:
    """How a decision went out: the channel used and the peer's message id (None when nothing was sent)."""

    channel: Channel
    message_id: str | None


class DecisionDelivery:
    """Sends one decision text to the application's recipient through the first channel that takes it."""

    def __init__(self, viestit: ViestitClient, email: EmailClient) -> None:
        self.viestit = viestit
        self.email = email

    def deliver(self, application: LibraryCardApplication, text: DecisionText, *, external_id: str, item_id: int, dated: date) -> Delivery:
        """Send ``text``; the fallbacks run in the order mailbox → e-mail → letter.

        Messages reaches people by henkilötunnus only: without one there is no mailbox and no letter.
        """
        recipient = application.recipient
        postal_address = recipient.permanent_address if recipient.hetu is not None else None
        mailbox = recipient.hetu is not None and self.viestit.has_active_mailbox(recipient.hetu)
        channel = choose_channel(mailbox_active=mailbox, preference=application.notification_preference, email=application.email, postal_address=postal_address)
        message_id: str | None = None
        if channel is Channel.SUOMI_FI:
            message_id = self.send_electronic(external_id, recipient, text)
            if message_id is None:  # the mailbox closed since the check
                channel = choose_channel(
                    mailbox_active=False, preference=application.notification_preference, email=application.email, postal_address=postal_address
                )
        if channel is Channel.EMAIL:
            assert application.email is not None  # choose_channel picks e-mail only with an address
            message_id = self.send_email(external_id, application.email, text)
            if message_id is None:  # the mail server refused the address
                channel = Channel.LETTER if postal_address is not None else Channel.NONE
        if channel is Channel.LETTER:
            message_id = self.send_letter(external_id, recipient, text, self.letter(recipient, text, item_id=item_id, dated=dated))
        if channel is Channel.NONE:
            log.warning("Work item %s: no mailbox, e-mail or address to send the decision to.", item_id)
        return Delivery(channel, message_id)

    def send_electronic(self, external_id: str, recipient: VerifiedPerson, text: DecisionText) -> str | None:
        """Send to the Suomi.fi mailbox; None when the service says the mailbox is not in use."""
        assert recipient.hetu is not None
        try:
            result = self.viestit.send_electronic(NewElectronicMessage(external_id=external_id, recipient=recipient.hetu, electronic=electronic(text)))
        except MailboxNotInUseError:
            log.warning("Suomi.fi Messages: the mailbox is no longer in use; falling back.")
            return None
        if result.already_sent:
            log.info("Suomi.fi Messages had %s already (message %s): not sent twice.", external_id, result.message_id)
        return str(result.message_id)

    def send_letter(self, external_id: str, recipient: VerifiedPerson, text: DecisionText, letter: Letter) -> str:
        """Upload the letter PDF and send it through Messages' printing service (multichannel: a
        mailbox opened in the meantime gets the electronic part instead)."""
        assert recipient.hetu is not None
        attachment = self.viestit.upload_attachment(f"{FILE_NAME[text.language]}.pdf", render_letter(letter), "application/pdf")
        result = self.viestit.send_multichannel(
            NewMultichannelMessage(
                external_id=external_id,
                recipient=recipient.hetu,
                electronic=electronic(text),
                paper_mail=PaperMail(attachment=attachment, recipient_address=letter.recipient, sender_address=letter.sender),
            )
        )
        return str(result.message_id)

    def send_email(self, external_id: str, address: str, text: DecisionText) -> str | None:
        """Send by e-mail; None when the mail server refuses the address (the caller falls back)."""
        email = OutgoingEmail(to=[address], subject=text.title, text=text.body, idempotency_key=external_id)
        try:
            return self.email.send(email).message_id
        except (RecipientRefusedError, MessageRejectedError) as refused:
            log.warning("The mail server refused the decision e-mail (%s); falling back.", refused.code)
            return None

    def letter(self, recipient: VerifiedPerson, text: DecisionText, *, item_id: int, dated: date) -> Letter:
        """The printed decision, addressed to the recipient's permanent address, signed by the sender in the settings."""
        address = recipient.permanent_address
        assert address is not None  # choose_channel picks a letter only with an address
        sender = self.viestit.settings.sender_address
        return Letter(
            sender=sender,
            recipient=PostalAddress(name=recipient.full_name, street_address=address.street_address, zip_code=address.postal_code, city=address.post_office),
            dated=dated,
            title=text.title,
            paragraphs=text.paragraphs,
            reference=f"{CASE_NAME[text.language]} {item_id}",
            signature=sender.name,
        )


def electronic(text: DecisionText) -> ElectronicMessage:
    """The decision as a Suomi.fi message the citizen may answer: a reply becomes a ``citizen_reply`` work item."""
    return ElectronicMessage(title=text.title, body=text.body, reply_allowed_by="Anyone")
