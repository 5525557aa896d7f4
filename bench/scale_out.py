"""Scale-out on Prefect itself: 1, 2, then 4 process workers on a Prefect server on PostgreSQL, one queue.

Each worker count is a fresh run of ``bench/chaos.py`` with nothing broken (``--kills 0
--no-faults``): Prefect's server on a PostgreSQL database of its own (created and dropped), the
work-item queue on PostgreSQL (a schema of its own), the ``library-card`` deployment, N workers that
each run one flow run at a time, and as many flow runs as workers whenever items remain. Printed per
worker count: items/s, flow runs per worker, and the exactly-once check (every application DONE
with one patron and one decision in the sandboxes' records, and one completion per item in the
queue's audit trail). docs/scale-out.md gives the same set-up across machines.

    .venv/bin/python bench/scale_out.py [--items 5000] [--workers 1,2,4]

On this 2-CPU machine the workers share two cores with the server, the sandboxes and the robots, so
the figures show what one machine gives, not what N machines would.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from bench.bench_support import load  # noqa: E402
from bench.chaos import exactly_once, worker_series  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=5000)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    print(f"Scale-out: {args.items} library-card applications per run, workers {counts}, Prefect and the queue on PostgreSQL; {load()}", flush=True)
    rows, clean = worker_series(args.items, counts, ["--database", "postgresql", "--prefect-database", "postgresql", "--timeout", "7200"])
    for workers, rate, r in rows:
        once = exactly_once(r)
        print(
            f"  {workers} worker(s): {r['elapsed']:.0f} s, {rate:.2f} items/s, flow runs per worker {r['runs_per_worker']}, "
            f"queue {r['counts']}; exactly once: {'yes' if once else 'NO: ' + '; '.join(r['lost'][:5])}"
        )
    base = rows[0][1]
    print(
        " ".join(f"workers_{n}_items_per_s={rate:.2f} speedup_{n}={rate / base:.2f}" for n, rate, _ in rows)
        + f" exactly_once={'yes' if clean else 'no'} ({load()})"
    )
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
