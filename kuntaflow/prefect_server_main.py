"""``python -m kuntaflow.prefect_server_main server start …``: Prefect's own CLI, with SQLite's
``secure_delete`` on for every connection the server opens.

Why: a flow run's parameters can hold a henkilötunnus until the flow replaces it (HR's
employment-start form; flows/employment_start.py). SQLite keeps the bytes of a replaced or deleted
row in the database file's free space unless ``PRAGMA secure_delete`` is on, and that file lives in
the data directory the privacy sweep reads (kuntaflow/privacy_sweep.py). Prefect has no setting for
its SQLite pragmas, so the embedded server is started through this module, which adds the pragma
with a SQLAlchemy pool listener and then runs Prefect's CLI unchanged.
"""

from __future__ import annotations

from typing import Any

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


if __name__ == "__main__":
    from prefect.cli import app

    app()
