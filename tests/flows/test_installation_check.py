"""The installation-check flow end to end: queue → Prefect flow → robot subprocesses → outcomes."""

from __future__ import annotations

import pytest

from flows.installation_check import PROCESS, enqueue_samples, installation_check, sample_cases
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState


@pytest.mark.slow
def test_every_sample_case_ends_as_designed_and_a_rerun_does_nothing_twice(prefect_harness):
    queue = KuntaflowSettings().work_queue()
    ids = enqueue_samples(queue)
    summary = installation_check(batch_size=4)

    by_reference = {item.reference: item for item in queue.list(process=PROCESS, limit=100)}
    assert len(by_reference) == len(sample_cases()) == len(ids)
    assert by_reference["invoice-2"].error_code == "INVALID_REFERENCE"
    assert by_reference["invoice-3"].error_code == "TOTAL_MISMATCH"
    assert {by_reference[r].state for r in ("invoice-2", "invoice-3")} == {ItemState.BUSINESS_FAILED}
    flaky = by_reference["payment-1"]
    assert flaky.state is ItemState.DONE and flaky.attempts == 2
    assert [e.action for e in queue.audit(flaky.id)] == ["add", "claim", "fail_application", "claim", "complete"]
    assert by_reference["sample-person"].output == {"identity_code_valid": True}
    assert summary.by_state == {"DONE": 5, "BUSINESS_FAILED": 2}

    # Running again adds nothing and processes nothing.
    assert enqueue_samples(queue) == ids
    again = installation_check(batch_size=4)
    assert again.items == 0 and again.batches == 0
    queue.dispose()


@pytest.mark.slow
def test_the_batch_artifact_lists_ids_and_outcomes_but_no_payload(prefect_harness):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    queue = KuntaflowSettings().work_queue()
    enqueue_samples(queue)
    installation_check(batch_size=10)
    person = queue.find(PROCESS, "sample-person")
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["installation-check-robot-batch"])))
    assert artifacts
    text = " ".join(str(a.data) + str(a.description) for a in artifacts)
    assert "item_id" in text and "BUSINESS_FAILED" in text and "Robot log" in text
    assert person.payload["identity_code"] not in text
    assert "reference_number" not in text
    queue.dispose()
