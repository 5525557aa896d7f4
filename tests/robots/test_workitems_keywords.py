"""The WorkItems keyword library against a real queue (SQLite and PostgreSQL), in real robot subprocesses.

Every keyword is used by tests/robots/fixtures/workitems.robot; each payload ``kind`` exercises one way an
item can end, and the test reads the outcome back from the queue and from the robot's output.xml.
"""

from __future__ import annotations

import importlib.util
import os
import signal
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
        assert item["pass"].state is ItemState.DONE and list(queue.checkpoints(ids["pass"])) == ["started", "looked_at"]
        assert item["complete"].state is ItemState.DONE and item["complete"].output == {"n": 1, "steps": ["started", "looked_at"]}
        # A noted step is written with the item's outcome, whichever it is (a release too).
        assert all(queue.checkpoints(item_id)["looked_at"] == {"id": item_id} for item_id in ids.values())
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
    # Renewed every third of the lease: 6 s leave a loaded machine's robot two late renewals of slack.
    settings = _settings(queue_url, tmp_path, lease_seconds=6)
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


@pytest.mark.slow
def test_a_lingering_robot_takes_new_items_as_they_come_up_to_its_batch_limit(queue_url, tmp_path):
    settings = _settings(queue_url, tmp_path)
    with settings.work_queue() as queue:
        first = queue.add(PROCESS, reference="first", payload={"kind": "pass", "n": 0}).id
        reports: list[BatchReport] = []
        robot = threading.Thread(target=lambda: reports.append(process_batch(PROCESS, suite=SUITE, settings=settings, batch_size=2, linger_seconds=60)))
        robot.start()
        try:
            _wait_for(lambda: queue.get(first).state is ItemState.DONE, "the first item to be done")
            second = queue.add(PROCESS, reference="second", payload={"kind": "pass", "n": 1}).id
            _wait_for(lambda: queue.get(second).state is ItemState.DONE, "the lingering robot to take the second item")
        finally:
            robot.join(120)
        # Two items are its batch limit: it ended without waiting out the minute, and a third is left for the next robot.
        third = queue.add(PROCESS, reference="third", payload={"kind": "pass", "n": 2}).id
        [report] = reports
        assert [(o.item_id, o.state) for o in report.outcomes] == [(first, ItemState.DONE), (second, ItemState.DONE)]
        assert report.claimed == 2 and report.released == 0
        claims = [entry.actor for entry in queue.audit(second) if entry.to_state is ItemState.IN_PROGRESS]
        assert claims == [report.owner]  # claimed once, by the robot itself
        assert queue.get(third).state is ItemState.NEW
        assert _task(report).message == "2 work items: 2 DONE."


@pytest.mark.slow
def test_what_a_lingering_robot_claimed_and_did_not_finish_is_released_by_the_runner(queue_url, tmp_path):
    settings = _settings(queue_url, tmp_path, robot_timeout_seconds=60)
    with settings.work_queue() as queue:
        first = queue.add(PROCESS, reference="first", payload={"kind": "pass", "n": 0}).id
        reached, gate = tmp_path / "reached", tmp_path / "gate"
        env = {"ROBOT_OPTIONS": f"--variable REACHED:{reached} --variable GATE:{gate}"}
        reports: list[BatchReport] = []
        robot = threading.Thread(target=lambda: reports.append(process_batch(PROCESS, suite=SUITE, settings=settings, linger_seconds=60, extra_env=env)))
        robot.start()
        try:
            _wait_for(lambda: queue.get(first).state is ItemState.DONE, "the first item to be done")
            held = queue.add(PROCESS, reference="held", payload={"kind": "pass", "n": 1, "hold": True}).id
            _wait_for(reached.exists, "the lingering robot to hold the new item")
            robot_pid = int(next(p for p in Path("/proc").iterdir() if p.name.isdigit() and _is_robot_of(p, report_dir=settings.robot_output_dir)).name)
            os.kill(robot_pid, signal.SIGKILL)
        finally:
            robot.join(120)
        [report] = reports
        after = queue.get(held)
        assert (after.state, after.lease_owner) == (ItemState.NEW, None)  # released at once, not when its lease ran out
        assert report.released == 1 and {o.item_id for o in report.outcomes} == {first, held}


def _is_robot_of(proc: Path, *, report_dir: Path) -> bool:
    """A ``python -m robot`` process writing under ``report_dir``."""
    try:
        command = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"robot" in command and str(report_dir).encode() in b" ".join(command)
