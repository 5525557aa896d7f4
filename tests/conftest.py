"""Fixtures shared by every test layer.

The queue tests run on both backends: SQLite in a temporary directory, and the real PostgreSQL
server on 127.0.0.1:5432 (database ``test``), each test in a schema of its own.

``make test`` runs the suite in several pytest-xdist worker processes (``[tool.pytest.ini_options]``
in pyproject.toml), so nothing here may be shared between processes: each worker has its own Prefect
home and default data directory (``pytest_configure``), each test its own data directory, each
PostgreSQL test its own schema, and servers take free ports. ``-n 0`` runs everything in one process.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

# Sandboxes serve only the named people of connectors/sandbox_people.py unless a test asks for a
# generated population, so the seeds tests count stay put (module fixtures and subprocesses too).
os.environ["KUNTAFLOW_SANDBOX_POPULATION_SIZE"] = "0"

#: The test files that take longest (the front door's full ``kuntaflow run``, the chaos runs, then the
#: Prefect servers, flows and browsers), longest first as measured. Under xdist each file stays on one
#: worker (``--dist loadfile``: module fixtures run once) and these go out first, the first three on
#: workers of their own, so the run ends on short files instead of waiting for a long one started late.
LONGEST_FIRST = (
    "tests/engine/test_front_door.py",
    "tests/chaos/test_chaos_short.py",
    "tests/chaos/test_scale_out.py",
    "tests/engine/test_prefect_server.py",
    "tests/flows/test_employment_start.py",
    "tests/flows/test_library_card.py",
    "tests/flows/test_mass_recruitment.py",
    "tests/engine/test_new_process.py",
    "tests/flows/test_card_expiry.py",
    "tests/e2e/test_employment_start_form.py",
    "tests/engine/test_workitems_concurrency.py",
    "tests/e2e/test_library_card_browser.py",
    "tests/staff/test_desk_browser.py",
    "tests/staff/test_desk_signin_browser.py",
    "tests/staff/test_desk.py",
    "tests/e2e/test_eservice_accessibility.py",
)

_SCRATCH = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """A Prefect home and a default data directory of this process's own (one per xdist worker).

    Prefect reads ``PREFECT_HOME`` when it is imported (during collection), and otherwise every worker,
    and every other test run on the machine, would share ``~/.prefect``. The default data directory
    catches fixtures that run before the per-test one is set; without it they would write into the
    tree's ``.kuntaflow``.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    scratch = Path(tempfile.mkdtemp(prefix=f"kuntaflow-tests-{worker}-"))
    config.stash[_SCRATCH] = scratch
    os.environ["PREFECT_HOME"] = str(scratch / "prefect-home")
    os.environ["KUNTAFLOW_DATA_DIR"] = str(scratch / "kuntaflow-data")


def pytest_unconfigure(config: pytest.Config) -> None:
    scratch = config.stash.get(_SCRATCH, None)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, the longest files first (each file keeps its own order)."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    rank = {path: index for index, path in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


POSTGRES_URL = os.environ.get("KUNTAFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def make_postgres_schema_url() -> tuple[str, str]:
    """Create an empty schema and return (url that uses it, schema name)."""
    schema = f"kf_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:12]}"
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
def _isolated_data_dir(request, tmp_path, monkeypatch):
    """Every test gets its own data directory, and with it its own queue database, so nothing leaks
    between tests or into the tree.

    A ``KUNTAFLOW_DATABASE_URL`` (or payload key) left in the environment, by the shell or by a module
    fixture, would make tests share one queue without noticing, so it is dropped, unless the test
    asks to share one: ``@pytest.mark.shared_queue`` (a module whose tests read one run's results). A
    test that sets its own URL with ``monkeypatch`` after this fixture keeps it.
    """
    monkeypatch.setenv("KUNTAFLOW_DATA_DIR", str(tmp_path / "kuntaflow-data"))
    if request.node.get_closest_marker("shared_queue") is None:
        monkeypatch.delenv("KUNTAFLOW_DATABASE_URL", raising=False)
        monkeypatch.delenv("KUNTAFLOW_PAYLOAD_KEY", raising=False)


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (starting one takes seconds)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
