"""The queue's side of the Desk: versions and optimistic locking, taking a case, list pages, counts, bulk retry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr

from kuntaflow.workitems import InvalidTransitionError, ItemChangedError, ItemFilter, ItemState, WorkQueue, waiting_states, waits_for_a_person

ROBOT = "robot-1"
PERSON = "Liisa Lainaaja (sub-1)"


@pytest.fixture
def queue(queue_url):
    q = WorkQueue(queue_url, backoff=lambda attempts: timedelta(0), payload_key=SecretStr(Fernet.generate_key().decode()))
    yield q
    q.close()


def _failed(queue: WorkQueue, reference: str, code: str = "KOHA_UNAVAILABLE", *, process: str = "library_card", business: bool = False) -> int:
    item = queue.add(process, reference=reference, payload={"home_library": "JYVPK"})
    queue.claim(process, owner=ROBOT, limit=1)
    if business:
        queue.fail_business(item.id, code=code, message="staff decide", owner=ROBOT)
    else:
        queue.fail_application(item.id, code=code, message="503", owner=ROBOT, retry_in=timedelta(hours=1))
    return item.id


def test_every_change_of_an_item_bumps_its_version(queue):
    item = queue.add("library_card", reference="r", payload={})
    assert item.version == 1
    queue.claim("library_card", owner=ROBOT)
    queue.heartbeat(item.id, owner=ROBOT)
    queue.fail_business(item.id, code="UNKNOWN_HOME_LIBRARY", message="no such library", owner=ROBOT)
    assert queue.get(item.id).version == 4
    queue.retry(item.id, reason="library fixed", actor=PERSON, expected_version=4)
    assert queue.get(item.id).version == 5


def test_an_action_on_a_version_that_is_not_the_newest_is_refused_and_changes_nothing(queue):
    item_id = _failed(queue, "r", business=True)
    seen = queue.get(item_id).version
    queue.record(item_id, actor="Other (sub-2)", action="note", reason="called the applicant", expected_version=seen)  # a note changes no version
    queue.assign(item_id, assignee="Other (sub-2)", actor="Other (sub-2)", expected_version=seen)
    for action in (
        lambda: queue.retry(item_id, reason="r", actor=PERSON, expected_version=seen),
        lambda: queue.mark_done(item_id, reason="r", actor=PERSON, expected_version=seen),
        lambda: queue.abandon(item_id, reason="r", actor=PERSON, expected_version=seen),
        lambda: queue.edit_payload(item_id, {"home_library": "X"}, reason="r", actor=PERSON, expected_version=seen),
        lambda: queue.record(item_id, actor=PERSON, action="note", reason="r", expected_version=seen),
    ):
        with pytest.raises(ItemChangedError, match="changed since it was shown"):
            action()
    after = queue.get(item_id)
    assert (after.state, after.payload, after.assignee, after.version) == (ItemState.BUSINESS_FAILED, {"home_library": "JYVPK"}, "Other (sub-2)", seen + 1)
    assert [entry.action for entry in queue.audit(item_id)][-2:] == ["note", "take"]


def test_a_robot_retry_in_between_refuses_a_persons_stale_form(queue):
    item_id = _failed(queue, "r")  # APPLICATION_FAILED: the robots retry it themselves
    seen = queue.get(item_id).version
    with queue._tx() as conn:  # the backoff has passed: the robot may claim it now
        conn.exec_driver_sql("UPDATE kf_work_items SET not_before = NULL")
    queue.claim("library_card", owner=ROBOT)
    queue.fail_application(item_id, code="KOHA_UNAVAILABLE", message="503 again", owner=ROBOT, retry_in=timedelta(hours=1))
    with pytest.raises(ItemChangedError):
        queue.abandon(item_id, reason="outage over", actor=PERSON, expected_version=seen)
    assert queue.get(item_id).state is ItemState.APPLICATION_FAILED


def test_taking_and_giving_back_a_case_is_in_the_audit_trail(queue):
    item_id = _failed(queue, "r", business=True)
    queue.assign(item_id, assignee=PERSON, actor=PERSON)
    assert queue.get(item_id).assignee == PERSON
    queue.assign(item_id, assignee=None, actor=PERSON)
    assert queue.get(item_id).assignee is None
    assert [(e.action, e.actor, e.from_state, e.to_state) for e in queue.audit(item_id)][-2:] == [
        ("take", PERSON, None, None),
        ("give_back", PERSON, None, None),
    ]


def test_a_list_page_reads_no_payload_and_pages_by_id(queue):
    ids = [_failed(queue, f"ref-{n:02}", "KOHA_UNAVAILABLE" if n % 2 else "UNKNOWN_HOME_LIBRARY", business=n % 2 == 0) for n in range(7)]
    queue.add("employment_start", reference="other", payload={})
    everything = ItemFilter(processes=frozenset({"library_card"}))
    first = queue.page(everything, limit=3)
    assert [item.id for item in first.items] == ids[::-1][:3]
    assert not hasattr(first.items[0], "payload")
    second = queue.page(everything, before_id=first.next_before_id, limit=3)
    last = queue.page(everything, before_id=second.next_before_id, limit=3)
    assert [item.id for item in second.items + last.items] == ids[::-1][3:]
    assert last.next_before_id is None
    koha = ItemFilter(processes=frozenset({"library_card"}), error_code="KOHA_UNAVAILABLE", state=ItemState.APPLICATION_FAILED)
    assert [item.id for item in queue.page(koha).items] == [ids[5], ids[3], ids[1]]
    assert [item.reference for item in queue.page(ItemFilter(processes=frozenset({"library_card"}), reference_prefix="ref-0")).items][-1] == "ref-00"
    assert queue.page(ItemFilter(processes=frozenset({"library_card"}), reference_prefix="ref_")).items == []  # _ is no wildcard
    future = datetime.now(UTC) + timedelta(days=1)
    assert len(queue.page(ItemFilter(processes=frozenset({"library_card"}), created_before=future)).items) == 7
    assert queue.page(ItemFilter(processes=frozenset({"library_card"}), created_before=future - timedelta(days=2))).items == []
    assert queue.count(koha) == (3, ids[5])


def test_the_state_summary_counts_and_dates_the_longest_wait(queue):
    _failed(queue, "a", "UNKNOWN_HOME_LIBRARY", business=True)
    _failed(queue, "b", "UNKNOWN_HOME_LIBRARY", business=True)
    queue.add("library_card", reference="c", payload={})
    summary = {(row.process, row.state): row for row in queue.state_summary(["library_card"])}
    assert summary["library_card", ItemState.BUSINESS_FAILED].count == 2
    assert summary["library_card", ItemState.NEW].count == 1
    assert summary["library_card", ItemState.BUSINESS_FAILED].oldest_since.tzinfo is not None
    assert queue.state_summary(["employment_start"]) == []
    assert summary["library_card", ItemState.NEW].oldest_since is None  # a robot's NEW case waits for no person


def test_every_open_case_of_a_process_people_handle_waits_for_a_person(queue):
    reply = queue.add("citizen_reply", reference="viestit-1", payload={}).id
    queue.add("citizen_reply", reference="viestit-2", payload={})
    queue.mark_done(reply, reason="answered the citizen", actor=PERSON)
    queue.add("library_card", reference="c", payload={})
    summary = {(row.process, row.state): row for row in queue.state_summary(["citizen_reply", "library_card"])}
    assert summary["citizen_reply", ItemState.NEW].count == 1 and summary["citizen_reply", ItemState.NEW].oldest_since is not None
    assert summary["citizen_reply", ItemState.DONE].oldest_since is None
    assert summary["library_card", ItemState.NEW].oldest_since is None
    assert waiting_states("citizen_reply") == (ItemState.NEW, ItemState.IN_PROGRESS, ItemState.APPLICATION_FAILED)
    assert waiting_states("library_card") == (ItemState.BUSINESS_FAILED, ItemState.ABANDONED)
    assert waits_for_a_person("citizen_reply", ItemState.NEW) and not waits_for_a_person("library_card", ItemState.NEW)


def test_bulk_retry_takes_only_the_confirmed_set(queue):
    koha = [_failed(queue, f"k{n}") for n in range(3)]
    other = _failed(queue, "x", "UNKNOWN_HOME_LIBRARY", business=True)
    matching = ItemFilter(processes=frozenset({"library_card"}), error_code="KOHA_UNAVAILABLE")
    count, newest = queue.count(matching, states=sorted(WorkQueue.RETRYABLE))
    late = _failed(queue, "late")  # failed after the person confirmed: not theirs to retry unseen
    assert queue.retry_matching(matching, up_to_id=newest, reason="Koha is back", actor=PERSON) == count == 3
    assert [queue.get(item_id).state for item_id in koha] == [ItemState.NEW] * 3
    assert queue.get(other).state is ItemState.BUSINESS_FAILED
    assert queue.get(late).state is ItemState.APPLICATION_FAILED
    assert queue.audit(koha[0])[-1].actor == PERSON
    assert (queue.audit(koha[0])[-1].from_state, queue.audit(koha[0])[-1].to_state) == (ItemState.APPLICATION_FAILED, ItemState.NEW)
    with pytest.raises(ValueError, match="reason"):
        queue.retry_matching(matching, up_to_id=newest, reason=" ", actor=PERSON)


def test_a_case_a_robot_holds_cannot_be_taken_over_by_a_persons_action(queue):
    item = queue.add("library_card", reference="r", payload={})
    queue.claim("library_card", owner=ROBOT)
    with pytest.raises(InvalidTransitionError):
        queue.mark_done(item.id, reason="r", actor=PERSON)
