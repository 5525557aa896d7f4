"""MassRecruitmentService without Robot Framework: Helbit and Valvira sandboxes in-process (ASGI
transports), the recruiter UI's export made by the Helbit sandbox, a hand-written e-mail client at the
boundary, checkpoints kept in a dict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from case_data import EXPECTED, NIGHT, SMALL
from openpyxl import load_workbook

from connectors.helbit import HelbitClient, HelbitSettings
from connectors.helbit.sandbox import create_app as create_helbit
from connectors.helbit.sandbox.excel import export_applicants
from connectors.http import RetryPolicy
from connectors.sandbox_support import SyncASGITransport
from connectors.valvira import ValviraClient, ValviraSettings
from connectors.valvira.sandbox import create_app as create_valvira
from kuntaflow.settings import KuntaflowSettings
from processes.checkpoints import Checkpoints
from processes.mass_recruitment.checkpoints import ApplicationProgress
from processes.mass_recruitment.service import JobRun, MassRecruitmentService
from schemas.recruitment import PROCESS
from schemas.redaction import HETU_PATTERN


class Systems:
    def __init__(self, email: Any, tmp_path: Path) -> None:
        self.helbit_app = create_helbit(today=NIGHT)
        valvira_app = create_valvira(today=NIGHT)
        helbit = HelbitClient(HelbitSettings(base_url="http://helbit.test"), transport=SyncASGITransport(self.helbit_app), retry=RetryPolicy(attempts=1))
        valvira = ValviraClient(ValviraSettings(base_url="http://valvira.test/api/v1"), transport=SyncASGITransport(valvira_app), retry=RetryPolicy(attempts=1))
        self.email = email
        self.engine = KuntaflowSettings()
        self.service = MassRecruitmentService(helbit, valvira, email, engine=self.engine)
        self.tmp_path = tmp_path
        self.stored: dict[str, dict[str, Any]] = {}

    @property
    def store(self) -> Any:
        return self.helbit_app.state.store

    def export(self, job_key: str) -> Path:
        """What the recruiter UI's export button downloads (HelbitRecruiterUI drives the browser to it)."""
        job = self.store.job_by_key(job_key)
        path = self.tmp_path / f"hakijat-{job_key}.xlsx"
        path.write_bytes(export_applicants(self.store, self.store.applications_of(job.job_id)))
        return path

    def night(self, job_key: str = SMALL) -> tuple[JobRun, dict[str, Any]]:
        """The robot's steps after the export, as the keyword library calls them."""
        with self.engine.work_queue() as queue:
            item = queue.add(PROCESS, reference=f"{job_key}:{NIGHT}", payload={"job_key": job_key, "night": NIGHT.isoformat()})
        checkpoints = Checkpoints(self.stored, self.stored.__setitem__)
        service = self.service
        run = service.open_job(item.id, {"job_key": job_key, "night": NIGHT.isoformat()}, checkpoints)
        service.read_export(run, self.export(job_key))
        service.screen_applicants(run)
        service.book_group_interviews(run)
        service.move_candidates(run)
        service.send_letters(run)
        service.pass_hires_on(run)
        service.write_recruiter_report(run, self.tmp_path / "output")
        return run, service.outcome(run)


@pytest.fixture
def systems(email, no_backoff, tmp_path) -> Systems:
    return Systems(email, tmp_path)


def test_every_applicant_is_screened_to_what_their_profile_calls_for_and_told(systems):
    run, output = systems.night()
    profiles = {a.seed.application_id: a.seed.profile for a in systems.store.applications_of(run.job.id)}
    found = {int(step.split(":")[1]): (data["outcome"], data["reasons"]) for step, data in systems.stored.items() if step.startswith("application:")}
    assert found == {application_id: EXPECTED[profile] for application_id, profile in profiles.items()}
    assert (output["exported"], output["processed"], output["handled_earlier"]) == (20, 20, 0)
    assert output["eligible"] == output["booked"] and output["letters_sent"] == output["eligible"] + output["not_eligible"]
    invitations = [m for m in systems.email.sent if m.attachments and m.attachments[0].filename == "ryhmahaastattelu.ics"]
    assert len(invitations) == output["booked"] and "report_sent" in systems.stored


def test_the_recruiters_report_lists_each_outcome_on_its_sheet_without_identity_numbers(systems):
    run, output = systems.night()
    book = load_workbook(output["report"])
    assert book.sheetnames == ["Yhteenveto", "Soveltuvat", "Ei soveltuvat", "Tarkistettavat"]
    assert book["Soveltuvat"].max_row - 1 == output["eligible"] and book["Ei soveltuvat"].max_row - 1 == output["not_eligible"]
    assert book["Tarkistettavat"].max_row - 1 == output["needs_review"]
    summary = {row[0]: row[1] for row in book["Yhteenveto"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Käsitelty nyt"] == 20 and summary["Soveltuvia"] == output["eligible"]
    cells = " ".join(str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c is not None)
    assert not HETU_PATTERN.search(cells)
    [report] = [m for m in systems.email.sent if m.subject.startswith("Esikarsinta")]
    assert report.to == run.job.recruiter_emails


def test_a_rerun_of_the_night_does_nothing_twice(systems):
    systems.night()
    sent, interviews = len(systems.email.sent), len(systems.store.interviews)
    _, again = systems.night()
    assert (len(systems.email.sent), len(systems.store.interviews)) == (sent, interviews)
    assert again["processed"] == 20 and again["letters_sent"] == again["eligible"] + again["not_eligible"]


def test_candidates_checkpointed_before_the_upgrade_resume_from_their_unversioned_checkpoints(systems):
    """One candidate's checkpoint as stored before the models (no version, interview None = no seat):
    the night goes on from it, and the rest of the candidates are screened as usual."""
    fits = next(a.seed.application_id for a in systems.store.applications_of(systems.store.job_by_key(SMALL).job_id) if a.seed.profile == "fits")
    systems.stored[f"application:{fits}"] = {"outcome": "NEEDS_REVIEW", "reasons": ["NO_INTERVIEW_SLOT"], "registration_number": None, "interview": None}
    run, output = systems.night()
    progress = run.records[fits]
    assert progress.done("interview") and progress.interview is None and progress.stage == "review"
    assert systems.stored[f"application:{fits}"]["outcome"] == "NEEDS_REVIEW" and output["processed"] == 20
    assert ApplicationProgress.read(systems.stored, f"application:{fits}").version == 1
