"""Card-expiry reminders in plain Python: which cards to remind of, who hears it, the reminder, the outcome.

``CardExpiryService`` takes the Koha, Suomi.fi Messages and e-mail clients (the keyword library
``robots/libraries/CardExpiryKeywords.py`` hands it the configured ones, tests clients on the sandboxes)
and a :class:`processes.notify.HetuSource`. Koha knows a patron by the salted hetu key only, so a
reminder reaches a Suomi.fi mailbox or goes as a printed letter only when the source lawfully gives the
henkilötunnus; otherwise it goes by the e-mail address in Koha. A child's reminder (a patron with a
guarantor, or in a child category) goes to the guarantor. Nobody to reach is not a failure: the item
ends DONE with ``NO_CHANNEL`` (or ``NO_GUARANTOR``) as its output's reason, for the library's desk.

The message goes through ``processes.notify``, which checkpoints the channel before sending
(``reminder_channel``) and the message after (``reminder_sent``): a robot killed after sending resends
on the same channel under the same ``externalId``, which the peer treats as the one it has.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.email.client import EmailClient
from connectors.errors import BusinessRuleError
from connectors.koha import KohaClient, Patron
from connectors.koha.errors import PatronNotFoundError
from connectors.suomifi_viestit import ViestitClient
from processes.checkpoints import Checkpoints
from processes.notify import HetuSource, LetterHeading, MessageSent, NoHetuSource, Notifier, Recipient
from processes.validation import problems
from schemas.card_expiry import CardToRemind, ReminderOutcome, reminder_text
from schemas.hetu import helsinki_today
from schemas.library_card import FinnishAddress
from schemas.messages import Channel, Language

log = logging.getLogger(__name__)

#: The reminder letter's file name and case name, by language.
FILE_NAME = {Language.FI: "Kirjastokortin-voimassaolo", Language.SV: "Bibliotekskortets-giltighet", Language.EN: "Library-card-expiry"}
CASE_NAME = {Language.FI: "Kirjastokortin voimassaolo", Language.SV: "Bibliotekskortets giltighet", Language.EN: "Library card expiry"}

#: What a read of a henkilötunnus is for, in the access log.
PURPOSE = "card-expiry reminder"


class CardExpirySettings(BaseSettings):
    """The library's choices for the reminders (env prefix ``KUNTAFLOW_CARD_EXPIRY_``)."""

    model_config = SettingsConfigDict(env_prefix="KUNTAFLOW_CARD_EXPIRY_", extra="ignore")

    remind_within_days: int = Field(default=30, ge=1, le=365, description="Remind of cards that expire within this many days.")
    external_id_prefix: str = Field(default="kuntaflow-card-expiry", description="Suomi.fi Messages externalId prefix; the work item id follows.")


class ReminderCase:
    """One card on its way through the robot. Its repr names the work item only."""

    def __init__(self, item_id: int, card: CardToRemind, checkpoints: Checkpoints) -> None:
        self.item_id = item_id
        self.card = card
        self.checkpoints = checkpoints
        self.outcome = ReminderOutcome.REMINDED
        self.recipient: Recipient | None = None
        self.to_guarantor = False
        self.child_first_name: str | None = None
        self.library_name = ""
        self.sent: MessageSent | None = None

    def __repr__(self) -> str:
        return f"ReminderCase(work item {self.item_id})"


class CardExpiryService:
    """The reminder's steps over Koha, Messages and e-mail."""

    def __init__(
        self, koha: KohaClient, viestit: ViestitClient, email: EmailClient, *, people: HetuSource | None = None, settings: CardExpirySettings | None = None
    ) -> None:
        self.koha = koha
        self.notifier = Notifier(viestit, email)
        self.people = people or NoHetuSource()
        self.settings = settings or CardExpirySettings()
        self._child_categories: set[str] | None = None
        self._library_names: dict[str, str] | None = None

    def find_who_to_remind(self, item_id: int, payload: Any, checkpoints: Checkpoints) -> ReminderCase:
        """Read the card from Koha again (it may have been renewed since) and find who hears of it.

        Raises:
            BusinessRuleError: ``INVALID_PAYLOAD``, the item is not a card to remind of (fields named, no values).
        """
        try:
            card = CardToRemind.model_validate(payload)
        except ValidationError as error:
            raise BusinessRuleError(f"work item {item_id}: not a card to remind of: {problems(error)}", code="INVALID_PAYLOAD") from None
        case = ReminderCase(item_id, card, checkpoints)
        try:
            patron = self.koha.get_patron(card.patron_id)
        except PatronNotFoundError:
            patron = None
        if patron is None or patron.expiry_date != card.expiry_date:
            case.outcome = ReminderOutcome.CARD_RENEWED
            return case
        case.library_name = self.library_name(patron.library_id)
        guarantors = patron.attribute_values(self.koha.settings.guarantor_attribute)
        if guarantors or patron.category_id in self.child_categories():
            case.to_guarantor, case.child_first_name = True, patron.firstname or patron.surname
            if not guarantors:
                case.outcome = ReminderOutcome.NO_GUARANTOR
                return case
            patron = self.koha.get_patron(int(guarantors[0]))
        case.recipient = self.recipient(patron)
        return case

    def send_reminder(self, case: ReminderCase) -> None:
        """Tell the patron (a child's guarantor) in their language; skipped when there is nobody to tell."""
        if case.recipient is None:
            return
        language = case.recipient.language
        text = reminder_text(language, expiry=case.card.expiry_date, library=case.library_name, child_first_name=case.child_first_name)
        heading = LetterHeading(FILE_NAME[language], f"{CASE_NAME[language]} {case.item_id}", helsinki_today())
        external_id = f"{self.settings.external_id_prefix}-{case.item_id}-reminder"
        case.sent = self.notifier.notify(case.recipient, text, external_id=external_id, checkpoints=case.checkpoints, step="reminder", letter=heading)
        if case.sent.channel is Channel.NONE:
            case.outcome = ReminderOutcome.NO_CHANNEL

    def outcome(self, case: ReminderCase) -> dict[str, Any]:
        """The item's output: DONE whatever happened, with the reason (no personal data)."""
        output: dict[str, Any] = {
            "reason": case.outcome.value,
            "patron_id": case.card.patron_id,
            "expiry_date": case.card.expiry_date.isoformat(),
            "to": "guarantor" if case.to_guarantor else "patron",
        }
        if case.sent is not None:
            output |= {"channel": case.sent.channel.value, "message_id": case.sent.message_id}
        log.info("Work item %s: card-expiry reminder %s.", case.item_id, case.outcome.value)
        return output

    def recipient(self, patron: Patron) -> Recipient:
        """The patron as a recipient: e-mail from Koha; the henkilötunnus only from the lawful source."""
        keys = patron.attribute_values(self.koha.settings.hetu_key_attribute)
        hetu = self.people.hetu_for(keys[0], purpose=PURPOSE) if keys else None
        return Recipient(
            name=" ".join(part for part in (patron.surname, patron.firstname) if part),
            language=Language.from_tag(patron.lang),
            hetu=hetu,
            email=patron.email,
            postal_address=postal_address(patron),
        )

    def child_categories(self) -> set[str]:
        if self._child_categories is None:
            self._child_categories = {c.patron_category_id for c in self.koha.list_patron_categories() if c.category_type == "C"}
        return self._child_categories

    def library_name(self, library_id: str) -> str:
        if self._library_names is None:
            self._library_names = {library.library_id: library.name for library in self.koha.list_libraries()}
        return self._library_names.get(library_id, library_id)


def cards_to_remind(koha: KohaClient, today: date, within_days: int) -> list[CardToRemind]:
    """Every card that expires from ``today`` to ``within_days`` ahead, as Koha lists them."""
    patrons = koha.list_patrons_expiring(today, today + timedelta(days=within_days))
    return [CardToRemind(patron_id=p.patron_id, expiry_date=p.expiry_date) for p in patrons if p.expiry_date is not None]


def postal_address(patron: Patron) -> FinnishAddress | None:
    """The patron's address in Koha as a Finnish address, or None when it is incomplete or not one."""
    try:
        return FinnishAddress(street_address=patron.address or "", postal_code=patron.postal_code or "", post_office=patron.city or "")
    except ValidationError:
        return None
