"""Keywords of the card-expiry robot (robots/card_expiry/tasks.robot): one per business step.

Thin: each keyword hands the card to one step of ``processes.card_expiry.service.CardExpiryService``
(who hears of it, the reminder through Suomi.fi Messages, e-mail or a letter, the outcome). The
reminder's channel is checkpointed before sending and the message after (``reminder_channel``,
``reminder_sent``), so a retry never sends twice. Failures leave as the three names the work-item
library sorts on (``keyword_support``); the message names the work item, never the person.
"""

from __future__ import annotations

from typing import Any

from robot.api.deco import keyword, library

from connectors.email.client import EmailClient
from connectors.email.settings import EmailSettings
from connectors.koha import KohaClient, KohaSettings
from connectors.suomifi_viestit import ViestitClient, ViestitSettings
from kuntaflow.person_vault import VaultHetuSource
from kuntaflow.settings import KuntaflowSettings
from processes.card_expiry.service import CardExpiryService, ReminderCase
from robots.libraries.keyword_support import WorkItemSteps, re_raise_for_robot
from schemas.card_expiry import PROCESS

__all__ = ["CardExpiryKeywords"]


@library(scope="GLOBAL", auto_keywords=False)
class CardExpiryKeywords(WorkItemSteps[CardExpiryService]):
    """Steps of the card-expiry reminder. One Koha, Messages and e-mail client per robot run."""

    @keyword("Find Who To Remind")
    @re_raise_for_robot
    def find_who_to_remind(self) -> ReminderCase:
        """Read the card from the work item and Koha; a child's card is the guarantor's to hear of."""
        return self.service.find_who_to_remind(*self._current_item())

    @keyword("Send Expiry Reminder")
    @re_raise_for_robot
    def send_expiry_reminder(self, case: ReminderCase) -> None:
        """Suomi.fi mailbox, else e-mail, else a letter, in the recipient's language; nothing when nobody can be reached."""
        self.service.send_reminder(case)

    @keyword("Close Reminder")
    @re_raise_for_robot
    def close_reminder(self, case: ReminderCase) -> dict[str, Any]:
        """DONE with the reason (``REMINDED``, ``NO_CHANNEL``, ``NO_GUARANTOR``, ``CARD_RENEWED``) as the output."""
        return self._complete(self.service.outcome(case))

    def _build_service(self) -> CardExpiryService:
        # The person vault is how a reminder that starts from Koha's hetu key reaches a Suomi.fi mailbox or an address;
        # every read is in the access log with its purpose.
        people = VaultHetuSource(KuntaflowSettings().person_vault(), actor=f"robot:{PROCESS}", process=PROCESS)
        return CardExpiryService(KohaClient(KohaSettings()), ViestitClient(ViestitSettings()), EmailClient(EmailSettings()), people=people)
