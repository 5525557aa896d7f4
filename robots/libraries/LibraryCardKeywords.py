"""Keywords of the library-card robot (robots/library_card/tasks.robot): one per business step.

Thin: each keyword hands the case to one step of ``processes.library_card.service.LibraryCardService``
(the rules, the Koha patron and its guarantor, the decision through Suomi.fi Messages, e-mail or a
letter) and returns. The service checkpoints every side effect on the work item the moment it is done
(``patron_lookup``, ``guarantor_registered``, ``patron_created``, ``decision_sent``) and skips it on a
retry. Failures leave as the three names the work-item library sorts on (``keyword_support``); the
message names the work item, never the person.
"""

from __future__ import annotations

from typing import Any

from robot.api.deco import keyword, library

from connectors.email.client import EmailClient
from connectors.email.settings import EmailSettings
from connectors.koha import KohaClient, KohaSettings
from kuntaflow.settings import KuntaflowSettings
from processes.library_card.service import LibraryCardCase, LibraryCardService, LibraryCardSettings
from processes.viestit_password import viestit_client
from robots.libraries.keyword_support import WorkItemSteps, as_robot_error, re_raise_for_robot

__all__ = ["LibraryCardCase", "LibraryCardKeywords", "LibraryCardSettings", "as_robot_error"]


@library(scope="GLOBAL", auto_keywords=False)
class LibraryCardKeywords(WorkItemSteps[LibraryCardService]):
    """Steps of the library-card process. One Koha, Messages and e-mail client per robot run."""

    def __init__(self) -> None:
        self.settings = LibraryCardSettings()

    @keyword("Check Application Against Library Rules")
    @re_raise_for_robot
    def check_application_against_library_rules(self) -> LibraryCardCase:
        """Read the current work item's application (not passed in: the citizen's details stay out of the robot log) and apply the library's rules."""
        return self.service.check_application(*self._current_item())

    @keyword("Look For Existing Patron")
    @re_raise_for_robot
    def look_for_existing_patron(self, case: LibraryCardCase) -> None:
        """Find the applicant in Koha by the hetu key; an existing card decides the case."""
        self.service.look_for_existing_patron(case)

    @keyword("Create Patron For Applicant")
    @re_raise_for_robot
    def create_patron_for_applicant(self, case: LibraryCardCase) -> None:
        """Register the applicant in Koha (for a child, with the guardian as guarantor) unless the rules said no."""
        self.service.create_patron(case)

    @keyword("Send Decision To Citizen")
    @re_raise_for_robot
    def send_decision_to_citizen(self, case: LibraryCardCase) -> None:
        """Tell the citizen the decision: Suomi.fi mailbox, else e-mail, else a paper letter."""
        self.service.send_decision(case)

    @keyword("Close Application")
    @re_raise_for_robot
    def close_application(self, case: LibraryCardCase) -> dict[str, Any]:
        """DONE with the decision as output when the card was granted; otherwise a business failure
        with the reason code, for staff to see in the manual-handling view."""
        return self._complete(self.service.outcome(case))

    def _build_service(self) -> LibraryCardService:
        engine = KuntaflowSettings()
        return LibraryCardService(
            KohaClient(KohaSettings()),
            viestit_client(),
            EmailClient(EmailSettings()),
            salt=engine.salt(),
            settings=self.settings,
            vault=engine.person_vault(),
        )
