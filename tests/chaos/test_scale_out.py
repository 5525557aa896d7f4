"""Scale-out in ``make test``: Prefect's server on PostgreSQL, the queue on PostgreSQL, two workers, 200
applications processed exactly once (bench/chaos.py with nothing broken; docs/scale-out.md)."""

from __future__ import annotations

import re

import pytest
from test_chaos_short import chaos

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.mark.timeout(900)
def test_two_workers_on_prefect_and_a_queue_on_postgresql_process_every_item_exactly_once():
    printed, output = chaos(
        "--items", "200", "--kills", "0", "--no-faults", "--workers", "2", "--database", "postgresql", "--prefect-database", "postgresql", "--seed", "11"
    )
    assert printed.rstrip().splitlines()[-1] == "items=200 kills=0 lost=0 duplicate_patrons=0 duplicate_messages=0", output
    assert "items finished twice in the queue's audit trail: 0;" in output
    assert "queue on postgresql, Prefect on postgresql, 2 worker(s)" in output
    per_worker = re.search(r"flow runs per worker \{(.*?)\}", output).group(1)
    assert re.fullmatch(r"0: \d+, 1: \d+", per_worker), f"both workers ran flow runs: {per_worker}"
