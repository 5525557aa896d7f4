"""``python -m kuntaflow.prefect_server_main server start …``: Prefect's own CLI, with SQLite's
``secure_delete`` on for every connection the server opens.

Why: a flow run's parameters can hold a henkilötunnus until the flow replaces it (HR's
employment-start form; flows/employment_start.py). SQLite keeps the bytes of a replaced or deleted
row in the database file's free space unless ``PRAGMA secure_delete`` is on, and that file lives in
the data directory the privacy sweep reads (kuntaflow/privacy_sweep.py). Prefect has no setting for
its SQLite pragmas, so the embedded server is started through this module, which adds the pragma
with a SQLAlchemy pool listener and then runs Prefect's CLI unchanged.

Also: the tag concurrency limit's slot increment begins its SQLite transaction IMMEDIATE. Prefect
opens it DEFERRED, reads the limits and then writes; when another writer commits in between, SQLite
fails the upgrade at once with "database is locked" (its busy timeout cannot wait that out), the
API answers 503 and the client retries about 2 s later: every robot batch behind the ``koha`` limit
waited 1 s on average (bench/README.md). IMMEDIATE takes the write lock first and waits for it. Only
this step: beginning every transaction IMMEDIATE stalled requests that open a second transaction
while holding the first (suspended flow runs were never resumed). PostgreSQL servers are unaffected.

That step is a private function of Prefect's server (``_acquire_concurrency_slots``), wrapped here
by name. It was verified on the Prefect versions in :data:`VERIFIED_PREFECT`, which pyproject.toml
pins; tests/engine/test_prefect_server.py fails, saying what to re-check, when the function's
source or signature is not the one verified (:data:`VERIFIED_ACQUIRE_SOURCE_SHA256`).
"""

from __future__ import annotations

import hashlib
import inspect
from typing import Any

from prefect.server.api import concurrency_limits_v2
from prefect.server.database.configurations import SQLITE_BEGIN_MODE
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


#: The Prefect releases the wrapped function was read and tested on, from and below (pyproject.toml pins this range).
VERIFIED_PREFECT = ((3, 9, 1), (3, 10))
#: sha256 of ``inspect.getsource(concurrency_limits_v2._acquire_concurrency_slots)`` in Prefect 3.9.1.
VERIFIED_ACQUIRE_SOURCE_SHA256 = "0e3b8adec821ffca50efc8651520f6d4b8261e7441fa51870fcb302c9f6b27ea"


def acquire_source_sha256() -> str | None:
    """The installed Prefect's ``_acquire_concurrency_slots`` source, hashed; None when it is gone."""
    function = getattr(concurrency_limits_v2, "_acquire_concurrency_slots", None)
    if function is None:
        return None
    return hashlib.sha256(inspect.getsource(getattr(function, "__wrapped_by_kuntaflow__", function)).encode()).hexdigest()


_acquire_slots = concurrency_limits_v2._acquire_concurrency_slots


async def _acquire_slots_immediately(*args: Any, **kwargs: Any) -> Any:
    # The session's BEGIN is sent with the first statement, inside this call, in the mode set here.
    token = SQLITE_BEGIN_MODE.set("IMMEDIATE")
    try:
        return await _acquire_slots(*args, **kwargs)
    finally:
        SQLITE_BEGIN_MODE.reset(token)


_acquire_slots_immediately.__wrapped_by_kuntaflow__ = _acquire_slots  # type: ignore[attr-defined]
concurrency_limits_v2._acquire_concurrency_slots = _acquire_slots_immediately


if __name__ == "__main__":
    from prefect.cli import app

    app()
