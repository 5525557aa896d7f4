"""The installation-check flow end to end: queue → Prefect flow → robot subprocesses → outcomes."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.installation_check import PROCESS, enqueue_samples, installation_check, sample_cases
from kuntaflow.robot_results import build_log
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState
from schemas.redaction import MASK, find_unmasked, robot_run_texts


@pytest.mark.slow
def test_every_sample_case_ends_as_designed_and_a_rerun_does_nothing_twice(prefect_harness):
    with KuntaflowSettings().work_queue() as queue:
        ids = enqueue_samples(queue)
        summary = installation_check(batch_size=4)

        by_reference = {item.reference: item for item in queue.list(process=PROCESS, limit=100)}
        assert len(by_reference) == len(sample_cases()) == len(ids)
        assert by_reference["invoice-2"].error_code == "INVALID_REFERENCE"
        assert by_reference["invoice-3"].error_code == "TOTAL_MISMATCH"
        assert {by_reference[r].state for r in ("invoice-2", "invoice-3")} == {ItemState.BUSINESS_FAILED}
        for reference in ("invoice-0", "invoice-1", "invoice-4", "payment-1", "sample-person"):
            item = by_reference[reference]
            assert item.state is ItemState.DONE and item.output == queue.checkpoints(item.id)["checked"], reference
        assert by_reference["invoice-0"].output == {"total": "15.50"}
        payment = by_reference["payment-1"]
        assert payment.attempts == 2 and payment.output == {"total": "49.90", "paid": "49.90", "answered_on_attempt": "2"}
        assert [e.action for e in queue.audit(payment.id)] == ["add", "claim", "start", "fail_application", "claim", "start", "complete"]
        assert by_reference["sample-person"].output == {"identity_code_valid": True}
        assert summary.by_state == {"DONE": 5, "BUSINESS_FAILED": 2} and summary.item_ids == sorted(ids)
        assert summary.batches == 3  # 4 + 3 items, then the payment's retry

        # The robot logged the sample person's identity code; every file of every run has it masked.
        runs = [build_log(Path(log)).parent for log in summary.robot_logs]  # as `kuntaflow robot-log` builds them
        assert len(runs) == 3 and all(find_unmasked(run) == {} for run in runs)
        assert any(f"Checking the identity code {MASK}" in robot_run_texts(run)["log.html"] for run in runs)

        # Running again adds nothing and processes nothing.
        assert enqueue_samples(queue) == ids
        again = installation_check(batch_size=4)
        assert again.items == 0 and again.batches == 0


@pytest.mark.slow
def test_the_batch_artifact_lists_ids_and_outcomes_but_no_payload(prefect_harness):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with KuntaflowSettings().work_queue() as queue:
        ids = enqueue_samples(queue)
        summary = installation_check(batch_size=10)
        with get_client(sync_client=True) as client:
            artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["installation-check-robot-batch"])))
        # Artifacts of this test's two batches (the session's Prefect server keeps other tests' too).
        mine = [a for a in artifacts if any(str(Path(log).parent.name) in (a.description or "") for log in summary.robot_logs)]
        assert len(mine) == 2
        first = next(a for a in mine if "batch 1:" in a.description)
        assert "7 items: 1 APPLICATION_FAILED, 2 BUSINESS_FAILED, 4 DONE" in first.description
        assert f"Robot log: [log.html]({Path(summary.robot_logs[0]).as_uri()})" in first.description
        assert f"built when opened: `kuntaflow robot-log {summary.robot_logs[0]}`" in first.description
        rows = first.data if isinstance(first.data, list) else __import__("json").loads(first.data)
        assert sorted(row["item_id"] for row in rows) == sorted(ids)
        assert {row["state"] for row in rows} == {"DONE", "BUSINESS_FAILED", "APPLICATION_FAILED"}
        assert set(rows[0]) == {"item_id", "state", "error_code", "attempts"}
        text = " ".join(str(a.data) + str(a.description) for a in mine)
        person = queue.find(PROCESS, "sample-person")
        for payload_value in (person.payload["identity_code"], "reference_number", "12345672", "49.90", "identity_code"):
            assert payload_value not in text
