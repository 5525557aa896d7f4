"""One robot batch: claim items, run the process's robot on them, release what it left unfinished.

This is the engine half of the flows' ``run_robot`` task, kept free of Prefect so it can be
tested and benchmarked on its own. The robot saves each item's outcome itself as it goes;
whatever it left IN_PROGRESS (killed, timed out, crashed) is released here for the next batch.
If this process dies too, the items' leases run out and they are claimed again.
"""

from __future__ import annotations

import uuid
from collections import Counter
from pathlib import Path

from pydantic import BaseModel

from kuntaflow.robot_runner import ROBOTS_DIR, run_suite
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState


class ItemOutcome(BaseModel):
    """One item's result, without personal data."""

    item_id: int
    state: ItemState
    error_code: str | None = None


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
    robot_log: Path | None = None

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
) -> BatchReport:
    """Claim up to ``batch_size`` items of ``process`` and run its robot on them."""
    settings = settings or KuntaflowSettings()
    owner = owner or f"{process}-b{batch_number}-{uuid.uuid4().hex[:8]}"
    queue = settings.work_queue()
    try:
        items = queue.claim(process, owner=owner, limit=batch_size, lease_seconds=settings.lease_seconds)
        if not items:
            return BatchReport(process=process, batch_number=batch_number, owner=owner, claimed=0)
        ids = [item.id for item in items]
        robot = run_suite(
            suite or suite_path(process),
            run_id=owner,
            env={"KUNTAFLOW_WORKITEM_IDS": ",".join(map(str, ids)), "KUNTAFLOW_WORKITEM_OWNER": owner, **(extra_env or {})},
            settings=settings,
        )
        released = 0
        outcomes: list[ItemOutcome] = []
        for item_id in ids:
            item = queue.get(item_id)
            if item.state is ItemState.IN_PROGRESS and item.lease_owner == owner:
                reason = "the robot stopped before finishing the item" + (" (timed out)" if robot.timed_out else "")
                queue.release(item_id, owner=owner, reason=reason)
                released += 1
                item = queue.get(item_id)
            outcomes.append(ItemOutcome(item_id=item_id, state=item.state, error_code=item.error_code))
    finally:
        queue.dispose()
    return BatchReport(
        process=process, batch_number=batch_number, owner=owner, claimed=len(ids), outcomes=outcomes,
        released=released, robot_return_code=robot.return_code, robot_timed_out=robot.timed_out,
        robot_log=robot.log_html if robot.output_complete else robot.output_dir / "console.txt",
    )
