"""Library-card throughput: N valid applications through the flow against the sandboxes (no added latency).

For each batch size (the one ``prefect.yaml`` ships for the ``library-card`` deployment, and a
larger one) it starts a fresh local stack (``apps.local_stack``: every sandbox, the e-service and
the embedded Prefect server, in a private data directory), queues N applications directly, as an
integration would (generated adults of the sandbox population who are not library patrons yet,
each payload built the way the e-service builds it from their Suomi.fi attributes), and runs the
``library_card`` flow in this process until the queue is empty. It checks that every application
ended DONE with its decision in the Messages or e-mail sandbox, then prints items/s and where the
time went:

- connector calls, timed inside each robot at the HTTP layer (``connectors.http.ApiClient``: Koha,
  Suomi.fi Messages incl. the letters' multichannel sends), the SMTP sends, and the letters' PDF
  rendering (bench/robot_timing.py, a Robot Framework listener switched on through ``ROBOT_OPTIONS``);
- the engine: robot start-up (process creation to the first keyword), Robot Framework's own share,
  the robot's queue work (``WorkItems``), the keyword library's own code, and the flow around the
  robots (claims, Prefect tasks and artifacts, output.xml → log.html).

    .venv/bin/python bench/library_card_throughput.py [--count 2000] [--batch-sizes 25,100]

The last line: ``items=N items_per_s=… engine_share=… connector_share=…`` (the shipped batch size).
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from bench.bench_support import bench_environment, decision_record, load, population_for, read_robot_timings, split_robot_time  # noqa: E402

#: The larger batch size tried beside the shipped one.
LARGER_BATCH = 100


def shipped_parameters() -> dict[str, Any]:
    """The ``library-card`` deployment's parameters in prefect.yaml (batch size, parallel batches)."""
    import yaml

    config = yaml.safe_load((PROJECT_DIR / "prefect.yaml").read_text(encoding="utf-8"))
    deployment = next(d for d in config["deployments"] if d["name"] == "library-card")
    return dict(deployment["parameters"])


def applicants(count: int) -> list[Any]:
    """``count`` generated adults of the sandbox population who are not Koha patrons yet."""
    from connectors.sandbox_people import sandbox_population

    people = [p for p in sandbox_population().generated if p.hetu and not p.koha and p.address and not p.non_disclosure]
    if len(people) < count:
        raise SystemExit(f"the sandbox population has only {len(people)} suitable people; raise KUNTAFLOW_SANDBOX_POPULATION_SIZE")
    return people[:count]


def application_payload(person: Any, index: int, libraries: list[str]) -> dict[str, Any]:
    """The e-service's payload for ``person``: their Suomi.fi attributes as the IdP sends them,
    read by the SP's and the e-service's own functions, and the form's choices."""
    from apps.eservice.login import verified_person
    from connectors.suomifi_tunnistus.models import SamlSession
    from connectors.suomifi_tunnistus.sandbox.persons import attributes, loa
    from connectors.suomifi_tunnistus.sp import build_identity
    from schemas.library_card import LibraryCardApplication

    identity = build_identity(attributes(person), loa=loa(person), session=SamlSession(idp_entity_id="bench", name_id=f"bench-{index}"))
    application = LibraryCardApplication(
        applicant=verified_person(identity),
        home_library=libraries[zlib.crc32(person.key.encode()) % len(libraries)],
        email=person.email,
        language=("fi", "fi", "sv", "en")[index % 4],
        notification_preference="email" if index % 4 == 3 and person.email else "suomifi",
        rules_accepted=True,
        submitted_at=datetime.now(UTC),
    )
    return application.model_dump(mode="json")


def stack_payloads(count: int) -> list[tuple[Any, dict[str, Any]]]:
    """(person, e-service payload) for ``count`` applicants, with home libraries from the running
    stack's library system (read once, as the e-service caches its directory)."""
    from apps.eservice.libraries import LibraryDirectory
    from connectors.koha import KohaClient

    libraries = [choice.library_id for choice in LibraryDirectory(KohaClient).choices()]
    return [(person, application_payload(person, index, libraries)) for index, person in enumerate(applicants(count))]


def enqueue(queue: Any, salt: Any, payload: dict[str, Any]) -> int:
    """Queue one application under the e-service's reference, as an integration would; its item id."""
    from apps.eservice.people import person_reference
    from schemas.library_card import PROCESS, LibraryCardApplication

    applicant = LibraryCardApplication.model_validate(payload).applicant
    return queue.add(PROCESS, reference=person_reference(applicant, salt), payload=payload, actor="integration").id


def run(count: int, batch_size: int, timings_path: Path) -> dict[str, Any]:
    """One fresh stack: queue ``count`` applications, run the flow, check and time it."""
    from apps.local_stack import local_stack
    from flows.library_card import library_card
    from kuntaflow.settings import KuntaflowSettings

    data_dir = KuntaflowSettings().resolved_data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    with local_stack(queue_url=f"sqlite:///{data_dir / f'queue-b{batch_size}-{time.time_ns()}.db'}") as stack, stack.settings.work_queue() as queue:
        salt = stack.settings.salt()
        payloads = [payload for _, payload in stack_payloads(count)]
        load_before = load()
        clock = time.perf_counter()
        ids = [enqueue(queue, salt, payload) for payload in payloads]
        enqueued = time.perf_counter()
        flow_started_at = time.time()
        summary = library_card(batch_size=batch_size)
        finished = time.perf_counter()
        load_after = load()
        states: dict[str, int] = {}
        decided = 0
        for item_id in ids:
            item = queue.get(item_id)
            states[item.state.value] = states.get(item.state.value, 0) + 1
            decided += decision_record(stack, queue.checkpoints(item_id).get("decision_sent")) is not None
    return {
        "count": count,
        "batch_size": batch_size,
        "enqueue_seconds": enqueued - clock,
        "flow_seconds": finished - enqueued,
        "batches": summary.batches,
        "by_channel": summary.by_channel,
        "states": states,
        "decided": decided,
        "split": split_robot_time(read_robot_timings(timings_path, since=flow_started_at)),
        "load_before": load_before,
        "load_after": load_after,
    }


def report(r: dict[str, Any]) -> tuple[float, float, float]:
    """Print one run; return (items/s, engine share, connector share) of the flow's wall time."""
    wall = r["flow_seconds"]
    split = r["split"]
    per_s = r["count"] / wall
    connector = split.connector_seconds
    outside = wall - split.lifetime
    print(
        f"\nbatch_size={r['batch_size']}: {r['count']} applications in {r['batches']} robot batches, "
        f"flow {wall:.1f} s → {per_s:.2f} items/s ({r['load_before']} before, {r['load_after']} after)"
    )
    print(f"  enqueue (queue.add, as an integration): {r['enqueue_seconds']:.1f} s = {r['count'] / r['enqueue_seconds']:.0f} items/s (not in the flow time)")
    print(f"  outcomes: {r['states']}; decisions by {r['by_channel']}; found in the sandboxes' records: {r['decided']} of {r['count']}")
    print(f"  {'where the flow time went':<58} {'s':>8} {'share':>7} {'per item ms':>12}")

    def row(what: str, seconds: float) -> None:
        print(f"  {what:<58} {seconds:>8.1f} {seconds / wall:>7.1%} {seconds / r['count'] * 1000:>12.1f}")

    print("  connector calls (timed in the robots):")
    for system, (calls, seconds) in sorted(split.connector.items(), key=lambda kv: -kv[1][1]):
        row(f"    {system} ({calls} calls)", seconds)
    row("    all connector calls", connector)
    print(f"  engine ({split.robots} robot processes):")
    row("    robot start-up (process → first keyword)", split.start_up)
    row("    Robot Framework (keywords, output.xml)", split.framework)
    row("    robot's queue work (WorkItems library)", split.queue_work)
    row("    library-card keywords' own code (rules, models, texts)", split.process_code)
    row("    flow around the robots (claims, Prefect, log.html)", outside)
    engine = wall - connector
    row("    all engine", engine)
    return per_s, engine / wall, connector / wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=2000, help="applications per run (default 2000)")
    parser.add_argument("--batch-sizes", default=None, help=f"comma-separated; default: prefect.yaml's, then {LARGER_BATCH}")
    args = parser.parse_args()
    shipped = int(shipped_parameters()["batch_size"])
    sizes = [int(s) for s in args.batch_sizes.split(",")] if args.batch_sizes else [shipped, LARGER_BATCH]
    # ~10 % of the generated people are patrons already and are left out; room for them and more.
    population = population_for(args.count)
    print(f"Library-card throughput: {args.count} applications per run, batch sizes {sizes} (prefect.yaml ships {shipped}); {load()}")
    results = []
    with bench_environment(population=population) as timings:
        from apps.cli.stack_commands import _quiet

        _quiet()
        for size in sizes:
            results.append(report(run(args.count, size, timings)))
    first = results[0]
    print(f"\nitems={args.count} items_per_s={first[0]:.2f} engine_share={first[1]:.2f} connector_share={first[2]:.2f} batch_size={sizes[0]} ({load()})")


if __name__ == "__main__":
    main()
