"""What a process flow's run did, for the Prefect UI and for ``make run``: outcomes counted, never payloads.

``summarise_run(reports, …)`` counts each item's final outcome in the run's robot batches (the last
batch that touched it wins; ``RunTally`` counts them batch by batch as they finish, so a run's
memory does not grow with its items), by state and by reason (for DONE the output's ``reason``, else
``done_reason``; otherwise the error code), and,
given the checkpoint a message step records (a ``processes.notify.MessageSent``), how the messages went
out. It publishes a table artifact ``<artifact_key>`` whose description links the robot logs. Nothing
personal leaves the queue: ids, codes and counts only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

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


class RunTally:
    """A run's outcomes counted batch by batch as the batches finish, instead of every report kept to the end.

    Why: a flow run of 20,000 applications kept 80 reports of 250 outcomes and then read every
    decided item whole (payload and all) in one go for the summary; its memory grew with the
    count. :meth:`add` looks a batch's items up in the queue (the DONE reason, the message
    checkpoint ``sent``) as it finishes and keeps, per item, only which of the run's few distinct
    (state, reason, channel) outcomes it last had: a small int in a dict, about 100 bytes an item.
    An item that a later batch of the run touches again (released unfinished, retried) is counted
    once, by its last outcome, as before.
    """

    def __init__(self, *, done_reason: str, sent: type[MessageSent] | None = None) -> None:
        self.done_reason, self.sent = done_reason, sent
        self.batches = 0
        self.robot_logs: list[str] = []
        self._kinds: dict[tuple[str, str, str | None], int] = {}
        self._last: dict[int, int] = {}

    def add(self, report: BatchReport) -> None:
        """Count one finished batch's outcomes (call it for the batches that claimed items, in the order they finished)."""
        self.batches += 1
        if report.robot_log:
            self.robot_logs.append(str(report.robot_log))
        final: dict[int, ItemOutcome] = {outcome.item_id: outcome for outcome in report.outcomes}
        with KuntaflowSettings().work_queue() as queue:
            done = [item_id for item_id, outcome in final.items() if outcome.state is ItemState.DONE]
            reasons = {item.id: str((item.output or {}).get("reason") or self.done_reason) for item in queue.get_many(done, payloads=False)}
            channels: dict[int, str] = {}
            if self.sent is not None:
                decided = [item_id for item_id, outcome in final.items() if outcome.state in (ItemState.DONE, ItemState.BUSINESS_FAILED)]
                sent = self.sent
                channels = {item_id: sent.model_validate(data).channel.value for item_id, data in queue.checkpoint_of_many(decided, sent.STEP).items()}
        for item_id, outcome in final.items():
            kind = (outcome.state.value, reasons.get(item_id) or outcome.error_code or outcome.state.value, channels.get(item_id))
            self._last[item_id] = self._kinds.setdefault(kind, len(self._kinds))

    def summary(self, summary_type: type[RunSummary] = RunSummary) -> RunSummary:
        """The counts so far, each item by its last outcome."""
        kinds = {number: kind for kind, number in self._kinds.items()}
        by_state: Counter[str] = Counter()
        by_reason: Counter[str] = Counter()
        by_channel: Counter[str] = Counter()
        for number, items in Counter(self._last.values()).items():
            state, reason, channel = kinds[number]
            by_state[state] += items
            by_reason[reason] += items
            if channel is not None:
                by_channel[channel] += items
        return summary_type(
            batches=self.batches,
            items=len(self._last),
            by_state=dict(by_state),
            by_reason=dict(by_reason),
            by_channel=dict(by_channel),
            robot_logs=list(self.robot_logs),
        )

    def publish(self, *, title: str, artifact_key: str, summary_type: type[RunSummary] = RunSummary) -> RunSummary:
        """The run's summary, published as the table artifact ``artifact_key`` when any batch claimed items."""
        summary = self.summary(summary_type)
        if self.batches:
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


def summarise_run(
    reports: Iterable[BatchReport],
    *,
    done_reason: str,
    title: str,
    artifact_key: str,
    sent: type[MessageSent] | None = None,
    summary_type: type[RunSummary] = RunSummary,
) -> RunSummary:
    """Count the run's outcomes (``sent``: the message checkpoint whose channels are counted) and publish the table.

    ``reports`` may be a generator (``flows.robot_task.batch_reports``): each report is counted
    as it comes and not kept (:class:`RunTally`).
    """
    tally = RunTally(done_reason=done_reason, sent=sent)
    for report in reports:
        tally.add(report)
    return tally.publish(title=title, artifact_key=artifact_key, summary_type=summary_type)
