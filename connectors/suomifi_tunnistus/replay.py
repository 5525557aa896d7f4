"""One use per assertion: a table of the assertion IDs seen, kept until their NotOnOrAfter.

pysaml2 keeps no replay cache (feasibility-saml.md pitfall 7). The e-service pops its outstanding
request id after a login, but a second e-service instance, or a process restarted between the two
posts, would not know; this table is shared by every process that uses the same database
(SQLite in the data directory by default, the queue's PostgreSQL when scaled out). IDs are stored
as SHA-256 hashes: they are not secrets, but the table needs nothing more.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import Column, DateTime, MetaData, String, Table, create_engine, delete, insert
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError

metadata = MetaData()

seen_assertions = Table(
    "suomifi_seen_assertions",
    metadata,
    Column("assertion_key", String(64), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)


class ReplayCache(Protocol):
    """Where the SP records the assertions it has accepted."""

    def first_use(self, assertion_id: str, until: datetime) -> bool:
        """Record ``assertion_id`` until ``until``; False when it was already recorded (a replay)."""
        ...


class SqlReplayCache:
    """:class:`ReplayCache` on a SQLAlchemy database; safe across processes (primary-key insert)."""

    def __init__(self, url: str) -> None:
        self._engine = self._create_engine(url)
        metadata.create_all(self._engine, checkfirst=True)

    @staticmethod
    def _create_engine(url: str) -> Engine:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            return create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
        return create_engine(url, pool_pre_ping=True)

    def first_use(self, assertion_id: str, until: datetime) -> bool:
        now = datetime.now(UTC)
        key = hashlib.sha256(assertion_id.encode("utf-8")).hexdigest()
        try:
            with self._engine.begin() as conn:
                conn.execute(delete(seen_assertions).where(seen_assertions.c.expires_at < now))
                conn.execute(insert(seen_assertions).values(assertion_key=key, expires_at=until))
        except IntegrityError:
            return False
        return True

    def dispose(self) -> None:
        self._engine.dispose()
