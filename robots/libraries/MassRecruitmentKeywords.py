"""Keywords of the mass-recruitment robot (robots/mass_recruitment/tasks.robot): one per business step.

Thin: each keyword hands the job's night to one step of
``processes.mass_recruitment.service.MassRecruitmentService`` (Helbit applications API, Valvira
register, e-mail), which checkpoints each candidate (``application:<id>``) the moment a side effect is
done and skips it on a retry. The candidates' details come from the UI's Excel export
(HelbitRecruiterUI); they are never written to the robot log, checkpoints or the item's output.
Failures leave as the three names the work-item library sorts on (``keyword_support``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.api.deco import keyword, library
from robot.libraries.BuiltIn import BuiltIn

from connectors.email.client import EmailClient
from connectors.email.settings import EmailSettings
from connectors.helbit import HelbitClient, HelbitSettings
from connectors.valvira import ValviraClient, ValviraSettings
from kuntaflow.settings import KuntaflowSettings
from processes.checkpoints import Checkpoints
from processes.mass_recruitment.service import JobRun, MassRecruitmentService
from robots.libraries.keyword_support import WorkItemSteps, re_raise_for_robot

__all__ = ["JobRun", "MassRecruitmentKeywords"]


@library(scope="GLOBAL", auto_keywords=False)
class MassRecruitmentKeywords(WorkItemSteps[MassRecruitmentService]):
    """Steps of the mass-recruitment process. One client per system per robot run."""

    def __init__(self) -> None:
        # httpx logs every request line at INFO, and a register search by name has the name and
        # birth date in its query: keep those lines out of the robot log.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self._checkpoints_saved, self._checkpoint_seconds = 0, 0.0

    @keyword("Open Job Of Work Item")
    @re_raise_for_robot
    def open_job_of_work_item(self) -> JobRun:
        """Read the work item (job key and night) and the job's requirements, stages and checkpoints."""
        work_items = self._work_items()
        checkpoints = Checkpoints(work_items.get_work_item_checkpoints(), self._timed(work_items.save_work_item_checkpoint), log_saved=False)
        return self.service.open_job(work_items.get_work_item_id(), work_items.get_work_item_payload(), checkpoints)

    @keyword("Read Applicants From Excel")
    @re_raise_for_robot
    def read_applicants_from_excel(self, run: JobRun, path: str) -> None:
        """Read the export with RPA.Excel.Files; pick the applications this night processes."""
        self.service.read_export(run, Path(path))

    @keyword("Screen Applicants Against Job Requirements")
    @re_raise_for_robot
    def screen_applicants_against_job_requirements(self, run: JobRun) -> None:
        """Check each new candidate's right to practise in the register, then the job's requirements."""
        self._step(self.service.screen_applicants, run)

    @keyword("Book Group Interviews For Eligible Candidates")
    @re_raise_for_robot
    def book_group_interviews_for_eligible_candidates(self, run: JobRun) -> None:
        """A seat in the earliest group interview with room for each eligible candidate, else to a person."""
        self._step(self.service.book_group_interviews, run)

    @keyword("Move Candidates To Their Stages")
    @re_raise_for_robot
    def move_candidates_to_their_stages(self, run: JobRun) -> None:
        """Eligible → group interview, to be reviewed → review, not eligible → rejected (with the reason codes)."""
        self._step(self.service.move_candidates, run)

    @keyword("Send Invitations And Rejections")
    @re_raise_for_robot
    def send_invitations_and_rejections(self, run: JobRun) -> None:
        """E-mail each booked candidate an invitation with an .ics, and each rejected one the reasons in plain Finnish."""
        self._step(self.service.send_letters, run)

    @keyword("Pass Hired Candidates To Employment Start")
    @re_raise_for_robot
    def pass_hired_candidates_to_employment_start(self, run: JobRun) -> int:
        """Each application marked hired becomes an ``employment_start`` work item, once."""
        return self.service.pass_hires_on(run)

    @keyword("Write Recruiter Report")
    @re_raise_for_robot
    def write_recruiter_report(self, run: JobRun) -> str:
        """The recruiter's Excel in the robot's output directory, e-mailed once per job and night to the job's recruiters."""
        return str(self.service.write_recruiter_report(run, Path(BuiltIn().get_variable_value("${OUTPUT DIR}"))))

    @keyword("Close Job Work Item")
    @re_raise_for_robot
    def close_job_work_item(self, run: JobRun) -> dict[str, Any]:
        """DONE with the night's counts (no personal data) as the item's output."""
        return self._complete(self.service.outcome(run))

    def _build_service(self) -> MassRecruitmentService:
        return MassRecruitmentService(
            HelbitClient(HelbitSettings()), ValviraClient(ValviraSettings()), EmailClient(EmailSettings()), engine=KuntaflowSettings()
        )

    def _step(self, step: Callable[[JobRun], None], run: JobRun) -> None:
        """Run one per-candidate step, then log how long it spent writing checkpoints (engine time,
        read by bench/mass_recruitment_bench.py)."""
        step(run)
        logger.info(f"Checkpoints: {self._checkpoints_saved} in {self._checkpoint_seconds:.3f} s.")
        self._checkpoints_saved, self._checkpoint_seconds = 0, 0.0

    def _timed(self, save: Callable[[str, dict[str, Any]], None]) -> Callable[[str, dict[str, Any]], None]:
        def timed(step: str, data: dict[str, Any]) -> None:
            started = time.perf_counter()
            save(step, data)
            self._checkpoint_seconds += time.perf_counter() - started
            self._checkpoints_saved += 1

        return timed
