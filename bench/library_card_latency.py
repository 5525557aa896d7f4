"""Library-card latency: from a citizen's submit on the e-service to the decision in their mailbox.

Runs the main job's path on the embedded default (``kuntaflow run``'s: ``apps.local_stack`` with
the ``library-card`` deployment, a process worker and the task worker, in a private data
directory): generated adults of the sandbox population who are not library patrons yet log in
through the sandbox Suomi.fi IdP and send the form with the no-JavaScript browser of
``apps.demo``, in three phases: ``--count`` citizens one at a time (each starts when the previous
one has seen their status page, plus ``--interval`` seconds), a burst of ``--burst`` citizens
starting within ``--burst-seconds``, and ``--rate`` citizens a second for ``--steady-seconds``.
The e-service queues each application and hands it to the warm path (the background task
``decide_application`` on the task worker), whose robot decides and sends, or a robot already
at work takes it. Nothing here calls the flow.

Latency of one application = the time the decision's record was made in the sandbox that took it
(Suomi.fi Messages ``createdAt`` for an electronic message or a printed letter, the SMTP sandbox's
``received_at`` for an e-mail) minus the time the e-service put the application in the queue
(its ``created_at``; the POST's response follows after the event is emitted, so this counts a few
milliseconds more than from the response). Both are the systems' own records: no polling.

Where the time goes, per application, from the same records: queued → claimed by a robot (the
queue's audit trail), claimed → decision recorded; the start-up of the robots that ended within
the phase (bench/robot_timing.py, switched on through ``ROBOT_OPTIONS``).

    .venv/bin/python bench/library_card_latency.py [--count 100] [--burst 50] [--rate 5] [--steady-seconds 60]

Targets: p95 ≤ 1 s one at a time, ≤ 2 s in the burst and at the steady rate. Last line
``latency_p95_s=… burst_p95_s=… steady_p95_s=…``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from bench.bench_support import bench_environment, decision_record, load, percentile, read_robot_timings  # noqa: E402

#: p95 one citizen at a time, and in a burst or at a steady rate.
TARGET_P95_SECONDS = 1.0
TARGET_LOADED_P95_SECONDS = 2.0


@dataclass
class Timeline:
    """One application's instants (Unix seconds) from the systems' own records."""

    item_id: int
    channel: str
    queued: float
    claimed: float | None = None
    robot_first_keyword: float | None = None
    recorded: float | None = None
    response_seen: float | None = None  # the citizen's browser had the status page
    claimed_by: str | None = None  # the robot's lease owner (a warm-path robot's has batch 0)

    @property
    def latency(self) -> float | None:
        return None if self.recorded is None else self.recorded - self.queued


def citizens(count: int) -> list[Any]:
    """``count`` sample citizens (``apps.demo`` cases): generated adults who are not patrons yet."""
    from apps.demo.library_card import Case
    from connectors.sandbox_people import sandbox_population

    people = sandbox_population()
    fresh = [p for p in people.generated if p.hetu and not p.koha and p.address and not p.non_disclosure]
    if len(fresh) < count:
        raise SystemExit(f"the sandbox population has only {len(fresh)} suitable people; raise KUNTAFLOW_SANDBOX_POPULATION_SIZE")
    return [
        Case(
            "a generated adult", person.key, preference="email" if index % 4 == 3 and person.email else "suomifi", language=("fi", "fi", "sv", "en")[index % 4]
        )
        for index, person in enumerate(fresh[:count])
    ]


def timelines(stack: Any, queue: Any, submitted: list[tuple[Any, float]], robots: list[dict[str, Any]]) -> list[Timeline]:
    """Each queued application's instants, read from the queue, the robots' records and the sandboxes."""
    from schemas.library_card import PROCESS

    starts = sorted((r["process_created"] or r["listener_started"], r["first_keyword"]) for r in robots if r["first_keyword"])
    found = []
    for outcome, seen in submitted:
        item = queue.find(PROCESS, outcome.reference) if outcome.outcome == "queued" and outcome.reference else None
        if item is None:
            continue
        sent = queue.checkpoints(item.id).get("decision_sent") or {}
        line = Timeline(item.id, str(sent.get("channel", "-")), item.created_at.timestamp(), response_seen=seen)
        claims = [entry for entry in queue.audit(item.id) if entry.to_state and entry.to_state.value == "IN_PROGRESS"]
        if claims:
            line.claimed, line.claimed_by = claims[-1].at.timestamp(), claims[-1].actor
            # The robot that worked the item: the first one created after its (last) claim.
            line.robot_first_keyword = next((first for created, first in starts if created >= line.claimed - 0.02), None)
        record = decision_record(stack, sent)
        if record is not None:  # a Messages message has created_at, an e-mail the SMTP sandbox's received_at
            line.recorded = getattr(record, "created_at", None) or record.received_at
            line.recorded = line.recorded.timestamp()
        found.append(line)
    return found


@dataclass
class Phase:
    """One way citizens arrive: ``count`` of them, the i-th starting ``i / rate`` s after the first
    (rate 0: each starts when the one before has seen their status page)."""

    name: str
    count: int
    rate: float = 0.0


def run_phase(stack: Any, people: Any, phase: Phase, planned: list[Any], interval: float) -> tuple[list, float]:
    """Send ``planned`` citizens through the e-service as ``phase`` says; their outcomes with the instant
    each saw the status page, and the seconds the sending took."""
    from concurrent.futures import ThreadPoolExecutor

    from apps.demo import library_card as demo

    clock = time.monotonic()
    if not phase.rate:
        submitted = []
        for case in planned:
            outcome = demo.apply(stack, case, people)
            submitted.append((outcome, time.time()))
            if interval:
                time.sleep(interval)
        return submitted, time.monotonic() - clock

    def citizen(index: int) -> tuple[Any, float]:
        time.sleep(max(clock + index / phase.rate - time.monotonic(), 0))
        outcome = demo.apply(stack, planned[index], people)
        return outcome, time.time()

    # Enough browsers at once that a citizen starts on time although each takes about a second.
    with ThreadPoolExecutor(max_workers=min(len(planned), max(int(phase.rate * 4), 4)), thread_name_prefix="citizen") as pool:
        submitted = list(pool.map(citizen, range(len(planned))))
    return submitted, time.monotonic() - clock


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100, help="citizens one at a time (default 100; 0 skips)")
    parser.add_argument("--interval", type=float, default=0.0, help="seconds between one citizen's status page and the next citizen's start (default 0)")
    parser.add_argument("--burst", type=int, default=50, help="citizens in the burst (default 50; 0 skips)")
    parser.add_argument("--burst-seconds", type=float, default=5.0, help="the burst's citizens start within this many seconds (default 5)")
    parser.add_argument("--rate", type=float, default=5.0, help="citizens a second at the steady rate (default 5; 0 skips)")
    parser.add_argument("--steady-seconds", type=float, default=60.0, help="how long the steady rate lasts (default 60)")
    parser.add_argument(
        "--sessions-apart", action="store_true", help="the e-service's sessions in a SQLite file of their own, not in the queue's (its default)"
    )
    args = parser.parse_args()
    phases = [
        Phase("one at a time", args.count),
        Phase("burst", args.burst, args.burst / args.burst_seconds if args.burst else 0),
        Phase("steady", int(args.rate * args.steady_seconds), args.rate),
    ]
    phases = [phase for phase in phases if phase.count]
    total = sum(phase.count for phase in phases)
    with bench_environment(population=max(total * 2 + 50, 200)) as timings_path:
        from apps.cli.stack_commands import _quiet

        _quiet()
        from apps.demo import library_card as demo
        from apps.local_stack import local_stack
        from kuntaflow.settings import KuntaflowSettings

        plan = ", ".join(f"{p.name} {p.count}" + (f" at {p.rate:g}/s" if p.rate else "") for p in phases)
        print(f"Library-card latency through the e-service: {plan}; {load()}")
        data_dir = KuntaflowSettings().resolved_data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        if args.sessions_apart:
            os.environ["KUNTAFLOW_ESERVICE_SESSION_DATABASE_URL"] = f"sqlite:///{data_dir / 'sessions.db'}"
        began = time.monotonic()
        with local_stack(queue_url=f"sqlite:///{data_dir / 'queue.db'}", deployments=demo.DEPLOYMENTS, worker=True) as stack:
            from connectors.sandbox_people import sandbox_population

            print(f"  stack ready in {time.monotonic() - began:.0f} s (sandboxes, e-service, Prefect server, library-card deployment, worker, task worker)")
            people = sandbox_population()
            planned = citizens(total)
            results = []
            for phase in phases:
                mine, planned = planned[: phase.count], planned[phase.count :]
                started_at = datetime.now(UTC)
                load_before = load()
                submitted, submit_seconds = run_phase(stack, people, phase, mine, args.interval)
                with stack.settings.work_queue() as queue:
                    references = [o.reference for o, _ in submitted if o.outcome == "queued" and o.reference]
                    demo.wait_for_decisions(queue, references, None, timeout=demo.PROCESSING_TIMEOUT_SECONDS)
                    load_after = load()
                    robots = read_robot_timings(timings_path, since=started_at.timestamp())
                    lines = timelines(stack, queue, submitted, robots)
                results.append(report(phase, submitted, lines, robots, submit_seconds, load_before, load_after))
    figures = dict(zip((p.name for p in phases), results, strict=True))
    names = {"one at a time": "latency", "burst": "burst", "steady": "steady"}
    targets = {"one at a time": TARGET_P95_SECONDS, "burst": TARGET_LOADED_P95_SECONDS, "steady": TARGET_LOADED_P95_SECONDS}
    met = all(p95 is not None and p95 <= targets[name] for name, p95 in figures.items())
    print(
        "\n"
        + " ".join(f"{names[name]}_p95_s={'-' if p95 is None else f'{p95:.2f}'}" for name, p95 in figures.items())
        + f" targets_met={'yes' if met else 'no'} ({load()})"
    )


def report(phase: Phase, submitted: list, lines: list[Timeline], robots: list, submit_seconds: float, load_before: str, load_after: str) -> float | None:
    """Print one phase's figures; its p95 (None when nothing could be measured)."""
    failed = [o for o, _ in submitted if o.outcome != "queued"]
    latencies = [line.latency for line in lines if line.latency is not None]
    print(f"\n{phase.name}: {phase.count} citizens" + (f", planned at {phase.rate:g}/s" if phase.rate else ""))
    print(
        f"  {len(submitted)} citizens submitted in {submit_seconds:.1f} s ({len(submitted) / submit_seconds:.2f}/s; "
        f"median {statistics.median(o.seconds for o, _ in submitted):.2f} s from start page to status page); {len(failed)} not queued"
    )
    print(
        f"  {len(latencies)} of {len(lines)} decisions found in the sandboxes' records; channels: "
        f"{ {c: sum(1 for line in lines if line.channel == c) for c in sorted({line.channel for line in lines})} }"
    )
    if not latencies:
        print("  No latency could be measured.")
        return None
    p50, p95, worst = percentile(latencies, 50), percentile(latencies, 95), max(latencies)
    print(
        f"  submit → decision recorded: p50 {p50:.2f} s, p95 {p95:.2f} s, max {worst:.2f} s, min {min(latencies):.2f} s "
        f"(n={len(latencies)}; {load_before} before, {load_after} after)"
    )

    def spread(name: str, values: list[float]) -> None:
        if values:
            print(f"    {name:<52} p50 {percentile(values, 50):6.2f} s   p95 {percentile(values, 95):6.2f} s   max {max(values):6.2f} s")

    print("  where it went, per application:")
    warm = sum(1 for line in lines if line.claimed_by and "-b0-" in line.claimed_by)
    print(f"  claimed by warm-path robots (batch 0): {warm} of {len(lines)}; the rest by the deployment's batch runs")
    spread("queued → claimed by a robot", [line.claimed - line.queued for line in lines if line.claimed])
    spread("claimed → decision recorded", [line.recorded - line.claimed for line in lines if line.recorded and line.claimed])
    spread("queued → the citizen's status page (POST answered)", [line.response_seen - line.queued for line in lines if line.response_seen])
    starts = [(r["first_keyword"] - (r["process_created"] or r["listener_started"])) for r in robots if r["first_keyword"]]
    spread(f"robot process start-up ({len(robots)} robots that ended)", starts)
    return p95


if __name__ == "__main__":
    main()
