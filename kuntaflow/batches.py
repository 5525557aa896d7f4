"""One robot batch: claim items, run the process's robot on them, release what it left unfinished.

This is the engine half of the flows' ``run_robot`` task, kept free of Prefect so it can be
tested and benchmarked on its own. The robot saves each item's outcome itself as it goes;
whatever it left IN_PROGRESS (killed, timed out, crashed) is released here for the next batch.
If this process dies too, the items' leases run out and they are claimed again.

With ``linger_seconds`` the robot, once its batch is done, goes on claiming new items of the
process one at a time until none has come for that long (robots/libraries/WorkItems.py): the
warm path, where an application queued while a robot is alive costs no process start. The
items it claims that way are part of the batch: released and reported like the others.
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

from pydantic import BaseModel

from kuntaflow.robot_runner import ROBOTS_DIR, RobotRun, SuiteNotFoundError, run_output_dir, run_suite
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import InvalidTransitionError, ItemState, LeaseLostError, WorkQueue

#: In the robot's output folder: the ids a lingering robot claimed itself, one a line.
CLAIMED_FILE = "claimed-ids.txt"


class ItemOutcome(BaseModel):
    """One item's result, without personal data."""

    item_id: int
    state: ItemState
    error_code: str | None = None
    attempts: int = 0


class BatchReport(BaseModel):
    """What one robot batch did."""

    process: str
    batch_number: int
    owner: str
    claimed: int
    outcomes: list[ItemOutcome] = []
    released: int = 0
    robot_return_code: int | None = None
    robot_timed_out: bool = False
    robot_peak_memory_mb: float | None = None
    robot_log: Path | None = None
    robot_could_not_run: bool = False

    def counts(self) -> dict[str, int]:
        return dict(Counter(outcome.state.value for outcome in self.outcomes))


def suite_path(process: str) -> Path:
    """``robots/<process>/tasks.robot``: names line up across flow, robot and queue."""
    return ROBOTS_DIR / process / "tasks.robot"


def process_batch(
    process: str,
    *,
    batch_number: int = 1,
    batch_size: int = 50,
    owner: str | None = None,
    suite: Path | None = None,
    extra_env: dict[str, str] | None = None,
    settings: KuntaflowSettings | None = None,
    linger_seconds: float = 0,
) -> BatchReport:
    """Claim up to ``batch_size`` items of ``process`` and run its robot on them.

    ``linger_seconds``: the robot claims one item, then takes new items one at a time until none
    has come for this long, up to ``batch_size`` items in all and for at most half the robot's
    timeout; two robots started for a burst share it instead of one taking it all.

    Raises:
        SuiteNotFoundError: the process has no robot; checked before anything is claimed, so
            a misnamed process costs no item an attempt.
    """
    suite = suite or suite_path(process)
    if not suite.exists():
        raise SuiteNotFoundError(f"process {process!r} has no robot: {suite} does not exist")
    settings = settings or KuntaflowSettings()
    owner = owner or f"{process}-b{batch_number}-{uuid.uuid4().hex[:8]}"
    with settings.work_queue() as queue:
        # A lingering robot takes items one at a time, its first too: robots side by side share a burst.
        first = 1 if linger_seconds > 0 else batch_size
        items = queue.claim(process, owner=owner, limit=first, lease_seconds=settings.lease_seconds, payloads=False)  # the robot reads them
        if not items:
            return BatchReport(process=process, batch_number=batch_number, owner=owner, claimed=0)
        ids = [item.id for item in items]
        env = dict(extra_env or {})
        if linger_seconds > 0:
            env |= {
                "KUNTAFLOW_WORKITEM_PROCESS": process,
                "KUNTAFLOW_WORKITEM_LINGER_SECONDS": str(linger_seconds),
                "KUNTAFLOW_WORKITEM_BATCH_LIMIT": str(batch_size),
                "KUNTAFLOW_WORKITEM_TAKE_SECONDS": str(settings.robot_timeout_seconds / 2),
            }
        robot, released = _run_robot_on(queue, ids, suite, owner, env, settings)
        outcomes = [
            ItemOutcome(item_id=item.id, state=item.state, error_code=item.error_code, attempts=item.attempts) for item in queue.get_many(ids, payloads=False)
        ]
    return BatchReport(
        process=process,
        batch_number=batch_number,
        owner=owner,
        claimed=len(ids),
        outcomes=outcomes,
        released=released,
        robot_return_code=robot.return_code,
        robot_timed_out=robot.timed_out,
        robot_peak_memory_mb=robot.peak_memory_mb,
        robot_could_not_run=robot.could_not_run,
        robot_log=robot.log_html if robot.output_complete else robot.console_log,
    )


def _run_robot_on(queue: WorkQueue, ids: list[int], suite: Path, owner: str, extra_env: dict[str, str], settings: KuntaflowSettings) -> tuple[RobotRun, int]:
    """Run the robot on the claimed ``ids``; return its run and how many items it left for the queue."""
    robot = None
    claimed_file = run_output_dir(owner, settings) / CLAIMED_FILE
    try:
        robot = run_suite(
            suite,
            run_id=owner,
            env={
                "KUNTAFLOW_WORKITEM_IDS": ",".join(map(str, ids)),
                "KUNTAFLOW_WORKITEM_OWNER": owner,
                "KUNTAFLOW_WORKITEM_CLAIMED_FILE": str(claimed_file),
                **extra_env,
            },
            settings=settings,
        )
    finally:
        ids.extend(_claimed_while_lingering(claimed_file, ids))
        # Also when we are interrupted: what the robot did not finish goes back to the queue now,
        # rather than when its lease runs out.
        if robot is None:
            reason = "the robot's runner was interrupted before the item was finished"
        elif robot.timed_out:
            reason = "the robot timed out before finishing the item"
        else:
            reason = "the robot stopped before finishing the item"
        released = _release_unfinished(queue, ids, owner, reason)
    return robot, released


def _claimed_while_lingering(claimed_file: Path, ids: list[int]) -> list[int]:
    """The ids the robot claimed itself after its batch (one a line), not already in ``ids``."""
    try:
        lines = claimed_file.read_text(encoding="ascii").split()
    except OSError:
        return []
    known = set(ids)
    return [item_id for item_id in dict.fromkeys(int(line) for line in lines if line.isdigit()) if item_id not in known]


def _release_unfinished(queue: WorkQueue, ids: list[int], owner: str, reason: str) -> int:
    """Give back the items still IN_PROGRESS for ``owner``; return how many."""
    released = 0
    for item in queue.get_many(ids, payloads=False):
        if item.state is ItemState.IN_PROGRESS and item.lease_owner == owner:
            try:
                queue.release(item.id, owner=owner, reason=reason)
            except (LeaseLostError, InvalidTransitionError):
                continue  # finished or taken over between the read and the release
            released += 1
    return released
