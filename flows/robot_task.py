"""The Prefect step every process flow shares: one robot batch, reported in the Prefect UI."""

from __future__ import annotations

import uuid

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.runtime import flow_run

from kuntaflow.batches import BatchReport, process_batch
from kuntaflow.redaction import install as install_redaction


@task(task_run_name="{process}: robot batch {batch_number}")
def run_robot(
    process: str,
    batch_number: int = 1,
    batch_size: int = 50,
    extra_env: dict[str, str] | None = None,
) -> BatchReport:
    """Claim up to ``batch_size`` items of ``process``, run its robot, publish a table artifact.

    The artifact lists item ids, outcomes and error codes (never payloads) and names the robot log.
    """
    install_redaction()
    logger = get_run_logger()
    run_id = (flow_run.get_id() or uuid.uuid4().hex)[:8]
    owner = f"{process}-{run_id}-b{batch_number}-{uuid.uuid4().hex[:6]}"
    report = process_batch(process, batch_number=batch_number, batch_size=batch_size, owner=owner, extra_env=extra_env)
    if report.claimed == 0:
        return report
    logger.info("Batch %s: %s items, outcomes %s", batch_number, report.claimed, report.counts())
    if report.released:
        logger.warning("Batch %s: the robot left %s items unfinished; released for the next batch", batch_number, report.released)
    create_table_artifact(
        key=f"{process.replace('_', '-')}-robot-batch",
        table=[outcome.model_dump(mode="json") for outcome in report.outcomes],
        description=(
            f"**{process}**, batch {batch_number}: {report.counts()}; released {report.released}.  \n"
            f"Robot log: `{report.robot_log}`"
        ),
    )
    return report
