"""The Prefect steps every process flow shares: one robot batch, and batches until the queue is empty.

``run_robot`` claims a batch of the process's work items, runs ``robots/<process>/tasks.robot``
on them in a subprocess (kuntaflow/robot_runner.py), releases what the robot left unfinished,
and publishes a table artifact: item ids, outcomes, error codes and attempts, never payloads,
with a link to the robot's log. ``batch_reports`` runs such batches, several at once if asked,
until nothing is claimable, and yields each report as it finishes; ``run_batches`` lists them.

``decide_while_waiting`` is the warm path's step, run by a background task on a Prefect task
worker (flows/task_worker.py): for one newly queued item it takes a slot of the process's tag
concurrency limit and starts a robot that lingers for the next items, unless a warm robot has
taken the item already.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.concurrency.sync import concurrency
from prefect.futures import PrefectFuture, as_completed
from prefect.runtime import flow_run, task_run

from kuntaflow.batches import BatchReport, process_batch
from kuntaflow.robot_runner import RobotCouldNotRunError
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState
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
    return robot_batch(process, batch_number=batch_number, batch_size=batch_size, extra_env=extra_env)


def robot_batch(
    process: str, *, batch_number: int = 1, batch_size: int = 50, extra_env: dict[str, str] | None = None, linger_seconds: float = 0
) -> BatchReport:
    """``run_robot``'s body, inside any Prefect task run: one batch, its log lines and table artifact."""
    install_redaction()
    logger = get_run_logger()
    owner = f"{process}-{prefect_run_name()}-b{batch_number}-{uuid.uuid4().hex[:6]}"
    report = process_batch(process, batch_number=batch_number, batch_size=batch_size, owner=owner, extra_env=extra_env, linger_seconds=linger_seconds)
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


def run_batches(process: str, **options: Any) -> list[BatchReport]:
    """Every report of :func:`batch_reports` (the same options), kept in a list: for flows whose runs
    are a few batches. A flow whose runs can be long counts the reports as they come instead."""
    return list(batch_reports(process, **options))


def batch_reports(
    process: str,
    *,
    batch_size: int,
    parallel: int = 1,
    max_batches: int | None = None,
    tags: Sequence[str] = (),
    extra_env: dict[str, str] | None = None,
    keep_watching: Callable[[], bool] | None = None,
) -> Iterator[BatchReport]:
    """Robot batches of ``process``, up to ``parallel`` at once, until nothing is claimable.

    ``batch_size`` is a robot's most: a backlog smaller than the free robots' batches is shared
    evenly among them (:func:`batch_shares`), and no batch is started when nothing is claimable.

    Each batch claims items of its own, so batches running side by side never share one; every
    robot is its own process, so two batches use two CPUs (Robot Framework runs one keyword at a
    time). ``tags`` puts the batches under Prefect's tag concurrency limits (``koha``: 2), which
    cap ``parallel`` across all flow runs. ``max_batches`` counts batches that claimed something.
    When the queue is empty and nothing runs, ``keep_watching()`` decides whether to go on (it
    may wait for new items). If a batch raises, the others finish first, then the error is raised.

    Yields:
        The reports of the batches that claimed items, in the order they finished, each as soon
        as it finishes and after the next batch is submitted: a caller that counts them and lets
        them go (``flows.run_summary.RunTally``) keeps the flow's memory flat in the number of
        items, and its counting overlaps the robots' work. Nothing here keeps a finished batch's
        report or its Prefect future.
    """
    robot = run_robot.with_options(tags=list(tags)) if tags else run_robot
    running: set[PrefectFuture[BatchReport]] = set()
    submitted = finished_batches = 0
    empty = False

    def top_up() -> None:
        nonlocal submitted, empty
        free = parallel - len(running)
        if max_batches is not None:
            free = min(free, max_batches - finished_batches - len(running))
        if empty or free <= 0:
            return
        shares = batch_shares(process, batch_size=batch_size, free=free)
        empty = not shares and not running
        for share in shares:
            submitted += 1
            running.add(robot.submit(process, batch_number=submitted, batch_size=share, extra_env=extra_env))

    try:
        while True:
            top_up()
            if not running:
                if empty and keep_watching is not None and (max_batches is None or finished_batches < max_batches) and keep_watching():
                    empty = False
                    continue
                return
            finished = next(as_completed(list(running)))
            running.discard(finished)
            report = finished.result()
            del finished
            if report.claimed == 0:
                empty = True
                continue
            finished_batches += 1
            top_up()
            yield report
    finally:
        for future in running:
            future.wait()


def batch_shares(process: str, *, batch_size: int, free: int) -> list[int]:
    """The sizes of the batches to start now in ``free`` robot slots: none when nothing is claimable.

    A backlog smaller than the free robots' batches is split evenly over them (300 applications, batch
    size 250, two at once: two robots of 150, not 250 and then 50 while the other robot waits), and no
    robot is started, nor a Prefect task run, for a batch that would find nothing.
    """
    with KuntaflowSettings().work_queue() as queue:
        waiting = queue.claimable_count(process, up_to=batch_size * free)
    return even_shares(waiting, batch_size=batch_size, free=free)


def even_shares(waiting: int, *, batch_size: int, free: int) -> list[int]:
    """``waiting`` items over ``free`` robots, an even share each up to ``batch_size``; no empty share.

    Split over the free robots only: the rest of a backlog goes to one robot while the other finishes
    its batch, rather than in halves, quarters, … each costing a robot start.
    """
    share = min(batch_size, -(-waiting // free))  # ceil
    return [min(share, waiting - share * n) for n in range(free) if waiting > share * n]


#: How long one try for a concurrency slot waits before the item is looked at again.
SLOT_TRY_SECONDS = 1.0
#: How long a new item is left for a lingering robot to claim before a slot is asked for.
WARM_ROBOT_GRACE_SECONDS = 0.3


def decide_while_waiting(
    process: str,
    item_id: int,
    *,
    tags: Sequence[str],
    batch_size: int,
    linger_seconds: float,
    give_up_seconds: float = 60,
) -> BatchReport | None:
    """Have item ``item_id`` of ``process`` decided now: by a warm robot, or by a robot started here.

    While the item is NEW, try for a slot of each tag's concurrency limit (Prefect's own, the
    ``tag:<name>`` limits task runs hold), a second at a time; with the slots, run a robot batch
    that lingers ``linger_seconds`` for the next items. Once the item is no longer NEW (a
    lingering robot claimed it) there is nothing to do. After ``give_up_seconds`` the item is
    left to the deployment's batch runs (its schedule), still NEW in the queue: nothing is lost.

    Returns:
        The batch's report when a robot was started here; None when another robot took the item
        or the slots stayed taken.
    """
    logger = get_run_logger()
    deadline = time.monotonic() + give_up_seconds
    with KuntaflowSettings().work_queue() as queue:
        # A lingering robot looks for new items every 0.2 s: give it that chance before asking
        # Prefect for a slot (a slot that stays taken is logged by Prefect as an error).
        taken = time.monotonic() + WARM_ROBOT_GRACE_SECONDS
        while queue.get(item_id).state is ItemState.NEW and time.monotonic() < taken:
            time.sleep(0.1)
        while queue.get(item_id).state is ItemState.NEW:
            with ExitStack() as slots:
                try:
                    slots.enter_context(concurrency([f"tag:{tag}" for tag in tags], occupy=1, timeout_seconds=SLOT_TRY_SECONDS))
                except TimeoutError:
                    if time.monotonic() > deadline:
                        logger.warning("Work item %s: no %s slot for %.0f s; left for the next batch run", item_id, "/".join(tags), give_up_seconds)
                        return None
                    continue
                if queue.get(item_id).state is not ItemState.NEW:
                    break
                # Batch 0 names a warm-path robot in its owner, the queue's audit trail and its output folder.
                return robot_batch(process, batch_number=0, batch_size=batch_size, linger_seconds=linger_seconds)
    logger.info("Work item %s was taken by a robot already at work", item_id)
    return None


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
        log = report.robot_log
        built = f"; built when opened: `kuntaflow robot-log {log}`" if log.name == "log.html" else ""
        lines.append(f"Robot log: [{log.name}]({log.as_uri()}) (`{log}`{built})")
    return "  \n".join(lines)


def prefect_run_name() -> str:
    """The Prefect run a robot batch belongs to, as its lease owner names it: the flow run's id, or
    ``task-<id>`` for a background task (the warm path). Kuntaflow Desk links an attempt to it."""
    if flow_id := flow_run.get_id():
        return str(flow_id)
    if task_id := task_run.get_id():
        return f"task-{task_id}"
    return uuid.uuid4().hex[:8]
