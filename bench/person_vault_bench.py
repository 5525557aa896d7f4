"""Person vault and payload retention: what they cost per person and per item.

Stores N people (each with a work-item relationship, as the library-card robot does), reads each once
with a purpose (each read is an access-log entry), runs the retention rule over all of them (half with
a live work item, half with one finished long ago), and clears the payloads of N finished items. On
SQLite (the embedded default) and on the PostgreSQL at 127.0.0.1:5432 (a schema of its own, dropped
afterwards). Prints operations per second with the machine's load beside them, and what a robot's
store adds to a library-card item beside the queue's own add + claim + complete.

    .venv/bin/python bench/person_vault_bench.py [--people 2000] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import create_engine, update

from bench.bench_support import load, postgres_schema
from flows.installation_check import sample_identity_code
from kuntaflow.person_vault import LiveWorkItems, PersonDetails, Relation, RelationKind, SealedPersonVault, apply_retention
from kuntaflow.privacy_sweep import clear_finished_payloads
from kuntaflow.workitems import WorkQueue
from kuntaflow.workitems.schema import work_items

KEY = SecretStr(Fernet.generate_key().decode())
SALT = SecretStr("bench-salt")
RETENTION = timedelta(days=90)


def hetus(count: int) -> list[str]:
    born = date(1950, 1, 1)
    return [sample_identity_code(born + timedelta(days=n // 898), 2 + n % 898) for n in range(count)]


def run(url: str, people: int) -> dict[str, float]:
    codes = hetus(people)
    figures: dict[str, float] = {}
    with WorkQueue(url, payload_key=KEY) as queue, SealedPersonVault(url, sealing_key=KEY, salt=SALT) as vault:
        start = time.perf_counter()
        items = [queue.add("bench", reference=f"r{n}", payload={"applicant": {"hetu": code}, "notes": "x" * 200}).id for n, code in enumerate(codes)]
        figures["queue_add_per_s"] = people / (time.perf_counter() - start)
        start = time.perf_counter()
        keys = [
            vault.store(PersonDetails(hetu=code), relations=[Relation(kind=RelationKind.WORK_ITEM, ref=str(item), process="bench", purpose="bench")], actor="b")
            for code, item in zip(codes, items, strict=True)
        ]
        figures["store_per_s"] = people / (time.perf_counter() - start)
        start = time.perf_counter()
        for key in keys:
            vault.read(key, purpose="bench read", actor="bench")
        figures["read_per_s"] = people / (time.perf_counter() - start)
        for item in items:
            queue.mark_done(item, reason="bench", actor="bench")
        engine = create_engine(url)
        with engine.begin() as conn:  # half finished long ago: their people go, and their payloads are cleared
            conn.execute(update(work_items).where(work_items.c.id.in_(items[::2])).values(updated_at=datetime.now(UTC) - timedelta(days=200)))
        engine.dispose()
        start = time.perf_counter()
        with LiveWorkItems(url, retention=RETENTION, now=datetime.now(UTC)) as live:
            report = apply_retention(vault, {RelationKind.WORK_ITEM: live}, actor="bench")
        figures["retention_people_per_s"] = people / (time.perf_counter() - start)
        assert len(report.removed) == (people + 1) // 2, report.lines()
        start = time.perf_counter()
        cleared = clear_finished_payloads(queue, retention=RETENTION, keep={}, actor="bench")
        figures["payloads_cleared_per_s"] = len(cleared.cleared) / (time.perf_counter() - start)
        assert len(cleared.cleared) == (people + 1) // 2
    return figures


def report(name: str, figures: dict[str, float]) -> None:
    print(f"{name} ({load()}):")
    for what, value in figures.items():
        print(f"  {what:>26}: {value:8.0f}")
    print(f"  a robot's store, against a queue add: {figures['queue_add_per_s'] / figures['store_per_s']:.2f}× its time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = run(f"sqlite:///{tmp}/bench.db", args.people)
    report(f"SQLite, {args.people} people", sqlite)
    last = {f"sqlite_{name}": value for name, value in sqlite.items()}
    if not args.skip_postgres:
        with postgres_schema() as url:
            postgres = run(url, args.people)
        report(f"PostgreSQL, {args.people} people", postgres)
        last |= {f"postgres_{name}": value for name, value in postgres.items()}
    print(" ".join(f"{name}={value:.0f}" for name, value in last.items()))


if __name__ == "__main__":
    main()
