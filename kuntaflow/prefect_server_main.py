"""``python -m kuntaflow.prefect_server_main server start …``: Prefect's own CLI, with SQLite's
``secure_delete`` on for every connection the server opens.

Why: a flow run's parameters can hold a henkilötunnus until the flow replaces it (HR's
employment-start form; flows/employment_start.py). SQLite keeps the bytes of a replaced or deleted
row in the database file's free space unless ``PRAGMA secure_delete`` is on, and that file lives in
the data directory the privacy sweep reads (kuntaflow/privacy_sweep.py). Prefect has no setting for
its SQLite pragmas, so the embedded server is started through this module, which adds the pragma
with a SQLAlchemy pool listener and then runs Prefect's CLI unchanged.

Also: every transaction the server opens on SQLite starts with ``BEGIN IMMEDIATE``. Prefect
opens most of them DEFERRED, and one that reads and then writes (the tag concurrency limit's slot
increment does) fails at once with "database is locked" when another writer committed in between:
SQLite cannot wait that out with its busy timeout. The API answers 503 and the client retries
after about 2 s, so before this every robot batch behind the ``koha`` limit waited 1 s on average
(bench/README.md). IMMEDIATE takes the write lock first and waits for it; SQLite has one writer
at a time anyway. PostgreSQL servers are not affected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prefect.server.database.configurations import AioSqliteConfiguration
from sqlalchemy import event
from sqlalchemy.pool import Pool


@event.listens_for(Pool, "connect")
def _secure_delete(dbapi_connection: Any, _record: Any) -> None:
    if "sqlite" not in type(dbapi_connection).__module__:
        return
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA secure_delete = ON;")
    finally:
        cursor.close()


_begin_transaction = AioSqliteConfiguration.begin_transaction


@asynccontextmanager
async def _begin_immediate(self: AioSqliteConfiguration, session: Any, with_for_update: bool = False) -> AsyncIterator[Any]:
    async with _begin_transaction(self, session, with_for_update=True) as transaction:
        yield transaction


AioSqliteConfiguration.begin_transaction = _begin_immediate  # type: ignore[method-assign]


if __name__ == "__main__":
    from prefect.cli import app

    app()
