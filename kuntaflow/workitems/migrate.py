"""Alembic migrations of the work-item queue, configured in code (no ``alembic.ini`` at runtime).

``upgrade_database(url)`` brings a database to the newest revision in ``migrations/versions``:
``kuntaflow db upgrade`` runs it, and so does the local stack before it starts. A ``WorkQueue``
also calls :func:`ensure_upgraded` when it is first opened on a URL in a process, so a fresh
database (a test's, a robot's) works without a separate step; later queues on that URL in the
same process skip the check. That check reads Alembic's own ``alembic_version`` row and compares
it with :data:`HEAD_REVISION`; only a database that is behind loads Alembic (importing it costs
a robot subprocess about a third of a second) and runs the migrations.

A database made before the queue had migrations (tables, no ``alembic_version``) is stamped with
the first revision, which is exactly what ``create_all`` made, and then upgraded; nothing is
re-created. The check, the stamp and the upgrade run in one transaction that holds the schema
lock (an advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so workers starting at once
migrate a database once.
"""

from __future__ import annotations

import os
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Self

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from kuntaflow.workitems import engines
from kuntaflow.workitems.errors import MigrationError, QueueUnavailableError, first_line

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
#: The revision a database made by ``create_all`` before migrations is at.
FIRST_REVISION = "0001"
#: The newest revision in ``migrations/versions`` (tests/engine/test_workitems_migrations.py checks it):
#: a database at this revision needs no Alembic in this process.
HEAD_REVISION = "0005"
_SCHEMA_LOCK = zlib.crc32(b"kuntaflow-schema")

_lock = threading.Lock()
_upgraded: set[tuple[str, int]] = set()


def upgrade_database(url: str, revision: str = "head") -> str | None:
    """Migrate the work-item tables at ``url`` to ``revision``; return the revision they are at now.

    Raises:
        QueueUnavailableError: the database cannot be reached or migrated.
    """
    engine = engines.acquire(url)
    try:
        current = upgrade_engine(engine, url, revision)
    finally:
        engines.release(url)
    if current == HEAD_REVISION:
        _upgraded.add((url, os.getpid()))
    return current


def ensure_upgraded(engine: Engine, url: str) -> None:
    """Upgrade ``url`` to the newest revision unless this process saw it there already.

    Raises:
        QueueUnavailableError: the database cannot be reached or migrated.
    """
    key = (url, os.getpid())
    if key in _upgraded:
        return
    with _lock:
        if key in _upgraded:
            return
        with _unavailable_as_queue_error(url), engine.connect() as conn:
            current = _read_revision(conn)
        if current != HEAD_REVISION:
            upgrade_engine(engine, url, "head")
        _upgraded.add(key)


def upgrade_engine(engine: Engine, url: str, revision: str) -> str | None:
    """:func:`upgrade_database` on an engine the caller holds."""
    with _unavailable_as_queue_error(url), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Several workers may start at once; only one may migrate.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        _run_alembic(conn, revision)
        return _read_revision(conn)


def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at (None: not migrated yet).

    Raises:
        QueueUnavailableError: the database cannot be reached.
    """
    engine = engines.acquire(url)
    try:
        with _unavailable_as_queue_error(url), engine.connect() as conn:
            return _read_revision(conn)
    finally:
        engines.release(url)


def _run_alembic(conn: Connection, revision: str) -> None:
    """Stamp a database made before migrations with the first revision, then upgrade it to ``revision``."""
    # Alembic is loaded only when a database is behind (see the module's documentation).
    from alembic import command  # noqa: PLC0415 (about 0.35 s to import; a database already at head never needs it)
    from alembic.config import Config  # noqa: PLC0415 (as above)
    from alembic.util import CommandError  # noqa: PLC0415 (as above)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = conn
    tables = inspect(conn)
    try:
        if tables.has_table("kf_work_items") and not tables.has_table("alembic_version"):
            command.stamp(config, FIRST_REVISION)
        command.upgrade(config, revision)
    except CommandError as exc:
        raise MigrationError(f"cannot migrate the work-item database to {revision!r}: {exc}") from None


def _read_revision(conn: Connection) -> str | None:
    """The revision in Alembic's ``alembic_version`` table, None when there is none."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


@contextmanager
def _unavailable_as_queue_error(url: str) -> Iterator[None]:
    try:
        yield
    except (OperationalError, ProgrammingError) as exc:
        shown = make_url(url).render_as_string(hide_password=True)
        raise QueueUnavailableError(f"cannot reach the work-item database {shown}: {first_line(exc.orig or exc)}") from None


class QueueDatabase:
    """A hold on the queue's database: the shared engine, migrated to the newest revision.

    ``WorkQueue`` and ``AccessLog`` are both this. Close it when done (``with …:``); other holds on
    the same database keep working.

    Raises:
        QueueUnavailableError: the database cannot be reached or migrated.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        parsed = make_url(url)
        self._display_url = parsed.render_as_string(hide_password=True)
        self._is_postgres = parsed.get_backend_name() == "postgresql"
        self._engine = engines.acquire(url)
        self._closed = False
        try:
            ensure_upgraded(self._engine, url)
        except QueueUnavailableError:
            self.close()
            raise

    def close(self) -> None:
        """Release this hold on the shared engine (idempotent).

        When the last hold on a database in this process is closed, the engine's pooled
        connections are closed too. ``dispose_engines()`` closes every pool at shutdown or before forking.
        """
        if not self._closed:
            self._closed = True
            engines.release(self.url)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """One transaction; a database failure becomes QueueUnavailableError naming the database (never its password)."""
        try:
            with self._engine.begin() as conn:
                yield conn
        except OperationalError as exc:
            raise QueueUnavailableError(f"work-item database {self._display_url} failed: {first_line(exc.orig or exc)}") from None
