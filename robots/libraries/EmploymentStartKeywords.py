"""Keywords of the employment-start robot (robots/employment_start/tasks.robot): one per onboarding step.

Thin: each keyword hands the case to one step of ``processes.employment_start.service.EmploymentStartService``
(HR REST API v1, service desk REST API v1, SMTP), which checkpoints every side effect on the work item
the moment it is done (``start_checked``, ``employee_created``, ``employment_created``, ``request_<kind>``
per service-desk request, ``orientation_plan``, ``confirmation_requested``, ``welcome_sent``,
``checklist_sent``) and skips it on a retry. Failures leave as the three names the work-item library
sorts on (``keyword_support``); messages name the work item, never the person.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robot.api.deco import keyword, library

from connectors.email.client import EmailClient
from connectors.email.settings import EmailSettings
from connectors.hr import HrClient, HrSettings
from connectors.servicedesk import ServiceDeskClient
from kuntaflow.settings import KuntaflowSettings
from processes.employment_start.confirmation import EmploymentStartSettings
from processes.employment_start.service import EmploymentStartCase, EmploymentStartService
from robots.libraries.keyword_support import WorkItemSteps, re_raise_for_robot

__all__ = ["EmploymentStartCase", "EmploymentStartKeywords"]


@library(scope="GLOBAL", auto_keywords=False)
class EmploymentStartKeywords(WorkItemSteps[EmploymentStartService]):
    """Steps of the employment-start process. One HR, service-desk and e-mail client per robot run."""

    def __init__(self) -> None:
        self.settings = EmploymentStartSettings()

    @keyword("Check Employment Start")
    @re_raise_for_robot
    def check_employment_start(self) -> EmploymentStartCase:
        """Read the new employee from the work item and check what HR must fix before anything is done.
        The payload is read here so the person stays out of the robot log."""
        return self.service.check_start(*self._current_item())

    @keyword("Create Employment In HR")
    @re_raise_for_robot
    def create_employment_in_hr(self, case: EmploymentStartCase) -> None:
        """Add the person to HR (HR keeps the henkilötunnus) and register the employment."""
        self.service.create_employment(case)

    @keyword("Open Service Requests")
    @re_raise_for_robot
    def open_service_requests(self, case: EmploymentStartCase) -> None:
        """Open one service-desk request per thing the person needs, each due before the start date."""
        self.service.open_service_requests(case)

    @keyword("Build Orientation Plan")
    @re_raise_for_robot
    def build_orientation_plan(self, case: EmploymentStartCase) -> str:
        """Write the perehdytyssuunnitelma as an Excel workbook (RPA.Excel.Files) into the run's files."""
        return str(self.service.build_orientation_plan(case))

    @keyword("Ask Supervisor To Confirm")
    @re_raise_for_robot
    def ask_supervisor_to_confirm(self, case: EmploymentStartCase) -> None:
        """Open the confirmation as a child work item that waits, without a robot, until its reminder is due."""
        self.service.ask_supervisor_to_confirm(case)

    @keyword("Send Welcome To Employee")
    @re_raise_for_robot
    def send_welcome_to_employee(self, case: EmploymentStartCase) -> None:
        """A welcome in Finnish to the personal address: start date, place, contact person, what to bring."""
        self.service.send_welcome(case)

    @keyword("Send Checklist To Supervisor")
    @re_raise_for_robot
    def send_checklist_to_supervisor(self, case: EmploymentStartCase, plan_path: str) -> None:
        """The supervisor's checklist with the plan attached and the signed one-time confirmation link."""
        self.service.send_checklist(case, Path(plan_path))

    @keyword("Close Employment Start")
    @re_raise_for_robot
    def close_employment_start(self, case: EmploymentStartCase) -> dict[str, Any]:
        """DONE, with the ids each step produced as the item's output (no personal data)."""
        return self._complete(self.service.outcome(case))

    def _build_service(self) -> EmploymentStartService:
        engine = KuntaflowSettings()
        return EmploymentStartService(
            HrClient(HrSettings()), ServiceDeskClient(), EmailClient(EmailSettings()), engine=engine, settings=self.settings, vault=engine.person_vault()
        )
