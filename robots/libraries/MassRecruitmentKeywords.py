"""Keywords of the mass-recruitment robot (robots/mass_recruitment/tasks.robot): one per business step.

A work item is **one job for one night** (reference ``<job_key>:<night>``); its candidates are
worked through with a checkpoint each (step ``application:<id>``: the screening outcome, the seat
booked, the stage set, the letter sent), written the moment each side effect is done. A retried
item skips what its checkpoints say is done, and every write to the recruitment system and every
e-mail carries an idempotency key named after the application, so a crash between a call and its
checkpoint does nothing twice either. Candidates another night (or a person) already handled are
left alone: only applications still in the "new" stage, or with a checkpoint of this item, are
processed.

The candidate's details come from the UI's Excel export (HelbitRecruiterUI) read with
``RPA.Excel.Files``; they are never written to the robot log, checkpoints or the item's output
(application ids and reason codes only). The recruiter's Excel report names candidates: it is the
recruiter's working list, kept in the robot's output directory and e-mailed to the job's recruiters.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress
from openpyxl import Workbook
from openpyxl.styles import Font
from pydantic import ValidationError
from robot.api import logger
from robot.api.deco import keyword, library
from robot.libraries.BuiltIn import BuiltIn

from connectors.email.client import EmailClient
from connectors.email.errors import MessageRejectedError, RecipientRefusedError
from connectors.email.models import EmailAttachment, OutgoingEmail
from connectors.email.settings import EmailSettings
from connectors.errors import AutomationError, BusinessRuleError, IntegrationError
from connectors.helbit import EXPORT_SHEET, ExportedApplicant, HelbitClient, HelbitSettings, Job
from connectors.helbit.export import STATUS_LABELS
from connectors.valvira import Professional, ValviraClient, ValviraSettings
from kuntaflow.settings import KuntaflowSettings
from robots.libraries.keyword_support import WorkItemSteps, problems, re_raise_for_robot
from schemas.recruitment import (
    EMPLOYMENT_START_PROCESS,
    RECRUITER_TEXT,
    Candidate,
    HiredCandidate,
    JobRequirements,
    JobToScreen,
    Outcome,
    ReasonCode,
    RegisteredRight,
    RegisterPerson,
    invitation_letter,
    match_register,
    outcome_of,
    rejection_letter,
    screen,
    usable_registration_number,
)
from schemas.redaction import redact

HELSINKI = ZoneInfo("Europe/Helsinki")
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
    checkpoints: dict[str, dict[str, Any]]
    candidates: dict[int, Candidate] = field(default_factory=dict)
    exported: dict[int, ExportedApplicant] = field(default_factory=dict)
    unreadable: list[int] = field(default_factory=list)
    to_process: list[int] = field(default_factory=list)
    earlier: int = 0
    records: dict[int, dict[str, Any]] = field(default_factory=dict)
    free_seats: dict[int, int] = field(default_factory=dict)
    hires_passed_on: list[int] = field(default_factory=list)
    report: str | None = None
    export_rows: int = 0

    def __repr__(self) -> str:
        return f"JobRun(work item {self.item_id}: {self.job_key} {self.night})"

    def record(self, application_id: int) -> dict[str, Any]:
        return self.records.setdefault(application_id, {})


@library(scope="GLOBAL", auto_keywords=False)
class MassRecruitmentKeywords(WorkItemSteps):
    """Steps of the mass-recruitment process. One client per system per robot run."""

    def __init__(self) -> None:
        # httpx logs every request line at INFO, and a register search by name has the name and
        # birth date in its query: keep those lines out of the robot log.
        logging.getLogger("httpx").setLevel(logging.WARNING)
        self._engine = KuntaflowSettings()
        self._checkpoints_saved, self._checkpoint_seconds = 0, 0.0
        self._helbit: HelbitClient | None = None
        self._valvira: ValviraClient | None = None
        self._email: EmailClient | None = None

    # ------------------------------------------------------------------ the steps

    @keyword("Open Job Of Work Item")
    @re_raise_for_robot
    def open_job_of_work_item(self) -> JobRun:
        """Read the work item (job key and night) and the job's requirements, stages and checkpoints.

        Raises:
            BusinessRuleError: the payload is not a job and night, or the job is not open any more.
        """
        item_id = self._work_item_id()
        try:
            payload = JobToScreen.model_validate(self._work_items().get_work_item_payload())
        except ValidationError as error:
            fields = ", ".join(".".join(map(str, e["loc"])) for e in error.errors(include_input=False))
            raise BusinessRuleError(f"work item {item_id}: the payload is not a job key and night ({fields})", code="INVALID_JOB_PAYLOAD") from None
        helbit = self._helbit_client()
        try:
            job = helbit.job_by_key(payload.job_key)
        except AutomationError as error:
            if error.code == "JOB_NOT_FOUND":
                raise BusinessRuleError(f"work item {item_id}: job {payload.job_key} is not open in the recruitment system", code="JOB_NOT_OPEN") from None
            raise
        stages = {stage.kind: stage.id for stage in helbit.job_stages(job.id) if stage.kind}
        missing = {"new", "review", "interview"} - set(stages)
        if missing:
            raise IntegrationError(f"work item {item_id}: job {job.requisition_id} has no stage for {', '.join(sorted(missing))}", code="STAGES_MISSING")
        requirements = _requirements(job)
        run = JobRun(item_id, job.requisition_id, payload.night, job, requirements, stages, self._work_items().get_work_item_checkpoints())
        for step, data in run.checkpoints.items():
            if step.startswith("application:"):
                run.records[int(step.split(":", 1)[1])] = dict(data)
        logger.info(f"Work item {item_id}: job {run.job_key} (id {job.id}) for the night {run.night}; {len(run.records)} candidates checkpointed earlier.")
        return run

    @keyword("Read Applicants From Excel")
    @re_raise_for_robot
    def read_applicants_from_excel(self, run: JobRun, path: str) -> None:
        """Read the export with RPA.Excel.Files; pick the applications this night processes.

        A row that cannot be read is not lost: its application goes to a person (stage "review",
        UNREADABLE_APPLICATION) and is listed in the report.
        """
        from RPA.Excel.Files import Files

        excel = Files()
        excel.open_workbook(path)
        try:
            table = excel.read_worksheet_as_table(EXPORT_SHEET, header=True)
        finally:
            excel.close_workbook()
        new_stage_name = next(s.name for s in self._helbit_client().job_stages(run.job.id) if s.id == run.stages["new"])
        run.export_rows = len(table)
        for number, row in enumerate(table, start=2):
            row = dict(row)
            try:
                exported = ExportedApplicant.from_row(row)
            except (KeyError, ValidationError) as error:
                application_id = row.get("Hakemusnumero")
                if not isinstance(application_id, int):
                    raise IntegrationError(
                        f"work item {run.item_id}: export row {number} has no application number ({type(error).__name__})", code="EXPORT_UNREADABLE"
                    ) from None
                if application_id in run.records or (row.get("Vaihe") == new_stage_name and row.get("Tila") == STATUS_LABELS["active"]):
                    logger.warn(f"Export row {number} (application {application_id}) could not be read: {_field_names(error)}; to a person.")
                    run.unreadable.append(application_id)
                    run.to_process.append(application_id)
                    run.record(application_id).setdefault("outcome", Outcome.NEEDS_REVIEW.value)
                    run.record(application_id).setdefault("reasons", [ReasonCode.UNREADABLE_APPLICATION.value])
                else:
                    run.earlier += 1
                continue
            run.exported[exported.application_id] = exported
            if exported.application_id not in run.records and not (exported.is_active and exported.stage == new_stage_name):
                run.earlier += 1
                continue
            run.to_process.append(exported.application_id)
            run.candidates[exported.application_id] = Candidate.model_validate(exported.model_dump(exclude={"stage", "status", "applied_at"}))
        logger.info(
            f"Job {run.job_key}: {len(table)} applications exported; {len(run.to_process)} to process now, "
            f"{run.earlier} handled earlier, {len(run.unreadable)} unreadable."
        )

    @keyword("Screen Applicants Against Job Requirements")
    @re_raise_for_robot
    def screen_applicants_against_job_requirements(self, run: JobRun) -> None:
        """Check each new candidate's right to practise in the register, then the job's requirements."""
        register = self._valvira_client()
        for application_id in run.to_process:
            record = run.record(application_id)
            if "outcome" in record:
                continue
            candidate = run.candidates[application_id]
            finding = None
            if run.requirements.professions:
                number = usable_registration_number(candidate)
                if number is not None:
                    finding = match_register(candidate, by_number=_person(register.by_registration_number(number)))
                else:
                    people = register.by_name_and_birth_date(candidate.last_name, candidate.first_name, candidate.birth_date)
                    finding = match_register(candidate, by_name=[_person(p) for p in people])
            screening = screen(candidate, run.requirements, finding, today=run.night)
            record.update(
                outcome=screening.outcome.value,
                reasons=[r.value for r in screening.reasons],
                registration_number=finding.registration_number if finding else None,
            )
            self._save(run, application_id)
        counts = Counter(run.records[a]["outcome"] for a in run.to_process)
        logger.info(f"Job {run.job_key}: screened {dict(counts)}.")
        self._log_checkpoints()

    @keyword("Book Group Interviews For Eligible Candidates")
    @re_raise_for_robot
    def book_group_interviews_for_eligible_candidates(self, run: JobRun) -> None:
        """A seat in the earliest group interview with room for each eligible candidate; when every
        slot is full the candidate goes to a person (NO_INTERVIEW_SLOT) rather than being refused."""
        helbit = self._helbit_client()
        booked = 0
        for application_id in run.to_process:
            record = run.record(application_id)
            if record.get("outcome") != Outcome.ELIGIBLE.value or "interview" in record:
                continue
            result = helbit.book_first_free_slot(application_id, run.job.id, idempotency_key=_key(application_id, "interview"), free_seats=run.free_seats)
            if result is None:
                screening = outcome_of([ReasonCode(r) for r in record["reasons"]] + [ReasonCode.NO_INTERVIEW_SLOT])
                record.update(outcome=screening.outcome.value, reasons=[r.value for r in screening.reasons], interview=None)
            else:
                interview = result.interview
                record["interview"] = {
                    "id": interview.id,
                    "slot_id": interview.interview_slot_id,
                    "start": interview.start.date_time.isoformat(),
                    "end": interview.end.date_time.isoformat(),
                    "location": interview.location,
                }
                booked += 1
            self._save(run, application_id)
        logger.info(f"Job {run.job_key}: {booked} seats booked in group interviews.")
        self._log_checkpoints()

    @keyword("Move Candidates To Their Stages")
    @re_raise_for_robot
    def move_candidates_to_their_stages(self, run: JobRun) -> None:
        """Eligible → group interview, to be reviewed → review, not eligible → rejected (with the reason codes)."""
        helbit = self._helbit_client()
        moved: Counter[str] = Counter()
        for application_id in run.to_process:
            record = run.record(application_id)
            if "stage" in record or "outcome" not in record:
                continue
            outcome = Outcome(record["outcome"])
            if outcome is Outcome.NOT_ELIGIBLE:
                helbit.reject_application(
                    application_id, rejection_reason_id=REJECTION_REASON_ID, notes=" ".join(record["reasons"]), idempotency_key=_key(application_id, "reject")
                )
                record["stage"] = "rejected"
            else:
                kind = "interview" if outcome is Outcome.ELIGIBLE else "review"
                helbit.move_application(
                    application_id, from_stage_id=run.stages["new"], to_stage_id=run.stages[kind], idempotency_key=_key(application_id, f"stage-{kind}")
                )
                record["stage"] = kind
            moved[record["stage"]] += 1
            self._save(run, application_id)
        logger.info(f"Job {run.job_key}: stages set {dict(moved)}.")
        self._log_checkpoints()

    @keyword("Send Invitations And Rejections")
    @re_raise_for_robot
    def send_invitations_and_rejections(self, run: JobRun) -> None:
        """E-mail each booked candidate an invitation with an .ics, and each rejected one the reasons in plain Finnish.

        A refused address is not a failure of the job: the candidate goes on the report's review
        list (letter ``refused``) for the recruiter to reach another way.
        """
        email = self._email_client()
        sent: Counter[str] = Counter()
        reply_to = (run.job.recruiter_emails or [None])[0]
        for application_id in run.to_process:
            record = run.record(application_id)
            if "letter" in record or record.get("stage") not in ("interview", "rejected"):
                continue
            candidate = run.candidates.get(application_id)
            if candidate is None or not candidate.email:
                record["letter"] = "no_address"
                self._save(run, application_id)
                continue
            if record["stage"] == "interview":
                interview = record["interview"]
                starts, ends = (datetime.fromisoformat(interview[k]).astimezone(HELSINKI) for k in ("start", "end"))
                letter = invitation_letter(candidate, run.requirements, starts=starts, ends=ends, location=interview["location"])
                attachments = [EmailAttachment.calendar("ryhmahaastattelu.ics", _ics(run, candidate, interview, reply_to))]
                kind = "invitation"
            else:
                letter = rejection_letter(candidate, run.requirements, [ReasonCode(r) for r in record["reasons"]], reply_by=run.night + timedelta(days=14))
                attachments, kind = [], "rejection"
            message = OutgoingEmail(
                to=[candidate.email],
                subject=letter.subject,
                text=letter.text,
                attachments=attachments,
                reply_to=reply_to,
                idempotency_key=_key(application_id, kind),
            )
            try:
                record["letter"] = email.send(message).message_id
                sent[kind] += 1
            except (RecipientRefusedError, MessageRejectedError) as refused:
                logger.warn(f"Application {application_id}: the mail server refused the {kind} ({refused.code}); on the review list.")
                record["letter"] = "refused"
                sent["refused"] += 1
            except ValueError:  # not an address the e-mail model accepts
                record["letter"] = "refused"
                sent["refused"] += 1
            self._save(run, application_id)
        logger.info(f"Job {run.job_key}: letters {dict(sent)}.")
        self._log_checkpoints()

    @keyword("Pass Hired Candidates To Employment Start")
    @re_raise_for_robot
    def pass_hired_candidates_to_employment_start(self, run: JobRun) -> int:
        """Each application marked hired becomes an ``employment_start`` work item (once: its reference
        is the application), a child of this job's item."""
        queue = self._engine.work_queue()
        try:
            for application in self._helbit_client().list_applications(run.job.id, status="hired"):
                exported = run.exported.get(application.id)
                if exported is None:
                    logger.warn(f"Hired application {application.id} is not in the export; not passed on.")
                    continue
                payload = _hired(run, exported, application.start_date)
                reference = f"helbit-application-{application.id}"
                existing = queue.find(EMPLOYMENT_START_PROCESS, reference)
                item = existing or queue.add(EMPLOYMENT_START_PROCESS, reference=reference, payload=payload, parent_id=run.item_id, actor="mass_recruitment")
                if existing is None:
                    run.hires_passed_on.append(item.id)
                    logger.info(f"Hired application {application.id} → employment_start work item {item.id}.")
        finally:
            queue.dispose()
        return len(run.hires_passed_on)

    @keyword("Write Recruiter Report")
    @re_raise_for_robot
    def write_recruiter_report(self, run: JobRun) -> str:
        """The recruiter's Excel (summary, eligible, not eligible with reasons, to review) in the
        output directory, e-mailed once per job and night to the job's recruiters."""
        output = Path(BuiltIn().get_variable_value("${OUTPUT DIR}"))
        path = output / f"rekrytointiraportti-{run.job_key}-{run.night.isoformat()}.xlsx"
        _write_report(run, path)
        run.report = str(path)
        done = run.checkpoints.get("report_sent")
        recipients = run.job.recruiter_emails
        if done is None and recipients:
            counts = _counts(run)
            text = (
                f"Hei,\n\nliitteenä työpaikan {run.job.name} ({run.job_key}) hakijoiden esikarsinta {run.night.strftime('%d.%m.%Y')}: "
                f"{counts['eligible']} soveltuvaa (kutsuttu ryhmähaastatteluun), {counts['not_eligible']} ei soveltuvaa, "
                f"{counts['needs_review']} tarkistettavaa.\n\nKuntaflow-rekrytointirobotti"
            )
            result = self._email_client().send(
                OutgoingEmail(
                    to=recipients,
                    subject=f"Esikarsinta {run.job_key} {run.night.strftime('%d.%m.%Y')}",
                    text=text,
                    attachments=[EmailAttachment.excel(path.name, path.read_bytes())],
                    idempotency_key=f"{KEY_PREFIX}:{run.job_key}:{run.night}:report",
                )
            )
            self._work_items().save_work_item_checkpoint("report_sent", {"message_id": result.message_id})
        logger.info(f"Job {run.job_key}: report {path.name} written.")
        return str(path)

    @keyword("Close Job Work Item")
    @re_raise_for_robot
    def close_job_work_item(self, run: JobRun) -> dict[str, Any]:
        """DONE with the night's counts (no personal data) as the item's output."""
        output = {"job_key": run.job_key, "night": run.night.isoformat(), **_counts(run), "report": run.report}
        self._work_items().complete_work_item(output)
        return output

    # ------------------------------------------------------------------ helpers

    def _save(self, run: JobRun, application_id: int) -> None:
        started = time.perf_counter()
        self._work_items().save_work_item_checkpoint(f"application:{application_id}", run.records[application_id])
        self._checkpoint_seconds += time.perf_counter() - started
        self._checkpoints_saved += 1

    def _log_checkpoints(self) -> None:
        """How long this step spent writing checkpoints (engine time, for bench/mass_recruitment_bench.py)."""
        logger.info(f"Checkpoints: {self._checkpoints_saved} in {self._checkpoint_seconds:.3f} s.")
        self._checkpoints_saved, self._checkpoint_seconds = 0, 0.0

    def _helbit_client(self) -> HelbitClient:
        if self._helbit is None:
            self._helbit = HelbitClient(HelbitSettings())
        return self._helbit

    def _valvira_client(self) -> ValviraClient:
        if self._valvira is None:
            self._valvira = ValviraClient(ValviraSettings())
        return self._valvira

    def _email_client(self) -> EmailClient:
        if self._email is None:
            self._email = EmailClient(EmailSettings())
        return self._email


def _key(application_id: int, act: str) -> str:
    return f"{KEY_PREFIX}:{application_id}:{act}"


def _field_names(error: Exception) -> str:
    return problems(error) if isinstance(error, ValidationError) else f"missing column {error}"


def _requirements(job: Job) -> JobRequirements:
    language, _, level = str(job.custom("required_languages") or "fi:hyvä").partition(":")
    return JobRequirements(
        job_key=job.requisition_id,
        job_id=job.id,
        title=job.name,
        professions=list(job.custom("required_professions") or []),
        qualifications=list(job.custom("accepted_qualifications") or []),
        language=language or "fi",
        language_level=level or "hyvä",
        period_start=job.custom("period_start"),
        period_end=job.custom("period_end"),
    )


def _person(found: Professional | None) -> RegisterPerson | None:
    if found is None:
        return None
    return RegisterPerson(
        registration_number=found.registration_number,
        last_name=found.last_name,
        first_names=found.first_names,
        birth_date=found.birth_date,
        rights=[RegisteredRight(profession=r.profession, status=r.status.value, valid_from=r.valid_from, valid_until=r.valid_until) for r in found.rights],
    )


def _ics(run: JobRun, candidate: Candidate, interview: dict[str, Any], organizer: str | None) -> str:
    """The group interview as an iCalendar REQUEST; the UID is the booking's, so a resend updates, not duplicates."""
    calendar = Calendar()
    calendar.add("prodid", "-//Kuntaflow//Mass recruitment//FI")
    calendar.add("version", "2.0")
    calendar.add("method", "REQUEST")
    event = Event()
    event.add("uid", f"helbit-interview-{interview['id']}@kuntaflow")
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", datetime.fromisoformat(interview["start"]))
    event.add("dtend", datetime.fromisoformat(interview["end"]))
    event.add("summary", f"Ryhmähaastattelu: {run.requirements.title}")
    event.add("location", interview["location"])
    event.add("description", f"Ryhmähaastattelu, työavain {run.job_key}.")
    if organizer:
        event.add("organizer", vCalAddress(f"mailto:{organizer}"))
    attendee = vCalAddress(f"mailto:{candidate.email}")
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["RSVP"] = "TRUE"
    event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")


def _hired(run: JobRun, exported: ExportedApplicant, start_date: date | None) -> HiredCandidate:
    employment = str(run.job.custom("employment_type") or "").lower()
    fixed_term = employment.startswith("määräaik")
    number = usable_registration_number(Candidate.model_validate(exported.model_dump(exclude={"stage", "status", "applied_at"})))
    return HiredCandidate(
        first_names=exported.first_names,
        last_name=exported.last_name,
        date_of_birth=exported.birth_date,
        personal_email=exported.email,
        phone=exported.phone,
        start_date=start_date or run.requirements.period_start,
        end_date=run.requirements.period_end if fixed_term else None,
        employment_type="määräaikainen" if fixed_term else "vakinainen",
        title=run.job.name.split(",")[0].strip().lower(),
        workplace_address=run.job.address,
        licence_number=number or "",
        source={"system": "helbit", "job_key": run.job_key, "application_id": exported.application_id, "candidate_id": exported.candidate_id},
    )


def _counts(run: JobRun) -> dict[str, Any]:
    records = [run.records[a] for a in run.to_process if a in run.records]
    outcomes = Counter(r.get("outcome") for r in records)
    reasons = Counter(reason for r in records for reason in r.get("reasons", []))
    letters = Counter("refused" if r.get("letter") in ("refused", "no_address") else ("sent" if r.get("letter") else "none") for r in records)
    return {
        "exported": run.export_rows,
        "processed": len(records),
        "handled_earlier": run.earlier,
        "eligible": outcomes[Outcome.ELIGIBLE.value],
        "not_eligible": outcomes[Outcome.NOT_ELIGIBLE.value],
        "needs_review": outcomes[Outcome.NEEDS_REVIEW.value],
        "booked": sum(1 for r in records if r.get("interview")),
        "letters_sent": letters["sent"],
        "letters_refused": letters["refused"],
        "hires_passed_on": len(run.hires_passed_on),
        "by_reason": dict(sorted(reasons.items())),
    }


def _write_report(run: JobRun, path: Path) -> None:
    """Four sheets for the recruiter; every text cell passes the redaction filter (no identity number can slip in)."""
    book = Workbook()
    summary = book.active
    summary.title = "Yhteenveto"
    counts = _counts(run)
    rows: list[tuple[Any, ...]] = [
        ("Työpaikka", f"{run.job.name} ({run.job_key})"),
        ("Esikarsinnan yö", run.night),
        ("Hakemuksia viennissä", counts["exported"]),
        ("Käsitelty nyt", counts["processed"]),
        ("Käsitelty aiemmin", counts["handled_earlier"]),
        ("Soveltuvia", counts["eligible"]),
        ("Ei soveltuvia", counts["not_eligible"]),
        ("Tarkistettavia", counts["needs_review"]),
        ("Ryhmähaastatteluun varattu", counts["booked"]),
        ("Kirjeitä lähetetty", counts["letters_sent"]),
        ("Kirje ei mennyt perille", counts["letters_refused"]),
        ("Palkatut siirretty palvelussuhteen aloitukseen", counts["hires_passed_on"]),
        (),
        ("Syy", "Hakijoita"),
    ]
    rows += [(RECRUITER_TEXT[ReasonCode(code)], n) for code, n in counts["by_reason"].items()]
    for row in rows:
        summary.append(list(row))
    people = ("Hakemusnumero", "Nimi", "Sähköposti", "Puhelin", "Rekisteröintinumero")
    sheets = {
        Outcome.ELIGIBLE: book.create_sheet("Soveltuvat"),
        Outcome.NOT_ELIGIBLE: book.create_sheet("Ei soveltuvat"),
        Outcome.NEEDS_REVIEW: book.create_sheet("Tarkistettavat"),
    }
    sheets[Outcome.ELIGIBLE].append([*people, "Ryhmähaastattelu", "Paikka", "Kutsu"])
    sheets[Outcome.NOT_ELIGIBLE].append([*people, "Syyt", "Syykoodit", "Kirje"])
    sheets[Outcome.NEEDS_REVIEW].append([*people, "Tarkistettavaa", "Syykoodit"])
    for application_id in run.to_process:
        record = run.records.get(application_id, {})
        candidate = run.candidates.get(application_id)
        base = [
            application_id,
            candidate.full_name if candidate else "(ei luettavissa)",
            candidate.email if candidate else None,
            candidate.phone if candidate else None,
            record.get("registration_number") or (candidate.registration_number if candidate else None),
        ]
        reasons = [ReasonCode(r) for r in record.get("reasons", [])]
        outcome = Outcome(record.get("outcome", Outcome.NEEDS_REVIEW.value))
        if outcome is Outcome.ELIGIBLE:
            interview = record.get("interview") or {}
            start = datetime.fromisoformat(interview["start"]).astimezone(HELSINKI).strftime("%d.%m.%Y %H.%M") if interview else None
            sheets[outcome].append([*base, start, interview.get("location"), _letter_state(record)])
        elif outcome is Outcome.NOT_ELIGIBLE:
            sheets[outcome].append([*base, "; ".join(RECRUITER_TEXT[r] for r in reasons), " ".join(reasons), _letter_state(record)])
        else:
            texts = [RECRUITER_TEXT[r] for r in reasons] + (["Kirje ei mennyt perille"] if record.get("letter") in ("refused", "no_address") else [])
            sheets[outcome].append([*base, "; ".join(texts), " ".join(reasons)])
    if any(r.get("letter") in ("refused", "no_address") for r in run.records.values()):
        refused = [
            a
            for a in run.to_process
            if run.records.get(a, {}).get("letter") in ("refused", "no_address") and run.records[a].get("outcome") != Outcome.NEEDS_REVIEW.value
        ]
        for application_id in refused:  # a letter that did not reach the candidate is the recruiter's to act on
            candidate = run.candidates.get(application_id)
            sheets[Outcome.NEEDS_REVIEW].append(
                [
                    application_id,
                    candidate.full_name if candidate else None,
                    candidate.email if candidate else None,
                    candidate.phone if candidate else None,
                    None,
                    "Kirje ei mennyt perille: ota yhteyttä muuten",
                    "LETTER_REFUSED",
                ]
            )
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.value = redact(cell.value)
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        for column in sheet.columns:
            sheet.column_dimensions[column[0].column_letter].width = min(60, max(10, *(len(str(c.value or "")) for c in column[:200])))
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def _letter_state(record: dict[str, Any]) -> str:
    letter = record.get("letter")
    return {"refused": "ei mennyt perille", "no_address": "ei sähköpostiosoitetta", None: "ei lähetetty"}.get(letter, "lähetetty")


__all__ = ["STATUS_LABELS", "JobRun", "MassRecruitmentKeywords"]
