"""Chaos run: library-card applications decided while robots and workers are killed and every sandbox misbehaves.

What it does, reproducibly for a ``--seed``:

1. A fresh local stack (``apps.local_stack``: every sandbox, the embedded Prefect server, the
   ``library-card`` deployment from ``prefect.yaml``) in a private data directory, the queue on
   SQLite or on the local PostgreSQL (a schema of its own, dropped afterwards), and ``--workers``
   Prefect process workers. Every sandbox injects faults from the environment
   (``KUNTAFLOW_SANDBOX_FAULT_*``): 20 % 5xx, 5 % requests left hanging past the client's timeout,
   2 % 429 with ``Retry-After`` (the SMTP sandbox the same, as 451/421 replies and hangs).
2. ``--items`` applications are queued as an integration queues them (generated adults of the
   sandbox population, payloads built as the e-service builds them) and flow runs of the deployment
   are started on the workers, a new one whenever one has ended (or was killed) and items remain.
3. At ``--kills`` moments, drawn from the seed as shares of the applications decided so far, a
   SIGKILL goes to a robot subprocess in the middle of its batch, or to a worker together with
   everything it started (the flow-run process and its robot). A killed worker is started again.
4. When every application is final, it checks the sandboxes' own records, not the queue's word:
   every application DONE or BUSINESS_FAILED with a reason; nobody with two patrons in Koha;
   nobody with two decisions (Suomi.fi Messages by recipient, e-mails by recipient); every DONE
   application has its patron and its message.

    .venv/bin/python bench/chaos.py [--items 500] [--kills 20] [--seed 7] [--database sqlite|postgresql] [--workers 1]
        [--prefect-database sqlite|postgresql] [--no-faults]

With ``--kills 0 --no-faults`` it is the scale-out check: N workers, nothing broken, every item
processed exactly once (also counted in the queue's audit trail: one completion per item).

Last line: ``items=500 kills=20 lost=0 duplicate_patrons=0 duplicate_messages=0``; the exit code
is 0 only when lost and both duplicate counts are 0 and every kill landed.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from bench.bench_support import bench_environment, load, population_for  # noqa: E402

DEPLOYMENT = "library-card/library-card"
FINAL_STATES = {"DONE", "BUSINESS_FAILED", "ABANDONED"}

#: The faults every sandbox injects (sandbox_support.FaultSettings), and settings that keep a run short:
#: leases that run out in seconds when a worker dies, a short first retry backoff, client timeouts
#: shorter than a hanging sandbox.
CHAOS_SETTINGS = {
    "KUNTAFLOW_SANDBOX_FAULT_ERROR_RATE": "0.2",
    "KUNTAFLOW_SANDBOX_FAULT_TIMEOUT": "0.05",
    "KUNTAFLOW_SANDBOX_FAULT_HANG_SECONDS": "4",
    "KUNTAFLOW_SANDBOX_FAULT_RATE_LIMIT": "0.02",
    "KUNTAFLOW_SANDBOX_FAULT_RETRY_AFTER": "1",
    "KUNTAFLOW_KOHA_TIMEOUT_SECONDS": "2",
    "KUNTAFLOW_VIESTIT_TIMEOUT_SECONDS": "2",
    "KUNTAFLOW_EMAIL_TIMEOUT_SECONDS": "2",
    "KUNTAFLOW_LEASE_SECONDS": "15",
    "KUNTAFLOW_RETRY_BACKOFF_SECONDS": "1",
}


# ---------------------------------------------------------------------------- processes


def _children() -> dict[int, list[int]]:
    """ppid → pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    tree, found, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(tree.get(current, []))
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        return Path("/proc", str(pid), "cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def running_robots(under: list[int]) -> list[int]:
    """The library-card robot processes (``python -m robot … library_card``) below these pids."""
    robots = []
    for root in under:
        for pid in process_tree(root):
            line = _cmdline(pid)
            if "robot" in line and any("library_card" in part for part in line):
                robots.append(pid)
    return robots


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path("/proc", str(pid), "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ---------------------------------------------------------------------------- the run


@dataclass
class Applicant:
    item_id: int
    hetu: str = field(repr=False)
    key: str = field(repr=False)
    email: str | None = field(repr=False)


@dataclass
class Kill:
    at_share: float
    target: str  # "robot" or "worker"
    done: bool = False
    landed_on: str = ""


class Workers:
    """``count`` Prefect process workers that can be killed (with everything they started) and started again."""

    def __init__(self, count: int, log_dir: Path) -> None:
        self.count, self.log_dir = count, log_dir
        self.stacks: list[ExitStack | None] = [None] * count
        self.processes: list[Any] = [None] * count
        self.restarts = 0

    def start(self, index: int) -> None:
        from kuntaflow.prefect_deploy import process_worker

        stack = ExitStack()
        # One flow run at a time per worker, so N active runs are on N workers.
        self.processes[index] = stack.enter_context(
            process_worker(log_path=self.log_dir / f"worker-{index}.log", name=f"chaos-worker-{index}", query_seconds=1, limit=1)
        )
        self.stacks[index] = stack

    def start_all(self) -> None:
        for index in range(self.count):
            self.start(index)

    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p is not None and p.poll() is None]

    def owner_of(self, pid: int) -> int | None:
        """Which worker started process ``pid`` (a flow run), if any still alive."""
        for index, process in enumerate(self.processes):
            if process is not None and process.poll() is None and pid in process_tree(process.pid):
                return index
        return None

    def kill(self, index: int) -> list[int]:
        """SIGKILL worker ``index`` and its descendants at once; return their pids."""
        victims = process_tree(self.processes[index].pid)
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.kill(pid, signal.SIGKILL)
        self.processes[index].wait()
        self.stacks[index].close()
        return victims

    def stop_all(self) -> None:
        for stack in self.stacks:
            if stack is not None:
                stack.close()


def queue_applications(stack: Any, count: int) -> list[Applicant]:
    """Queue ``count`` valid applications, as an integration would (bench/library_card_throughput.py's payloads)."""
    from bench.library_card_throughput import enqueue, stack_payloads
    from schemas.hetu import hetu_key

    with stack.settings.work_queue() as queue:
        salt = stack.settings.salt()
        return [
            Applicant(enqueue(queue, salt, payload), person.hetu, hetu_key(person.hetu, salt), payload.get("email"))
            for person, payload in stack_payloads(count)
        ]


def flow_runs_active(started: set[str], workers: Workers | None = None, ran_on: dict[str, int] | None = None) -> list[Any]:
    """The chaos's flow runs that are still scheduled, pending or running, with a live process where it has one.
    ``ran_on`` collects which worker each running run's process belongs to."""
    from prefect import get_client

    active = []
    with get_client(sync_client=True) as client:
        for run_id in list(started):
            run = client.read_flow_run(run_id)
            if run.state is not None and run.state.is_final():
                started.discard(run_id)
                continue
            pid = int(run.infrastructure_pid.rsplit(":", 1)[-1]) if run.infrastructure_pid else None
            if workers is not None and ran_on is not None and pid is not None and run_id not in ran_on:
                owner = workers.owner_of(pid)
                if owner is not None:
                    ran_on[run_id] = owner
            if run.state is not None and run.state.is_running() and pid is not None and not alive(pid):
                from prefect.states import Crashed

                # What Prefect shows for a run whose process vanished; its leases and slots run out.
                client.set_flow_run_state(run_id, Crashed(message="chaos: killed with SIGKILL"), force=True)
                started.discard(run_id)
                continue
            active.append(run)
    return active


def start_flow_run(batch_size: int | None = None, parallel_batches: int | None = None) -> str:
    from prefect.deployments import run_deployment

    parameters: dict[str, Any] = {"settle_seconds": 0} | ({"batch_size": batch_size} if batch_size else {})
    parameters |= {"parallel_batches": parallel_batches} if parallel_batches else {}
    run = run_deployment(DEPLOYMENT, timeout=0, parameters=parameters, tags=["chaos"])
    return str(run.id)


def decided(queue: Any, process: str) -> tuple[int, Counter]:
    counts = Counter(queue.counts().get(process, {}))
    return sum(n for state, n in counts.items() if state in FINAL_STATES), counts


def land(kill: Kill, workers: Workers, robots: list[int], rng: random.Random) -> None:
    """SIGKILL a working robot, or the worker of the first one with everything below it (then start it again)."""
    if kill.target == "robot":
        os.kill(rng.choice(robots), signal.SIGKILL)
        kill.landed_on = "robot"
    else:
        owner = workers.owner_of(robots[0])
        victims = workers.kill(owner)
        kill.landed_on = f"worker+{len(victims) - 1} below it"
        workers.start(owner)
        workers.restarts += 1
    kill.done = True


def run_chaos(args: argparse.Namespace) -> dict[str, Any]:
    from apps.local_stack import local_stack
    from bench.bench_support import postgres_database, postgres_schema
    from kuntaflow.settings import KuntaflowSettings, environment
    from schemas.library_card import PROCESS

    rng = random.Random(args.seed)
    shares = sorted(rng.uniform(0.03, 0.9) for _ in range(args.kills))
    kills = [Kill(share, rng.choice(("robot", "worker"))) for share in shares]
    data_dir = KuntaflowSettings().resolved_data_dir
    with ExitStack() as databases:
        queue_url = databases.enter_context(postgres_schema("kf_chaos")) if args.database == "postgresql" else f"sqlite:///{data_dir / 'queue.db'}"
        if args.prefect_database == "postgresql":
            databases.enter_context(environment({"KUNTAFLOW_PREFECT_DATABASE_URL": databases.enter_context(postgres_database())}))
        with local_stack(queue_url=queue_url, deployments=("library-card",)) as stack:
            if args.koha_limit:
                from kuntaflow.prefect_deploy import ensure_concurrency_limits

                ensure_concurrency_limits({"koha": args.koha_limit})
            applicants = queue_applications(stack, args.items)
            with stack.settings.work_queue() as queue:
                workers = Workers(args.workers, data_dir / "prefect")
                workers.start_all()
                started_runs: set[str] = set()
                ran_on: dict[str, int] = {}
                began = time.monotonic()
                flow_runs = 0
                try:
                    while time.monotonic() < began + args.timeout:
                        finished, counts = decided(queue, PROCESS)
                        if finished >= len(applicants):
                            break
                        due = next((k for k in kills if not k.done and finished >= k.at_share * len(applicants)), None)
                        robots = running_robots(workers.pids()) if due else []
                        if due and robots:  # between batches: wait until a robot is at work
                            land(due, workers, robots, rng)
                            print(
                                f"  kill {sum(k.done for k in kills):>2}/{len(kills)} at {finished}/{len(applicants)} decided: SIGKILL {due.landed_on}",
                                flush=True,
                            )
                        if len(flow_runs_active(started_runs, workers, ran_on)) < args.workers:
                            started_runs.add(start_flow_run(args.batch_size, args.parallel_batches))
                            flow_runs += 1
                        time.sleep(0.3)
                    elapsed = time.monotonic() - began
                    finished, counts = decided(queue, PROCESS)
                finally:
                    workers.stop_all()
                result = check_records(stack, queue, applicants)
    return result | {
        "elapsed": elapsed,
        "counts": dict(counts),
        "flow_runs": flow_runs,
        "kills": kills,
        "restarts": workers.restarts,
        "runs_per_worker": dict(sorted(Counter(ran_on.values()).items())),
    }


def exactly_once(r: dict[str, Any]) -> bool:
    """Nothing lost, no second patron or decision in the sandboxes, no item finished twice in the audit trail."""
    return not r["lost"] and r["duplicate_patrons"] == 0 and r["duplicate_messages"] == 0 and r["finished_twice"] == 0


def worker_series(items: int, counts: list[int], options: list[str]) -> tuple[list[tuple[int, float, dict[str, Any]]], bool]:
    """One nothing-broken run per worker count (``options`` added): (workers, items/s, result) rows, all exactly once."""
    rows = []
    for workers in counts:
        r = measured(arguments(["--items", str(items), "--kills", "0", "--no-faults", "--workers", str(workers), *options]))
        rows.append((workers, items / r["elapsed"], r))
    return rows, all(exactly_once(r) for _, _, r in rows)


def check_records(stack: Any, queue: Any, applicants: list[Applicant]) -> dict[str, Any]:
    """Compare every application with the Koha, Suomi.fi Messages and SMTP sandboxes' own records."""
    koha = stack.sandbox("koha").state.store
    viestit = stack.sandbox("suomifi_viestit").state.store
    mailbox = stack.sandbox("email").state.store
    patrons_by_key = Counter(a["value"] for a in list(koha.attributes.values()) if a["type"] == "SOTU")
    messages_by_hetu = Counter(m.recipient_id for m in list(viestit.messages.values()))
    mails_by_address = Counter(r.lower() for m in list(mailbox.messages) for r in m.recipients)
    states: Counter = Counter()
    reasons: Counter = Counter()
    lost: list[str] = []
    duplicate_patrons = duplicate_messages = finished_twice = 0
    for applicant in applicants:
        item = queue.get(applicant.item_id)
        endings = [e.action for e in queue.audit(item.id) if e.action in ("complete", "fail_business")]
        finished_twice += max(len(endings) - 1, 0)
        states[item.state.value] += 1
        patrons = patrons_by_key[applicant.key]
        decisions = messages_by_hetu[applicant.hetu] + (mails_by_address[applicant.email.lower()] if applicant.email else 0)
        duplicate_patrons += max(patrons - 1, 0)
        duplicate_messages += max(decisions - 1, 0)
        if item.state.value == "DONE":
            reasons["CARD_GRANTED"] += 1
            if patrons == 0 or decisions == 0:
                lost.append(f"item {item.id}: DONE without {'a patron' if patrons == 0 else 'a decision message'}")
        elif item.state.value == "BUSINESS_FAILED" and item.error_code and item.error_message:
            reasons[item.error_code] += 1
        else:
            lost.append(f"item {item.id}: {item.state.value} {item.error_code or ''} after {item.attempts} attempts")
    return {
        "states": dict(states),
        "reasons": dict(reasons),
        "lost": lost,
        "duplicate_patrons": duplicate_patrons,
        "duplicate_messages": duplicate_messages,
        "finished_twice": finished_twice,
        "smtp_redeliveries_refused": sum(mailbox.duplicates.values()),
        "faults": {name: Counter(f.kind for f in list(stack.sandbox(name).state.faults.injected)) for name in ("koha", "suomifi_viestit")},
    }


def measured(args: argparse.Namespace) -> dict[str, Any]:
    """One run in a private data directory with the chaos settings (or none of the faults)."""
    extra = CHAOS_SETTINGS | {"KUNTAFLOW_SANDBOX_FAULT_SEED": str(args.seed)}
    if args.no_faults:
        extra = {k: v for k, v in extra.items() if not k.startswith("KUNTAFLOW_SANDBOX_FAULT_")}
    if args.latency_ms:
        extra["KUNTAFLOW_SANDBOX_FAULT_LATENCY_MS"] = str(args.latency_ms)
    with bench_environment(population=population_for(args.items), robot_timings=False, extra=extra):
        from apps.cli.stack_commands import _quiet

        _quiet()
        return run_chaos(args)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=500)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--prefect-database", choices=("sqlite", "postgresql"), default="sqlite", help="the embedded Prefect server's database")
    parser.add_argument("--no-faults", action="store_true", help="well-behaved sandboxes (the scale-out check)")
    parser.add_argument("--latency-ms", type=int, default=0, help="added to every sandbox request (also with --no-faults)")
    parser.add_argument("--batch-size", type=int, default=None, help="the flow runs' batch_size (default: the deployment's)")
    parser.add_argument("--parallel-batches", type=int, default=None, help="the flow runs' parallel_batches (default: the deployment's)")
    parser.add_argument("--koha-limit", type=int, default=None, help="the koha tag concurrency limit (default: kuntaflow/prefect_deploy.py's)")
    parser.add_argument("--timeout", type=float, default=1800, help="give up after this many seconds (default 1800)")
    return parser.parse_args(argv)


def main() -> int:
    args = arguments()
    faults = "well-behaved sandboxes" if args.no_faults else "every sandbox: 20% 5xx, 5% timeouts, 2% 429"
    print(
        f"Chaos run: {args.items} library-card applications, {args.kills} SIGKILLs, seed {args.seed}, queue on {args.database}, "
        f"Prefect on {args.prefect_database}, {args.workers} worker(s); {faults}; {load()}",
        flush=True,
    )
    r = measured(args)
    landed = sum(k.done for k in r["kills"])
    print(
        f"\n  {r['elapsed']:.0f} s, {r['flow_runs']} flow runs started, {r['restarts']} worker restarts; flow runs per worker {r['runs_per_worker']}; {load()}"
    )
    print(f"  queue: {r['counts']}")
    print(f"  outcomes: {r['reasons']}")
    for name, kinds in r["faults"].items():
        print(f"  faults injected by the {name} sandbox: {dict(kinds)}")
    print(f"  e-mail re-deliveries the SMTP sandbox refused by Message-ID: {r['smtp_redeliveries_refused']}")
    print(f"  items finished twice in the queue's audit trail: {r['finished_twice']}; {args.items / r['elapsed']:.2f} items/s with {args.workers} worker(s)")
    for line in r["lost"][:20]:
        print(f"  LOST {line}")
    lost = len(r["lost"])
    print(f"items={args.items} kills={landed} lost={lost} duplicate_patrons={r['duplicate_patrons']} duplicate_messages={r['duplicate_messages']}")
    return 0 if exactly_once(r) and landed == args.kills else 1


if __name__ == "__main__":
    sys.exit(main())
