"""Work-item queue throughput: add, claim in batches of 50, and complete N items.

Runs on SQLite (the embedded default) and on the PostgreSQL at 127.0.0.1:5432 (database ``test``,
a schema of its own, dropped afterwards). Prints items/s per phase and the process's resident
memory before and at its peak, for a small and a large N, so growth with N is visible.

    .venv/bin/python bench/queue_bench.py [--items 20000] [--skip-postgres]

Target: ≥ 2,000 items/s claim+complete on SQLite; memory that does not grow with N.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_support import postgres_schema
from kuntaflow.workitems import WorkQueue

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 1e6


def run(url: str, items: int) -> dict[str, float]:
    queue = WorkQueue(url)
    payload = {"applicant": {"given_name": "Maija", "surname": "Meikäläinen"}, "library": "KESKI-JKL", "notes": "x" * 200}
    start = time.perf_counter()
    for i in range(items):
        queue.add("bench", reference=f"case-{i}", payload=payload)
    added = time.perf_counter()
    rss_before = rss_mb()
    peak = rss_before
    done = 0
    while True:
        batch = queue.claim("bench", owner="bench-robot", limit=50)
        if not batch:
            break
        for item in batch:
            queue.complete(item.id, owner="bench-robot", output={"ok": True})
        done += len(batch)
        if done % 1000 == 0:
            peak = max(peak, rss_mb())
    finished = time.perf_counter()
    assert done == items, f"completed {done} of {items}"
    queue.dispose()
    return {
        "add_per_s": items / (added - start),
        "claim_complete_per_s": items / (finished - added),
        "rss_before_mb": rss_before,
        "rss_peak_mb": max(peak, rss_mb()),
    }


def sqlite_url(directory: Path, name: str) -> str:
    return f"sqlite:///{directory / name}.db"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    sizes = [args.items // 10, args.items]
    results: dict[tuple[str, int], dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            results[("sqlite", n)] = run(sqlite_url(Path(tmp), f"q{n}"), n)
    if not args.skip_postgres:
        for n in sizes:
            with postgres_schema() as url:
                results[("postgresql", n)] = run(url, n)
    print(f"{'backend':<11} {'items':>7} {'add/s':>9} {'claim+complete/s':>17} {'rss before MB':>14} {'rss peak MB':>12}")
    for (backend, n), r in results.items():
        print(f"{backend:<11} {n:>7} {r['add_per_s']:>9.0f} {r['claim_complete_per_s']:>17.0f} {r['rss_before_mb']:>14.1f} {r['rss_peak_mb']:>12.1f}")
    big = results[("sqlite", args.items)]
    growth = big["rss_peak_mb"] - big["rss_before_mb"]
    print(
        f"sqlite_claim_complete_per_s={big['claim_complete_per_s']:.0f} target=2000 "
        f"ratio={big['claim_complete_per_s'] / 2000:.2f} sqlite_rss_growth_mb_at_{args.items}={growth:.1f}"
    )


if __name__ == "__main__":
    main()
