"""The Desk's list pages at 100,000 cases: time a page through the app, on SQLite and PostgreSQL.

Fills the queue's table with ``--items`` library-card cases in bulk (70 % done, 10 % waiting for a
person over six reason codes, 5 % failed with KOHA_UNAVAILABLE, 5 % abandoned, 10 % new; payloads
sealed with a payload key, as production stores them, so a page that decrypted one would show it in
the figures), runs ANALYZE as the databases' autovacuum/maintenance would, then requests pages
through the staff app (FastAPI TestClient, a librarian signed in the way the tests sign in):

- the dashboard (counts by state, the longest wait);
- the first page of the whole list;
- a filtered page (APPLICATION_FAILED with KOHA_UNAVAILABLE) and the bulk-retry count for it;
- a page filtered by reference prefix, and one by age (older than 30 days);
- a deep page: ``before=`` an id near the oldest, unfiltered and by state.

Each page is requested ``--rounds`` times after one warm-up; prints median and p95 in ms, and the
machine's load. Target: under 300 ms a page.

    .venv/bin/python bench/desk_list_bench.py [--items 100000] [--rounds 20] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from pathlib import Path

from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# The Desk's test support signs a librarian's session, as the tests do.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "staff"))

from bench.bench_support import load, percentile, postgres_schema

SHAPES = (
    [("DONE", None)] * 70
    + [("BUSINESS_FAILED", code) for code in ("UNKNOWN_HOME_LIBRARY", "POSSIBLE_DUPLICATE_STAFF_REVIEW", "GUARDIANSHIP_NOT_VERIFIED")] * 2
    + [("BUSINESS_FAILED", code) for code in ("NO_PERMANENT_ADDRESS_IN_FINLAND", "NO_FINNISH_HETU_STAFF_REVIEW", "NON_DISCLOSURE_STAFF_REVIEW")] * 2
    + [("BUSINESS_FAILED", "UNDER_15_NO_GUARDIAN")] * 2
    + [("NEW", None)] * 10
    + [("APPLICATION_FAILED", "KOHA_UNAVAILABLE")] * 5
    + [("ABANDONED", "LEASE_EXPIRED")] * 5
)


def fill(url: str, items: int) -> None:
    """``items`` cases in bulk, created over the last 200 days, oldest first."""
    from kuntaflow.workitems import WorkQueue
    from kuntaflow.workitems.schema import work_items

    key = SecretStr(Fernet.generate_key().decode())
    with WorkQueue(url, payload_key=key) as queue:
        sealed = queue._seal({"applicant": {"first_names": "Aino", "surname": "Meikäläinen"}, "home_library": "JYVPK", "notes": "x" * 200})
        now = datetime.now(UTC)
        rows = []
        for n in range(items):
            state, code = SHAPES[n % len(SHAPES)]
            at = now - timedelta(days=200) + timedelta(seconds=n * 200 * 86400 / items)
            rows.append(
                {
                    "process": "library_card",
                    "reference": sha256(f"case-{n}".encode()).hexdigest(),
                    "payload": sealed,
                    "state": state,
                    "attempts": 1,
                    "max_attempts": 5,
                    "error_type": "BUSINESS" if state == "BUSINESS_FAILED" else ("APPLICATION" if code else None),
                    "error_code": code,
                    "error_message": "bench" if code else None,
                    "created_at": at,
                    "updated_at": at,
                }
            )
            if len(rows) == 5000:
                with queue._tx() as conn:
                    conn.execute(insert(work_items), rows)
                rows = []
        if rows:
            with queue._tx() as conn:
                conn.execute(insert(work_items), rows)
        with queue._tx() as conn:
            conn.execute(text("ANALYZE"))


def measure(url: str, items: int, rounds: int) -> list[tuple[str, float, float, int]]:
    from desk_support import COOKIE, LIBRARIAN, desk_app, session_cookie

    fill(url, items)
    with TestClient(desk_app(url)) as client:  # the app's lifespan: it holds the database while serving
        client.cookies.set(COOKIE, session_cookie(LIBRARIAN))
        return _time_pages(client, items, rounds)


def _time_pages(client: TestClient, items: int, rounds: int) -> list[tuple[str, float, float, int]]:
    deep = max(items // 100, 2)  # an id near the oldest: the page a person reaches after paging through 99 %
    pages = {
        "dashboard": "/",
        "list, first page": "/tapaukset?process=library_card",
        "filtered: KOHA_UNAVAILABLE": "/tapaukset?process=library_card&state=APPLICATION_FAILED&error_code=KOHA_UNAVAILABLE",
        "bulk-retry count": "/tapaukset/uudelleenyritys?process=library_card&error_code=KOHA_UNAVAILABLE",
        "filtered: reference prefix": f"/tapaukset?process=library_card&reference={sha256(b'case-77').hexdigest()[:6]}",
        "filtered: older than 30 days": "/tapaukset?process=library_card&state=BUSINESS_FAILED&older_than_days=30",
        "deep page": f"/tapaukset?process=library_card&before={deep}",
        "deep page, by state": f"/tapaukset?process=library_card&state=DONE&before={deep}",
    }
    results = []
    for name, path in pages.items():
        first = client.get(path)
        assert first.status_code == 200, (path, first.status_code)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
            assert response.status_code == 200
        results.append((name, statistics.median(times), percentile(times, 95), first.text.count('href="/tapaukset/')))
    return results


def report(backend: str, items: int, results: list[tuple[str, float, float, int]]) -> dict:
    print(f"\n{backend}, {items:,} cases ({load()})")
    print(f"  {'page':<32} {'median ms':>10} {'p95 ms':>8} {'cases':>6}  vs 300 ms")
    for name, median, p95, shown in results:
        print(f"  {name:<32} {median:>10.1f} {p95:>8.1f} {shown:>6}  {p95 / 300:.2f}")
    return {"backend": backend, "items": items, "pages": {name: {"median_ms": round(m, 1), "p95_ms": round(p, 1)} for name, m, p, _ in results}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    figures = []
    with tempfile.TemporaryDirectory(prefix="kuntaflow-desk-bench-") as tmp:
        os.environ["KUNTAFLOW_DATA_DIR"] = tmp
        figures.append(report("SQLite", args.items, measure(f"sqlite:///{tmp}/queue.db", args.items, args.rounds)))
        if not args.skip_postgres:
            with postgres_schema() as url:
                figures.append(report("PostgreSQL", args.items, measure(url, args.items, args.rounds)))
    print("\n" + json.dumps(figures))


if __name__ == "__main__":
    main()
