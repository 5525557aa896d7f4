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
from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.parameters import form_field
from flows.robot_task import batch_reports, decide_while_waiting
from flows.run_summary import RunSummary, RunTally
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


class LibraryCardSummary(RunSummary):
    """What one run of the library-card flow did (no personal data); ``by_channel``: how the decisions went out."""

    @property
    def applications(self) -> int:
        return self.items


@flow(name="library-card", log_prints=False)
def library_card(
    batch_size: Annotated[int, form_field("Hakemuksia erässä", "Montako hakemusta yksi robottiajo käsittelee (1–1000).", ge=1, le=1000)] = 50,
    max_batches: Annotated[int | None, form_field("Eriä enintään", "Tyhjä: kunnes jonossa ei ole käsiteltävää.", ge=1)] = None,
    settle_seconds: Annotated[
        float, form_field("Jonon seuranta (s)", "Näin kauan ajon alusta uusia hakemuksia odotetaan samaan ajoon (0–600).", ge=0, le=600)
    ] = 0,
    parallel_batches: Annotated[int, form_field("Robotteja yhtä aikaa", "Montako erää ajetaan rinnakkain (1–8); koha-raja rajoittaa.", ge=1, le=8)] = 1,
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
    # Each batch's outcomes are counted as it finishes and its report let go: the run's memory
    # stays flat however many applications it decides (bench/compare.py --memory-count).
    tally = RunTally(done_reason=ReasonCode.CARD_GRANTED.value, sent=DecisionSent)
    for report in batch_reports(
        PROCESS,
        batch_size=batch_size,
        parallel=parallel_batches,
        max_batches=max_batches,
        tags=[KOHA_TAG],
        keep_watching=lambda: new_applications_before(started + settle_seconds),
    ):
        tally.add(report)
    summary = summarise_applications(tally)
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


@task(task_run_name="summarise {process_name} outcomes", cache_policy=NO_CACHE)
def summarise_applications(tally: RunTally, process_name: str = PROCESS) -> LibraryCardSummary:
    """Publish the table of each application's final outcome in this run and how its decision went out.

    ``tally`` counted the batches as they finished (a ``RunTally`` is not a cache key: no cache).
    """
    summary = tally.publish(title="Library cards", artifact_key="library-card-summary", summary_type=LibraryCardSummary)
    assert isinstance(summary, LibraryCardSummary)
    return summary
