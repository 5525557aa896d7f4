"""Kuntaflow runs its own Prefect server when none is configured, quietly, in the data directory."""

from __future__ import annotations

import os

import httpx
import pytest
from prefect import flow, get_run_logger, task

from kuntaflow.prefect_server import embedded_prefect
from kuntaflow.settings import KuntaflowSettings


@flow(name="embedded-server-probe")
def _probe(x: int) -> int:
    get_run_logger().info("probe ran with %s", x)
    return x * 2


@pytest.mark.slow
def test_a_flow_runs_on_the_embedded_server_which_stops_without_errors(tmp_path, monkeypatch, capfd):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("KUNTAFLOW_PREFECT_API_URL", raising=False)
    settings = KuntaflowSettings(data_dir=tmp_path / "data")
    with embedded_prefect(settings) as api_url:
        assert os.environ["PREFECT_API_URL"] == api_url
        assert _probe(21) == 42
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs()
        assert [run.state.type.value for run in runs] == ["COMPLETED"]
    assert "PREFECT_API_URL" not in os.environ
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{api_url}/health", timeout=2)
    assert (tmp_path / "data" / "prefect" / "prefect.db").exists()
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
    assert "Error" not in err


def test_a_configured_server_is_used_and_nothing_is_started(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://prefect.example.invalid/api")
    settings = KuntaflowSettings(data_dir=tmp_path / "data")
    with embedded_prefect(settings) as api_url:
        assert api_url == "http://prefect.example.invalid/api"
        from prefect.settings import PREFECT_API_URL

        assert PREFECT_API_URL.value() == api_url
    assert not (tmp_path / "data" / "prefect" / "server.log").exists()


@task
def _tagged(n: int) -> int:
    return n


@flow(name="tag-limit-probe")
def _tagged_tasks(count: int) -> list[int]:
    return [_tagged.with_options(tags=["koha"])(n) for n in range(count)]


@pytest.mark.slow
def test_tasks_under_a_tag_concurrency_limit_never_meet_a_locked_sqlite_database(tmp_path, monkeypatch):
    """Prefect opens the slot increment's transaction DEFERRED; on SQLite a writer in between made it
    fail with "database is locked" (503, retried 2 s later) for about every second task; the embedded
    server begins every transaction IMMEDIATE instead (kuntaflow/prefect_server_main.py)."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("KUNTAFLOW_PREFECT_API_URL", raising=False)
    monkeypatch.setenv("KUNTAFLOW_PREFECT_NO_UI", "1")
    monkeypatch.setenv("PREFECT_API_LOG_RETRYABLE_ERRORS", "true")  # the server logs each 503 it answers
    settings = KuntaflowSettings(data_dir=tmp_path / "data")
    with embedded_prefect(settings):
        from kuntaflow.prefect_deploy import ensure_concurrency_limits

        ensure_concurrency_limits({"koha": 2})
        assert _tagged_tasks(12) == list(range(12))
    log = (tmp_path / "data" / "prefect" / "server.log").read_text(encoding="utf-8")
    # Only the slot increment is begun IMMEDIATE: creating the limits just after the server starts can
    # still meet a lock once (retried 2 s later, before any task runs); an increment never does.
    assert "UPDATE concurrency_limit_v2 SET active_slots" not in log


def test_the_prefect_function_the_embedded_server_wraps_is_the_one_verified():
    """prefect_server_main wraps Prefect's private ``_acquire_concurrency_slots`` (SQLite IMMEDIATE):
    a Prefect release that changes it must be re-checked before the pin in pyproject.toml is widened."""
    from importlib.metadata import version

    from kuntaflow import prefect_server_main

    installed = version("prefect")
    release = tuple(int(part) for part in installed.split(".")[:3] if part.isdigit())
    since, below = prefect_server_main.VERIFIED_PREFECT
    assert since <= release < below, f"Prefect {installed} is outside {since} ≤ version < {below}, where kuntaflow/prefect_server_main.py was verified"
    found = prefect_server_main.acquire_source_sha256()
    assert found == prefect_server_main.VERIFIED_ACQUIRE_SOURCE_SHA256, (
        "prefect.server.api.concurrency_limits_v2._acquire_concurrency_slots "
        + ("is gone" if found is None else "has changed")
        + f" in Prefect {installed}: kuntaflow/prefect_server_main.py wraps it to begin the slot increment's SQLite "
        "transaction IMMEDIATE. Read the new function, check the wrapper still does that (and that "
        "test_tasks_under_a_tag_concurrency_limit_never_meet_a_locked_sqlite_database passes), then record its hash "
        "in VERIFIED_ACQUIRE_SOURCE_SHA256 and widen VERIFIED_PREFECT and the pin in pyproject.toml."
    )


@pytest.mark.slow
def test_replaced_run_parameters_leave_no_bytes_behind_in_prefects_database(tmp_path, monkeypatch):
    """What flows/employment_start.py relies on: once a run's parameters are replaced, the old value
    is nowhere in the database files after the server stops (WAL checkpointed and emptied)."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    monkeypatch.delenv("KUNTAFLOW_PREFECT_API_URL", raising=False)
    monkeypatch.setenv("KUNTAFLOW_PREFECT_NO_UI", "1")
    settings = KuntaflowSettings(data_dir=tmp_path / "data")
    marker = "REPLACED-PARAMETER-" + "q" * 32
    with embedded_prefect(settings):
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            runs = [client.create_flow_run(_probe, parameters={"x": marker}) for _ in range(20)]
            for run in runs:
                client.update_flow_run(run.id, parameters={"x": "kuntaflow-item:1"})
            assert all(client.read_flow_run(run.id).parameters == {"x": "kuntaflow-item:1"} for run in runs)
    files = sorted((tmp_path / "data" / "prefect").glob("prefect.db*"))
    assert files and sum(path.read_bytes().count(marker.encode()) for path in files) == 0
