"""The mass-recruitment process's sample: HR runs the ``mass-recruitment`` deployment for one job.

The seeded job ``sote-03-2180-26`` (Sairaanhoitaja, kotihoito) has 200 applicants in the Helbit
sandbox. As HR would from the Prefect UI's Custom run, this starts the deployment with that job key
and tonight's date; the worker's flow run lets the robot export the applicants through the
recruiter UI (headless Chromium), screen them against the register sandbox, book interviews, send
the letters and write the report. Then it checks the outcome against the sandboxes' own records:
no applicant of the job is left in the "new" stage, no slot holds more than its seats, and the
mailbox has one letter per candidate the robot says it wrote to, plus the recruiter's report.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from prefect.deployments import run_deployment

from apps.demo import DemoResult
from apps.local_stack import Stack
from flows.mass_recruitment import JobNight, MassRecruitmentSummary, helsinki_today
from schemas.recruitment import PROCESS

DEPLOYMENTS = ("mass-recruitment",)
DEPLOYMENT = "mass-recruitment/mass-recruitment"
JOB_KEY = "sote-03-2180-26"
#: The seeded job's applicants; the sample is the whole job (``count`` is not used).
DEFAULT_COUNT = 200
RUN_TIMEOUT_SECONDS = 600


def run(stack: Stack, *, count: int = DEFAULT_COUNT) -> DemoResult:
    """Run the deployment for the 200-applicant job and check what it did against the sandboxes."""
    result = DemoResult(title=f"Mass recruitment: job {JOB_KEY} ({DEFAULT_COUNT} applicants)")
    night = helsinki_today()
    with stack.settings.work_queue() as queue:
        before = queue.find(PROCESS, f"{JOB_KEY}:{night.isoformat()}")
        flow_run = run_deployment(DEPLOYMENT, parameters={"job_key": JOB_KEY, "night": night.isoformat()}, timeout=RUN_TIMEOUT_SECONDS)
        item = queue.find(PROCESS, f"{JOB_KEY}:{night.isoformat()}")
    state = flow_run.state.name if flow_run.state else "unknown"
    if item is None:
        return DemoResult(result.title, [f"the flow run ended {state} without queueing the job"], ok=False)
    output = item.output or {}
    job = JobNight(
        job_key=JOB_KEY,
        item_id=item.id,
        state=item.state.value,
        error_code=item.error_code,
        **{k: v for k, v in output.items() if k in JobNight.model_fields and k not in ("job_key", "item_id", "state")},
    )
    result.lines += MassRecruitmentSummary(night=night, jobs=[job]).lines()
    result.lines.append(f"  flow run {flow_run.name}: {state}")
    if before is not None and before.state.value == "DONE":
        result.lines.append("  (this night was screened already: nothing was done twice)")
        return result
    problems = _check(stack, job, output)
    result.lines += [f"  PROBLEM: {p}" for p in problems] or ["  checked against the Helbit and e-mail sandboxes: as it should be"]
    result.ok = item.state.value == "DONE" and not problems
    return result


def _check(stack: Stack, job: Any, output: dict[str, Any]) -> list[str]:
    """What the robot reports, against what the sandboxes recorded."""
    store = stack.sandbox("helbit").state.store
    seeded = store.job_by_key(JOB_KEY)
    applications = store.applications_of(seeded.job_id)
    new_stage = store.stage_id(seeded.job_id, "new")
    problems = []
    left = sum(1 for a in applications if a.status == "active" and a.stage_id == new_stage)
    if left:
        problems.append(f"{left} applicants are still in the new stage")
    statuses = Counter(a.status for a in applications)
    if statuses["rejected"] != job.not_eligible:
        problems.append(f"{statuses['rejected']} rejected in Helbit, the robot says {job.not_eligible}")
    overbooked = [s.slot_id for s in store.slots_of(seeded.job_id) if store.booked(s.slot_id) > s.capacity]
    if overbooked:
        problems.append(f"slots over capacity: {overbooked}")
    booked = sum(1 for i in store.interviews.values() if i["status"] == "scheduled" and store.applications[i["application_id"]].seed.job_id == seeded.job_id)
    if booked != job.booked:
        problems.append(f"{booked} interviews in Helbit, the robot says {job.booked}")
    mailbox = stack.sandbox("email").state.store
    recruiter = list(mailbox.to(seeded.contact_email))
    if len(recruiter) != 1:
        problems.append(f"the recruiter got {len(recruiter)} reports")
    letters = sum(len(mailbox.to(a.seed.email)) for a in applications)
    if letters != output.get("letters_sent"):
        problems.append(f"{letters} letters in the mailbox, the robot says {output.get('letters_sent')}")
    return problems
