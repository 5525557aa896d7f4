"""One SQLAlchemy engine per work-item database per process, shared by every ``WorkQueue`` on it.

Building an engine costs a connection pool, and a flow run, a robot or the e-service opens many
queues on one database over its life: they share one engine here instead of building their own.

Lifecycle:

- :func:`acquire` hands out the engine of a URL (building it on first use in this process) and
  counts the queues holding it; :func:`release` is the queue's ``close()``. When the last queue
  on a URL is closed, the engine's pooled connections are closed too (a test suite opens a queue
  on hundreds of throw-away databases; their idle connections must not pile up on the server),
  and the engine itself stays for the next queue.
- :func:`dispose_engines` closes every pool at shutdown or before a fork.
- Engines are kept per process id: a forked child never uses the connections of its parent's
  pool (two processes on one socket corrupt each other's conversation); it leaves them to the
  parent and builds its own.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


@dataclass
class _Shared:
    engine: Engine
    holders: int = 0


_lock = threading.Lock()
#: SQLite's own wait for a lock, for every statement but the write lock's BEGIN (see begin_immediate).
BUSY_TIMEOUT_MS = 60_000
_engines: dict[tuple[str, int], _Shared] = {}


def acquire(url: str) -> Engine:
    """The engine for ``url`` in this process, counted as held until :func:`release`."""
    pid = os.getpid()
    with _lock:
        _forget_other_processes(pid)
        shared = _engines.get((url, pid))
        if shared is None:
            shared = _engines[(url, pid)] = _Shared(_create_engine(url))
        shared.holders += 1
        return shared.engine


def release(url: str) -> None:
    """One queue on ``url`` is done with the engine; the last one out closes its pooled connections."""
    with _lock:
        shared = _engines.get((url, os.getpid()))
        if shared is None or shared.holders == 0:
            return
        shared.holders -= 1
        if shared.holders == 0:
            shared.engine.dispose()


def dispose_engines() -> None:
    """Close every pooled connection of this process (at shutdown, or before forking).

    The engines stay usable: a queue still open reconnects on its next use.
    """
    with _lock:
        for (_, pid), shared in _engines.items():
            if pid == os.getpid():
                shared.engine.dispose()


def _forget_other_processes(pid: int) -> None:
    """Drop the engines a forked child inherited, without closing the parent's connections."""
    for key in [key for key in _engines if key[1] != pid]:
        _engines.pop(key).engine.dispose(close=False)


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    database = parsed.database
    if database and database != ":memory:":
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - exercised by every sqlite test
        # Take transactions out of pysqlite's hands so BEGIN IMMEDIATE below is honoured.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # A cleared payload or a forgotten person is overwritten with zeros, not left in free space. Debian's
        # SQLite is built with this on; other builds (macOS, python.org) are not.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(conn):  # pragma: no cover - exercised by every sqlite test
        # Take the write lock up front: a deferred transaction that later writes can fail
        # with SQLITE_BUSY instead of waiting, which would lose a claim under contention.
        # On the driver's connection: SQLAlchemy's statement machinery around it cost as much as
        # the statement, on every transaction (a robot runs several per work item).
        begin_immediate(conn.connection.dbapi_connection)

    return engine


#: How long a transaction waits for SQLite's write lock before the queue reports the database unavailable.
WRITE_LOCK_TIMEOUT_SECONDS = 60.0
#: The first and the longest pause between two tries for the write lock.
_FIRST_PAUSE_SECONDS, _LONGEST_PAUSE_SECONDS = 0.0001, 0.005


def begin_immediate(dbapi_connection: sqlite3.Connection, timeout: float = WRITE_LOCK_TIMEOUT_SECONDS) -> None:
    """``BEGIN IMMEDIATE``, waiting for the write lock in pauses of 0.1 ms doubling up to 5 ms.

    Why not SQLite's own busy timeout: its pauses are 1, 2, 5, 10 … 100 ms, while a work-item
    transaction holds the lock for a fraction of a millisecond. Two robots writing a few times an
    item each lost a millisecond or more at every collision, sleeping on a lock long since free.
    The connection's ``busy_timeout`` (60 s) still covers every other statement.

    Raises:
        sqlite3.OperationalError: the lock stayed taken for ``timeout`` seconds ("database is locked").
    """
    try:
        dbapi_connection.execute("PRAGMA busy_timeout=0")
        deadline, pause = time.monotonic() + timeout, _FIRST_PAUSE_SECONDS
        while True:
            try:
                dbapi_connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                # The primary code: a lock held by another writer, or a WAL another connection is recovering.
                if error.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, _LONGEST_PAUSE_SECONDS)
    finally:
        dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
