"""Fixtures shared by every test layer.

The queue tests run on both backends: SQLite in a temporary directory, and the real PostgreSQL
server on 127.0.0.1:5432 (database ``test``), each test in a schema of its own.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

# Sandboxes serve only the named people of connectors/sandbox_people.py unless a test asks for a
# generated population, so the seeds tests count stay put (module fixtures and subprocesses too).
os.environ["KUNTAFLOW_SANDBOX_POPULATION_SIZE"] = "0"

POSTGRES_URL = os.environ.get("KUNTAFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def make_postgres_schema_url() -> tuple[str, str]:
    """Create an empty schema and return (url that uses it, schema name)."""
    schema = f"kf_test_{uuid.uuid4().hex[:12]}"
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return f"{POSTGRES_URL}?options={quote(f'-csearch_path={schema}')}", schema


def drop_postgres_schema(schema: str) -> None:
    engine = create_engine(POSTGRES_URL)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    url, schema = make_postgres_schema_url()
    yield url
    drop_postgres_schema(schema)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def queue_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty work-item database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'queue.db'}"
    else:
        url, schema = make_postgres_schema_url()
        yield url
        drop_postgres_schema(schema)


@pytest.fixture
def another_queue_url(queue_url, tmp_path) -> Iterator[str]:
    """A second fresh, empty work-item database on the backend of ``queue_url``."""
    if queue_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'another-queue.db'}"
    else:
        url, schema = make_postgres_schema_url()
        yield url
        drop_postgres_schema(schema)


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    """Every test gets its own data directory, so nothing leaks between tests or into the tree."""
    monkeypatch.setenv("KUNTAFLOW_DATA_DIR", str(tmp_path / "kuntaflow-data"))


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (starting one takes seconds)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
