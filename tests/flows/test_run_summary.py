"""A run's summary counted batch by batch (flows.run_summary.RunTally): each item once, by its last outcome."""

from __future__ import annotations

from flows.run_summary import RunTally
from kuntaflow.batches import BatchReport, ItemOutcome
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState
from processes.notify import MessageSent

PROCESS = "tally_probe"


def report(number: int, *outcomes: ItemOutcome) -> BatchReport:
    return BatchReport(process=PROCESS, batch_number=number, owner=f"probe-b{number}", claimed=len(outcomes), outcomes=list(outcomes))


def test_items_are_counted_once_by_their_last_outcome_with_their_reason_and_channel():
    with KuntaflowSettings().work_queue() as queue:
        granted, refused, retried, released = (queue.add(PROCESS, reference=name, payload={"n": name}).id for name in "abcd")
        queue.claim(PROCESS, owner="probe", limit=4)
        queue.complete(granted)
        queue.fail_business(refused, code="UNDER_AGE", message="too young")
        queue.checkpoint(refused, MessageSent.STEP, {"channel": "letter", "external_id": "x1"})
        queue.fail_application(retried, code="KOHA_UNAVAILABLE", message="down")
        first = report(
            1,
            ItemOutcome(item_id=granted, state=ItemState.DONE),
            ItemOutcome(item_id=refused, state=ItemState.BUSINESS_FAILED, error_code="UNDER_AGE"),
            ItemOutcome(item_id=retried, state=ItemState.APPLICATION_FAILED, error_code="KOHA_UNAVAILABLE"),
        )
        tally = RunTally(done_reason="GRANTED", sent=MessageSent)
        tally.add(first)
        # The retried item is decided in the run's second batch; another is left unfinished there.
        queue.retry(retried, reason="probe", actor="probe")
        queue.claim(PROCESS, owner="probe", limit=1)
        queue.complete(retried, output={"reason": "EXISTING_PATRON"})
        queue.checkpoint(retried, MessageSent.STEP, {"channel": "suomifi", "external_id": "x2"})
        second = report(2, ItemOutcome(item_id=retried, state=ItemState.DONE), ItemOutcome(item_id=released, state=ItemState.NEW))
        tally.add(second)
        summary = tally.summary()
        assert summary.batches == 2 and summary.items == 4
        assert summary.by_state == {"DONE": 2, "BUSINESS_FAILED": 1, "NEW": 1}
        assert summary.by_reason == {"GRANTED": 1, "UNDER_AGE": 1, "EXISTING_PATRON": 1, "NEW": 1}
        assert summary.by_channel == {"letter": 1, "suomifi": 1}


def test_a_run_without_batches_counts_nothing():
    summary = RunTally(done_reason="GRANTED").summary()
    assert (summary.batches, summary.items, summary.by_state, summary.by_reason, summary.by_channel) == (0, 0, {}, {}, {})
