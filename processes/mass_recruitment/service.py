"""The mass-recruitment process in plain Python: one job's night, candidate by candidate.

A work item is **one job for one night** (reference ``<job_key>:<night>``). Its candidates are worked
through with a checkpoint each (``application:<id>``: the screening outcome, the seat booked, the stage
set, the letter sent), written the moment each side effect is done. A retried item skips what its
checkpoints say is done, and every write to the recruitment system and every e-mail carries an
idempotency key named after the application, so a crash between a call and its checkpoint does nothing
twice either. Candidates another night (or a person) already handled are left alone: only applications
still in the "new" stage, or with a checkpoint of this item, are processed.

``MassRecruitmentService`` takes its connector clients (Helbit, Valvira, e-mail) and the engine's
settings in the constructor, so the keyword library hands it the configured ones and unit tests hand it
clients pointed at the in-process sandboxes. The candidates' details come from the recruiter UI's Excel
export; they never go into logs, checkpoints or the item's output (application ids and reason codes only).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from RPA.Excel.Files import Files

from connectors.email.client import EmailClient
from connectors.email.errors import MessageRejectedError, RecipientRefusedError
from connectors.email.models import EmailAttachment, OutgoingEmail
from connectors.errors import AutomationError, BusinessRuleError, IntegrationError
from connectors.helbit import EXPORT_SHEET, ExportedApplicant, HelbitClient, Job
from connectors.helbit.export import STATUS_LABELS
from connectors.valvira import ValviraClient
from kuntaflow.settings import KuntaflowSettings
from processes.checkpoints import Checkpoints
from processes.mass_recruitment.checkpoints import LETTER_NO_ADDRESS, LETTER_REFUSED, ApplicationProgress, BookedSeat, ReportSent
from processes.mass_recruitment.letters import hired_candidate, interview_invitation, register_person, requirements_of
from processes.mass_recruitment.report import counts, write_report
from processes.validation import problems
from schemas.recruitment import (
    EMPLOYMENT_START_PROCESS,
    Candidate,
    JobRequirements,
    JobToScreen,
    Outcome,
    ReasonCode,
    match_register,
    outcome_of,
    rejection_letter,
    screen,
    usable_registration_number,
)

log = logging.getLogger(__name__)

#: Helbit's rejection reason for "does not meet the requirements".
REJECTION_REASON_ID = 801
KEY_PREFIX = "mass_recruitment"


@dataclass
class JobRun:
    """One job's night on its way through the robot. Its repr names the work item and job only."""

    item_id: int
    job_key: str
    night: date
    job: Job
    requirements: JobRequirements
    stages: dict[str, int]
    checkpoints: Checkpoints
    candidates: dict[int, Candidate] = field(default_factory=dict)
    exported: dict[int, ExportedApplicant] = field(default_factory=dict)
    unreadable: list[int] = field(default_factory=list)
    to_process: list[int] = field(default_factory=list)
    earlier: int = 0
    records: dict[int, ApplicationProgress] = field(default_factory=dict)
    free_seats: dict[int, int] = field(default_factory=dict)
    hires_passed_on: list[int] = field(default_factory=list)
    report: str | None = None
    export_rows: int = 0

    def __repr__(self) -> str:
        return f"JobRun(work item {self.item_id}: {self.job_key} {self.night})"

    def record(self, application_id: int) -> ApplicationProgress:
        return self.records.get(application_id) or ApplicationProgress()

    def save(self, application_id: int, **changes: Any) -> ApplicationProgress:
        """Record ``changes`` on the application and checkpoint it at once."""
        progress = self.records[application_id] = self.record(application_id).with_(**changes)
        self.checkpoints.record(progress, ApplicationProgress.step_for(application_id))
        return progress


def key(application_id: int, act: str) -> str:
    """The idempotency key of one act on one application."""
    return f"{KEY_PREFIX}:{application_id}:{act}"


class MassRecruitmentService:
    """The steps of one job's night, over a Helbit, a Valvira and an e-mail client."""

    def __init__(self, helbit: HelbitClient, valvira: ValviraClient, email: EmailClient, *, engine: KuntaflowSettings | None = None) -> None:
        self.helbit = helbit
        self.valvira = valvira
        self.email = email
        self.engine = engine or KuntaflowSettings()

    def open_job(self, item_id: int, payload: Any, checkpoints: Checkpoints) -> JobRun:
        """The job and night of the work item, with the job's requirements, stages and checkpoints.

        Raises:
            BusinessRuleError: the payload is not a job and night, or the job is not open any more.
            IntegrationError: the job lacks one of the stages the process moves candidates to.
        """
        try:
            screening = JobToScreen.model_validate(payload)
        except ValidationError as error:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in error.errors(include_input=False))
            raise BusinessRuleError(f"work item {item_id}: the payload is not a job key and night ({fields})", code="INVALID_JOB_PAYLOAD") from None
        try:
            job = self.helbit.job_by_key(screening.job_key)
        except AutomationError as error:
            if error.code == "JOB_NOT_FOUND":
                raise BusinessRuleError(f"work item {item_id}: job {screening.job_key} is not open in the recruitment system", code="JOB_NOT_OPEN") from None
            raise
        stages = {stage.kind: stage.id for stage in self.helbit.job_stages(job.id) if stage.kind}
        missing = {"new", "review", "interview"} - set(stages)
        if missing:
            raise IntegrationError(f"work item {item_id}: job {job.requisition_id} has no stage for {', '.join(sorted(missing))}", code="STAGES_MISSING")
        run = JobRun(item_id, job.requisition_id, screening.night, job, requirements_of(job), stages, checkpoints)
        for step, data in checkpoints.steps(ApplicationProgress.STEP):
            run.records[int(step.removeprefix(ApplicationProgress.STEP))] = ApplicationProgress.model_validate(data)
        log.info(
            "Work item %s: job %s (id %s) for the night %s; %s candidates checkpointed earlier.", item_id, run.job_key, job.id, run.night, len(run.records)
        )
        return run

    def read_export(self, run: JobRun, path: Path) -> None:
        """Read the export with RPA.Excel.Files; pick the applications this night processes.

        A row that cannot be read is not lost: its application goes to a person (stage "review",
        UNREADABLE_APPLICATION) and is listed in the report.
        """
        excel = Files()
        excel.open_workbook(str(path))
        try:
            table = excel.read_worksheet_as_table(EXPORT_SHEET, header=True)
        finally:
            excel.close_workbook()
        new_stage_name = next(s.name for s in self.helbit.job_stages(run.job.id) if s.id == run.stages["new"])
        run.export_rows = len(table)
        for number, row in enumerate(table, start=2):
            self._read_row(run, number, dict(row), new_stage_name)
        log.info(
            "Job %s: %s applications exported; %s to process now, %s handled earlier, %s unreadable.",
            run.job_key,
            len(table),
            len(run.to_process),
            run.earlier,
            len(run.unreadable),
        )

    def _read_row(self, run: JobRun, number: int, row: dict[str, Any], new_stage_name: str) -> None:
        try:
            exported = ExportedApplicant.from_row(row)
        except (KeyError, ValidationError) as error:
            application_id = row.get("Hakemusnumero")
            if not isinstance(application_id, int):
                raise IntegrationError(
                    f"work item {run.item_id}: export row {number} has no application number ({type(error).__name__})", code="EXPORT_UNREADABLE"
                ) from None
            if application_id in run.records or (row.get("Vaihe") == new_stage_name and row.get("Tila") == STATUS_LABELS["active"]):
                log.warning("Export row %s (application %s) could not be read: %s; to a person.", number, application_id, _field_names(error))
                run.unreadable.append(application_id)
                run.to_process.append(application_id)
                record = run.record(application_id)
                if not record.done("outcome"):
                    record = record.with_(outcome=Outcome.NEEDS_REVIEW)
                if not record.done("reasons"):
                    record = record.with_(reasons=[ReasonCode.UNREADABLE_APPLICATION])
                run.records[application_id] = record
            else:
                run.earlier += 1
            return
        run.exported[exported.application_id] = exported
        if exported.application_id not in run.records and not (exported.is_active and exported.stage == new_stage_name):
            run.earlier += 1
            return
        run.to_process.append(exported.application_id)
        run.candidates[exported.application_id] = Candidate.model_validate(exported.model_dump(exclude={"stage", "status", "applied_at"}))

    def screen_applicants(self, run: JobRun) -> None:
        """Check each new candidate's right to practise in the register, then the job's requirements."""
        for application_id in run.to_process:
            if run.record(application_id).done("outcome"):
                continue
            candidate = run.candidates[application_id]
            finding = None
            if run.requirements.professions:
                number = usable_registration_number(candidate)
                if number is not None:
                    finding = match_register(candidate, by_number=register_person(self.valvira.by_registration_number(number)))
                else:
                    people = self.valvira.by_name_and_birth_date(candidate.last_name, candidate.first_name, candidate.birth_date)
                    finding = match_register(candidate, by_name=[register_person(p) for p in people])
            screening = screen(candidate, run.requirements, finding, today=run.night)
            run.save(
                application_id,
                outcome=screening.outcome,
                reasons=list(screening.reasons),
                registration_number=finding.registration_number if finding else None,
            )
        log.info("Job %s: screened %s.", run.job_key, dict(Counter(run.records[a].outcome.value for a in run.to_process if run.records[a].outcome)))

    def book_group_interviews(self, run: JobRun) -> None:
        """A seat in the earliest group interview with room for each eligible candidate; when every
        slot is full the candidate goes to a person (NO_INTERVIEW_SLOT) rather than being refused."""
        booked = 0
        for application_id in run.to_process:
            record = run.record(application_id)
            if record.outcome is not Outcome.ELIGIBLE or record.done("interview"):
                continue
            result = self.helbit.book_first_free_slot(application_id, run.job.id, idempotency_key=key(application_id, "interview"), free_seats=run.free_seats)
            if result is None:
                screening = outcome_of([*record.reasons, ReasonCode.NO_INTERVIEW_SLOT])
                run.save(application_id, outcome=screening.outcome, reasons=list(screening.reasons), interview=None)
                continue
            interview = result.interview
            seat = BookedSeat(
                id=interview.id,
                slot_id=interview.interview_slot_id,
                start=interview.start.date_time.isoformat(),
                end=interview.end.date_time.isoformat(),
                location=interview.location,
            )
            run.save(application_id, interview=seat)
            booked += 1
        log.info("Job %s: %s seats booked in group interviews.", run.job_key, booked)

    def move_candidates(self, run: JobRun) -> None:
        """Eligible → group interview, to be reviewed → review, not eligible → rejected (with the reason codes)."""
        moved: Counter[str] = Counter()
        for application_id in run.to_process:
            record = run.record(application_id)
            if record.done("stage") or record.outcome is None:
                continue
            if record.outcome is Outcome.NOT_ELIGIBLE:
                self.helbit.reject_application(
                    application_id, rejection_reason_id=REJECTION_REASON_ID, notes=" ".join(record.reasons), idempotency_key=key(application_id, "reject")
                )
                stage = "rejected"
            else:
                stage = "interview" if record.outcome is Outcome.ELIGIBLE else "review"
                self.helbit.move_application(
                    application_id, from_stage_id=run.stages["new"], to_stage_id=run.stages[stage], idempotency_key=key(application_id, f"stage-{stage}")
                )
            run.save(application_id, stage=stage)
            moved[stage] += 1
        log.info("Job %s: stages set %s.", run.job_key, dict(moved))

    def send_letters(self, run: JobRun) -> None:
        """E-mail each booked candidate an invitation with an .ics, and each rejected one the reasons in plain Finnish.

        A refused address is not a failure of the job: the candidate goes on the report's review
        list (letter ``refused``) for the recruiter to reach another way.
        """
        sent: Counter[str] = Counter()
        reply_to = (run.job.recruiter_emails or [None])[0]
        for application_id in run.to_process:
            record = run.record(application_id)
            if record.done("letter") or record.stage not in ("interview", "rejected"):
                continue
            candidate = run.candidates.get(application_id)
            if candidate is None or not candidate.email:
                run.save(application_id, letter=LETTER_NO_ADDRESS)
                continue
            kind, message = self._letter(run, candidate, record, reply_to, application_id)
            try:
                letter = self.email.send(message).message_id
                sent[kind] += 1
            except (RecipientRefusedError, MessageRejectedError) as refused:
                log.warning("Application %s: the mail server refused the %s (%s); on the review list.", application_id, kind, refused.code)
                letter = LETTER_REFUSED
                sent["refused"] += 1
            except ValueError:  # not an address the e-mail model accepts
                letter = LETTER_REFUSED
                sent["refused"] += 1
            run.save(application_id, letter=letter)
        log.info("Job %s: letters %s.", run.job_key, dict(sent))

    def _letter(self, run: JobRun, candidate: Candidate, record: ApplicationProgress, reply_to: str | None, application_id: int) -> tuple[str, OutgoingEmail]:
        """The invitation (with the .ics) or the rejection, as an e-mail keyed by the application."""
        if record.stage == "interview":
            assert record.interview is not None  # booked before the stage was set
            letter, attachments = interview_invitation(run.requirements, run.job_key, candidate, record.interview, reply_to)
            kind = "invitation"
        else:
            letter = rejection_letter(candidate, run.requirements, list(record.reasons), reply_by=run.night + timedelta(days=14))
            attachments, kind = [], "rejection"
        message = OutgoingEmail(
            to=[candidate.email],
            subject=letter.subject,
            text=letter.text,
            attachments=attachments,
            reply_to=reply_to,
            idempotency_key=key(application_id, kind),
        )
        return kind, message

    def pass_hires_on(self, run: JobRun) -> int:
        """Each application marked hired becomes an ``employment_start`` work item (once: its reference
        is the application), a child of this job's item."""
        with self.engine.work_queue() as queue:
            for application in self.helbit.list_applications(run.job.id, status="hired"):
                exported = run.exported.get(application.id)
                if exported is None:
                    log.warning("Hired application %s is not in the export; not passed on.", application.id)
                    continue
                reference = f"helbit-application-{application.id}"
                if not queue.exists(EMPLOYMENT_START_PROCESS, reference):
                    payload = hired_candidate(run.job, run.requirements, exported, application.start_date)
                    item = queue.add(EMPLOYMENT_START_PROCESS, reference=reference, payload=payload, parent_id=run.item_id, actor="mass_recruitment")
                    run.hires_passed_on.append(item.id)
                    log.info("Hired application %s → employment_start work item %s.", application.id, item.id)
        return len(run.hires_passed_on)

    def write_recruiter_report(self, run: JobRun, output_dir: Path) -> Path:
        """The recruiter's Excel in ``output_dir``, e-mailed once per job and night to the job's recruiters."""
        path = output_dir / f"rekrytointiraportti-{run.job_key}-{run.night.isoformat()}.xlsx"
        write_report(run, path)
        run.report = str(path)
        recipients = run.job.recruiter_emails
        if ReportSent.STEP not in run.checkpoints and recipients:
            night = counts(run)
            text = (
                f"Hei,\n\nliitteenä työpaikan {run.job.name} ({run.job_key}) hakijoiden esikarsinta {run.night.strftime('%d.%m.%Y')}: "
                f"{night['eligible']} soveltuvaa (kutsuttu ryhmähaastatteluun), {night['not_eligible']} ei soveltuvaa, "
                f"{night['needs_review']} tarkistettavaa.\n\nKuntaflow-rekrytointirobotti"
            )
            result = self.email.send(
                OutgoingEmail(
                    to=recipients,
                    subject=f"Esikarsinta {run.job_key} {run.night.strftime('%d.%m.%Y')}",
                    text=text,
                    attachments=[EmailAttachment.excel(path.name, path.read_bytes())],
                    idempotency_key=f"{KEY_PREFIX}:{run.job_key}:{run.night}:report",
                )
            )
            run.checkpoints.record(ReportSent(message_id=result.message_id))
        log.info("Job %s: report %s written.", run.job_key, path.name)
        return path

    def outcome(self, run: JobRun) -> dict[str, Any]:
        """The night's counts (no personal data): the item's output."""
        return {"job_key": run.job_key, "night": run.night.isoformat(), **counts(run), "report": run.report}


def _field_names(error: Exception) -> str:
    return problems(error) if isinstance(error, ValidationError) else f"missing column {error}"
