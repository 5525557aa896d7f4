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
applicants. The sandboxes run in a process of their own, which builds the applications (and queues
them for ways 1 and 4) and checks the decisions against its records afterwards, so the way's
process holds the way alone. The slow ways (3 and 4) run on ``--sample`` applications and say so.
Printed per way: items/s, every application decided (DONE / business outcome) and checked against
the sandboxes' records, and peak memory: the way's own process (the flow, or the loop with every
application in memory), the largest robot process (its own high-water mark, which it writes as it
ends; robots hold one batch, so this one must not grow with the count) and, for information, the
sandboxes' process (it keeps every patron, message and letter it was sent, so it grows).

    .venv/bin/python bench/compare.py [--count 2000] [--sample 200] [--rounds 2] [--memory-count 20000] [--ways kuntaflow,"plain loop"]

The ways alternate: ``--rounds`` rounds, odd ones in the order above, even ones reversed; a way's
items/s is over all its rounds. Then Kuntaflow and the plain loop (those in ``--ways``) run once more on
``--memory-count`` applications, and their peak memory is printed beside the first count's; the
flow's process should stay within 10 % (issue 16).

Each way's CPU time is printed too (its process, the robots it started and ended, the sandboxes' process
and the Prefect server it runs), in ms an application: on a machine shared with other work the wall clock
swings with the load and favours the way with more processes (two robots get more of two busy CPUs than one
loop), while the CPU an application costs does not; Kuntaflow's less the plain loop's is the engine's own cost.

Last line: ``kuntaflow_items_per_s=… ratio_vs_plain_loop=… speedup_vs_task_per_item=… speedup_vs_robot_per_item=… engine_cpu_ms_per_item=…``.
Targets: ratio ≥ 0.92 and ≥ 20× robot per item; the task-per-item speed-up is printed for information.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(PROJECT_DIR / "robots" / "libraries"))

from bench.bench_support import bench_environment, cpu_snapshot, decision_record, load, population_for  # noqa: E402


@dataclass
class Outcome:
    way: str
    count: int
    seconds: float
    decided: int
    found: int
    peak_self_mb: float
    peak_robot_mb: float
    peak_sandboxes_mb: float = 0.0
    cpu_seconds: float = 0.0

    @property
    def per_s(self) -> float:
        return self.count / self.seconds

    @property
    def cpu_ms_per_item(self) -> float:
        return self.cpu_seconds / self.count * 1000


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

    note_work_item_checkpoint = save_work_item_checkpoint

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


def cpu_seconds() -> float:
    """CPU time of this process, its ended children (the robots) and its running children (the sandboxes'
    process, the Prefect server), user and system: what a way costs the machine, which a busy machine's
    wall clock hides (two robots on two CPUs shared with other work get more of it than one loop does)."""
    me, snapshot = os.getpid(), cpu_snapshot()
    return snapshot.own[me] + snapshot.reaped[me] + sum(snapshot.own[pid] for pid, parent in snapshot.parent.items() if parent == me)


def _peak_self_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def largest_robot_mb(robot_runs: Path) -> float:
    """The largest peak memory any robot of the run wrote as it ended (kuntaflow.robot_runner.RunnerLifeline)."""
    from kuntaflow.robot_runner import read_peak_memory_mb

    return max((read_peak_memory_mb(run) or 0.0 for run in robot_runs.iterdir()), default=0.0)


#: The ways whose applications wait in the work queue (the others hold them in memory).
QUEUE_WAYS = ("kuntaflow", "robot per item")


def one_way(way: str, count: int, batch_size: int, parallel: int = 1) -> Outcome:
    """A fresh stack, ``count`` applications, decided ``way``; checked against the sandboxes' records.

    The sandboxes run in a process of their own (:func:`sandbox_side`), which also builds the
    applications (queueing them for the queue ways) and checks the decisions against its records
    afterwards: this process holds only the way itself (the flow or the loop) and the rest of the
    local stack, so its peak memory is the way's. The sandboxes keep every patron, message and
    letter they are sent, which grows with the count whatever decides the applications.
    """
    import multiprocessing

    from apps.local_stack import local_stack
    from connectors.servers import free_port
    from kuntaflow.settings import KuntaflowSettings

    data_dir = KuntaflowSettings().resolved_data_dir
    port = free_port("127.0.0.1")
    with local_stack(queue_url=f"sqlite:///{data_dir / f'queue-{way}-{time.time_ns()}.db'}", sandboxes_url=f"http://127.0.0.1:{port}"):
        spawn = multiprocessing.get_context("spawn")  # a fresh interpreter: none of this process's memory
        here, there = spawn.Pipe()
        sandboxes = spawn.Process(target=sandbox_side, args=(there, way, count, port), name="sandboxes")
        sandboxes.start()
        try:
            outcomes, sent, seconds, robots_mb, cpu = decide(way, here.recv(), batch_size, parallel)
            here.send(sent)
            found, queued_outcomes, sandboxes_mb = here.recv()
        finally:
            sandboxes.join(timeout=60)
            if sandboxes.is_alive():
                sandboxes.kill()
    outcomes = outcomes or queued_outcomes
    decided = sum(1 for state in outcomes.values() if state not in ("NEW", "IN_PROGRESS", "APPLICATION_FAILED", "ABANDONED"))
    return Outcome(way, count, seconds, decided, found, _peak_self_mb(), robots_mb, sandboxes_mb, cpu)


def decide(way: str, payloads: list[dict[str, Any]] | int, batch_size: int, parallel: int) -> tuple[dict[int, str], dict[int, Any] | None, float, float, float]:
    """Decide the applications ``way`` (the queue ways: ``payloads`` is how many were queued).

    Returns: (outcome by application, or {} for the queue ways; the decision checkpoints, or None
    for the queue ways, where the sandboxes' process reads both from the queue; seconds; the
    largest robot's peak MB; CPU seconds, :func:`cpu_seconds`).
    """
    if way in QUEUE_WAYS:
        from flows.library_card import library_card
        from kuntaflow.settings import KuntaflowSettings

        cpu, clock = cpu_seconds(), time.perf_counter()
        library_card(batch_size=batch_size if way == "kuntaflow" else 1, parallel_batches=parallel if way == "kuntaflow" else 1)
        seconds, cpu = time.perf_counter() - clock, cpu_seconds() - cpu
        return {}, None, seconds, largest_robot_mb(KuntaflowSettings().robot_output_dir), cpu
    assert isinstance(payloads, list)
    steps = plain_steps()
    items = [InMemoryItem(n + 1, p) for n, p in enumerate(payloads)]
    outcomes: dict[int, str] = {}
    if way == "plain loop":
        cpu, clock = cpu_seconds(), time.perf_counter()
        for item in items:
            outcomes[item.item_id] = steps.decide(item)
        seconds, cpu = time.perf_counter() - clock, cpu_seconds() - cpu
    else:  # task per item
        from prefect import flow, task

        @task(task_run_name="application {number}")
        def decide_one(number: int) -> str:
            return steps.decide(items[number])

        @flow(name="library-card-task-per-item")
        def task_per_item() -> list[str]:
            return [decide_one(number) for number in range(len(items))]

        cpu, clock = cpu_seconds(), time.perf_counter()
        results = task_per_item()
        seconds, cpu = time.perf_counter() - clock, cpu_seconds() - cpu
        outcomes = {item.item_id: result for item, result in zip(items, results, strict=True)}
    return outcomes, {item.item_id: item.checkpoints.get("decision_sent") for item in items}, seconds, 0.0, cpu


def sandbox_side(connection: Any, way: str, count: int, port: int) -> None:
    """The sandboxes' process: serve every sandbox on ``port``, build ``count`` applications from
    their population, queue them (the queue ways) or hand them over, then check the decisions
    against the sandboxes' own records. Runs with the local stack's environment (inherited)."""
    from types import SimpleNamespace

    from apps.cli.stack_commands import _quiet
    from bench.library_card_throughput import enqueue, stack_payloads
    from connectors.sandbox_server import create_app
    from connectors.servers import serve_in_thread
    from kuntaflow.settings import KuntaflowSettings

    _quiet()
    app = create_app()
    records = SimpleNamespace(sandbox=lambda name: app.state.sandboxes[name].app)
    settings = KuntaflowSettings()
    with serve_in_thread(app, host="127.0.0.1", port=port):
        payloads = [payload for _, payload in stack_payloads(count)]
        if way in QUEUE_WAYS:
            with settings.work_queue() as queue:
                salt = settings.salt()
                ids = [enqueue(queue, salt, payload) for payload in payloads]
            connection.send(len(ids))
        else:
            connection.send(payloads)
        del payloads
        sent = connection.recv()
        outcomes: dict[int, str] = {}
        if sent is None:
            with settings.work_queue() as queue:
                outcomes = {item.id: item.state.value for item in queue.get_many(ids)}
                sent = {i: queue.checkpoints(i).get("decision_sent") for i in ids}
        found = sum(decision_record(records, decision) is not None for decision in sent.values())
        connection.send((found, outcomes, _peak_self_mb()))


WAYS = ("kuntaflow", "plain loop", "task per item", "robot per item")


def in_subprocess(way: str, count: int, batch: int, parallel: int) -> Outcome:
    """Run one way in a process of its own, so its peak memory is its own."""
    import json
    import subprocess

    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--way",
            way,
            "--count",
            str(count),
            "--batch",
            str(batch),
            "--parallel",
            str(parallel),
            "--population",
            str(population_for(count)),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{way} failed (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
    return Outcome(**json.loads(lines[-1]))


def _line(r: Outcome) -> str:
    return (
        f"{r.way:<15} {r.count:>6} applications {r.seconds:7.1f} s  {r.per_s:7.2f} items/s  CPU {r.cpu_ms_per_item:5.1f} ms an item  "
        f"decided {r.decided}/{r.count}, "
        f"decision found in the sandboxes {r.found}/{r.count}; peak RSS {r.peak_self_mb:.0f} MB (the flow's or the loop's "
        f"process), largest robot {r.peak_robot_mb:.0f} MB, sandboxes' process {r.peak_sandboxes_mb:.0f} MB ({load()})"
    )


def round_order(ways: list[str], round_number: int) -> list[str]:
    """Odd rounds in the given order, even rounds reversed: a drift in the machine's speed over the
    run (another job, a warm cache) weighs on every way alike instead of on whichever ran last."""
    return ways if round_number % 2 else list(reversed(ways))


def _arguments() -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000, help="applications for Kuntaflow and the plain loop")
    parser.add_argument("--sample", type=int, default=200, help="applications for task per item and robot per item")
    parser.add_argument("--ways", default=",".join(WAYS), help="which ways, comma-separated (default: all four)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every way, alternating (default 2)")
    parser.add_argument(
        "--memory-count", type=int, default=20000, help="then Kuntaflow and the plain loop once more on this many, for peak memory against --count (0: skip)"
    )
    parser.add_argument("--way", choices=WAYS, help=argparse.SUPPRESS)  # one way, in a child process
    parser.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--parallel", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--population", type=int, help=argparse.SUPPRESS)
    return parser, parser.parse_args()


def main() -> int:
    parser, args = _arguments()
    if args.way:
        import dataclasses
        import json

        with bench_environment(population=args.population, robot_timings=False):
            from apps.cli.stack_commands import _quiet

            _quiet()
            print(json.dumps(dataclasses.asdict(one_way(args.way, args.count, args.batch, args.parallel))))
        return 0
    from bench.library_card_throughput import shipped_parameters

    shipped = shipped_parameters()
    batch, parallel = int(shipped["batch_size"]), int(shipped.get("parallel_batches", 1))
    ways = [way.strip() for way in args.ways.split(",")]
    if unknown := set(ways) - set(WAYS):
        parser.error(f"unknown ways {sorted(unknown)}; choose from {', '.join(WAYS)}")
    print(
        f"Side by side: {args.count} applications (Kuntaflow, plain loop), {args.sample} (task per item, robot per item: "
        f"the slow ways on a sample); Kuntaflow batch size {batch}, {parallel} batches at once (prefect.yaml); each way in a "
        f"process of its own with fresh sandboxes; {args.rounds} round(s), alternating; {load()}",
        flush=True,
    )
    runs: dict[str, list[Outcome]] = {way: [] for way in ways}
    for round_number in range(1, args.rounds + 1):
        print(f" round {round_number}", flush=True)
        for way in round_order(ways, round_number):
            count = args.count if way in ("kuntaflow", "plain loop") else args.sample
            runs[way].append(r := in_subprocess(way, count, batch, parallel))
            print(f"  {_line(r)}", flush=True)
    # Items/s over all rounds of a way: its applications over its seconds.
    rate = {way: sum(r.count for r in done) / sum(r.seconds for r in done) for way, done in runs.items()}
    cpu = {way: sum(r.cpu_seconds for r in done) / sum(r.count for r in done) * 1000 for way, done in runs.items()}
    print(" items/s over the rounds: " + ", ".join(f"{way} {rate[way]:.2f}" for way in ways), flush=True)
    print(" CPU ms an item over the rounds (all the way's processes): " + ", ".join(f"{way} {cpu[way]:.1f}" for way in ways), flush=True)
    clean = all(r.decided == r.count == r.found for done in runs.values() for r in done)
    if args.memory_count:
        clean &= memory_check(args.count, args.memory_count, batch, parallel, runs)
    if "kuntaflow" in rate:
        print(_figures(rate, cpu))
    return 0 if clean else 1


def _figures(rate: dict[str, float], cpu: dict[str, float]) -> str:
    """The headline numbers, one ``name=value`` each: Kuntaflow's items/s and how it compares with the other ways,
    and (``engine_cpu_ms_per_item``) the CPU an application costs Kuntaflow beyond the plain loop's."""
    k = rate["kuntaflow"]
    figures = [f"kuntaflow_items_per_s={k:.2f}"] + [
        f"{name}={k / rate[way]:.2f}"
        for way, name in (
            ("plain loop", "ratio_vs_plain_loop"),
            ("task per item", "speedup_vs_task_per_item"),
            ("robot per item", "speedup_vs_robot_per_item"),
        )
        if way in rate
    ]
    if "plain loop" in cpu:
        figures.append(f"engine_cpu_ms_per_item={cpu['kuntaflow'] - cpu['plain loop']:.1f}")
    return " ".join(figures)


def memory_check(count: int, large: int, batch: int, parallel: int, runs: dict[str, list[Outcome]]) -> bool:
    """Kuntaflow and the plain loop (those of them in ``runs``) on ``large`` applications: peak memory beside ``count``'s.

    The flow's process holds no application and no sandbox record (the sandboxes have a process of
    their own), so its peak should not grow with the count: the target is within 10 %. The plain
    loop holds every application in memory by design; it is printed for comparison.
    """
    print(f" peak memory, {count} against {large} applications", flush=True)
    large_runs = {}
    for way in [way for way in ("kuntaflow", "plain loop") if way in runs]:
        large_runs[way] = r = in_subprocess(way, large, batch, parallel)
        print(f"  {_line(r)}", flush=True)
    small = {way: max(runs[way], key=lambda r: r.peak_self_mb) for way in ("kuntaflow", "plain loop") if runs.get(way)}
    if "kuntaflow" in small:
        k, kl = small["kuntaflow"], large_runs["kuntaflow"]
        plain = f"; plain loop {large_runs['plain loop'].peak_self_mb:.0f} MB at {large}" if "plain loop" in large_runs else ""
        growth = kl.peak_self_mb / k.peak_self_mb - 1
        print(
            f"  flow process {k.peak_self_mb:.0f} MB at {count}, {kl.peak_self_mb:.0f} MB at {large} ({growth:+.1%}; target within "
            f"10 %: {'met' if abs(growth) <= 0.10 else 'not met'}); robot peak {k.peak_robot_mb:.0f} MB, {kl.peak_robot_mb:.0f} MB; "
            f"sandboxes' process {k.peak_sandboxes_mb:.0f} MB, {kl.peak_sandboxes_mb:.0f} MB{plain}",
            flush=True,
        )
        print(
            f"memory_flow_mb_{count}={k.peak_self_mb:.0f} memory_flow_mb_{large}={kl.peak_self_mb:.0f} memory_flow_growth={growth:.3f} "
            f"memory_robot_mb_{count}={k.peak_robot_mb:.0f} memory_robot_mb_{large}={kl.peak_robot_mb:.0f}"
        )
    return all(r.decided == r.count == r.found for r in large_runs.values())


if __name__ == "__main__":
    sys.exit(main())
