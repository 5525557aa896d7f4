"""Library-card latency: from a citizen's submit on the e-service to the decision in their mailbox.

Runs the main job's path on the embedded default (``kuntaflow run``'s: ``apps.local_stack`` with
the ``library-card`` deployment and a process worker, in a private data directory): generated
adults of the sandbox population who are not library patrons yet log in through the sandbox
Suomi.fi IdP and send the form with the no-JavaScript browser of ``apps.demo``, one citizen
at a time (each starts when the previous one has seen their status page, plus ``--interval``
seconds). The e-service queues the application and emits its Prefect event; the deployment's
event trigger starts a flow run on the worker, whose robot decides and sends. Nothing here calls
the flow.

Latency of one application = the time the decision's record was made in the sandbox that took it
(Suomi.fi Messages ``createdAt`` for an electronic message or a printed letter, the SMTP sandbox's
``received_at`` for an e-mail) minus the time the e-service put the application in the queue
(its ``created_at``; the POST's response follows after the event is emitted, so this counts a few
milliseconds more than from the response). Both are the systems' own records: no polling.

Where the time goes, per application, from the same records: queued → claimed by a robot batch
(the queue's audit trail), claimed → the robot's first keyword (bench/robot_timing.py, switched on
through ``ROBOT_OPTIONS``), → decision recorded; and per flow run (Prefect's records): event →
run created by the trigger, created → running on the worker, running → first claim.

    .venv/bin/python bench/library_card_latency.py [--count 50] [--interval 0]

Target: p95 ≤ 5 s.
"""

from __future__ import annotations

import argparse
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

TARGET_P95_SECONDS = 5.0


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
        claims = [entry.at.timestamp() for entry in queue.audit(item.id) if entry.to_state and entry.to_state.value == "IN_PROGRESS"]
        if claims:
            line.claimed = claims[-1]
            # The robot that worked the item: the first one created after its (last) claim.
            line.robot_first_keyword = next((first for created, first in starts if created >= line.claimed - 0.02), None)
        record = decision_record(stack, sent)
        if record is not None:  # a Messages message has created_at, an e-mail the SMTP sandbox's received_at
            line.recorded = getattr(record, "created_at", None) or record.received_at
            line.recorded = line.recorded.timestamp()
        found.append(line)
    return found


def flow_run_delays(deployment: str, since: datetime, queued: list[float], claims: list[float]) -> list[tuple[str, float, float, float]]:
    """Per flow run of the deployment that started: (origin, the last application queued before it
    → run created, created → running, running → first claim after it)."""
    from kuntaflow.prefect_deploy import deployment_runs, run_origin

    rows = []
    for run in sorted(deployment_runs(deployment, since=since), key=lambda r: r.created):
        if run.start_time is None:
            continue
        created, started = run.created.timestamp(), run.start_time.timestamp()
        event = max((q for q in queued if q <= created), default=float("nan"))
        claim = min((c for c in claims if c >= started), default=float("nan"))
        rows.append((run_origin(run), created - event, started - created, claim - started))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=50, help="applications (default 50)")
    parser.add_argument("--interval", type=float, default=0.0, help="seconds between one citizen's status page and the next citizen's start (default 0)")
    args = parser.parse_args()
    with bench_environment(population=max(args.count * 2 + 50, 200)) as timings_path:
        from apps.cli.stack_commands import _quiet

        _quiet()
        from apps.demo import library_card as demo
        from apps.local_stack import local_stack
        from kuntaflow.prefect_deploy import wait_for_flow_runs
        from kuntaflow.settings import KuntaflowSettings

        print(f"Library-card latency: {args.count} applications through the e-service, one citizen at a time, interval {args.interval:g} s; {load()}")
        data_dir = KuntaflowSettings().resolved_data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        with local_stack(queue_url=f"sqlite:///{data_dir / 'queue.db'}", deployments=demo.DEPLOYMENTS, worker=True) as stack:
            from connectors.sandbox_people import sandbox_population

            print(f"  stack ready in {time.monotonic() - began:.0f} s (sandboxes, e-service, Prefect server, library-card deployment, worker)")
            people = sandbox_population()
            planned = citizens(args.count)
            started_at = datetime.now(UTC)
            load_before = load()
            submitted = []
            clock = time.monotonic()
            for case in planned:
                outcome = demo.apply(stack, case, people)
                submitted.append((outcome, time.time()))
                if args.interval:
                    time.sleep(args.interval)
            submit_seconds = time.monotonic() - clock
            with stack.settings.work_queue() as queue:
                references = [o.reference for o, _ in submitted if o.outcome == "queued" and o.reference]
                demo.wait_for_decisions(queue, references, None, timeout=demo.PROCESSING_TIMEOUT_SECONDS)
                load_after = load()
                wait_for_flow_runs(demo.DEPLOYMENT, since=started_at, timeout=120)  # the robots write their timings as they exit
                robots = read_robot_timings(timings_path, since=started_at.timestamp())
                lines = timelines(stack, queue, submitted, robots)
                runs = flow_run_delays(demo.DEPLOYMENT, started_at, [line.queued for line in lines], [line.claimed for line in lines if line.claimed])
    report(args, submitted, lines, runs, robots, submit_seconds, load_before, load_after)


def report(args: Any, submitted: list, lines: list[Timeline], runs: list, robots: list, submit_seconds: float, load_before: str, load_after: str) -> None:
    failed = [o for o, _ in submitted if o.outcome != "queued"]
    latencies = [line.latency for line in lines if line.latency is not None]
    print(
        f"  {len(submitted)} citizens submitted in {submit_seconds:.0f} s ({len(submitted) / submit_seconds:.2f}/s; "
        f"median {statistics.median(o.seconds for o, _ in submitted):.2f} s from start page to status page); {len(failed)} not queued"
    )
    print(
        f"  {len(latencies)} of {len(lines)} decisions found in the sandboxes' records; channels: "
        f"{ {c: sum(1 for line in lines if line.channel == c) for c in sorted({line.channel for line in lines})} }"
    )
    if not latencies:
        print("No latency could be measured.")
        return
    p50, p95, worst = percentile(latencies, 50), percentile(latencies, 95), max(latencies)
    print(
        f"\n  submit → decision recorded: p50 {p50:.2f} s, p95 {p95:.2f} s, max {worst:.2f} s, min {min(latencies):.2f} s "
        f"(n={len(latencies)}; {load_before} before, {load_after} after)"
    )

    def spread(name: str, values: list[float]) -> None:
        if values:
            print(f"    {name:<52} p50 {percentile(values, 50):6.2f} s   p95 {percentile(values, 95):6.2f} s   max {max(values):6.2f} s")

    print("  where it went, per application:")
    spread("queued → claimed by a robot batch", [line.claimed - line.queued for line in lines if line.claimed])
    spread(
        "claimed → robot's first keyword (robot start-up)",
        [line.robot_first_keyword - line.claimed for line in lines if line.claimed and line.robot_first_keyword],
    )
    spread(
        "robot's first keyword → decision recorded", [line.recorded - line.robot_first_keyword for line in lines if line.recorded and line.robot_first_keyword]
    )
    spread("queued → the citizen's status page (POST answered)", [line.response_seen - line.queued for line in lines if line.response_seen])
    starts = [(r["first_keyword"] - (r["process_created"] or r["listener_started"])) for r in robots if r["first_keyword"]]
    spread(f"robot process start-up ({len(robots)} robots)", starts)
    lifetimes = [r["closed"] - (r["process_created"] or r["listener_started"]) for r in robots]
    spread("robot process lifetime", lifetimes)
    print(
        f"  flow runs of the deployment ({len(runs)}): origin, application queued → run created (trigger), created → running (worker, "
        "flow process start), running → first claim"
    )
    for origin, trigger, pickup, first_claim in runs:
        print(f"    {origin:<9} trigger {trigger:6.2f} s   worker+start {pickup:6.2f} s   first claim {first_claim:6.2f} s")
    met = p95 <= TARGET_P95_SECONDS
    print(
        f"\nlatency_p50_s={p50:.2f} latency_p95_s={p95:.2f} latency_max_s={worst:.2f} n={len(latencies)} "
        f"target_p95_s={TARGET_P95_SECONDS:g} met={'yes' if met else 'no'} ratio={p95 / TARGET_P95_SECONDS:.2f} ({load_after})"
    )


if __name__ == "__main__":
    main()
