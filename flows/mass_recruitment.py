"""Mass recruitment: each night screen the new applicants of every open job; HR can run it for one job.

Process ``mass_recruitment`` (ARCHITECTURE.md). A work item is one job for one night (reference
``<job_key>:<night>``, so running the same night again adds nothing and finds the item done);
``robots/mass_recruitment/tasks.robot`` exports the job's applicants through the recruiter web
UI, screens them against the professional register and the job's requirements, books group
interviews, sends invitations and rejections, passes hires on to ``employment_start`` and writes
the recruiter's Excel report. The flow publishes a table of the night per job: counts and reason
codes, never names.

Why one item per job rather than per candidate: the job is the unit the recruiter works in and
the robot touches the UI in (one login and one export per job), the report covers the whole
job, and the nightly "new applicants" set is defined per job. Per-candidate progress is kept as
checkpoints on the job's item, so a retried night resumes where it stopped and nothing is done
twice; candidates a person must look at are on the report and in the system's review stage.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field

from connectors.helbit import HelbitClient, check_job_key
from flows.parameters import form_field
from flows.robot_task import run_batches
from kuntaflow.batches import BatchReport
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState
from schemas.reason_meanings import meaning, with_meaning
from schemas.recruitment import PROCESS, JobToScreen

HELSINKI = ZoneInfo("Europe/Helsinki")
#: The robot works in the recruitment system's UI and API; tag-based concurrency limits protect it.
HELBIT_TAG = "helbit"
JOB_KEY_PATTERN = r"^\s*[A-Za-z]{2,10}-\d{2}-\d{1,5}-\d{2}\s*$"


class JobNight(BaseModel):
    """One job's night as the summary shows it (no personal data)."""

    job_key: str
    item_id: int
    state: str
    error_code: str | None = None
    exported: int = 0
    processed: int = 0
    eligible: int = 0
    not_eligible: int = 0
    needs_review: int = 0
    booked: int = 0
    letters_sent: int = 0
    hires_passed_on: int = 0
    report: str | None = None
    by_reason: dict[str, int] = Field(default_factory=dict)


class MassRecruitmentSummary(BaseModel):
    night: date
    jobs: list[JobNight] = Field(default_factory=list)
    batches: int = 0
    robot_logs: list[str] = Field(default_factory=list)

    def lines(self) -> list[str]:
        """Plain lines for a console (``make run``) or a log."""
        found = [f"Mass recruitment, night {self.night}: {len(self.jobs)} job(s)"]
        for job in self.jobs:
            if job.state != ItemState.DONE.value:
                found.append(f"  {job.job_key}: {job.state} {with_meaning(job.error_code) if job.error_code else ''}".rstrip())
                continue
            found.append(
                f"  {job.job_key}: {job.processed} screened of {job.exported} exported: {job.eligible} eligible ({job.booked} booked), "
                f"{job.not_eligible} not eligible, {job.needs_review} to review; {job.letters_sent} letters; {job.hires_passed_on} hires passed on"
            )
            if job.by_reason:
                found.append("    reasons:")
                found += [f"      {code:<26} {n:>3}  {meaning(code)}" for code, n in job.by_reason.items()]
            if job.report:
                found.append(f"    recruiter's report: {job.report}")
        return found


def helsinki_today() -> date:
    return datetime.now(HELSINKI).date()


@flow(name="mass-recruitment", log_prints=False)
def mass_recruitment(
    job_key: Annotated[
        str | None,
        form_field("Työavain", "Vain tämä työpaikka, esim. sote-03-2180-26; tyhjä: kaikki avoimet työpaikat.", pattern=JOB_KEY_PATTERN),
    ] = None,
    night: Annotated[date | None, form_field("Yö", "Yö, jolle seulonta kirjataan; tyhjä: tämä päivä Helsingin aikaa.")] = None,
    batch_size: Annotated[int, form_field("Työpaikkoja robottia kohden", "Montako työpaikkaa yksi robottiajo käsittelee (1–50).", ge=1, le=50)] = 5,
) -> MassRecruitmentSummary:
    """Screen the new applicants of every open job (or of one), job by job, and report the night."""
    logger = get_run_logger()
    night = night or helsinki_today()
    keys = open_jobs_to_screen(job_key)
    item_ids = enqueue_jobs(keys, night)
    reports = run_batches(PROCESS, batch_size=batch_size, tags=[HELBIT_TAG])
    summary = summarise_night(item_ids, night, reports)
    for line in summary.lines():
        logger.info(line)
    return summary


@task(task_run_name="find open jobs")
def open_jobs_to_screen(job_key: str | None = None) -> list[str]:
    """The open jobs' keys from the public open-jobs API; one key must be among them.

    Raises:
        ValueError: ``job_key`` is not a job key, or no open job has it.
    """
    with HelbitClient() as helbit:
        open_keys = [job.key for job in helbit.open_jobs()]
    if job_key is None:
        return open_keys
    key = check_job_key(job_key)
    if key not in open_keys:
        raise ValueError(f"job {key} is not open in the recruitment system (open: {', '.join(open_keys) or 'none'})")
    return [key]


@task(task_run_name="queue {night} for {keys}")
def enqueue_jobs(keys: list[str], night: date) -> list[int]:
    """One work item per job and night; the same night again finds the items already there."""
    with KuntaflowSettings().work_queue() as queue:
        ids = []
        for key in keys:
            payload = JobToScreen(job_key=key, night=night)
            ids.append(queue.add(PROCESS, reference=payload.reference, payload=payload, actor="mass-recruitment flow").id)
        return ids


@task(task_run_name="summarise the night {night}")
def summarise_night(item_ids: list[int], night: date, reports: list[BatchReport]) -> MassRecruitmentSummary:
    """Each job's outcome from its work item; a table artifact for the Prefect UI."""
    with KuntaflowSettings().work_queue() as queue:
        jobs = []
        for item in map(queue.get, item_ids):
            output = item.output or {}
            known = {k: v for k, v in output.items() if k in JobNight.model_fields and k not in ("job_key", "item_id", "state")}
            jobs.append(
                JobNight(job_key=item.payload.get("job_key", item.reference), item_id=item.id, state=item.state.value, error_code=item.error_code, **known)
            )
    summary = MassRecruitmentSummary(night=night, jobs=jobs, batches=len(reports), robot_logs=[str(r.robot_log) for r in reports if r.robot_log])
    rows = [job.model_dump(mode="json", exclude={"by_reason", "report"}) | {"reasons": ", ".join(f"{k} {v}" for k, v in job.by_reason.items())} for job in jobs]
    if rows:
        create_table_artifact(
            key="mass-recruitment-night",
            table=rows,
            description=f"**Mass recruitment**, night {night}: {len(jobs)} job(s) in {len(reports)} robot batch(es).  \n"
            + "  \n".join(f"Recruiter's report, {job.job_key}: `{job.report}`" for job in jobs if job.report),
        )
    return summary
