"""Crash safety under real concurrency: several OS processes claim from one PostgreSQL queue."""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter

import pytest

from kuntaflow.workitems import ItemState, LeaseLostError, WorkQueue

ITEMS = 2_000
WORKERS = 4


def _worker(url: str, name: str, crash_after_claim: bool, result_queue) -> None:
    queue = WorkQueue(url)
    completed: list[int] = []
    if crash_after_claim:
        # Claim a batch with a short lease and "die": these items must be reclaimed by others.
        batch = queue.claim("p", owner=name, limit=50, lease_seconds=1)
        queue.start(batch[0].id, owner=name)  # it dies working on its first item
        result_queue.put((name, completed))
        return
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        batch = queue.claim("p", owner=name, limit=50, lease_seconds=60)
        if not batch:
            counts = queue.counts().get("p", {})
            if counts.get(ItemState.DONE.value) == ITEMS:
                break
            time.sleep(0.05)  # waiting for the crashed worker's leases to run out, not for timing
            continue
        for item in batch:
            try:
                queue.complete(item.id, owner=name, output={"by": name})
                completed.append(item.id)
            except LeaseLostError:
                pass
    queue.dispose()
    result_queue.put((name, completed))


@pytest.mark.postgres
@pytest.mark.slow
def test_four_processes_complete_every_item_exactly_once_even_when_one_dies(postgres_url):
    queue = WorkQueue(postgres_url)
    for i in range(ITEMS):
        queue.add("p", reference=f"case-{i}", payload={"i": i})
    queue.dispose()

    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    crasher = context.Process(target=_worker, args=(postgres_url, "crasher", True, results))
    crasher.start()
    crasher.join(60)
    workers = [context.Process(target=_worker, args=(postgres_url, f"robot-{n}", False, results)) for n in range(WORKERS)]
    for process in workers:
        process.start()
    outcomes = dict(results.get(timeout=180) for _ in range(WORKERS + 1))
    for process in workers:
        process.join(30)
        assert process.exitcode == 0

    completions = Counter(item_id for ids in outcomes.values() for item_id in ids)
    assert len(completions) == ITEMS
    assert set(completions.values()) == {1}, "an item was completed twice"
    assert all(len(outcomes[f"robot-{n}"]) > 0 for n in range(WORKERS)), "a worker got nothing: claims are blocking"

    queue = WorkQueue(postgres_url)
    assert queue.counts()["p"][ItemState.DONE.value] == ITEMS
    reclaimed = [item for item in queue.list(process="p", limit=ITEMS) if [e.action for e in queue.audit(item.id)].count("reclaim") == 1]
    assert len(reclaimed) == 50, "the crashed worker's batch was not reclaimed exactly once each"
    # The item it died on used an attempt; the 49 it never started did not.
    assert sorted(item.attempts for item in reclaimed) == [1] * 49 + [2]
    sample = next(item for item in reclaimed if item.attempts == 1)
    assert [e.action for e in queue.audit(sample.id)] == ["add", "claim", "reclaim", "complete"]
    queue.dispose()
