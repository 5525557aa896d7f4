"""Installation check: the engine's own end-to-end test on this machine.

``enqueue_samples`` puts a handful of synthetic cases on the queue ``installation_check``;
the flow ``installation_check`` lets ``robots/installation_check/tasks.robot`` work through
them in batches, as every process does. Each case is a real check with a verifiable answer:
invoices whose reference number and rows are checked (three end DONE, two BUSINESS_FAILED
with a code), a payment whose bank is down on the first attempt (a TransientError; DONE on the
retry, with no backoff in this run), and a synthetic person whose identity code the robot
validates and logs (the log must come out masked). ``make run`` runs it until the
library-card process ships.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Annotated

from prefect import flow, get_run_logger
from pydantic import BaseModel

from flows.parameters import form_field
from flows.robot_task import run_batches
from kuntaflow.workitems import WorkQueue
from schemas.redaction import install as install_redaction

PROCESS = "installation_check"


class CheckSummary(BaseModel):
    """Outcomes of the installation check, by state and error code (no payload data)."""

    batches: int
    items: int
    item_ids: list[int] = []
    by_state: dict[str, int]
    by_error_code: dict[str, int]
    robot_logs: list[str]


def sample_identity_code(birth: date, individual: int) -> str:
    """A synthetic henkilötunnus (valid checksum) built at run time, so no code is stored in the source."""
    sign = {18: "+", 19: "-", 20: "A"}[birth.year // 100]
    digits = f"{birth:%d%m%y}{individual:03d}"
    return f"{birth:%d%m%y}{sign}{individual:03d}{'0123456789ABCDEFHJKLMNPRSTUVWXY'[int(digits) % 31]}"


def sample_cases() -> list[tuple[str, dict]]:
    """(reference, payload) of the sample cases; stable references make re-runs idempotent."""
    cases = [
        (f"invoice-{n}", {"kind": "invoice", "reference_number": ref, "rows": rows, "total": total})
        for n, (ref, rows, total) in enumerate(
            [
                ("1232", ["10.00", "5.50"], "15.50"),
                ("12345672", ["99.90"], "99.90"),
                ("13", ["1.00"], "1.00"),  # too short to be a reference number
                ("1232", ["10.00", "5.00"], "20.00"),  # rows do not add up
                ("100010", ["0.10", "0.20"], "0.30"),
            ]
        )
    ]
    # The bank is "down" on the first attempt: a TransientError, retried by the queue, then matched.
    cases.append(
        (
            "payment-1",
            {"kind": "payment", "reference_number": "12345672", "rows": ["40.00", "9.90"], "total": "49.90", "paid": "49.90", "bank_answers_from_attempt": 2},
        )
    )
    cases.append(("sample-person", {"kind": "person", "identity_code": sample_identity_code(date(1990, 5, 17), 905)}))
    return cases


def enqueue_samples(queue: WorkQueue) -> list[int]:
    """Add the sample cases (again adding nothing new on a re-run)."""
    return [queue.add(PROCESS, reference=reference, payload=payload).id for reference, payload in sample_cases()]


@flow(name="installation-check", log_prints=False)
def installation_check(
    batch_size: Annotated[int, form_field("Tapauksia erässä", "Montako testitapausta yksi robottiajo käsittelee (1–1000).", ge=1, le=1000)] = 5,
    max_batches: Annotated[int, form_field("Eriä enintään", "Robottiajoja enintään tässä ajossa (1–1000).", ge=1, le=1000)] = 20,
) -> CheckSummary:
    """Work through every claimable sample case in robot batches and summarise the outcomes.

    Batches run until nothing is claimable (or ``max_batches``, a guard against a robot that
    never finishes its items). Enqueue the cases first with ``enqueue_samples``.
    """
    install_redaction()
    logger = get_run_logger()
    # The flaky sample is retried at once rather than after the production backoff.
    reports = run_batches(PROCESS, batch_size=batch_size, max_batches=max_batches, extra_env={"KUNTAFLOW_RETRY_BACKOFF_SECONDS": "0"})
    final = {outcome.item_id: outcome for report in reports for outcome in report.outcomes}
    summary = CheckSummary(
        batches=len(reports),
        items=len(final),
        item_ids=sorted(final),
        by_state=dict(Counter(o.state.value for o in final.values())),
        by_error_code=dict(Counter(o.error_code for o in final.values() if o.error_code)),
        robot_logs=[str(r.robot_log) for r in reports if r.robot_log],
    )
    logger.info("Installation check: %s items in %s batches: %s", summary.items, summary.batches, summary.by_state)
    return summary
