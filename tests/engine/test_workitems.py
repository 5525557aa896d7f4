"""The work-item queue's contract, on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import (
    InvalidTransitionError,
    ItemNotFoundError,
    ItemState,
    LeaseLostError,
    NotedStep,
    PayloadError,
    QueueUnavailableError,
    WorkQueue,
    exponential_backoff,
)


@pytest.fixture
def queue(queue_url):
    q = WorkQueue(queue_url, backoff=lambda attempts: timedelta(0))
    yield q
    q.dispose()


def test_adding_the_same_reference_twice_returns_the_same_item(queue):
    first = queue.add("library_card", reference="ref-1", payload={"name": "Maija"})
    again = queue.add("library_card", reference="ref-1", payload={"name": "something else"})
    assert again.id == first.id
    assert again.payload == {"name": "Maija"}
    assert queue.counts() == {"library_card": {s.value: (1 if s is ItemState.NEW else 0) for s in ItemState}}


def test_the_same_reference_in_another_process_is_another_item(queue):
    a = queue.add("library_card", reference="ref-1", payload={})
    b = queue.add("employment_start", reference="ref-1", payload={})
    assert a.id != b.id


def test_claim_leases_items_oldest_first_to_one_owner(queue):
    ids = [queue.add("p", reference=f"r{i}", payload={"i": i}).id for i in range(5)]
    claimed = queue.claim("p", owner="robot-1", limit=3, lease_seconds=60)
    assert [item.id for item in claimed] == ids[:3]
    assert all(item.state is ItemState.IN_PROGRESS and item.lease_owner == "robot-1" for item in claimed)
    assert all(item.attempts == 1 for item in claimed)
    second = queue.claim("p", owner="robot-2", limit=10, lease_seconds=60)
    assert [item.id for item in second] == ids[3:]
    assert queue.claim("p", owner="robot-3", limit=10) == []


def test_complete_records_output_and_audit(queue):
    item = queue.add("p", reference="r", payload={})
    queue.claim("p", owner="robot-1")
    queue.checkpoint(item.id, "patron_created", {"patron_id": 42})
    queue.checkpoint(item.id, "message_sent", {"message_id": 7})
    queue.complete(item.id, output={"patron_id": 42}, owner="robot-1")
    done = queue.get(item.id)
    assert done.state is ItemState.DONE
    assert done.output == {"patron_id": 42}
    assert done.lease_owner is None
    assert queue.checkpoints(item.id) == {"patron_created": {"patron_id": 42}, "message_sent": {"message_id": 7}}
    actions = [(e.action, e.from_state, e.to_state, e.actor) for e in queue.audit(item.id)]
    assert actions == [
        ("add", None, ItemState.NEW, "system"),
        ("claim", ItemState.NEW, ItemState.IN_PROGRESS, "robot-1"),
        ("complete", ItemState.IN_PROGRESS, ItemState.DONE, "robot-1"),
    ]


def test_one_step_of_many_items_is_read_at_once_and_items_without_it_are_left_out(queue):
    ids = [queue.add("p", reference=f"r{n}", payload={"n": n}).id for n in range(503)]  # over one 500-id chunk
    for item_id in ids[::2]:
        queue.checkpoint(item_id, "decision_sent", {"channel": "letter", "n": item_id})
    queue.checkpoint(ids[1], "patron_created", {"id": 1})
    found = queue.checkpoint_of_many([*ids, ids[0]], "decision_sent")
    assert found == {item_id: {"channel": "letter", "n": item_id} for item_id in ids[::2]}
    assert queue.checkpoint_of_many([], "decision_sent") == {}


def test_a_checkpoint_written_twice_keeps_the_latest_data(queue):
    item = queue.add("p", reference="r", payload={})
    queue.checkpoint(item.id, "patron_created", {"patron_id": 1})
    queue.checkpoint(item.id, "patron_created", {"patron_id": 2})
    assert queue.checkpoints(item.id) == {"patron_created": {"patron_id": 2}}


def test_noted_steps_are_written_with_the_next_checkpoint_in_their_order_and_at_their_time(queue):
    item = queue.add("p", reference="r", payload={"n": 1})
    noted_at = datetime(2026, 1, 2, 8, 0, tzinfo=UTC)
    noted = [NotedStep("rules_checked", {"reason": "CARD_GRANTED"}, noted_at), NotedStep("z_noted", {}, noted_at)]
    stored = queue.checkpoint(item.id, "patron_created", {"patron_id": 7}, earlier=noted)
    assert stored == {"patron_id": 7}
    assert list(queue.checkpoints(item.id)) == ["rules_checked", "z_noted", "patron_created"]  # by time: noted before the step saved now
    queue.record_noted(item.id, [NotedStep("outcome_checked", {"ok": True}, datetime.now(UTC))])
    queue.record_noted(item.id, [])  # nothing noted: no transaction
    assert queue.checkpoints(item.id)["outcome_checked"] == {"ok": True}
    with pytest.raises(PayloadError):
        queue.record_noted(item.id, [NotedStep("bad", {"when": datetime.now(UTC)}, noted_at)])
    with pytest.raises(ItemNotFoundError):
        queue.checkpoint(10_000_000, "step", {}, earlier=[NotedStep("rules_checked", {}, noted_at)])


def test_starting_an_item_reads_its_checkpoints_in_the_same_step(queue):
    item = queue.add("p", reference="r", payload={"n": 1})
    queue.claim("p", owner="o")
    queue.checkpoint(item.id, "rules_checked", {"reason": "CARD_GRANTED"})
    stored = queue.checkpoint(item.id, "patron_lookup", {"when": datetime(2026, 1, 2, tzinfo=UTC).date().isoformat()})
    assert stored == {"when": "2026-01-02"}  # the data as stored (JSON), which the robot keeps for the item's later steps
    started, steps = queue.start_with_checkpoints(item.id, owner="o")
    assert (started.id, started.payload) == (item.id, {"n": 1})
    assert steps == queue.checkpoints(item.id) == {"rules_checked": {"reason": "CARD_GRANTED"}, "patron_lookup": {"when": "2026-01-02"}}
    assert [e.action for e in queue.audit(item.id)][-1] == "start"
    with pytest.raises(LeaseLostError):
        queue.start_with_checkpoints(item.id, owner="someone else")


def test_claimable_count_counts_what_a_claim_would_find_up_to_a_cap(queue):
    ids = [queue.add("p", reference=f"r{n}", payload={}).id for n in range(5)]
    queue.add("other", reference="r", payload={})
    queue.add("p", reference="later", payload={}, not_before=datetime.now(UTC) + timedelta(hours=1))
    assert queue.claimable_count("p", up_to=100) == 5
    assert queue.claimable_count("p", up_to=3) == 3
    queue.claim("p", owner="o", limit=2)
    queue.fail_application(ids[0], code="DOWN", message="try again", owner="o")  # backoff 0: claimable again
    assert queue.claimable_count("p", up_to=100) == 4
    assert queue.claimable_count("nobody", up_to=100) == 0


def test_business_failure_is_final_and_keeps_the_reason(queue):
    item = queue.add("p", reference="r", payload={})
    queue.claim("p", owner="o")
    queue.fail_business(item.id, code="UNDER_15_NO_GUARDIAN", message="applicant is 12", owner="o")
    failed = queue.get(item.id)
    assert failed.state is ItemState.BUSINESS_FAILED
    assert (failed.error_type, failed.error_code, failed.error_message) == ("BUSINESS", "UNDER_15_NO_GUARDIAN", "applicant is 12")
    assert queue.claim("p", owner="o") == []


def test_application_failure_is_retried_then_abandoned_after_max_attempts(queue_url):
    queue = WorkQueue(queue_url, max_attempts=2, backoff=lambda attempts: timedelta(0))
    item = queue.add("p", reference="r", payload={})
    queue.claim("p", owner="o")
    assert queue.fail_application(item.id, code="KOHA_UNAVAILABLE", message="503", owner="o") is ItemState.APPLICATION_FAILED
    assert queue.get(item.id).state is ItemState.APPLICATION_FAILED
    [again] = queue.claim("p", owner="o")
    assert again.attempts == 2
    assert queue.fail_application(item.id, code="KOHA_UNAVAILABLE", message="503", owner="o") is ItemState.ABANDONED
    assert queue.claim("p", owner="o") == []
    queue.dispose()


def test_application_failure_waits_for_its_backoff(queue):
    item = queue.add("p", reference="r", payload={})
    queue.claim("p", owner="o")
    queue.fail_application(item.id, code="X", message="down", owner="o", retry_in=timedelta(hours=1))
    assert queue.claim("p", owner="o") == []
    assert queue.get(item.id).not_before > datetime.now(UTC) + timedelta(minutes=59)


def test_an_expired_lease_is_claimed_again_and_the_old_owner_cannot_finish(queue):
    item = queue.add("p", reference="r", payload={})
    queue.claim("p", owner="dead-robot", lease_seconds=-1)  # already expired: its robot died
    queue.start(item.id, owner="dead-robot")  # … while working on this item
    [reclaimed] = queue.claim("p", owner="robot-2")
    assert reclaimed.id == item.id and reclaimed.attempts == 2
    with pytest.raises(LeaseLostError, match="leased to robot-2"):
        queue.complete(item.id, owner="dead-robot")
    with pytest.raises(LeaseLostError):
        queue.heartbeat(item.id, owner="dead-robot")
    with pytest.raises(LeaseLostError):
        queue.start(item.id, owner="dead-robot")
    queue.complete(item.id, owner="robot-2")
    assert [e.action for e in queue.audit(item.id)] == ["add", "claim", "start", "reclaim", "complete"]


def test_a_reclaimed_item_its_dead_robot_never_started_keeps_its_attempt(queue):
    started, waiting = queue.add("p", reference="a", payload={}), queue.add("p", reference="b", payload={})
    queue.claim("p", owner="dead-robot", lease_seconds=-1)
    queue.start(started.id, owner="dead-robot")  # the robot died on the first item of its batch
    reclaimed = {item.id: item.attempts for item in queue.claim("p", owner="robot-2")}
    assert reclaimed == {started.id: 2, waiting.id: 1}
    assert "never started the item, so the attempt is not counted" in queue.audit(waiting.id)[-1].reason


def test_an_expired_lease_on_the_last_attempt_abandons_the_item(queue_url):
    queue = WorkQueue(queue_url, max_attempts=1)
    item = queue.add("p", reference="r", payload={})
    unstarted = queue.add("p", reference="u", payload={})
    queue.claim("p", owner="dead-robot", lease_seconds=-1)
    queue.start(item.id, owner="dead-robot")
    assert [i.id for i in queue.claim("p", owner="robot-2")] == [unstarted.id]  # not used up: it was never tried
    assert queue.get(item.id).state is ItemState.ABANDONED
    assert queue.get(item.id).error_code == "LEASE_EXPIRED"
    queue.dispose()


def test_heartbeat_extends_the_lease(queue):
    item = queue.add("p", reference="r", payload={})
    queue.claim("p", owner="o", lease_seconds=1)
    queue.heartbeat(item.id, owner="o", lease_seconds=600)
    assert queue.get(item.id).lease_expires_at > datetime.now(UTC) + timedelta(minutes=9)


def test_release_puts_an_unfinished_item_back(queue):
    item = queue.add("p", reference="r", payload={})
    queue.claim("p", owner="o")
    queue.start(item.id, owner="o")
    assert queue.release(item.id, owner="o", reason="robot exited") is ItemState.NEW
    assert queue.claim("p", owner="o2")[0].attempts == 2
    # Released without having been started (the robot died on an earlier item): the attempt is given back.
    assert queue.release(item.id, owner="o2", reason="robot exited") is ItemState.NEW
    assert queue.get(item.id).attempts == 1 and "not started" in queue.audit(item.id)[-1].reason


def test_finishing_an_item_that_is_not_in_progress_is_refused(queue):
    item = queue.add("p", reference="r", payload={})
    with pytest.raises(InvalidTransitionError, match="it is NEW, not IN_PROGRESS"):
        queue.complete(item.id)
    queue.claim("p", owner="o")
    queue.complete(item.id)
    with pytest.raises(InvalidTransitionError, match="it is DONE"):
        queue.complete(item.id)


def test_operator_actions_need_a_reason_and_are_audited(queue):
    item = queue.add("p", reference="r", payload={})
    queue.claim("p", owner="o")
    queue.fail_business(item.id, code="NEEDS_STAFF", message="non-disclosure", owner="o")
    with pytest.raises(ValueError, match="needs a reason"):
        queue.retry(item.id, reason=" ", actor="operator:anna")
    queue.retry(item.id, reason="address corrected", actor="operator:anna")
    retried = queue.get(item.id)
    assert retried.state is ItemState.NEW and retried.attempts == 0 and retried.error_code is None
    last = queue.audit(item.id)[-1]
    assert (last.actor, last.action, last.reason) == ("operator:anna", "retry", "address corrected")
    queue.mark_done(item.id, reason="handled at the desk", actor="operator:anna")
    assert queue.get(item.id).state is ItemState.DONE
    with pytest.raises(InvalidTransitionError, match="cannot abandon work item"):
        queue.abandon(item.id, reason="x", actor="operator:anna")


def test_unknown_ids_and_states_are_named_in_the_error(queue):
    with pytest.raises(ItemNotFoundError, match="work item 999 does not exist"):
        queue.get(999)
    with pytest.raises(ItemNotFoundError, match="work item 999 does not exist"):
        queue.checkpoint(999, "x", {})
    known = queue.add("p", reference="known", payload={"n": 1})
    with pytest.raises(ItemNotFoundError, match="work item 998 does not exist"):
        queue.get_many([known.id, 998, 999])
    with pytest.raises(ValueError, match="unknown state 'FINISHED'; valid states are NEW, IN_PROGRESS"):
        queue.list(state="FINISHED")


def test_many_items_are_read_in_the_order_asked_with_their_payloads(queue):
    ids = [queue.add("p", reference=f"r{n}", payload={"n": n}).id for n in range(503)]
    asked = ids[::-1] + ids[:3]  # over one 500-id chunk
    items = queue.get_many(asked)
    assert [item.id for item in items] == asked
    assert [item.payload["n"] for item in items[:2]] == [502, 501]
    assert queue.get_many([]) == []


def test_items_claimed_or_read_without_their_payloads_leave_sealed_payloads_unopened(queue_url):
    from cryptography.fernet import Fernet
    from pydantic import SecretStr

    sealed = WorkQueue(queue_url, payload_key=SecretStr(Fernet.generate_key().decode()))
    try:
        ids = [sealed.add("p", reference=f"r{n}", payload={"name": "Maija"}).id for n in range(3)]
        [claimed] = sealed.claim("p", owner="o", limit=1, payloads=False)
        assert (claimed.id, claimed.payload) == (ids[0], {})
        sealed.complete(ids[0], output={"reason": "CARD_GRANTED"}, owner="o")
        items = sealed.get_many(ids, payloads=False)
    finally:
        sealed.dispose()
    assert [(item.id, item.state, item.payload) for item in items] == [(ids[0], ItemState.DONE, {}), (ids[1], ItemState.NEW, {}), (ids[2], ItemState.NEW, {})]
    assert items[0].output == {"reason": "CARD_GRANTED"}
    # No key at all: a payload that is not read needs none.
    keyless = WorkQueue(queue_url)
    try:
        assert [item.id for item in keyless.get_many(ids, payloads=False)] == ids
        with pytest.raises(PayloadError):
            keyless.get_many(ids)
    finally:
        keyless.dispose()


def test_a_payload_that_is_not_json_is_refused_and_nothing_is_written(queue):
    with pytest.raises(PayloadError, match="not JSON-serialisable"):
        queue.add("p", reference="r", payload={"when": object()})
    with pytest.raises(PayloadError, match="must be a JSON object"):
        queue.add("p", reference="r", payload=[1, 2])  # type: ignore[arg-type]
    assert queue.counts() == {}


def test_error_messages_are_redacted(queue):
    item = queue.add("p", reference="r", payload={})
    queue.claim("p", owner="o")
    queue.fail_business(item.id, code="INVALID", message="bad hetu 010101-123N given", owner="o")
    assert "010101-123N" not in queue.get(item.id).error_message
    assert "010101-123N" not in repr(queue.get(item.id))
    assert all("010101-123N" not in (entry.reason or "") for entry in queue.audit(item.id)), "the audit trail repeats the message: masked too"


def test_the_settings_backoff_starts_at_the_configured_wait_doubles_and_stops_at_an_hour():
    settings = KuntaflowSettings(retry_backoff_seconds=10)
    with settings.work_queue() as queue:
        assert [queue.backoff(attempts) for attempts in (1, 2, 3)] == [timedelta(seconds=s) for s in (10, 20, 40)]
        assert queue.backoff(30) == timedelta(hours=1)
    assert exponential_backoff(1) == timedelta(seconds=30)


def test_an_unreachable_database_is_a_clear_error():
    with pytest.raises(QueueUnavailableError, match=r"cannot reach the work-item database postgresql\+psycopg://kf:\*\*\*@127.0.0.1:1/x"):
        WorkQueue("postgresql+psycopg://kf:secret@127.0.0.1:1/x")


def test_children_link_to_their_parent(queue):
    hire = queue.add("mass_recruitment", reference="hire-1", payload={})
    start = queue.add("employment_start", reference="emp-1", payload={}, parent_id=hire.id)
    assert start.parent_id == hire.id
    assert [c.id for c in queue.children(hire.id)] == [start.id]


def test_list_filters_by_process_and_state(queue):
    a = queue.add("p", reference="a", payload={})
    queue.add("p", reference="b", payload={})
    queue.add("q", reference="c", payload={})
    queue.claim("p", owner="o", limit=1)
    assert [i.id for i in queue.list(process="p", state="in_progress")] == [a.id]
    assert len(queue.list(process="p")) == 2


def test_payloads_are_sealed_at_rest_and_opened_on_read(queue_url):
    from cryptography.fernet import Fernet
    from pydantic import SecretStr
    from sqlalchemy import create_engine, text

    key = SecretStr(Fernet.generate_key().decode())
    queue = WorkQueue(queue_url, payload_key=key)
    item = queue.add("p", reference="r", payload={"name": "Maija Meikäläinen"})
    assert queue.get(item.id).payload == {"name": "Maija Meikäläinen"}
    assert queue.claim("p", owner="o")[0].payload == {"name": "Maija Meikäläinen"}
    engine = create_engine(queue_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT payload FROM kf_work_items")).scalar_one()
    engine.dispose()
    assert "Maija" not in str(stored)
    with pytest.raises(PayloadError, match="encrypted; set KUNTAFLOW_PAYLOAD_KEY"):
        WorkQueue(queue_url).get(item.id)
    other = SecretStr(Fernet.generate_key().decode())
    with pytest.raises(PayloadError, match="cannot be opened with this KUNTAFLOW_PAYLOAD_KEY"):
        WorkQueue(queue_url, payload_key=other).get(item.id)
    queue.dispose()
