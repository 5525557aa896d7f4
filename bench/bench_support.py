"""What the library-card benchmarks share: a private data directory, the robot timing listener,
the machine's load, percentiles, and the split of the robots' time. Not part of the engine."""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.robot_timing import TIMINGS_ENV

#: Keyword owners whose own time is the robot's queue work, and the process's keyword library.
QUEUE_LIBRARY = "WorkItems"
PROCESS_LIBRARY = "LibraryCardKeywords"


def load() -> str:
    """The 1/5/15-minute load averages and the CPU count, for the line next to a figure."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f}/{five:.2f}/{fifteen:.2f} on {os.cpu_count()} CPUs"


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def population_for(applications: int) -> int:
    """Sandbox people to generate so ``applications`` adults who are not patrons yet can be found among them."""
    return max(int(applications * 1.3) + 50, 200)


@contextmanager
def bench_environment(*, population: int | None = None, robot_timings: bool = True, extra: dict[str, str] | None = None) -> Iterator[Path]:
    """A fresh data directory (queue, embedded Prefect, robot outputs) and the timing listener on
    every robot, for the block; yields the file the robots append their timings to.

    Nothing is shared with a ``.kuntaflow/`` another run may be using. ``population`` sizes the
    sandboxes' generated people (``KUNTAFLOW_SANDBOX_POPULATION_SIZE``); ``robot_timings=False``
    leaves the timing listener off; ``extra`` adds settings (faults, leases) for the block.
    """
    from kuntaflow.settings import environment

    with tempfile.TemporaryDirectory(prefix="kuntaflow-bench-") as tmp:
        timings = Path(tmp, "robot-timings.jsonl")
        values = {
            "KUNTAFLOW_DATA_DIR": str(Path(tmp, "data")),
            "PREFECT_LOGGING_LEVEL": os.environ.get("PREFECT_LOGGING_LEVEL", "WARNING"),
            "KUNTAFLOW_PREFECT_NO_UI": "1",  # nobody looks at it
        }
        if robot_timings:
            values["ROBOT_OPTIONS"] = f"{os.environ.get('ROBOT_OPTIONS', '')} --listener bench.robot_timing.RobotTiming".strip()
            values[TIMINGS_ENV] = str(timings)
        values |= extra or {}
        if population is not None:
            values["KUNTAFLOW_SANDBOX_POPULATION_SIZE"] = str(population)
        with environment(values):
            yield timings


#: The local PostgreSQL the benchmarks use (schemas and databases of their own, dropped afterwards).
POSTGRES_URL = os.environ.get("KUNTAFLOW_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres(statement: str) -> None:
    """One statement outside a transaction (CREATE/DROP DATABASE need that)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


@contextmanager
def postgres_schema(prefix: str = "kf_bench") -> Iterator[str]:
    """A work-item queue URL on an empty schema of its own, dropped after the block."""
    import uuid
    from urllib.parse import quote

    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    _postgres(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema}')}"
    finally:
        _postgres(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextmanager
def postgres_database(prefix: str = "kf_prefect") -> Iterator[str]:
    """An asyncpg URL of an empty database of its own (Prefect's server), dropped after the block."""
    import uuid

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    _postgres(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+asyncpg://{POSTGRES_URL.split('://', 1)[1].rsplit('/', 1)[0]}/{name}"
    finally:
        _postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def decision_record(stack: Any, sent: dict[str, Any] | None) -> Any | None:
    """The sandbox's own record of the decision a ``decision_sent`` checkpoint names: the Suomi.fi
    Messages message (electronic or letter) or the e-mail the SMTP sandbox received; None if absent."""
    if not sent:
        return None
    if sent["channel"] in ("suomifi", "letter"):
        return stack.sandbox("suomifi_viestit").state.store.message_by_external_id(sent["external_id"])
    if sent["channel"] == "email" and sent.get("message_id"):
        return stack.sandbox("email").state.store.by_message_id(sent["message_id"])
    return None


def read_robot_timings(path: Path, *, since: float = 0.0) -> list[dict[str, Any]]:
    """The robots' timing records (one per robot process) created at or after ``since`` (Unix s)."""
    if not path.exists():
        return []
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in records if (r["process_created"] or r["listener_started"]) >= since]


@dataclass
class RobotSplit:
    """Where the robots' time went, summed over robot processes (seconds)."""

    robots: int = 0
    lifetime: float = 0.0
    start_up: float = 0.0
    connector: dict[str, list[float]] = field(default_factory=dict)  # system → [calls, seconds]
    queue_work: float = 0.0
    process_code: float = 0.0
    framework: float = 0.0

    @property
    def connector_seconds(self) -> float:
        return sum(seconds for _, seconds in self.connector.values())


def split_robot_time(records: list[dict[str, Any]]) -> RobotSplit:
    """Sum the listener's records: start-up, connector calls, queue work, the keyword library's
    own code (its time less the connector calls made in it) and Robot Framework's share (the rest
    of the robot's life: running keywords, writing output.xml)."""
    split = RobotSplit()
    for record in records:
        created = record["process_created"] or record["listener_started"]
        lifetime = record["closed"] - created
        start_up = (record["first_keyword"] or record["closed"]) - created
        connector = sum(c["seconds"] for c in record["connector"].values())
        own = record["keyword_self"]
        queue_work = own.get(QUEUE_LIBRARY, 0.0)
        process_code = max(own.get(PROCESS_LIBRARY, 0.0) - connector, 0.0)
        split.robots += 1
        split.lifetime += lifetime
        split.start_up += start_up
        split.queue_work += queue_work
        split.process_code += process_code
        split.framework += lifetime - start_up - queue_work - process_code - connector
        for system, c in record["connector"].items():
            total = split.connector.setdefault(system, [0, 0.0])
            total[0] += c["calls"]
            total[1] += c["seconds"]
    return split


@dataclass
class CpuSnapshot:
    """CPU seconds of this process's tree, per process, from ``/proc`` (Linux): own and reaped children's."""

    own: dict[int, float]
    reaped: dict[int, float]
    parent: dict[int, int]
    command: dict[int, str]


def cpu_snapshot(root: int | None = None) -> CpuSnapshot:
    """The CPU each process under ``root`` (default: this one) has used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    own: dict[int, float] = {}
    reaped: dict[int, float] = {}
    parent: dict[int, int] = {}
    command: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
        pid = int(entry.name)
        parent[pid] = int(fields[1])
        own[pid] = (int(fields[11]) + int(fields[12])) / tick
        reaped[pid] = (int(fields[13]) + int(fields[14])) / tick
        command[pid] = cmdline
    root = root or os.getpid()
    tree = {root}
    changed = True  # close over the parent relation (a child's pid may be lower than its parent's)
    while changed:
        changed = False
        for pid, ppid in parent.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                changed = True
    return CpuSnapshot({p: own[p] for p in tree}, {p: reaped[p] for p in tree}, {p: parent[p] for p in tree}, {p: command[p] for p in tree})


def cpu_by_role(before: CpuSnapshot, after: CpuSnapshot, role: Any) -> dict[str, float]:
    """CPU seconds used between two snapshots, summed by ``role(pid, command)``. A process that ended in
    between is counted through its parent's reaped-children time, less what it had used before, under
    ``role(-parent pid, the parent's command)``: CPU time is what a loaded machine does not blur."""
    spent: dict[str, float] = {}
    for pid, used in after.own.items():
        name = role(pid, after.command[pid])
        spent[name] = spent.get(name, 0.0) + used - before.own.get(pid, 0.0)
    for pid, children_used in after.reaped.items():
        gone_before = sum(before.own[c] + before.reaped[c] for c, ppid in before.parent.items() if ppid == pid and c not in after.own)
        extra = children_used - before.reaped.get(pid, 0.0) - gone_before
        if extra > 0.005:
            name = role(-pid, after.command[pid])
            spent[name] = spent.get(name, 0.0) + extra
    return spent
