"""The Prefect steps every process flow shares: one robot batch, and batches until the queue is empty.

``run_robot`` claims a batch of the process's work items, runs ``robots/<process>/tasks.robot``
on them in a subprocess (kuntaflow/robot_runner.py), releases what the robot left unfinished,
and publishes a table artifact: item ids, outcomes, error codes and attempts, never payloads,
with a link to the robot's log. ``run_batches`` runs such batches, several at once if asked,
until nothing is claimable.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import flow_run

from kuntaflow.batches import BatchReport, process_batch
from kuntaflow.robot_runner import RobotCouldNotRunError
from schemas.redaction import install as install_redaction


@task(task_run_name="{process}: robot batch {batch_number}")
def run_robot(
    process: str,
    batch_number: int = 1,
    batch_size: int = 50,
    extra_env: dict[str, str] | None = None,
) -> BatchReport:
    """Claim up to ``batch_size`` items of ``process``, run its robot, publish a table artifact.

    Args:
        process: the queue and robot name (``robots/<process>/tasks.robot``).
        batch_number: shown in the task run's name and the artifact; counts batches of one flow run.
        batch_size: items claimed for this robot run.
        extra_env: environment for the robot on top of the engine's settings (no secrets, no
            personal data: task parameters are stored by Prefect).

    Returns:
        The batch's report: counts by outcome, item ids and states, the robot log's path.
        ``claimed == 0`` means nothing was claimable.

    Raises:
        SuiteNotFoundError: the process has no robot (nothing was claimed).
        RobotCouldNotRunError: Robot Framework refused the suite or crashed; the items were
            released and the flow run should fail rather than burn their attempts batch after batch.
    """
    install_redaction()
    logger = get_run_logger()
    run_id = (flow_run.get_id() or uuid.uuid4().hex)[:8]
    owner = f"{process}-{run_id}-b{batch_number}-{uuid.uuid4().hex[:6]}"
    report = process_batch(process, batch_number=batch_number, batch_size=batch_size, owner=owner, extra_env=extra_env)
    if report.claimed == 0:
        logger.info("Batch %s: nothing to claim for %s", batch_number, process)
        return report
    logger.info("Batch %s: %s items, outcomes %s", batch_number, report.claimed, report.counts())
    if report.released:
        logger.warning("Batch %s: the robot left %s items unfinished; released for the next batch", batch_number, report.released)
    create_table_artifact(
        key=f"{process.replace('_', '-')}-robot-batch",
        table=[outcome.model_dump(mode="json") for outcome in report.outcomes],
        description=_describe(report),
    )
    if report.robot_could_not_run:
        raise RobotCouldNotRunError(
            f"the {process} robot could not run (Robot Framework exit code {report.robot_return_code}); "
            f"its {report.claimed} items were released; see {report.robot_log}"
        )
    return report


def run_batches(
    process: str,
    *,
    batch_size: int,
    parallel: int = 1,
    max_batches: int | None = None,
    tags: Sequence[str] = (),
    extra_env: dict[str, str] | None = None,
    keep_watching: Callable[[], bool] | None = None,
) -> list[BatchReport]:
    """Robot batches of ``process``, up to ``parallel`` at once, until one finds nothing to claim.

    Each batch claims items of its own, so batches running side by side never share one; every
    robot is its own process, so two batches use two CPUs (Robot Framework runs one keyword at a
    time). ``tags`` puts the batches under Prefect's tag concurrency limits (``koha``: 2), which
    cap ``parallel`` across all flow runs. ``max_batches`` counts batches that claimed something.
    When the queue is empty and nothing runs, ``keep_watching()`` decides whether to go on (it
    may wait for new items). If a batch raises, the others finish first, then the error is raised.

    Returns:
        The reports of the batches that claimed items, in the order they finished.
    """
    robot = run_robot.with_options(tags=list(tags)) if tags else run_robot
    reports: list[BatchReport] = []
    running: set[PrefectFuture[BatchReport]] = set()
    submitted = 0
    empty = False
    try:
        while True:
            while not empty and len(running) < parallel and (max_batches is None or len(reports) + len(running) < max_batches):
                submitted += 1
                running.add(robot.submit(process, batch_number=submitted, batch_size=batch_size, extra_env=extra_env))
            if not running:
                if empty and keep_watching is not None and (max_batches is None or len(reports) < max_batches) and keep_watching():
                    empty = False
                    continue
                return reports
            finished = next(as_completed(list(running)))
            running.discard(finished)
            report = finished.result()
            if report.claimed == 0:
                empty = True
            else:
                reports.append(report)
    finally:
        for future in running:
            future.wait()


def _describe(report: BatchReport) -> str:
    """The artifact's markdown: counts, what happened to the robot, a link to its log."""
    counts = ", ".join(f"{count} {state}" for state, count in sorted(report.counts().items()))
    if report.robot_timed_out:
        robot = "the robot was stopped at its timeout"
    elif report.robot_return_code is not None and report.robot_return_code < 0:
        robot = f"the robot was killed by signal {-report.robot_return_code}"
    else:
        robot = f"robot exit code {report.robot_return_code}"
    if report.robot_peak_memory_mb is not None:
        robot += f", peak memory {report.robot_peak_memory_mb:.0f} MB"
    lines = [f"**{report.process}**, batch {report.batch_number}: {report.claimed} items: {counts}; {robot}."]
    if report.released:
        lines.append(f"Released unfinished for the next batch: {report.released}.")
    if report.robot_log:
        lines.append(f"Robot log: [{report.robot_log.name}]({report.robot_log.as_uri()}) (`{report.robot_log}`)")
    return "  \n".join(lines)
