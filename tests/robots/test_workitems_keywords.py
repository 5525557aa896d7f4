"""The WorkItems keyword library against a real queue (SQLite and PostgreSQL), in real robot subprocesses.

Every keyword is used by tests/robots/fixtures/workitems.robot; each payload ``kind`` exercises one way an
item can end, and the test reads the outcome back from the queue and from the robot's output.xml.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from robot.api import ExecutionResult

from flows.installation_check import sample_identity_code
from kuntaflow.batches import BatchReport, process_batch
from kuntaflow.outcomes import FailureCategory
from kuntaflow.robot_runner import LIBRARIES_DIR, TaskResult
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState
from schemas.redaction import MASK, find_unmasked

SUITE = Path(__file__).parent / "fixtures" / "workitems.robot"
PROCESS = "workitems_test"
HETU = sample_identity_code(date(2004, 2, 29), 913)


def _work_items_module():
    """robots/libraries/WorkItems.py, loaded as Robot Framework loads it (a top-level module)."""
    spec = importlib.util.spec_from_file_location("WorkItems", LIBRARIES_DIR / "WorkItems.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


WorkItemsLibrary = _work_items_module()


def _settings(queue_url: str, tmp_path: Path, **changes) -> KuntaflowSettings:
    # Only the settings object names the database: the runner must hand it to the robot itself.
    return KuntaflowSettings(data_dir=tmp_path / "data", database_url=queue_url, retry_backoff_seconds=60, **changes)


def _task(report: BatchReport) -> TaskResult:
    [test] = ExecutionResult(str(report.robot_log.parent / "output.xml")).suite.all_tests
    return TaskResult.from_robot(test.name, test.status, test.message)


@pytest.mark.parametrize(
    ("message", "kind", "code", "text"),
    [
        ("BusinessRuleError: UNDER_15: the applicant is 12", "BUSINESS", "UNDER_15", "the applicant is 12"),
        ("DuplicatePatronError: DUPLICATE_PATRON: patron 7 exists", "BUSINESS", "DUPLICATE_PATRON", "patron 7 exists"),
        ("BusinessRuleError: no code given", "BUSINESS", "BUSINESS_RULE", "no code given"),
        ("TransientError: UNAVAILABLE: koha answered 503", "TRANSIENT", "UNAVAILABLE", "koha answered 503"),
        ("KohaUnavailableError: UNAVAILABLE: koha answered 503", "TRANSIENT", "UNAVAILABLE", "koha answered 503"),
        ("IntegrationError: BAD_SHAPE: no id", "INTEGRATION", "BAD_SHAPE", "no id"),
        ("ConflictError: CONFLICT: 409 from the peer", "INTEGRATION", "CONFLICT", "409 from the peer"),
        ("ValueError: invalid literal", "UNEXPECTED", "UNEXPECTED_ERROR", "ValueError: invalid literal"),
        ("Keyword 'Nope' expected 1 argument, got 0.", "UNEXPECTED", "UNEXPECTED_ERROR", "Keyword 'Nope' expected 1 argument, got 0."),
    ],
)
def test_a_failure_is_filed_by_the_class_hierarchy_behind_its_name(message, kind, code, text):
    import connectors.koha.errors  # noqa: F401  - a connector's own subclasses, as a keyword library loads them

    assert WorkItemsLibrary.classify_failure(message) == (FailureCategory[kind], code, text)


@pytest.mark.slow
def test_every_item_is_saved_by_its_outcome_and_the_task_lists_the_application_failures(queue_url, tmp_path):
    settings = _settings(queue_url, tmp_path)
    with settings.work_queue() as queue:
        kinds = [
            "pass",
            "complete",
            "duplicate",
            "business_keyword",
            "transient",
            "integration",
            "not_found",
            "unexpected",
            "application_keyword",
            "pass_execution",
            "complete_then_fail",
            "skip",
        ]
        ids = {kind: queue.add(PROCESS, reference=kind, payload={"kind": kind, "n": n, "person": HETU}).id for n, kind in enumerate(kinds)}
        ids["last_attempt"] = queue.add(PROCESS, reference="last", payload={"kind": "transient", "n": 99}, max_attempts=1).id

        report = process_batch(PROCESS, suite=SUITE, settings=settings)

        item = {kind: queue.get(item_id) for kind, item_id in ids.items()}
        assert item["pass"].state is ItemState.DONE and "started" in queue.checkpoints(ids["pass"])
        assert item["complete"].state is ItemState.DONE and item["complete"].output == {"n": 1, "steps": ["started"]}
        assert (item["duplicate"].state, item["duplicate"].error_type, item["duplicate"].error_code) == (
            ItemState.BUSINESS_FAILED,
            "BUSINESS",
            "DUPLICATE_CASE",
        )
        assert item["duplicate"].error_message == "case 2 was filed already"
        assert (item["business_keyword"].state, item["business_keyword"].error_code) == (ItemState.BUSINESS_FAILED, "MISSING_ATTACHMENT")
        assert item["business_keyword"].error_message == f"case 3 of {MASK} has no attachment"
        for kind, code, message in [
            ("transient", "PEER_DOWN", "TransientError: PEER_DOWN: the peer answered 503"),
            ("integration", "INTEGRATION_ERROR", "IntegrationError: INTEGRATION_ERROR: the peer's answer had no id"),
            ("not_found", "NOT_FOUND", "NotFoundError: NOT_FOUND: the peer has no such case"),
            ("unexpected", "UNEXPECTED_ERROR", "ValueError: a bug in the robot"),
            ("application_keyword", "PRINTER_JAMMED", "the letter printer is jammed"),
        ]:
            failed = item[kind]
            assert (failed.state, failed.error_type, failed.error_code, failed.error_message) == (ItemState.APPLICATION_FAILED, "APPLICATION", code, message), (
                kind
            )
            assert failed.not_before > datetime.now(UTC) + timedelta(seconds=30), "retried after the backoff"
        assert item["pass_execution"].state is ItemState.DONE
        assert item["complete_then_fail"].state is ItemState.DONE
        assert item["skip"].state is ItemState.NEW and queue.audit(ids["skip"])[-1].action == "release"
        assert item["last_attempt"].state is ItemState.ABANDONED
        assert report.released == 0 and report.counts() == {"DONE": 4, "BUSINESS_FAILED": 2, "APPLICATION_FAILED": 5, "NEW": 1, "ABANDONED": 1}

        task = _task(report)
        assert task.status == "FAIL" and task.error_category is FailureCategory.INTEGRATION
        for kind in ("transient", "integration", "not_found", "unexpected", "application_keyword", "last_attempt"):
            assert f"item {ids[kind]} " in task.message
        assert f"item {ids['duplicate']} " not in task.message
        output = (report.robot_log.parent / "output.xml").read_text(encoding="utf-8")
        assert "DuplicateCaseError: DUPLICATE_CASE: case 2 was filed already" in output
        assert f"Work item {ids['duplicate']}: BUSINESS_FAILED, DUPLICATE_CASE." in output
        assert f"Work item {ids['pass']}: DONE." in output
        assert find_unmasked(report.robot_log.parent) == {}


@pytest.mark.slow
def test_a_batch_of_done_and_business_failures_passes_with_the_counts_as_its_message(queue_url, tmp_path):
    settings = _settings(queue_url, tmp_path)
    with settings.work_queue() as queue:
        for n, kind in enumerate(["pass", "duplicate", "complete"]):
            queue.add(PROCESS, reference=kind, payload={"kind": kind, "n": n})

        report = process_batch(PROCESS, suite=SUITE, settings=settings)

        task = _task(report)
        assert (task.status, task.message, task.error_category) == ("PASS", "3 work items: 1 BUSINESS_FAILED, 2 DONE.", None)
        assert report.robot_return_code == 0 and report.counts() == {"DONE": 2, "BUSINESS_FAILED": 1}


def _wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.slow
def test_the_robot_renews_its_leases_while_an_item_takes_longer_than_the_lease(queue_url, tmp_path):
    settings = _settings(queue_url, tmp_path, lease_seconds=2)
    with settings.work_queue() as queue:
        slow = queue.add(PROCESS, reference="slow", payload={"kind": "pass", "n": 0, "hold": True}).id
        waiting = queue.add(PROCESS, reference="waiting", payload={"kind": "pass", "n": 1}).id
        reached, gate = tmp_path / "reached", tmp_path / "gate"
        reports: list[BatchReport] = []
        worker = threading.Thread(
            target=lambda: reports.append(
                process_batch(PROCESS, suite=SUITE, settings=settings, extra_env={"ROBOT_OPTIONS": f"--variable REACHED:{reached} --variable GATE:{gate}"})
            )
        )
        worker.start()
        try:
            _wait_for(reached.exists, "the robot to hold the first item")
            first_expiry = queue.get(slow).lease_expires_at
            # Past the lease the claim gave, both items (the held one and the one still waiting) are still ours.
            _wait_for(lambda: datetime.now(UTC) > first_expiry + timedelta(seconds=1), "the first lease to run out")
            assert queue.claim(PROCESS, owner="intruder", limit=10) == []
            assert all(queue.get(i).lease_expires_at > datetime.now(UTC) for i in (slow, waiting))
        finally:
            gate.touch()
            worker.join(60)
        [report] = reports
        assert report.counts() == {"DONE": 2} and [o.attempts for o in report.outcomes] == [1, 1]
