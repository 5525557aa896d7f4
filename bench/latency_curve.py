"""With 50 ms on every sandbox call: N parallel robot batches against one batch, N = 1, 2, 4, 8.

Each N is a fresh run of ``bench/chaos.py`` with nothing broken but the latency (``--kills 0
--no-faults --latency-ms 50``): N process workers, each running one flow run (one robot batch at a
time), as many flow runs as workers while items remain. The robots write to Koha, whose tag
concurrency limit (``koha``, 2: kuntaflow/prefect_deploy.py) lets at most two batches run at once,
so the curve should rise to about 2× and stay there. Printed: items/s per N and the speed-up over N = 1.

    .venv/bin/python bench/latency_curve.py [--items 300] [--workers 1,2,4,8] [--latency-ms 50] [--batch-size 25]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from bench.bench_support import load  # noqa: E402
from bench.chaos import worker_series  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=300)
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=25, help="robot batch size, small enough that N batches exist at once")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    print(f"Latency curve: {args.items} applications per run, {args.latency_ms} ms on every sandbox call, parallel batches {counts}; {load()}", flush=True)
    rows, clean = worker_series(args.items, counts, ["--latency-ms", str(args.latency_ms), "--batch-size", str(args.batch_size), "--timeout", "3600"])
    for workers, rate, r in rows:
        print(f"  N={workers}: {r['elapsed']:.0f} s, {rate:.2f} items/s, speed-up {rate / rows[0][1]:.2f}, flow runs per worker {r['runs_per_worker']}")
    print(" ".join(f"n{n}_items_per_s={rate:.2f} n{n}_speedup={rate / rows[0][1]:.2f}" for n, rate, _ in rows)
          + f" exactly_once={'yes' if clean else 'no'} ({load()})")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
