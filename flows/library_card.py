"""Library card applications: claim the e-service's applications, let the robot decide them, report.

Process ``library_card`` (ARCHITECTURE.md): the e-service enqueues a validated
``schemas.library_card.LibraryCardApplication`` per application; this flow runs
``robots/library_card/tasks.robot`` on them in batches until nothing is claimable, then
publishes what happened (outcomes by reason code, decisions by channel, robot logs) as a table
artifact. Nothing personal leaves the queue: the summary holds ids, codes and counts.
Items that failed for application reasons wait out their backoff and are picked up by a later
run (the deployment runs every few minutes as a safety net).

The warm path: ``decide_application`` is a Prefect background task. The e-service calls
``decide_application.delay(item_id)`` for each application it queues, and a task worker
(``python -m flows.task_worker``, started by ``kuntaflow up``/``run``) runs it at once, with no
flow-run process to start: it starts a robot under the ``koha`` limit that lingers for the next
applications, or finds that a lingering robot has taken the application already. The flow is
batch mode, for a backlog and as the schedule's safety net.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field

from flows.robot_task import decide_while_waiting, run_batches
from kuntaflow.batches import BatchReport, ItemOutcome
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState
from processes.library_card.checkpoints import DecisionSent
from schemas.library_card import PROCESS, ReasonCode

#: The robot writes to Koha; tag-based concurrency limits protect the library system.
KOHA_TAG = "koha"
#: A warm robot waits this long for the next application before it exits (a robot start is ~0.7 s).
WARM_LINGER_SECONDS = 20.0
#: At most this many applications per warm robot process; then the next one starts afresh.
WARM_BATCH_SIZE = 250


@task(name="library-card-decide", task_run_name="library card {item_id}: decide while the citizen waits", log_prints=False)
def decide_application(item_id: int) -> int:
    """Decide application ``item_id`` while the citizen waits: a warm robot takes it, or one starts here.

    Its parameter is the work item's id only (background task parameters are stored). Returns how
    many applications the robot started here decided (0 when a robot already at work took it).
    """
    report = decide_while_waiting(PROCESS, item_id, tags=[KOHA_TAG], batch_size=WARM_BATCH_SIZE, linger_seconds=WARM_LINGER_SECONDS)
    return report.claimed if report else 0


class LibraryCardSummary(BaseModel):
    """What one run of the library-card flow did (no personal data)."""

    batches: int = 0
    applications: int = 0
    by_state: dict[str, int] = Field(default_factory=dict, description="Work-item states at the end of the run.")
    by_reason: dict[str, int] = Field(default_factory=dict, description="CARD_GRANTED, business reason codes, error codes.")
    by_channel: dict[str, int] = Field(default_factory=dict, description="How the decisions went out: suomifi, email, letter, none.")
    robot_logs: list[str] = Field(default_factory=list)


@flow(name="library-card", log_prints=False)
def library_card(
    batch_size: Annotated[int, Field(ge=1, le=1000)] = 50,
    max_batches: Annotated[int | None, Field(ge=1)] = None,
    settle_seconds: Annotated[float, Field(ge=0, le=600)] = 0,
    parallel_batches: Annotated[int, Field(ge=1, le=8)] = 1,
) -> LibraryCardSummary:
    """Decide every claimable library-card application, batch by batch, and report the outcomes.

    ``settle_seconds``: until this long after it started, the run keeps watching the queue for new
    applications instead of ending. The deployment's event trigger starts at most one run per
    ``within`` seconds and drops the events in between; with ``settle_seconds >= within`` this run
    is still watching when those applications are queued, so none waits for the schedule.
    ``parallel_batches``: robots at once (each its own process and batch); the ``koha`` tag
    concurrency limit caps them across runs.
    """
    logger = get_run_logger()
    started = time.monotonic()
    reports = run_batches(
        PROCESS,
        batch_size=batch_size,
        parallel=parallel_batches,
        max_batches=max_batches,
        tags=[KOHA_TAG],
        keep_watching=lambda: new_applications_before(started + settle_seconds),
    )
    summary = summarise_applications(reports)
    logger.info(
        "Library cards: %s applications in %s batches; %s; decisions by %s",
        summary.applications,
        summary.batches,
        summary.by_reason,
        summary.by_channel,
    )
    return summary


def new_applications_before(deadline: float, poll_seconds: float = 1.0) -> bool:
    """Watch the queue (a count, no task runs) until a NEW application is there or ``deadline`` (monotonic) passes."""
    if time.monotonic() >= deadline:
        return False
    with KuntaflowSettings().work_queue() as queue:
        while time.monotonic() < deadline:
            time.sleep(min(poll_seconds, max(deadline - time.monotonic(), 0)))
            if queue.counts().get(PROCESS, {}).get(ItemState.NEW.value, 0):
                return True
        return False


@task(task_run_name="summarise {process_name} outcomes")
def summarise_applications(reports: list[BatchReport], process_name: str = PROCESS) -> LibraryCardSummary:
    """Count each application's final outcome in this run and how its decision went out; publish the table."""
    final: dict[int, ItemOutcome] = {outcome.item_id: outcome for report in reports for outcome in report.outcomes}
    decided = [item_id for item_id, outcome in final.items() if outcome.state in (ItemState.DONE, ItemState.BUSINESS_FAILED)]
    with KuntaflowSettings().work_queue() as queue:
        sent = queue.checkpoint_of_many(decided, DecisionSent.STEP)
    channels = Counter(DecisionSent.model_validate(data).channel.value for data in sent.values())
    summary = LibraryCardSummary(
        batches=len(reports),
        applications=len(final),
        by_state=dict(Counter(o.state.value for o in final.values())),
        by_reason=dict(Counter(_reason(o) for o in final.values())),
        by_channel=dict(channels),
        robot_logs=[str(report.robot_log) for report in reports if report.robot_log],
    )
    if reports:
        rows = [{"what": "state", "code": k, "applications": v} for k, v in sorted(summary.by_state.items())]
        rows += [{"what": "reason", "code": k, "applications": v} for k, v in sorted(summary.by_reason.items())]
        rows += [{"what": "decision sent by", "code": k, "applications": v} for k, v in sorted(summary.by_channel.items())]
        create_table_artifact(
            key="library-card-summary",
            table=rows,
            description=f"**Library cards**: {summary.applications} applications in {summary.batches} batches.  \n"
            + "  \n".join(f"Robot log, batch {n}: `{path}`" for n, path in enumerate(summary.robot_logs, 1)),
        )
    return summary


def _reason(outcome: ItemOutcome) -> str:
    if outcome.state is ItemState.DONE:
        return ReasonCode.CARD_GRANTED.value
    return outcome.error_code or outcome.state.value
