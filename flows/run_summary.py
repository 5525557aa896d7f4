"""What a process flow's run did, for the Prefect UI and for ``make run``: outcomes counted, never payloads.

``summarise_run(reports, …)`` counts each item's final outcome in the run's robot batches (the last
batch that touched it wins), by state and by reason (for DONE the output's ``reason``, else
``done_reason``; otherwise the error code), and,
given the checkpoint a message step records (a ``processes.notify.MessageSent``), how the messages went
out. It publishes a table artifact ``<artifact_key>`` whose description links the robot logs. Nothing
personal leaves the queue: ids, codes and counts only.
"""

from __future__ import annotations

from collections import Counter

from prefect.artifacts import create_table_artifact
from pydantic import BaseModel, Field

from kuntaflow.batches import BatchReport, ItemOutcome
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState
from processes.notify import MessageSent


class RunSummary(BaseModel):
    """What one run of a process flow did (no personal data)."""

    batches: int = 0
    items: int = 0
    by_state: dict[str, int] = Field(default_factory=dict, description="Work-item states at the end of the run.")
    by_reason: dict[str, int] = Field(default_factory=dict, description="The DONE reason, business reason codes, error codes.")
    by_channel: dict[str, int] = Field(default_factory=dict, description="How the messages went out: suomifi, email, letter, none.")
    robot_logs: list[str] = Field(default_factory=list)


def summarise_run(
    reports: list[BatchReport],
    *,
    done_reason: str,
    title: str,
    artifact_key: str,
    sent: type[MessageSent] | None = None,
    summary_type: type[RunSummary] = RunSummary,
) -> RunSummary:
    """Count the run's outcomes (``sent``: the message checkpoint whose channels are counted) and publish the table."""
    final: dict[int, ItemOutcome] = {outcome.item_id: outcome for report in reports for outcome in report.outcomes}
    channels: Counter[str] = Counter()
    reasons: dict[int, str] = {}
    with KuntaflowSettings().work_queue() as queue:
        done = [item_id for item_id, outcome in final.items() if outcome.state is ItemState.DONE]
        reasons = {item.id: str((item.output or {}).get("reason") or done_reason) for item in queue.get_many(done, payloads=False)}
        if sent is not None:  # one query per 500 items, not one per item
            decided = [item_id for item_id, outcome in final.items() if outcome.state in (ItemState.DONE, ItemState.BUSINESS_FAILED)]
            channels.update(sent.model_validate(data).channel.value for data in queue.checkpoint_of_many(decided, sent.STEP).values())
    summary = summary_type(
        batches=len(reports),
        items=len(final),
        by_state=dict(Counter(o.state.value for o in final.values())),
        by_reason=dict(Counter(reasons.get(o.item_id) or o.error_code or o.state.value for o in final.values())),
        by_channel=dict(channels),
        robot_logs=[str(report.robot_log) for report in reports if report.robot_log],
    )
    if reports:
        rows = [{"what": "state", "code": k, "items": v} for k, v in sorted(summary.by_state.items())]
        rows += [{"what": "reason", "code": k, "items": v} for k, v in sorted(summary.by_reason.items())]
        rows += [{"what": "sent by", "code": k, "items": v} for k, v in sorted(summary.by_channel.items())]
        create_table_artifact(
            key=artifact_key,
            table=rows,
            description=f"**{title}**: {summary.items} work items in {summary.batches} batches.  \n"
            + "  \n".join(f"Robot log, batch {n}: `{path}`" for n, path in enumerate(summary.robot_logs, 1)),
        )
    return summary
