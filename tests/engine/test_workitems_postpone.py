"""WorkQueue.postpone: an item that waits on a person or a date goes back to NEW without using an attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kuntaflow.workitems import InvalidTransitionError, ItemState, LeaseLostError, WorkQueue


@pytest.fixture
def queue(queue_url):
    q = WorkQueue(queue_url, max_attempts=2)
    yield q
    q.dispose()


def test_a_postponed_item_is_new_again_not_claimable_before_its_time_and_keeps_its_attempts(queue):
    item = queue.add("employment_start_confirmation", reference="c-1", payload={})
    later = datetime.now(UTC) + timedelta(hours=6)
    for _ in range(3):  # more postponements than max_attempts: waiting is not failing
        [claimed] = queue.claim("employment_start_confirmation", owner="reminders", limit=5)
        queue.postpone(claimed.id, owner="reminders", until=datetime.now(UTC) - timedelta(seconds=1), reason="reminder sent")
    [claimed] = queue.claim("employment_start_confirmation", owner="reminders", limit=5)
    queue.postpone(claimed.id, owner="reminders", until=later, reason="reminder sent; escalation next")
    after = queue.get(item.id)
    assert (after.state, after.attempts, after.lease_owner) == (ItemState.NEW, 0, None)
    assert abs(after.not_before - later) < timedelta(seconds=1)
    assert queue.claim("employment_start_confirmation", owner="reminders", limit=5) == []
    last = queue.audit(item.id)[-1]
    assert (last.action, last.actor, last.from_state, last.to_state) == ("postpone", "reminders", ItemState.IN_PROGRESS, ItemState.NEW)
    assert last.reason.startswith("reminder sent; escalation next (until ")


def test_only_the_lease_holder_may_postpone_an_item_in_progress(queue):
    item = queue.add("employment_start_confirmation", reference="c-2", payload={})
    until = datetime.now(UTC) + timedelta(hours=1)
    with pytest.raises(InvalidTransitionError):
        queue.postpone(item.id, owner="reminders", until=until, reason="waiting")
    queue.claim("employment_start_confirmation", owner="reminders", limit=1)
    with pytest.raises(LeaseLostError):
        queue.postpone(item.id, owner="someone-else", until=until, reason="waiting")
    with pytest.raises(ValueError, match="reason"):
        queue.postpone(item.id, owner="reminders", until=until, reason=" ")
