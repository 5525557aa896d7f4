"""The access log records who looked at whose personal data and why, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from kuntaflow.workitems import AccessLog, SubjectKind, WorkQueue


def test_an_entry_keeps_who_what_and_why_and_reads_back_newest_first(queue_url):
    with AccessLog(queue_url) as log:
        first = log.record(
            actor="liisa.kirjasto", action="show_hetu", subject_kind=SubjectKind.WORK_ITEM, subject_id=7, purpose="Asiakas soitti", process="library_card"
        )
        second = log.record(actor="vault", action="vault_read", subject_kind="person", subject_id="k-123", purpose="card expiry reminder")
        entries = log.entries()
    assert [entry.id for entry in entries] == [second.id, first.id]
    assert entries[1].actor == "liisa.kirjasto"
    assert entries[1].subject_kind is SubjectKind.WORK_ITEM
    assert entries[1].subject_id == "7"
    assert entries[1].process == "library_card"
    assert entries[1].purpose == "Asiakas soitti"
    assert entries[1].at.tzinfo is not None


def test_entries_filter_by_subject_and_actor_and_page(queue_url):
    with AccessLog(queue_url) as log:
        for n in range(5):
            log.record(actor=f"staff{n % 2}", action="show_hetu", subject_kind="work_item", subject_id=n % 3, purpose="tarkistus")
        assert [e.subject_id for e in log.entries(subject_kind="work_item", subject_id=1)] == ["1", "1"]
        assert {e.actor for e in log.entries(actor="staff1")} == {"staff1"}
        newest_two = log.entries(limit=2)
        rest = log.entries(before_id=newest_two[-1].id)
        assert len(newest_two) + len(rest) == 5


@pytest.mark.parametrize(
    ("actor", "action", "purpose", "message"),
    [
        ("", "show_hetu", "x", "needs the person or process"),
        ("a", " ", "x", "needs the action"),
        ("a", "show_hetu", "   ", "state why you need to see"),
        ("a", "show_hetu", "x" * 501, "keep it under 500"),
    ],
)
def test_an_entry_without_actor_action_or_purpose_is_refused_and_nothing_is_written(queue_url, actor, action, purpose, message):
    with AccessLog(queue_url) as log:
        with pytest.raises(ValueError, match=message):
            log.record(actor=actor, action=action, subject_kind="work_item", subject_id=1, purpose=purpose)
        assert log.entries() == []


def test_a_henkilotunnus_typed_into_the_purpose_is_masked(queue_url):
    with AccessLog(queue_url) as log:
        log.record(actor="a", action="show_hetu", subject_kind="work_item", subject_id=1, purpose="soitti 010203A123N asiasta")
        assert "010203A123N" not in log.entries()[0].purpose


def test_the_log_shares_the_queues_database(queue_url):
    with WorkQueue(queue_url) as queue, AccessLog(queue_url) as log:
        item_id = queue.add("library_card", reference="r1", payload={"x": 1}).id
        log.record(actor="a", action="show_hetu", subject_kind="work_item", subject_id=item_id, purpose="p")
        assert log.entries(subject_id=item_id)[0].subject_id == str(item_id)
