"""Employment start: HR's form → work item → onboarding robot → the supervisor's confirmation.

Process ``employment_start`` (ARCHITECTURE.md; shared/reference/domain.md §4.2). HR starts the
deployment ``employment-start`` from the Prefect UI with a :class:`schemas.employee.NewEmployee`
(a flat model, so every field is a real form control). The flow

1. puts the employee into the work-item queue under :func:`employment_start_reference` (the
   same person and start date give the same item: a second submission onboards no one twice);
2. runs ``robots/employment_start/tasks.robot`` on every claimable employment start (HR,
   service desk, orientation plan as .xlsx, welcome and checklist e-mails, each checkpointed);
3. publishes the outcome for HR and a link to the orientation plan as artifacts;
4. waits for the supervisor's confirmation with a ``RunInput`` form (:class:`SupervisorConfirmation`).

**Waiting without holding anything.** The confirmation is a child work item
(``employment_start_confirmation``), NEW and not claimable before its reminder is due, so no
robot and no lease waits on it. Under a deployment the run *suspends* (``suspend_flow_run``): its
process exits and the worker slot is free until the Resume form or the e-mail link resumes it;
outside a deployment (tests, ``kuntaflow run``) it pauses in-process with a timeout. A form that
fails the checks is asked again with the reason (a new pause key per prompt), never a failed
run. Deadlines are the queue's, not Prefect's: ``onboarding-reminders`` reminds the supervisor,
then escalates to HR, whatever happened to this run.

**Contract for other processes (mass recruitment).** Enqueue a hire as::

    queue.add("employment_start", reference=employment_start_reference(employee, salt),
              payload=employee, parent_id=<the hire's item id>)

with ``employee`` a valid :class:`NewEmployee` (the henkilötunnus is needed by HR) and ``salt``
``KuntaflowSettings().salt()``. A hire that lacks what only HR knows (mass recruitment's
``schemas.recruitment.HiredCandidate``: no henkilötunnus, unit or supervisor, its ``missing``
list names them) is queued as it is and ends BUSINESS_FAILED ``HIRE_DETAILS_MISSING`` with the
command that completes it (``kuntaflow queue edit-payload <id> --ask hetu … --retry``). The
deployment ``employment-start-queue`` (every 10 minutes) or any ``employment-start`` run onboards
it; the item's output names the HR employment, the tickets, the plan and the confirmation item.

**No henkilötunnus in Prefect.** HR's form sends it as a flow-run parameter; once the start is
queued (sealed), the run's stored parameters get ``kuntaflow-item:<id>`` in its place, and a
resumed run reads the employee back from that item.
"""

# No `from __future__ import annotations`: Prefect resolves the flow's parameter types (NewEmployee) when a
# worker loads the flow from its entrypoint, and string annotations are not resolvable there.

import re
import time
from collections import Counter
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

from prefect import flow, get_client, get_run_logger, task
from prefect.artifacts import create_link_artifact, create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.exceptions import FlowPauseTimeout
from prefect.flow_runs import pause_flow_run, suspend_flow_run
from prefect.input import RunInput
from prefect.runtime import deployment, flow_run
from pydantic import BaseModel, Field, ValidationError

from flows.parameters import form_field
from flows.robot_task import run_batches
from kuntaflow.batches import BatchReport
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState, WorkItem
from processes.employment_start.checkpoints import Confirmed, WaitingRun
from processes.employment_start.confirmation import (
    ConfirmationAnswer,
    ConfirmationResult,
    confirmation_of,
    confirmation_problem,
    record_confirmation,
)
from schemas.employee import PROCESS, NewEmployee, employee_from_payload, employment_start_reference

#: What the run's stored henkilötunnus becomes once the start is queued; a resumed run reads the item instead.
REGISTERED_HETU = re.compile(r"^kuntaflow-item:(\d+)$")


def registered_hetu(item_id: int) -> str:
    """The stand-in REGISTERED_HETU reads back."""
    return f"kuntaflow-item:{item_id}"


#: Tag-based concurrency limits protect HR and the service desk.
TAGS = ["hr", "servicedesk"]
#: How often an answer that fails the checks is asked again before the run stops waiting (the queue goes on).
MAX_PROMPTS = 10


class ConfirmationState(StrEnum):
    """Where the supervisor's confirmation stands, as HR reads it in the outcome (the values are the displayed Finnish)."""

    NOT_REQUESTED = "ei pyydetty"
    WAITING = "odottaa"
    CONFIRMED = "vahvistettu"
    NO_ANSWER_IN_TIME = "ei vastausta ajoissa"


class SupervisorConfirmation(ConfirmationAnswer, RunInput):
    """The Resume form of a waiting run: the same fields and checks as the e-mail link's page."""


class EmploymentStartOutcome(BaseModel):
    """What happened to one employment start, for HR (ids, codes and Finnish text; no henkilötunnus)."""

    item_id: int
    state: ItemState
    duplicate: bool = Field(default=False, description="HR had submitted this person and start date before.")
    reason_code: str | None = None
    reason: str | None = None
    employment_id: int | None = None
    tickets: dict[str, str] = Field(default_factory=dict)
    orientation_plan: str | None = None
    confirmation_item_id: int | None = None
    confirmation: ConfirmationState = Field(default=ConfirmationState.NOT_REQUESTED, description="odottaa / vahvistettu / ei pyydetty / ei vastausta ajoissa")
    confirmed_by: str | None = None


class EmploymentStartSummary(BaseModel):
    batches: int = 0
    by_state: dict[str, int] = Field(default_factory=dict)
    employee: EmploymentStartOutcome | None = None
    robot_logs: list[str] = Field(default_factory=list)


# Parameters are validated in the body (validate_employment_start), after a resumed run's queued
# employee has been read back: its stored parameters no longer hold the henkilötunnus.
@flow(name="employment-start", persist_result=True, validate_parameters=False)
def employment_start(
    employee: Annotated[NewEmployee, form_field("Uusi työntekijä", "HR:n tiedot aloittavasta työntekijästä.")],
    wait_for_confirmation: Annotated[
        bool, form_field("Odota esihenkilön vahvistusta", "Ajo jää odottamaan, kunnes esihenkilö vahvistaa perehdytyksen.")
    ] = True,
    confirmation_timeout_seconds: Annotated[
        int, form_field("Odotuksen enimmäisaika (s)", "Koskee vain prosessin sisäistä odotusta; keskeytetty ajo odottaa, kunnes se jatkuu.", ge=1)
    ] = 7 * 24 * 3600,
) -> EmploymentStartSummary:
    """Onboard a new employee from HR's form, then wait for the supervisor's confirmation.

    ``confirmation_timeout_seconds`` bounds an in-process pause only; a suspended run waits
    until resumed, and the queue's reminders chase the supervisor either way.
    """
    employee, wait_for_confirmation, confirmation_timeout_seconds = validate_employment_start(employee, wait_for_confirmation, confirmation_timeout_seconds)
    item, duplicate = register_employment_start(employee)
    forget_hetu_in_run_parameters(employee, item.id, wait_for_confirmation, confirmation_timeout_seconds)
    reports = onboard_queued_employees()
    wait_while_another_robot_has_it(item.id)
    outcome = read_outcome(item.id, duplicate=duplicate)
    summary = EmploymentStartSummary(
        batches=len(reports),
        by_state=dict(Counter(o.state.value for r in reports for o in r.outcomes)),
        employee=outcome,
        robot_logs=[str(r.robot_log) for r in reports if r.robot_log],
    )
    publish_outcome(outcome, summary.robot_logs)
    if wait_for_confirmation and outcome.confirmation is ConfirmationState.WAITING and outcome.confirmation_item_id is not None:
        summary.employee = wait_for_supervisor(outcome, timeout=confirmation_timeout_seconds)
    return summary


@flow(name="employment-start-queue")
def employment_start_queue(
    batch_size: Annotated[int, form_field("Aloituksia erässä", "Montako aloitusta yksi robottiajo käsittelee (1–500).", ge=1, le=500)] = 20,
    max_batches: Annotated[int, form_field("Eriä enintään", "Robottiajoja enintään tässä ajossa.", ge=1)] = 50,
) -> EmploymentStartSummary:
    """Onboard every claimable employment start in the queue (hires from mass recruitment, retries)."""
    reports = onboard_queued_employees(batch_size=batch_size, max_batches=max_batches)
    return EmploymentStartSummary(
        batches=len(reports),
        by_state=dict(Counter(o.state.value for r in reports for o in r.outcomes)),
        robot_logs=[str(r.robot_log) for r in reports if r.robot_log],
    )


def validate_employment_start(employee: Any, wait_for_confirmation: Any, confirmation_timeout_seconds: Any) -> tuple[NewEmployee, bool, int]:
    """The flow's arguments checked against its signature, as Prefect would; an employee whose
    henkilötunnus was replaced by ``kuntaflow-item:<id>`` (a resumed run) is read from that item.

    Raises:
        ParameterTypeError: the arguments do not fit the signature (Prefect's own message).
        WorkItemNotFoundError: the item a resumed run names is gone.
    """
    # Only stored parameters (a dict) can hold the stand-in: a NewEmployee's hetu is a valid Hetu.
    registered = REGISTERED_HETU.match(str(employee.get("hetu", ""))) if isinstance(employee, dict) else None
    if registered:
        with KuntaflowSettings().work_queue() as queue:
            employee = employee_from_payload(queue.get(int(registered.group(1))).payload)
    checked = employment_start.validate_parameters(
        {"employee": employee, "wait_for_confirmation": wait_for_confirmation, "confirmation_timeout_seconds": confirmation_timeout_seconds}
    )
    return checked["employee"], checked["wait_for_confirmation"], checked["confirmation_timeout_seconds"]


def forget_hetu_in_run_parameters(employee: NewEmployee, item_id: int, wait_for_confirmation: bool, confirmation_timeout_seconds: int) -> None:
    """Replace the henkilötunnus in this run's stored parameters (Prefect's database, the UI) with
    ``kuntaflow-item:<id>``: the queue keeps it sealed; Prefect need not keep it at all."""
    run_id = flow_run.get_id()
    if run_id is None:
        return
    stored = {
        "employee": employee.model_dump(mode="json") | {"hetu": registered_hetu(item_id)},
        "wait_for_confirmation": wait_for_confirmation,
        "confirmation_timeout_seconds": confirmation_timeout_seconds,
    }
    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run(run_id, parameters=stored)
    except Exception as error:
        get_run_logger().warning("Could not remove the henkilötunnus from this run's parameters (%s); remove the run when done.", type(error).__name__)


@task(task_run_name="register the employment start")
def register_employment_start(employee: NewEmployee) -> tuple[WorkItem, bool]:
    """Queue the new employee; the same person and start date give back the item they already have."""
    settings = KuntaflowSettings()
    with settings.work_queue() as queue:
        reference = employment_start_reference(employee, settings.salt())
        item = queue.add(PROCESS, reference=reference, payload=employee, actor="HR (Prefect-lomake)")
    logger = get_run_logger()
    if not item.created:
        logger.warning("This person and start date were submitted before: work item %s (%s); nothing is started twice.", item.id, item.state.value)
    else:
        logger.info("Employment start queued as work item %s.", item.id)
    return item, not item.created


def onboard_queued_employees(batch_size: int = 20, max_batches: int = 50) -> list[BatchReport]:
    """Robot batches until nothing is claimable."""
    return run_batches(PROCESS, batch_size=batch_size, max_batches=max_batches, tags=TAGS)


@task(task_run_name="wait while another run's robot has work item {item_id}", cache_policy=NO_CACHE)
def wait_while_another_robot_has_it(item_id: int, poll_seconds: float = 2) -> None:
    """Several HR submissions at once: the first run's robot may have claimed this one too. Wait for it
    (its lease bounds the wait: a dead robot's item is released or reclaimed)."""
    settings = KuntaflowSettings()
    with settings.work_queue() as queue:
        deadline = time.monotonic() + settings.robot_timeout_seconds + settings.lease_seconds
        while queue.get(item_id).state is ItemState.IN_PROGRESS and time.monotonic() < deadline:
            time.sleep(poll_seconds)


@task(task_run_name="read the outcome of work item {item_id}", cache_policy=NO_CACHE)
def read_outcome(item_id: int, duplicate: bool = False) -> EmploymentStartOutcome:
    with KuntaflowSettings().work_queue() as queue:
        item = queue.get(item_id)
        output = item.output or {}
        outcome = EmploymentStartOutcome(
            item_id=item.id,
            state=item.state,
            duplicate=duplicate,
            reason_code=item.error_code,
            reason=item.error_message,
            employment_id=output.get("employment_id"),
            tickets=output.get("tickets", {}),
            orientation_plan=output.get("orientation_plan"),
            confirmation_item_id=output.get("confirmation_item_id"),
        )
        confirmation = confirmation_of(queue, item) if item.state is ItemState.DONE else None
        if confirmation is not None:
            outcome.confirmation_item_id = confirmation.id
            outcome.confirmation, outcome.confirmed_by = _confirmation_state(queue, confirmation)
    return outcome


def _confirmation_state(queue: Any, confirmation: WorkItem) -> tuple[ConfirmationState, str | None]:
    if confirmation.state is ItemState.DONE:
        confirmed = Confirmed.read(queue.checkpoints(confirmation.id))
        return ConfirmationState.CONFIRMED, confirmed.by if confirmed else None
    if confirmation.state is ItemState.BUSINESS_FAILED:
        return ConfirmationState.NO_ANSWER_IN_TIME, None
    return ConfirmationState.WAITING, None


@task(task_run_name="publish the outcome of work item {outcome.item_id}")
def publish_outcome(outcome: EmploymentStartOutcome, robot_logs: list[str]) -> None:
    """A markdown artifact for HR, and the orientation plan as a link artifact."""
    lines = [f"**Työsuhteen aloitus**, työ {outcome.item_id}: **{outcome.state.value}**"]
    if outcome.duplicate:
        lines.append("Sama henkilö ja aloituspäivä oli jo lähetetty: mitään ei aloitettu toiseen kertaan.")
    if outcome.state is ItemState.BUSINESS_FAILED:
        lines.append(f"HR:n korjattavaa ({outcome.reason_code}): {outcome.reason}")
    if outcome.employment_id:
        lines.append(f"Palvelussuhde HR:ssä: {outcome.employment_id}")
    lines += [f"Palvelupyyntö {kind}: {ticket}" for kind, ticket in sorted(outcome.tickets.items())]
    lines.append(f"Esihenkilön vahvistus: {outcome.confirmation}")
    lines += [f"Robotin loki: `{log}`" for log in robot_logs]
    create_markdown_artifact(key="employment-start", markdown="  \n".join(lines), description=f"Työsuhteen aloitus, työ {outcome.item_id}")
    if outcome.orientation_plan:
        plan = Path(outcome.orientation_plan)
        create_link_artifact(
            key=f"perehdytyssuunnitelma-{outcome.item_id}",
            link=plan.as_uri(),
            link_text=plan.name,
            description=f"Perehdytyssuunnitelma (Excel), työ {outcome.item_id}: `{plan}`",
        )


def wait_for_supervisor(outcome: EmploymentStartOutcome, *, timeout: int) -> EmploymentStartOutcome:
    """Ask for the confirmation in the run's Resume form until a valid answer, the link, or the timeout."""
    logger = get_run_logger()
    assert outcome.confirmation_item_id is not None
    confirmation_id = outcome.confirmation_item_id
    with KuntaflowSettings().work_queue() as queue:
        payload = queue.get(confirmation_id).payload
        waiting = WaitingRun(flow_run_id=str(flow_run.get_id()))
        queue.checkpoint(confirmation_id, waiting.STEP, waiting.stored())
        problem = ""
        for prompt in range(1, MAX_PROMPTS + 1):
            if queue.get(confirmation_id).state is ItemState.DONE:
                break  # confirmed through the e-mail link before or while this run waited
            form = SupervisorConfirmation.with_initial_data(description=_prompt(payload, problem), confirmed_by=payload.get("supervisor_name", ""))
            try:
                answer = _wait(form, key=f"confirmation-{confirmation_id}-{prompt}", timeout=timeout)
            except ValidationError as error:
                problem = confirmation_problem(error)
                logger.warning("The confirmation form was not complete (%s); asking again.", problem)
                continue
            except FlowPauseTimeout:
                logger.warning("No confirmation within %s s; onboarding-reminders reminds the supervisor and then tells HR.", timeout)
                break
            result = record_confirmation(queue, confirmation_id, confirmed_by=answer.confirmed_by, via="Prefect-lomake", note=answer.note)
            if result is ConfirmationResult.BUSY:
                problem = "vahvistusta käsiteltiin juuri; lähetä uudelleen"
                continue
            logger.info("Supervisor's confirmation recorded on work item %s (%s).", confirmation_id, result.value)
            break
        else:
            logger.warning("Stopped asking after %s incomplete answers; the confirmation link still works.", MAX_PROMPTS)
    return read_outcome(outcome.item_id, duplicate=outcome.duplicate)


def _wait(form: type[SupervisorConfirmation], *, key: str, timeout: int) -> SupervisorConfirmation:
    """Suspend under a deployment (the process exits, no worker slot is held); pause otherwise."""
    if deployment.get_id():
        return suspend_flow_run(wait_for_input=form, key=key, timeout=None)
    return pause_flow_run(wait_for_input=form, key=key, timeout=timeout, poll_interval=1)


def _prompt(payload: dict[str, Any], problem: str) -> str:
    text = (
        f"**Esihenkilön vahvistus**: {payload.get('employee_name', '')}, {payload.get('title', '')}, "
        f"{payload.get('unit_name', '')}, aloittaa {payload.get('start_date', '')}.\n\n"
        "Tarkista liitteenä saamasi perehdytyssuunnitelma ja palvelupyynnöt, kirjoita nimesi ja rastita vahvistus."
    )
    return f"{text}\n\n**Korjattavaa:** {problem}" if problem else text
