"""Side by side: the same library-card applications decided four ways, against the same sandboxes.

1. **Kuntaflow**: the ``library_card`` flow as shipped (queue, robot batches of prefect.yaml's
   ``batch_size``, checkpoints, artifacts), in this process on the embedded Prefect server.
2. **Plain loop**: a Python loop calling the library-card keyword library's steps directly, with the
   application in memory: the same rules and the same connector calls, no queue, no robot, no Prefect.
   The floor.
3. **Task per item**: a Prefect flow with one Prefect task per application running the plain loop's
   body (what a Prefect user would write first).
4. **Robot per item**: one ``robot`` process per application (the shipped flow with batch size 1: a
   Prefect task, a claim and a robot process per case, as many RPA set-ups run).

Each way gets a fresh local stack (sandboxes, Prefect server; not timed) and the same generated
applicants. The slow ways (3 and 4) run on ``--sample`` applications and say so. Printed per way:
items/s, every application decided (DONE / business outcome) and checked against the sandboxes'
records, and peak memory: the way's own process (the flow or the loop, together with the
sandboxes, which keep every patron, message and letter they were sent) and the largest robot
process (``wait4``'s peak RSS; robots hold one batch, so this one must not grow with the count).

    .venv/bin/python bench/compare.py [--count 2000] [--sample 200] [--ways kuntaflow,"plain loop"]

Last line: ``kuntaflow_items_per_s=… ratio_vs_plain_loop=… speedup_vs_task_per_item=… speedup_vs_robot_per_item=…``.
Targets (issue 8): ratio ≥ 0.7, ≥ 10× task per item, ≥ 20× robot per item.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(PROJECT_DIR / "robots" / "libraries"))

from bench.bench_support import bench_environment, decision_record, load  # noqa: E402


@dataclass
class Outcome:
    way: str
    count: int
    seconds: float
    decided: int
    found: int
    peak_self_mb: float
    peak_robot_mb: float

    @property
    def per_s(self) -> float:
        return self.count / self.seconds


class InMemoryItem:
    """What the keyword library asks of the WorkItems library, for one application held in memory."""

    def __init__(self, item_id: int, payload: dict[str, Any]) -> None:
        self.item_id, self.payload, self.checkpoints = item_id, payload, {}

    def get_work_item_payload(self) -> dict[str, Any]:
        return self.payload

    def get_work_item_id(self) -> int:
        return self.item_id

    def get_work_item_checkpoints(self) -> dict[str, dict[str, Any]]:
        return dict(self.checkpoints)

    def save_work_item_checkpoint(self, step: str, data: dict[str, Any]) -> None:
        self.checkpoints[step] = data

    def complete_work_item(self, output: dict[str, Any] | None = None) -> None:
        self.output = output


def plain_steps() -> Any:
    """The keyword library with its work item in memory: the plain loop's and the task's body."""
    from LibraryCardKeywords import LibraryCardKeywords

    class PlainLibraryCard(LibraryCardKeywords):
        current: InMemoryItem | None = None

        def _work_items(self) -> InMemoryItem:
            return self.current

        def decide(self, item: InMemoryItem) -> str:
            from connectors.errors import BusinessRuleError

            self.current = item
            try:
                case = self.check_application_against_library_rules()
                self.look_for_existing_patron(case)
                self.create_patron_for_applicant(case)
                self.send_decision_to_citizen(case)
                self.close_application(case)
                return "DONE"
            except BusinessRuleError as error:
                return error.code

    return PlainLibraryCard()


def _peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def one_way(way: str, count: int, batch_size: int, parallel: int = 1) -> Outcome:
    """A fresh stack, ``count`` applications, decided ``way``; checked against the sandboxes' records."""
    from bench.library_card_throughput import enqueue, stack_payloads
    from kuntaflow.settings import KuntaflowSettings
    from kuntaflow.stack import local_stack

    data_dir = KuntaflowSettings().resolved_data_dir
    with local_stack(queue_url=f"sqlite:///{data_dir / f'queue-{way}-{time.time_ns()}.db'}") as stack:
        payloads = [payload for _, payload in stack_payloads(count)]
        queue = stack.settings.work_queue()
        salt = stack.settings.salt()
        outcomes: dict[int, str] = {}
        robots_mb = 0.0
        if way in ("kuntaflow", "robot per item"):
            from flows.library_card import library_card

            ids = [enqueue(queue, salt, payload) for payload in payloads]
            clock = time.perf_counter()
            if way == "kuntaflow":
                library_card(batch_size=batch_size, parallel_batches=parallel)
            else:
                library_card(batch_size=1)
            seconds = time.perf_counter() - clock
            robots_mb = _peak_mb(resource.RUSAGE_CHILDREN)  # the Prefect server still runs: only robots were reaped
            outcomes = {item.id: item.state.value for item in queue.get_many(ids)}
            sent = {i: queue.checkpoints(i).get("decision_sent") for i in ids}
        elif way == "plain loop":
            steps = plain_steps()
            items = [InMemoryItem(n + 1, p) for n, p in enumerate(payloads)]
            clock = time.perf_counter()
            for item in items:
                outcomes[item.item_id] = steps.decide(item)
            seconds = time.perf_counter() - clock
            sent = {item.item_id: item.checkpoints.get("decision_sent") for item in items}
        else:  # task per item
            from prefect import flow, task

            steps = plain_steps()
            items = [InMemoryItem(n + 1, p) for n, p in enumerate(payloads)]

            @task(task_run_name="application {number}")
            def decide_one(number: int) -> str:
                return steps.decide(items[number])

            @flow(name="library-card-task-per-item")
            def task_per_item() -> list[str]:
                return [decide_one(number) for number in range(len(items))]

            clock = time.perf_counter()
            results = task_per_item()
            seconds = time.perf_counter() - clock
            outcomes = {item.item_id: result for item, result in zip(items, results, strict=True)}
            sent = {item.item_id: item.checkpoints.get("decision_sent") for item in items}
        found = sum(decision_record(stack, decision) is not None for decision in sent.values())
        queue.dispose()
    decided = sum(1 for state in outcomes.values() if state not in ("NEW", "IN_PROGRESS", "APPLICATION_FAILED", "ABANDONED"))
    return Outcome(way, count, seconds, decided, found, _peak_mb(resource.RUSAGE_SELF), robots_mb)


WAYS = ("kuntaflow", "plain loop", "task per item", "robot per item")


def in_subprocess(way: str, count: int, batch: int, parallel: int, population: int) -> Outcome:
    """Run one way in a process of its own, so its peak memory is its own."""
    import json
    import subprocess

    done = subprocess.run(
        [sys.executable, __file__, "--way", way, "--count", str(count), "--batch", str(batch), "--parallel", str(parallel), "--population", str(population)],
        capture_output=True, text=True, check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{way} failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return Outcome(**json.loads(lines[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000, help="applications for Kuntaflow and the plain loop")
    parser.add_argument("--sample", type=int, default=200, help="applications for task per item and robot per item")
    parser.add_argument("--ways", default=",".join(WAYS), help="which ways, comma-separated (default: all four)")
    parser.add_argument("--way", choices=WAYS, help=argparse.SUPPRESS)  # one way, in a child process
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--parallel", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--population", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.way:
        import dataclasses
        import json

        with bench_environment(population=args.population, robot_timings=False):
            from kuntaflow.cli_stack import _quiet

            _quiet()
            print(json.dumps(dataclasses.asdict(one_way(args.way, args.count, args.batch, args.parallel))))
        return 0
    from bench.library_card_throughput import shipped_parameters

    shipped = shipped_parameters()
    batch, parallel = int(shipped["batch_size"]), int(shipped.get("parallel_batches", 1))
    population = max(int(args.count * 1.3) + 50, 200)
    print(f"Side by side: {args.count} applications (Kuntaflow, plain loop), {args.sample} (task per item, robot per item: "
          f"the slow ways on a sample); Kuntaflow batch size {batch}, {parallel} batches at once (prefect.yaml); each way in a process of its own; {load()}", flush=True)
    results: dict[str, Outcome] = {}
    ways = [way.strip() for way in args.ways.split(",")]
    if unknown := set(ways) - set(WAYS):
        parser.error(f"unknown ways {sorted(unknown)}; choose from {', '.join(WAYS)}")
    for way in ways:
        count = args.count if way in ("kuntaflow", "plain loop") else args.sample
        r = results[way] = in_subprocess(way, count, batch, parallel, population)
        print(f"  {way:<15} {r.count:>5} applications {r.seconds:7.1f} s  {r.per_s:7.2f} items/s  decided {r.decided}/{r.count}, "
              f"decision found in the sandboxes {r.found}/{r.count}; peak RSS {r.peak_self_mb:.0f} MB "
              f"(flow or loop, with the sandboxes and their records), largest robot {r.peak_robot_mb:.0f} MB ({load()})", flush=True)
    if "kuntaflow" in results:
        k = results["kuntaflow"].per_s
        figures = [f"kuntaflow_items_per_s={k:.2f}"] + [
            f"{name}={k / results[way].per_s:.2f}"
            for way, name in (("plain loop", "ratio_vs_plain_loop"), ("task per item", "speedup_vs_task_per_item"),
                              ("robot per item", "speedup_vs_robot_per_item"))
            if way in results
        ]
        print(" ".join(figures))
    return 0 if all(r.decided == r.count == r.found for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
