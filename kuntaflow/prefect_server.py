"""The embedded Prefect server: started and stopped by Kuntaflow when no server is configured.

Prefect's own ephemeral mode prints errors at shutdown and keeps its database in ``~/.prefect``.
Instead, Kuntaflow runs ``prefect server start`` as a child process with its SQLite database and
home in the data directory, waits for ``/api/health``, points this process (and every robot
subprocess) at it, and stops it cleanly afterwards. Its output goes to a log file there.
"""

from __future__ import annotations

import inspect
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from kuntaflow.settings import KuntaflowSettings, environment

logger = logging.getLogger(__name__)

STARTUP_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 15


class PrefectServerError(RuntimeError):
    """The embedded Prefect server did not start."""


def prefect_environment(settings: KuntaflowSettings) -> dict[str, str]:
    """Environment that keeps Prefect's files in the data directory and quiet on a closed network."""
    home = settings.resolved_data_dir / "prefect"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": settings.prefect_database_url or f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT": "false",
        "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
        "PREFECT_UI_ENABLED": "true",
    }


def auth_environment(settings: KuntaflowSettings) -> dict[str, str]:
    """Basic auth on the embedded server's API and UI, and the credentials its clients send
    (this process, the worker and its flow runs, ``prefect deploy``)."""
    auth = settings.prefect_auth_string().get_secret_value()
    return {"PREFECT_SERVER_API_AUTH_STRING": auth, "PREFECT_API_AUTH_STRING": auth}


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _prefect_command() -> list[str]:
    """Prefect's CLI; the server through kuntaflow.prefect_server_main (SQLite secure_delete on)."""
    return [sys.executable, "-m", "kuntaflow.prefect_server_main"]


def wait_until_healthy(api_url: str, process: subprocess.Popen | None = None, timeout: float = STARTUP_TIMEOUT_SECONDS) -> None:
    """Poll ``/health`` until the server answers.

    Raises:
        PrefectServerError: the process exited or the deadline passed.
    """
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            if process is not None and process.poll() is not None:
                raise PrefectServerError(f"the Prefect server exited with code {process.returncode} while starting")
            try:
                if client.get(f"{api_url}/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
    raise PrefectServerError(f"the Prefect server at {api_url} did not answer within {timeout:.0f} s")


@contextmanager
def embedded_prefect(settings: KuntaflowSettings | None = None, *, port: int | None = None) -> Iterator[str]:
    """Use the configured Prefect server, or run one for the duration of the block.

    Yields the API URL; the embedded server listens on ``port`` (a free one when unset).
    ``PREFECT_API_URL`` (and the data-directory settings) are set in this process's environment
    and in Prefect's settings context, so flows run here and robot subprocesses started here all
    report to that server.

    Raises:
        PrefectServerError: the embedded server did not start; its log file is named.
    """
    settings = settings or KuntaflowSettings()
    env = prefect_environment(settings)
    external = settings.external_prefect_api_url
    if external:
        env.pop("PREFECT_SERVER_DATABASE_CONNECTION_URL")
        with _environment({**env, "PREFECT_API_URL": external}):
            yield external
        return

    env |= auth_environment(settings)
    port = port or _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    log_path = settings.resolved_data_dir / "prefect" / "server.log"
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [
                *_prefect_command(),
                "server",
                "start",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-ui" if os.environ.get("KUNTAFLOW_PREFECT_NO_UI") else "--ui",
            ],
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        try:
            wait_until_healthy(api_url, process)
        except PrefectServerError as exc:
            raise PrefectServerError(f"{exc}; see {log_path}") from None
        with _environment({**env, "PREFECT_API_URL": api_url}):
            yield api_url
    finally:
        _stop(process)
        settle_sqlite(env["PREFECT_SERVER_DATABASE_CONNECTION_URL"])


def settle_sqlite(url: str) -> None:
    """After the embedded server stopped: write the WAL's latest pages into Prefect's SQLite file and
    empty the WAL (``wal_checkpoint(TRUNCATE)``, secure_delete on). Until then the WAL keeps every
    earlier version of a page, such as a flow run's parameters before the flow replaced a
    henkilötunnus in them, and the server does not always checkpoint when it is stopped."""
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix) or not Path(url.removeprefix(prefix)).exists():
        return
    try:
        connection = sqlite3.connect(url.removeprefix(prefix), timeout=30)
        try:
            connection.execute("PRAGMA secure_delete = ON")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
    except sqlite3.Error as error:
        logger.warning("Could not checkpoint Prefect's database %s: %s", url.removeprefix(prefix), error)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables and Prefect's settings context, and restore both afterwards."""
    with environment(values):
        from prefect.context import SettingsContext, _temporary_global_settings_context  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)
        from prefect.settings import Settings  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)

        # Prefect snapshots its settings at import; a fresh Settings() reads the environment set above.
        with SettingsContext(profile=SettingsContext.get().profile, settings=Settings()) as context, _temporary_global_settings_context(context):
            try:
                yield
            finally:
                drain_prefect_workers()


def drain_prefect_workers() -> None:
    """Send buffered logs and events before the server goes away (else Prefect prints errors)."""
    from prefect.events.worker import EventsWorker  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)
    from prefect.logging.handlers import APILogWorker  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)
    from prefect.utilities.asyncutils import run_coro_as_sync  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)

    async def drain() -> None:
        try:
            result = APILogWorker.instance().drain()
            if inspect.isawaitable(result):
                await result
        except RuntimeError:  # the worker never started
            pass
        result = EventsWorker.drain_all()
        if inspect.isawaitable(result):
            await result

    run_coro_as_sync(drain())


def serve_ui(settings: KuntaflowSettings | None = None, host: str = "127.0.0.1", port: int = 4200) -> int:
    """Run Prefect's server with its UI in the foreground, for a person; returns its exit code."""
    settings = settings or KuntaflowSettings()
    env = {**os.environ, **prefect_environment(settings), **auth_environment(settings)}
    env["PREFECT_UI_API_URL"] = f"http://{host}:{port}/api"
    command = [*_prefect_command(), "server", "start", "--host", host, "--port", str(port)]
    try:
        return subprocess.call(command, env=env)
    finally:
        settle_sqlite(env["PREFECT_SERVER_DATABASE_CONNECTION_URL"])


def data_dir_log(settings: KuntaflowSettings) -> Path:
    return settings.resolved_data_dir / "prefect" / "server.log"
