"""With 50 ms on every sandbox call: N parallel robot batches in one flow run against one batch, N = 1, 2, 4, 8.

Each point is a fresh run of ``bench/chaos.py`` with nothing broken but the latency (``--kills 0
--no-faults --latency-ms 50``): one process worker, one flow run at a time with ``parallel_batches``
N (``run_batches`` in flows/robot_task.py). The robots write to Koha, whose tag concurrency limit
(``koha``: 2 as shipped, kuntaflow/prefect_deploy.py) lets at most that many batches run at once,
so with the shipped limit the curve should rise to about 2× and stay there. A second series raises
the limit to 8 to show what the engine gives when the city's system allows more. Printed: items/s
per N and the speed-up over N = 1, per limit.

    .venv/bin/python bench/latency_curve.py [--items 200] [--parallel 1,2,4,8] [--limits 2,8] [--latency-ms 50] [--batch-size 25]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from bench.bench_support import load  # noqa: E402
from bench.chaos import arguments, exactly_once, measured  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--parallel", default="1,2,4,8", help="parallel robot batches per point")
    parser.add_argument("--limits", default="2,8", help="the koha concurrency limit per series (2 is shipped)")
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=25, help="robot batch size, small enough that N batches exist at once")
    args = parser.parse_args()
    counts = [int(n) for n in args.parallel.split(",")]
    limits = [int(n) for n in args.limits.split(",")]
    print(
        f"Latency curve: {args.items} applications per run, {args.latency_ms} ms on every sandbox call, one worker, "
        f"parallel batches {counts}, koha limit {limits}; {load()}",
        flush=True,
    )
    points: dict[tuple[int, int], tuple[float, dict]] = {}

    def point(limit: int, n: int) -> tuple[float, dict]:
        """items/s and chaos.py's result; one batch at a time meets no limit, so N=1 is measured once."""
        key = (0 if n == 1 else limit, n)
        if key not in points:
            r = measured(
                arguments(
                    [
                        "--items",
                        str(args.items),
                        "--kills",
                        "0",
                        "--no-faults",
                        "--workers",
                        "1",
                        "--parallel-batches",
                        str(n),
                        "--koha-limit",
                        str(limit),
                        "--latency-ms",
                        str(args.latency_ms),
                        "--batch-size",
                        str(args.batch_size),
                        "--timeout",
                        "3600",
                    ]
                )
            )
            points[key] = (args.items / r["elapsed"], r)
        return points[key]

    figures = []
    for limit in limits:
        for n in counts:
            (rate, r), base = point(limit, n), point(limit, counts[0])[0]
            print(f"  koha limit {limit}, N={n}: {r['elapsed']:.0f} s, {rate:.2f} items/s, speed-up {rate / base:.2f} ({load()})", flush=True)
            figures.append(f"limit{limit}_n{n}_items_per_s={rate:.2f} limit{limit}_n{n}_speedup={rate / base:.2f}")
    clean = all(exactly_once(r) for _, r in points.values())
    print(" ".join(figures) + f" exactly_once={'yes' if clean else 'no'}")
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(main())
