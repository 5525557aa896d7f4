"""SQLite's write lock: every queue transaction takes it up front, waiting in short pauses."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from kuntaflow.workitems import ItemState, WorkQueue, engines
from kuntaflow.workitems.engines import BUSY_TIMEOUT_MS, begin_immediate


def _connection(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return connection


def test_a_transaction_waits_for_the_lock_in_short_pauses(tmp_path, monkeypatch):
    pauses: list[float] = []
    real_sleep = time.sleep
    monkeypatch.setattr(engines.time, "sleep", lambda seconds: (pauses.append(seconds), real_sleep(seconds)))
    holder, waiter = _connection(tmp_path / "q.db"), _connection(tmp_path / "q.db")
    begin_immediate(holder)
    threading.Timer(0.2, holder.execute, ("COMMIT",)).start()
    started = time.monotonic()
    begin_immediate(waiter)
    assert time.monotonic() - started >= 0.19  # it did wait for the holder
    waiter.execute("COMMIT")
    # Not SQLite's own busy handler, which sleeps 1, 2, 5 … 100 ms: a lock freed just after a try is taken
    # within 5 ms, not up to 100 ms later.
    assert pauses[0] == 0.0001
    assert max(pauses) == 0.005
    assert waiter.execute("PRAGMA busy_timeout").fetchone() == (BUSY_TIMEOUT_MS,)  # every other statement keeps SQLite's own wait


def test_a_lock_held_too_long_is_reported_as_locked_and_the_connection_stays_usable(tmp_path):
    holder, waiter = _connection(tmp_path / "q.db"), _connection(tmp_path / "q.db")
    begin_immediate(holder)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        begin_immediate(waiter, timeout=0.1)
    holder.execute("COMMIT")
    assert waiter.execute("PRAGMA busy_timeout").fetchone() == (BUSY_TIMEOUT_MS,)
    begin_immediate(waiter)
    waiter.execute("COMMIT")


def test_two_writers_finish_every_item_exactly_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'queue.db'}"
    with WorkQueue(url) as queue:
        ids = [queue.add("p", reference=f"case-{n}", payload={"n": n}).id for n in range(300)]
    errors: list[BaseException] = []

    def work(owner: str) -> None:
        try:
            with WorkQueue(url) as mine:
                while batch := mine.claim("p", owner=owner, limit=10, payloads=False):
                    for item in batch:
                        mine.start_with_checkpoints(item.id, owner=owner)
                        mine.checkpoint(item.id, "step", {"by": owner})
                        mine.complete(item.id, owner=owner, output={"by": owner})
        except BaseException as error:
            errors.append(error)

    writers = [threading.Thread(target=work, args=(f"robot-{n}",)) for n in range(2)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert errors == []
    with WorkQueue(url) as queue:
        done = queue.get_many(ids, payloads=False)
        assert {item.state for item in done} == {ItemState.DONE}
        assert all(item.attempts == 1 for item in done)
