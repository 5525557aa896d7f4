"""Robot Framework listener for the benchmarks: where a robot's time goes, written as one JSON line.

Not part of the engine. The library-card benchmarks switch it on for every robot the flow starts
by putting it in Robot Framework's own ``ROBOT_OPTIONS`` environment variable (the worker, its flow
runs and the robot subprocesses inherit the environment)::

    ROBOT_OPTIONS="--listener bench.robot_timing.RobotTiming"
    KUNTAFLOW_BENCH_ROBOT_TIMINGS=/tmp/timings.jsonl     # where the lines are appended

Per robot process it records (wall-clock instants as Unix seconds, durations in seconds):

- ``process_created``: when the kernel created the process (``/proc/self/stat``), so
  ``first_keyword - process_created`` is the robot's start-up (Python, Robot Framework, parsing,
  the keyword libraries' imports);
- ``connector``: per system, the number and the time of the connector calls, timed at the HTTP
  layer in ``connectors.http.ApiClient`` (one call = one request with its retries, token fetches
  and the body read; nested calls counted once), the e-mail connector's SMTP sends, and the
  letters' PDF rendering (``connectors.letters.render_letter``, local CPU);
- ``keyword_self``: time spent in each keyword owner's own code (library or resource), children
  excluded, so ``WorkItems`` is the robot's queue work and the rest is Robot Framework's
  overhead or the process's own keywords.

No payloads, no names, no ids of people: systems, owners, counts and seconds only.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from collections import defaultdict
from typing import Any

TIMINGS_ENV = "KUNTAFLOW_BENCH_ROBOT_TIMINGS"


def process_created() -> float | None:
    """This process's creation time (Unix seconds): its start in clock ticks since boot
    (``/proc/self/stat``) against ``CLOCK_BOOTTIME``, the same clock; None where there is no /proc."""
    try:
        with open("/proc/self/stat") as stat:
            ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
        since_boot = time.clock_gettime(time.CLOCK_BOOTTIME)
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    return time.time() - (since_boot - ticks / os.sysconf("SC_CLK_TCK"))


class _Timer:
    """Accumulates (count, seconds) per name; only the outermost of nested calls counts."""

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
        self._depth = threading.local()

    def wrap(self, name_of: Any, function: Any) -> Any:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self._depth, "n", 0)
            self._depth.n = depth + 1
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self._depth.n = depth
                if depth == 0:
                    total = self.totals[name_of(*args)]
                    total[0] += 1
                    total[1] += time.perf_counter() - started

        return timed


class RobotTiming:
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self) -> None:
        self.path = os.environ.get(TIMINGS_ENV)
        self.created = process_created()
        self.listener_started = time.time()
        self.first_keyword: float | None = None
        self.suite_ended: float | None = None
        self.connector = _Timer()
        self.keyword_self: dict[str, float] = defaultdict(float)
        self._stack: list[list[Any]] = []  # [owner, started, time in children]
        self._patch()

    def _patch(self) -> None:
        # Patched before Robot Framework imports the keyword libraries, so their own imports see it.
        import connectors.email.client as email_client
        import connectors.http as http
        import connectors.letters as letters

        http.ApiClient._send_once = self.connector.wrap(lambda client, *a, **k: client.system, http.ApiClient._send_once)
        email_client.EmailClient.send = self.connector.wrap(lambda *a, **k: "email (SMTP)", email_client.EmailClient.send)
        letters.render_letter = self.connector.wrap(lambda *a, **k: "letters (PDF rendering)", letters.render_letter)

    def start_keyword(self, data: Any, result: Any) -> None:
        now = time.perf_counter()
        if self.first_keyword is None:
            self.first_keyword = time.time()
        self._stack.append([str(getattr(result, "owner", None) or "?"), now, 0.0])

    def end_keyword(self, data: Any, result: Any) -> None:
        owner, started, children = self._stack.pop()
        spent = time.perf_counter() - started
        self.keyword_self[owner] += spent - children
        if self._stack:
            self._stack[-1][2] += spent

    def end_suite(self, data: Any, result: Any) -> None:
        self.suite_ended = time.time()

    def close(self) -> None:
        if not self.path:
            return
        record = {
            "pid": os.getpid(),
            "process_created": self.created,
            "listener_started": self.listener_started,
            "first_keyword": self.first_keyword,
            "suite_ended": self.suite_ended,
            "closed": time.time(),
            "connector": {name: {"calls": int(n), "seconds": s} for name, (n, s) in self.connector.totals.items()},
            "keyword_self": dict(self.keyword_self),
        }
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
