"""run_robot, the task every process flow shares: its name, and what it does when the robot cannot work."""

from __future__ import annotations

import re

import pytest
from prefect import flow

from flows.installation_check import PROCESS, enqueue_samples, sample_cases
from flows.robot_task import decide_while_waiting, even_shares, run_batches, run_robot
from kuntaflow.batches import BatchReport
from kuntaflow.robot_runner import RobotCouldNotRunError, SuiteNotFoundError
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState


@flow(name="robot-task-probe")
def one_batch(process: str, extra_env: dict[str, str] | None = None) -> BatchReport:
    return run_robot(process, batch_number=7, batch_size=3, extra_env=extra_env)


@pytest.mark.slow
def test_the_task_run_is_named_by_process_and_batch_and_the_owner_is_unique_per_run(prefect_harness):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    with KuntaflowSettings().work_queue() as queue:
        enqueue_samples(queue)
        first, second = one_batch(PROCESS), one_batch(PROCESS)
        assert first.claimed == second.claimed == 3 and first.owner != second.owner
        # The owner names the flow run whose batch it is (Kuntaflow Desk links an attempt to it).
        run_id = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
        assert re.fullmatch(rf"{PROCESS}-{run_id}-b7-[0-9a-f]{{6}}", first.owner)
        with get_client(sync_client=True) as client:
            runs = client.read_task_runs(task_run_filter=TaskRunFilter(name=TaskRunFilterName(any_=[f"{PROCESS}: robot batch 7"])))
        assert len(runs) >= 2


@pytest.mark.slow
def test_a_process_without_a_robot_fails_before_claiming_anything(prefect_harness):
    with KuntaflowSettings().work_queue() as queue:
        item = queue.add("no_such_process", reference="r", payload={"n": 1})
        with pytest.raises(SuiteNotFoundError, match="process 'no_such_process' has no robot"):
            one_batch("no_such_process")
        after = queue.get(item.id)
        assert (after.state, after.attempts) == (ItemState.NEW, 0)


@pytest.mark.slow
def test_a_robot_that_cannot_run_releases_its_items_and_fails_the_flow(prefect_harness):
    with KuntaflowSettings().work_queue() as queue:
        ids = enqueue_samples(queue)
        with pytest.raises(RobotCouldNotRunError, match=r"exit code 252\); its 3 items were released"):
            one_batch(PROCESS, extra_env={"ROBOT_OPTIONS": "--no-such-option"})
        claimed = [queue.get(item_id) for item_id in ids[:3]]
        # Robot Framework refused to start: no item was started, so none used an attempt.
        assert {(item.state, item.attempts) for item in claimed} == {(ItemState.NEW, 0)}
        assert queue.audit(ids[0])[-1].action == "release"


def test_a_backlog_smaller_than_the_robots_batches_is_shared_evenly():
    assert even_shares(300, batch_size=250, free=2) == [150, 150]
    assert even_shares(301, batch_size=250, free=2) == [151, 150]
    assert even_shares(500, batch_size=250, free=2) == [250, 250]
    assert even_shares(100, batch_size=250, free=1) == [100]  # the other robot is at work: the rest to one robot
    assert even_shares(1, batch_size=250, free=2) == [1]  # no robot for a batch that would find nothing
    assert even_shares(0, batch_size=250, free=2) == []


@flow(name="parallel-batches-probe")
def parallel_batches(parallel: int, max_batches: int | None = None) -> list[BatchReport]:
    return run_batches(PROCESS, batch_size=2, parallel=parallel, max_batches=max_batches, extra_env={"KUNTAFLOW_RETRY_BACKOFF_SECONDS": "0"})


@pytest.mark.slow
def test_parallel_batches_run_side_by_side_and_finish_every_item_once(prefect_harness):
    with KuntaflowSettings().work_queue() as queue:
        ids = enqueue_samples(queue)
        reports = parallel_batches(2)
        assert {queue.get(item_id).state for item_id in ids} <= {ItemState.DONE, ItemState.BUSINESS_FAILED}
        endings = {item_id: [e for e in queue.audit(item_id) if e.action in ("complete", "fail_business")] for item_id in ids}
        assert all(len(ended) == 1 for ended in endings.values()), "every item finished exactly once"
        first, second = sorted(reports, key=lambda report: report.batch_number)[:2]

        def claimed_at(report: BatchReport) -> list:
            return [e.at for o in report.outcomes for e in queue.audit(o.item_id) if e.action == "claim" and e.actor == report.owner]

        def finished_at(report: BatchReport) -> list:
            return [endings[o.item_id][0].at for o in report.outcomes if endings[o.item_id][0].actor == report.owner]

        # Side by side: the second batch had its items before the first batch's robot finished any of its own.
        assert max(claimed_at(second)) < min(finished_at(first))
        assert not {o.item_id for o in first.outcomes} & {o.item_id for o in second.outcomes}


@pytest.mark.slow
def test_max_batches_counts_the_batches_that_had_work(prefect_harness):
    with KuntaflowSettings().work_queue() as queue:
        ids = enqueue_samples(queue)
        reports = parallel_batches(2, max_batches=3)
        assert len(reports) == 3 and all(report.claimed == 2 for report in reports)
        # Claims go by id, so the three batches had the first six cases; the seventh waits for the next run.
        never_claimed = [item_id for item_id in ids if not any(e.action == "claim" for e in queue.audit(item_id))]
        assert never_claimed == ids[6:]


@flow(name="warm-path-probe")
def warm_path(item_id: int, tag: str, give_up_seconds: float = 60) -> BatchReport | None:
    return decide_while_waiting(PROCESS, item_id, tags=[tag], batch_size=10, linger_seconds=0.5, give_up_seconds=give_up_seconds)


def _sample_with_a_tag_limit(queue, tag: str) -> int:
    """A new sample item, and a tag concurrency limit of one slot (``prefect concurrency-limit create TAG 1``)."""
    from prefect import get_client

    with get_client(sync_client=True) as client:
        client.create_concurrency_limit(tag=tag, concurrency_limit=1)
    reference, payload = sample_cases()[0]
    return queue.add(PROCESS, reference=reference, payload=payload).id


@pytest.mark.slow
def test_the_warm_path_starts_a_robot_for_a_new_item_under_the_tag_limit(prefect_harness):
    with KuntaflowSettings().work_queue() as queue:
        item_id = _sample_with_a_tag_limit(queue, "warm-open")
        report = warm_path(item_id, "warm-open")
        assert report is not None and [o.item_id for o in report.outcomes] == [item_id]
        assert queue.get(item_id).state is ItemState.DONE


@pytest.mark.slow
def test_the_warm_path_leaves_an_item_a_robot_at_work_has_taken(prefect_harness):
    with KuntaflowSettings().work_queue() as queue:
        item_id = _sample_with_a_tag_limit(queue, "warm-open")
        [taken] = queue.claim(PROCESS, owner="a-lingering-robot", limit=1)
        assert warm_path(item_id, "warm-open") is None
        after = queue.get(taken.id)
        assert (after.state, after.lease_owner) == (ItemState.IN_PROGRESS, "a-lingering-robot")


@pytest.mark.slow
def test_the_warm_path_gives_up_when_the_tag_limit_stays_full_and_the_item_waits_in_the_queue(prefect_harness):
    from prefect.concurrency.sync import concurrency

    with KuntaflowSettings().work_queue() as queue:
        item_id = _sample_with_a_tag_limit(queue, "warm-full")
        with concurrency("tag:warm-full", occupy=1):  # the one slot, held by a robot batch elsewhere
            assert warm_path(item_id, "warm-full", give_up_seconds=2) is None
        after = queue.get(item_id)
        assert (after.state, after.attempts) == (ItemState.NEW, 0)  # for the deployment's scheduled batch run
