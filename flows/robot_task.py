"""The Prefect step every process flow shares: one robot batch, reported in the Prefect UI.

``run_robot`` claims a batch of the process's work items, runs ``robots/<process>/tasks.robot``
on them in a subprocess (kuntaflow/robot_runner.py), releases what the robot left unfinished,
and publishes a table artifact: item ids, outcomes, error codes and attempts, never payloads,
with a link to the robot's log.
"""

from __future__ import annotations

import uuid

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.runtime import flow_run

from kuntaflow.batches import BatchReport, process_batch
from kuntaflow.redaction import install as install_redaction
from kuntaflow.robot_runner import RobotCouldNotRunError


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


def _describe(report: BatchReport) -> str:
    """The artifact's markdown: counts, what happened to the robot, a link to its log."""
    counts = ", ".join(f"{count} {state}" for state, count in sorted(report.counts().items()))
    if report.robot_timed_out:
        robot = "the robot was stopped at its timeout"
    elif report.robot_return_code is not None and report.robot_return_code < 0:
        robot = f"the robot was killed by signal {-report.robot_return_code}"
    else:
        robot = f"robot exit code {report.robot_return_code}"
    lines = [f"**{report.process}**, batch {report.batch_number}: {report.claimed} items: {counts}; {robot}."]
    if report.released:
        lines.append(f"Released unfinished for the next batch: {report.released}.")
    if report.robot_log:
        lines.append(f"Robot log: [{report.robot_log.name}]({report.robot_log.as_uri()}) (`{report.robot_log}`)")
    return "  \n".join(lines)
