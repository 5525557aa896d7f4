"""Card-expiry reminders: which cards to remind of, the work item's payload, the reminder in fi/sv/en.

Process ``card_expiry``: every working day the flow asks Koha for the patrons whose card expires within
``remind_within_days`` (30) and queues one work item per patron and expiry date (renewing the card gives
a new date, and with it a new reminder next time). The payload is the patron's id and the date only;
the robot reads the rest from Koha when it sends, so nothing personal waits in the queue.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from schemas.messages import Language, MessageTemplate, MessageText, format_date

PROCESS = "card_expiry"


class CardToRemind(BaseModel):
    """One work item: a patron whose card expires on ``expiry_date``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    patron_id: int = Field(gt=0, description="Koha's borrowernumber.")
    expiry_date: date

    @property
    def reference(self) -> str:
        """One item per patron and expiry date."""
        return f"patron-{self.patron_id}:{self.expiry_date.isoformat()}"


class ReminderOutcome(StrEnum):
    """How a reminder item ended; every one is DONE (the output's ``reason``)."""

    REMINDED = "REMINDED"
    NO_CHANNEL = "NO_CHANNEL"  # no e-mail in Koha and no lawful henkilötunnus for Messages or a letter: the library sees it at the desk
    NO_GUARANTOR = "NO_GUARANTOR"  # a child's card without a guarantor to tell
    CARD_RENEWED = "CARD_RENEWED"  # renewed (or removed) since it was queued: nothing to remind of


_TO_PATRON = {
    Language.FI: MessageTemplate(
        "Kirjastokorttisi voimassaolo päättyy {expiry}",
        (
            "Kirjastokorttisi kirjastossa {library} on voimassa {expiry} asti.",
            "Voit uusia kortin käymällä kirjastossa; ota mukaan kuvallinen henkilöllisyystodistus. Lainasi ja varauksesi säilyvät.",
        ),
    ),
    Language.SV: MessageTemplate(
        "Ditt bibliotekskort går ut {expiry}",
        (
            "Ditt bibliotekskort på biblioteket {library} gäller till {expiry}.",
            "Du kan förnya kortet på biblioteket; ta med ett identitetsbevis med foto. Dina lån och reservationer finns kvar.",
        ),
    ),
    Language.EN: MessageTemplate(
        "Your library card expires on {expiry}",
        (
            "Your library card at {library} is valid until {expiry}.",
            "You can renew it at the library; bring a photo ID. Your loans and holds stay as they are.",
        ),
    ),
}

_TO_GUARANTOR = {
    Language.FI: MessageTemplate(
        "Lapsen kirjastokortin voimassaolo päättyy {expiry}",
        (
            "Lapsen {child} kirjastokortti kirjastossa {library} on voimassa {expiry} asti. Olet kortin vastuuhenkilö.",
            "Kortin voi uusia kirjastossa; ota mukaan oma kuvallinen henkilöllisyystodistuksesi.",
        ),
    ),
    Language.SV: MessageTemplate(
        "Barnets bibliotekskort går ut {expiry}",
        (
            "Bibliotekskortet för {child} på biblioteket {library} gäller till {expiry}. Du är kortets ansvarsperson.",
            "Kortet kan förnyas på biblioteket; ta med ditt eget identitetsbevis med foto.",
        ),
    ),
    Language.EN: MessageTemplate(
        "Your child's library card expires on {expiry}",
        (
            "The library card of {child} at {library} is valid until {expiry}. You are the card's guarantor.",
            "You can renew it at the library; bring your own photo ID.",
        ),
    ),
}


def reminder_text(language: Language, *, expiry: date, library: str, child_first_name: str | None = None) -> MessageText:
    """The reminder in the recipient's language; with ``child_first_name`` it speaks to the guarantor about the child."""
    templates = _TO_GUARANTOR if child_first_name else _TO_PATRON
    return templates[language].render(language, expiry=format_date(expiry, language), library=library, child=child_first_name or "")


__all__ = ["PROCESS", "CardToRemind", "ReminderOutcome", "reminder_text"]
