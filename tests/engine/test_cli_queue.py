"""Operators' view of the queue through ``kuntaflow queue``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from apps.cli.main import app
from kuntaflow.workitems import ItemState, WorkQueue

runner = CliRunner()


@pytest.fixture
def queue(queue_url, monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_DATABASE_URL", queue_url)
    q = WorkQueue(queue_url)
    yield q
    q.dispose()


def test_status_json_counts_every_state_by_process(queue):
    queue.add("library_card", reference="a", payload={})
    queue.add("library_card", reference="b", payload={})
    queue.claim("library_card", owner="o", limit=1)
    result = runner.invoke(app, ["queue", "status", "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.output)
    assert counts["library_card"]["NEW"] == 1
    assert counts["library_card"]["IN_PROGRESS"] == 1
    assert set(counts["library_card"]) == {s.value for s in ItemState}


def test_show_masks_the_henkilotunnus_and_lists_checkpoints_and_audit(queue):
    item = queue.add("library_card", reference="a", payload={"hetu": "010101A123N", "name": "Maija"})
    queue.claim("library_card", owner="robot-1")
    queue.checkpoint(item.id, "patron_created", {"patron_id": 42})
    result = runner.invoke(app, ["queue", "show", str(item.id)])
    assert result.exit_code == 0, result.output
    assert "010101A123N" not in result.output
    assert "******-****" in result.output and "Maija" in result.output
    assert "patron_created" in result.output and "robot-1" in result.output


def test_retry_mark_done_and_abandon_are_audited_with_the_reason(queue):
    a = queue.add("p", reference="a", payload={})
    b = queue.add("p", reference="b", payload={})
    queue.claim("p", owner="o", limit=2)
    queue.fail_business(a.id, code="NEEDS_STAFF", message="check", owner="o")
    queue.fail_application(b.id, code="DOWN", message="503", owner="o")
    assert runner.invoke(app, ["queue", "retry", str(a.id), "--reason", "data fixed"]).exit_code == 0
    assert queue.get(a.id).state is ItemState.NEW
    assert queue.audit(a.id)[-1].reason == "data fixed"
    assert queue.audit(a.id)[-1].actor.startswith("operator:")
    assert runner.invoke(app, ["queue", "abandon", str(b.id), "--reason", "withdrawn"]).exit_code == 0
    assert runner.invoke(app, ["queue", "mark-done", str(a.id), "--reason", "done at desk"]).exit_code == 0
    assert queue.get(a.id).state is ItemState.DONE
    assert queue.get(b.id).state is ItemState.ABANDONED


def test_list_filters_and_rejects_an_unknown_state(queue):
    queue.add("p", reference="a", payload={})
    result = runner.invoke(app, ["queue", "list", "--process", "p", "--state", "NEW"])
    assert result.exit_code == 0 and "NEW" in result.output
    bad = runner.invoke(app, ["queue", "list", "--state", "FINISHED"])
    assert bad.exit_code == 2
    assert "unknown state 'FINISHED'" in bad.output


def test_unknown_id_and_a_missing_reason_are_clear_errors(queue):
    missing = runner.invoke(app, ["queue", "show", "4242"])
    assert missing.exit_code == 2 and "work item 4242 does not exist" in missing.output
    no_reason = runner.invoke(app, ["queue", "retry", "1"])
    assert no_reason.exit_code != 0 and "--reason" in no_reason.output


def test_an_unreachable_database_is_named_without_its_password(monkeypatch):
    monkeypatch.setenv("KUNTAFLOW_DATABASE_URL", "postgresql+psycopg://kf:hunter2@127.0.0.1:1/kf")
    result = runner.invoke(app, ["queue", "status"])
    assert result.exit_code == 2
    assert "cannot reach the work-item database" in result.output and "hunter2" not in result.output


def test_list_and_show_give_an_error_code_with_its_meaning(queue):
    item = queue.add("library_card", reference="a", payload={})
    queue.claim("library_card", owner="o")
    queue.fail_business(item.id, code="GUARDIANSHIP_NOT_VERIFIED", message="check", owner="o")
    listed = runner.invoke(app, ["queue", "list", "--state", "BUSINESS_FAILED"])
    assert "GUARDIANSHIP_NOT_VERIFIED: the guardianship could not be confirmed from the population register" in listed.output
    shown = runner.invoke(app, ["queue", "show", str(item.id)])
    assert "meaning: the guardianship could not be confirmed from the population register: staff check it" in shown.output
