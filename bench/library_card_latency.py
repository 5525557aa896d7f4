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
import itertools
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from bench.bench_support import (  # noqa: E402
    bench_environment,
    cpu_by_role,
    cpu_snapshot,
    decision_record,
    load,
    percentile,
    read_robot_timings,
    split_robot_time,
)

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
    finished: float | None = None  # the robot closed the item (its last change of state)

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
            closed = [entry for entry in queue.audit(item.id) if entry.from_state and entry.from_state.value == "IN_PROGRESS" and entry.at >= claims[-1].at]
            line.finished = closed[0].at.timestamp() if closed else None
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


@dataclass
class Sent:
    """What the citizens' browsers did in one phase: outcomes with the instant each saw the status page."""

    submitted: list[tuple[Any, float]]
    starts: list[float]  # when each browser began (Unix s), as it happened
    seconds: float  # from the first browser's start to the last one's status page

    @property
    def offered_rate(self) -> float | None:
        """Citizens a second as they actually started (None for fewer than two)."""
        span = max(self.starts) - min(self.starts) if len(self.starts) > 1 else 0
        return (len(self.starts) - 1) / span if span > 0 else None


#: The citizens' browsers, one per process of the pool (set up by ``_browser_process``).
_PEOPLE: Any = None


def _browser_process() -> None:
    """A browser process's set-up: the sandbox population (the same people the IdP knows, from the
    same settings, inherited through the environment), so each citizen costs only their pages."""
    global _PEOPLE
    from apps.demo import library_card  # noqa: F401 (imported before the first citizen, not during the phase)
    from connectors.sandbox_people import sandbox_population

    _PEOPLE = sandbox_population()


#: Citizens of one browser process signing in at once under ``--signed-in-first`` (all of a phase at
#: once would queue their pages past the browser's timeout).
SIGNING_IN_AT_ONCE = 3
#: How long the citizens of a phase may take to sign in and fill in the form under ``--signed-in-first``.
PREPARE_TIMEOUT_SECONDS = 600


def _citizen(eservice_url: str, case: Any, start_at: float, gate: Any = None, signing_in: Any = None) -> tuple[str, float, float, float]:
    """One citizen in a browser process: wait for ``start_at`` (Unix s), then start page to status page;
    (outcome, seconds, started, status page seen).

    With a ``gate`` (ready queue, go event, shared first instant, this citizen's offset) the citizen
    signs in (``signing_in``: a semaphore of the process) and fills in the form, says so, and sends
    it at the first instant + offset: ``started`` is then the send.
    """
    from apps.demo import library_card as demo

    time.sleep(max(start_at - time.time(), 0))
    started = [time.time()]
    told = []

    def hold() -> None:
        ready, go, first, offset = gate
        signing_in.release()
        ready.put(1)
        told.append(True)
        go.wait()
        time.sleep(max(first.value + offset - time.time(), 0))
        started[0] = time.time()

    if gate:
        signing_in.acquire()
    outcome, seconds = demo.visit(eservice_url, case, _PEOPLE, hold if gate else None)
    if gate and not told:  # never reached the form: free the place and count the citizen anyway
        signing_in.release()
        gate[0].put(1)
    return outcome, seconds, started[0], time.time()


def _citizens(eservice_url: str, plan: list[tuple[Any, float, Any]]) -> list[tuple[str, float, float, float]]:
    """Several citizens in one browser process, each in a thread of its own starting at its own time,
    however long the ones before take: the load is offered as planned, not as the e-service keeps up."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    signing_in = threading.Semaphore(SIGNING_IN_AT_ONCE)
    with ThreadPoolExecutor(max_workers=len(plan), thread_name_prefix="citizen") as threads:
        return list(threads.map(lambda step: _citizen(eservice_url, *step, signing_in), plan))


@contextmanager
def browser_manager() -> Iterator[Any]:
    """A multiprocessing manager for ``--signed-in-first``: the queue the citizens say they are ready
    on, the event that lets them send, the shared instant of the first send."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Manager() as manager:
        yield manager


def browser_pool(processes: int) -> Any:
    """``processes`` browser processes, started and ready before the first phase.

    The citizens' browsers must not share the interpreter (and its GIL) of the process hosting the
    e-service and the sandboxes: there they slowed the system they measured and could not send at
    the planned rate (2.4 a second instead of 10). Spawned, not forked: this process runs servers'
    threads, which a fork would copy mid-flight.
    """
    import multiprocessing

    pool = multiprocessing.get_context("spawn").Pool(processes, initializer=_browser_process)
    pool.map(time.sleep, [0.5] * processes, chunksize=1)  # every process up and through its set-up
    return pool


def run_phase(stack: Any, people: Any, pool: Any, processes: int, phase: Phase, planned: list[Any], interval: float, manager: Any = None) -> Sent:
    """Send ``planned`` citizens through the e-service as ``phase`` says, in the browser processes of ``pool``.

    At a rate, the citizens are dealt round to the ``processes`` and each starts on time in a thread
    of its process (an open loop: a slow e-service makes more citizens wait at once, not fewer arrive).
    With a ``manager`` (``--signed-in-first``) every citizen of the phase first signs in and fills in
    the form, and only the sending follows the rate: the rate is then that of the applications
    arriving, which the sign-in (xmlsec1 for every SAML message) caps on a small machine otherwise.
    """
    from apps.demo import library_card as demo

    clock = time.monotonic()
    if not phase.rate:
        results = []
        for case in planned:
            results.append(pool.apply(_citizen, (stack.eservice_url, case, 0.0, None)))
            if interval:
                time.sleep(interval)
    else:
        first = time.time() + 1.0  # every process has its citizens before the first is due
        if manager is None:
            plan = [(case, first + index / phase.rate, None) for index, case in enumerate(planned)]
        else:
            ready, go, at = manager.Queue(), manager.Event(), manager.Value("d", float("inf"))
            plan = [(case, first, (ready, go, at, index / phase.rate)) for index, case in enumerate(planned)]
        count = min(processes, len(plan))
        waiting = pool.starmap_async(_citizens, [(stack.eservice_url, plan[start::count]) for start in range(count)])
        if manager is not None:
            clock = time.monotonic()
            for _ in planned:
                ready.get(timeout=PREPARE_TIMEOUT_SECONDS)
            print(f"  {len(planned)} citizens signed in with the form filled in, in {time.monotonic() - clock:.1f} s; now they send it at {phase.rate:g}/s")
            at.value = time.time() + 0.5
            go.set()
            clock = time.monotonic()
        outcomes = waiting.get()
        results = [outcomes[index % count][index // count] for index in range(len(plan))]
    submitted = []
    for case, (outcome, seconds, _, seen) in zip(planned, results, strict=True):
        submitted.append((demo.Submitted(case, outcome, seconds, demo.reference_of(stack, case, people)), seen))
    return Sent(submitted, [result[2] for result in results], time.monotonic() - clock)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100, help="citizens one at a time (default 100; 0 skips)")
    parser.add_argument("--interval", type=float, default=0.0, help="seconds between one citizen's status page and the next citizen's start (default 0)")
    parser.add_argument("--burst", type=int, default=50, help="citizens in the burst (default 50; 0 skips)")
    parser.add_argument("--burst-seconds", type=float, default=5.0, help="the burst's citizens start within this many seconds (default 5)")
    parser.add_argument("--rate", type=float, default=5.0, help="citizens a second at the steady rate (default 5; 0 skips)")
    parser.add_argument("--steady-seconds", type=float, default=60.0, help="how long the steady rate lasts (default 60)")
    parser.add_argument("--browsers", type=int, default=6, help="processes for the citizens' browsers, each citizen a thread in one of them (default 6)")
    parser.add_argument(
        "--signed-in-first",
        action="store_true",
        help="in the burst and at the steady rate, every citizen signs in and fills in the form first; only the sending follows the rate",
    )
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
        began_at = time.time()
        with local_stack(queue_url=f"sqlite:///{data_dir / 'queue.db'}", deployments=demo.DEPLOYMENTS, worker=True) as stack, ExitStack() as stack_manager:
            from connectors.sandbox_people import sandbox_population

            print(f"  stack ready in {time.monotonic() - began:.0f} s (sandboxes, e-service, Prefect server, library-card deployment, worker, task worker)")
            people = sandbox_population()
            planned = citizens(total)
            clock = time.monotonic()
            pool = browser_pool(args.browsers)
            manager = stack_manager.enter_context(browser_manager()) if args.signed_in_first else None
            print(f"  {args.browsers} browser processes ready in {time.monotonic() - clock:.1f} s ({load()})")
            results = []
            for phase in phases:
                mine, planned = planned[: phase.count], planned[phase.count :]
                started_at = datetime.now(UTC)
                load_before = load()
                cpu_before = cpu_snapshot()
                handed_before = handed_over(stack)
                sent = run_phase(stack, people, pool, args.browsers, phase, mine, args.interval, manager)
                with stack.settings.work_queue() as queue:
                    references = [o.reference for o, _ in sent.submitted if o.outcome == "queued" and o.reference]
                    demo.wait_for_decisions(queue, references, None, timeout=demo.PROCESSING_TIMEOUT_SECONDS)
                    load_after = load()
                    cpu = cpu_by_role(cpu_before, cpu_snapshot(), cpu_role())
                    robots = read_robot_timings(timings_path, since=started_at.timestamp())
                    lines = timelines(stack, queue, sent.submitted, robots)
                handed = tuple(after - before for after, before in zip(handed_over(stack), handed_before, strict=True))
                results.append(report(phase, sent, lines, robots, load_before, load_after, cpu))
                print(f"  the e-service's trigger: {handed[0]} background task runs submitted, {handed[1]} items left to a robot that had taken them")
            pool.close()
            pool.join()
            robots_of_the_run(timings_path, began_at)
    figures = dict(zip((p.name for p in phases), results, strict=True))
    names = {"one at a time": "latency", "burst": "burst", "steady": "steady"}
    targets = {"one at a time": TARGET_P95_SECONDS, "burst": TARGET_LOADED_P95_SECONDS, "steady": TARGET_LOADED_P95_SECONDS}
    met = all(p95 is not None and p95 <= targets[name] for name, p95 in figures.items())
    print(
        "\n"
        + " ".join(f"{names[name]}_p95_s={'-' if p95 is None else f'{p95:.2f}'}" for name, p95 in figures.items())
        + f" targets_met={'yes' if met else 'no'} ({load()})"
    )


def report(phase: Phase, sent: Sent, lines: list[Timeline], robots: list, load_before: str, load_after: str, cpu: dict[str, float]) -> float | None:
    """Print one phase's figures; its p95 (None when nothing could be measured)."""
    submitted, submit_seconds = sent.submitted, sent.seconds
    failed = [o for o, _ in submitted if o.outcome != "queued"]
    offered = sent.offered_rate
    latencies = [line.latency for line in lines if line.latency is not None]
    print(f"\n{phase.name}: {phase.count} citizens" + (f", planned at {phase.rate:g}/s" if phase.rate else ""))
    print(
        f"  {len(submitted)} citizens submitted in {submit_seconds:.1f} s ({len(submitted) / submit_seconds:.2f}/s; "
        f"median {statistics.median(o.seconds for o, _ in submitted):.2f} s from start page to status page); {len(failed)} not queued"
    )
    if failed:  # why (a browser gives up on a page after 60 s): the outcome's first words, no personal data in them
        print(f"    not queued: {dict(Counter(o.outcome[:70] for o in failed).most_common(3))}")
    queued = sorted(line.queued for line in lines)
    arrived = (len(queued) - 1) / (queued[-1] - queued[0]) if len(queued) > 1 and queued[-1] > queued[0] else None
    print(
        f"  offered: {_rate(offered)}/s as the browsers started"
        + (f" (planned {phase.rate:g}/s)" if phase.rate else " (one after another)")
        + f"; queued at {_rate(arrived)}/s by the queue's created_at"
    )
    print(
        f"  {len(latencies)} of {len(lines)} decisions found in the sandboxes' records; channels: "
        f"{ {c: sum(1 for line in lines if line.channel == c) for c in sorted({line.channel for line in lines})} }"
    )
    queued_count = max(len(lines), 1)
    print(
        f"  CPU seconds from the phase's start to its last decision, per application ({sum(cpu.values()):.1f} s in all): "
        + ", ".join(f"{name} {seconds / queued_count * 1000:.0f} ms" for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]) if seconds >= 0.05)
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
    owners = Counter(line.claimed_by for line in lines if line.claimed_by)
    print(f"  claimed by warm-path robots (batch 0): {warm} of {len(lines)}; the rest by the deployment's batch runs")
    print(f"  robots that claimed them: {len(owners)} (items each: {sorted(owners.values(), reverse=True)})")
    spread("queued → claimed by a robot", [line.claimed - line.queued for line in lines if line.claimed])
    spread("claimed → decision recorded", [line.recorded - line.claimed for line in lines if line.recorded and line.claimed])
    spread("decision recorded → item closed by the robot", [line.finished - line.recorded for line in lines if line.finished and line.recorded])
    spread("robot's previous item closed → its next claim", robot_gaps(lines))
    spread("queued → the citizen's status page (POST answered)", [line.response_seen - line.queued for line in lines if line.response_seen])
    starts = [(r["first_keyword"] - (r["process_created"] or r["listener_started"])) for r in robots if r["first_keyword"]]
    spread(f"robot process start-up ({len(robots)} robots that ended)", starts)
    return p95


def robots_of_the_run(timings_path: Path, since: float) -> None:
    """Once the lingering robots have ended: where their time went, connector calls per system above all
    (the sandboxes answer from the bench's process, which also serves the e-service)."""
    from flows.library_card import WARM_LINGER_SECONDS

    time.sleep(WARM_LINGER_SECONDS + 5)
    split = split_robot_time(read_robot_timings(timings_path, since=since))
    print(f"\nthe run's {split.robots} robots, {split.lifetime:.1f} s alive in all (lingering included), start-up {split.start_up:.1f} s:")
    for system, (calls, seconds) in sorted(split.connector.items(), key=lambda kv: -kv[1][1]):
        print(f"  {system:<24} {calls:5d} calls  {seconds:7.2f} s  {seconds / max(calls, 1) * 1000:7.1f} ms a call")
    print(f"  the keyword library's own code {split.process_code:.2f} s; WorkItems (claims, lingering included) {split.queue_work:.2f} s")


def handed_over(stack: Any) -> tuple[int, int]:
    """The e-service trigger's counts so far: task runs submitted, items a lingering robot took first."""
    trigger = stack.eservice_app.state.services.trigger
    return getattr(trigger, "submitted", 0), getattr(trigger, "taken_already", 0)


def robot_gaps(lines: list[Timeline]) -> list[float]:
    """For each item a robot claimed after closing another one while it was already waiting: the
    seconds from that close to the claim (the robot's own time between items, not waiting for work)."""
    gaps = []
    by_robot: dict[str, list[Timeline]] = {}
    for line in lines:
        if line.claimed_by and line.claimed:
            by_robot.setdefault(line.claimed_by, []).append(line)
    for mine in by_robot.values():
        mine.sort(key=lambda line: line.claimed or 0)
        for before, after in itertools.pairwise(mine):
            if before.finished and after.claimed and after.queued < before.finished:
                gaps.append(after.claimed - before.finished)
    return gaps


ROLES = (
    ("-m robot", "robots"),
    ("flows.task_worker", "task worker (warm path's background tasks)"),
    ("prefect_server_main", "Prefect server"),
    ("prefect worker", "process worker and its flow runs"),
    ("prefect.engine", "process worker and its flow runs"),
    ("xmlsec1", "xmlsec1 (SAML signatures)"),
    ("spawn_main", "citizens' browsers"),
)


def cpu_role() -> Any:
    """Names the part of the system a process of the bench's tree is, for the CPU split."""
    me = os.getpid()

    def role(pid: int, command: str) -> str:
        if pid < 0:  # children that ended: robots under the task worker or a flow run, xmlsec1 under this process
            parent = role(-pid, command)
            if -pid == me:
                return "xmlsec1 (SAML signatures)"
            return "robots" if parent.startswith(("task worker", "process worker")) else f"ended children of {parent}"
        if pid == me:
            return "e-service + sandboxes (the bench's process)"
        return next((name for key, name in ROLES if key in command), command[:40] or "?")

    return role


def _rate(per_second: float | None) -> str:
    return "-" if per_second is None else f"{per_second:.2f}"


if __name__ == "__main__":
    main()
