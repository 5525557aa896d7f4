"""Deployments and a worker on a running Prefect server, the way production runs the flows.

``kuntaflow run`` and ``kuntaflow up`` use these on the embedded server: the ``kuntaflow``
process work pool, the tag concurrency limits the flows are written for, ``prefect deploy`` of the
deployments in ``prefect.yaml`` (so their schedules and event triggers are the file's own, not a
copy), and a ``prefect worker`` subprocess that starts their flow runs. Flow runs, and the robots
they start, inherit the worker's environment, which is this process's.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
WORK_POOL = "kuntaflow"
#: Tag concurrency limits: at most this many task runs with the tag at once (``prefect concurrency-limit create koha 2``).
CONCURRENCY_LIMITS: Mapping[str, int] = {"koha": 2, "helbit": 2, "hr": 2, "servicedesk": 2}
STOP_TIMEOUT_SECONDS = 20


class DeployError(RuntimeError):
    """``prefect deploy`` failed; the message names its log."""


@dataclass(frozen=True)
class FlowRunCounts:
    """The flow runs of one deployment: how many, how they were started, how they ended."""

    total: int
    by_origin: dict[str, int]
    by_state: dict[str, int]
    active: int


def ensure_work_pool(name: str = WORK_POOL) -> None:
    """Create the process work pool ``prefect.yaml`` names, unless it exists."""
    from prefect import get_client  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)
    from prefect.client.schemas.actions import WorkPoolCreate  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)
    from prefect.exceptions import ObjectAlreadyExists  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)

    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name=name, type="process"))


def ensure_concurrency_limits(limits: Mapping[str, int] = CONCURRENCY_LIMITS) -> None:
    """Create or update the tag concurrency limits (what ``prefect concurrency-limit create TAG N`` does)."""
    from prefect import get_client  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)

    with get_client(sync_client=True) as client:
        for tag, limit in limits.items():
            client.create_concurrency_limit(tag=tag, concurrency_limit=limit)


def cancel_missed_runs(pool: str = WORK_POOL, *, grace_seconds: float = 60) -> int:
    """Cancel the scheduled runs on ``pool`` whose time passed while the embedded server was stopped.

    The schedule lines runs up hours ahead; when the embedded server starts again, those late runs
    would all start at once. The safety net they stand for is the run this session starts anyway.
    Only for the embedded server: on a shared one a real worker may be about to run them.
    Returns how many were cancelled.
    """
    from prefect import get_client  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)
    from prefect.client.schemas.filters import (  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
        WorkPoolFilter,
        WorkPoolFilterName,
    )
    from prefect.client.schemas.objects import StateType  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)
    from prefect.states import Cancelled  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)

    before = datetime.now(UTC) - timedelta(seconds=grace_seconds)
    missed = FlowRunFilter(
        state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
        expected_start_time=FlowRunFilterExpectedStartTime(before_=before),
    )
    seen: set[object] = set()
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_flow_runs(flow_run_filter=missed, work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])), limit=200)
            fresh = [run for run in runs if run.id not in seen]
            if not fresh:
                return len(seen)
            for run in fresh:
                client.set_flow_run_state(run.id, Cancelled(message="Missed while the embedded Prefect server was stopped"), force=True)
                seen.add(run.id)


def deploy(names: Iterable[str], *, log_path: Path, project_dir: Path = PROJECT_DIR) -> None:
    """``prefect deploy --name …`` of these ``prefect.yaml`` deployments on the configured server.

    Raises:
        DeployError: the command failed; its output is in ``log_path``.
    """
    with deploying(names, log_path=log_path, project_dir=project_dir):
        pass


@contextmanager
def deploying(names: Iterable[str], *, log_path: Path, project_dir: Path = PROJECT_DIR) -> Iterator[None]:
    """Run ``prefect deploy --name …`` while the block does other work; wait for it at the end of the block.

    ``KUNTAFLOW_HOME`` (the pull step's working directory) is set to ``project_dir``.

    Raises:
        DeployError: the command failed; its output is in ``log_path``.
    """
    names = list(names)
    if not names:
        yield
        return
    command = [sys.executable, "-m", "prefect", "--no-prompt", "deploy"]
    for name in names:
        command += ["--name", name]
    env = {**os.environ, "KUNTAFLOW_HOME": str(project_dir)}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, cwd=project_dir, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        yield
    except BaseException:
        stop_process_group(process)
        raise
    if process.wait() != 0:
        raise DeployError(f"prefect deploy of {', '.join(names)} failed with exit code {process.returncode}; see {log_path}")


@contextmanager
def process_worker(
    *, log_path: Path, pool: str = WORK_POOL, query_seconds: float = 2, limit: int | None = None, name: str = "kuntaflow-local"
) -> Iterator[subprocess.Popen]:
    """Run ``prefect worker start`` on ``pool`` for the block; stop it (and its flow runs) afterwards.

    ``query_seconds`` is how often it asks for runs to start (Prefect's default is 10 s; a local
    server can take it more often, so a citizen's application is picked up sooner).
    """
    command = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--type", "process", "--name", name]
    if limit is not None:
        command += ["--limit", str(limit)]
    env = {**os.environ, "PREFECT_WORKER_QUERY_SECONDS": str(query_seconds), "PREFECT_WORKER_PREFETCH_SECONDS": "5"}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        yield process
    finally:
        stop_process_group(process)


@contextmanager
def task_worker(*, log_path: Path, module: str = "flows.task_worker", limit: int | None = None) -> Iterator[subprocess.Popen]:
    """Run Prefect's task worker for the warm path's background tasks (``python -m flows.task_worker``) for the block.

    It is ``prefect.task_worker.serve`` in a process of its own, started the way the process
    worker is (named by module, so this layer imports no flow) and stopped with its robots.
    """
    command = [sys.executable, "-m", module]
    if limit is not None:
        command += ["--limit", str(limit)]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    try:
        yield process
    finally:
        stop_process_group(process)


def stop_process_group(process: subprocess.Popen, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """Ask a child started with ``start_new_session`` (and its children) to stop: SIGINT, then SIGTERM, then SIGKILL."""
    for sent in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if process.poll() is not None:
            return
        try:
            os.killpg(process.pid, sent)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=timeout if sent is not signal.SIGKILL else None)
            return
        except subprocess.TimeoutExpired:
            continue


def deployment_runs(deployment: str, *, since: datetime) -> list:
    """The runs of ``<flow>/<deployment>`` due since ``since`` (Prefect ``FlowRun`` objects, at most
    200), without the ones the schedule has lined up for later."""
    from prefect import get_client  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId, FlowRunFilter, FlowRunFilterExpectedStartTime  # noqa: PLC0415 (Prefect reads its settings when first imported: only after the caller set the environment)

    with get_client(sync_client=True) as client:
        found = client.read_deployment_by_name(deployment)
        runs = client.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[found.id])),
            flow_run_filter=FlowRunFilter(expected_start_time=FlowRunFilterExpectedStartTime(after_=since)),
            limit=200,
        )
    now = datetime.now(UTC)
    return [run for run in runs if not (run.state and run.state.is_scheduled() and run.expected_start_time and run.expected_start_time > now)]


def flow_runs(deployment: str, *, since: datetime) -> FlowRunCounts:
    """Count the runs of ``<flow>/<deployment>`` due since ``since``: started by an automation (event),
    the schedule or by hand. Runs the schedule has lined up for later are left out."""
    happened = deployment_runs(deployment, since=since)
    origins = Counter(run_origin(run) for run in happened)
    states = Counter(run.state.name if run.state else "?" for run in happened)
    active = sum(1 for run in happened if run.state is None or not run.state.is_final())
    return FlowRunCounts(total=len(happened), by_origin=dict(origins), by_state=dict(states), active=active)


def run_origin(run) -> str:
    """What created a flow run: ``event`` (an automation, e.g. a deployment's trigger), ``schedule`` or ``other``."""
    if run.auto_scheduled:
        return "schedule"
    if run.created_by is not None and str(run.created_by.type).upper().endswith("AUTOMATION"):
        return "event"
    return "other"


def wait_for_flow_runs(deployment: str, *, since: datetime, timeout: float, poll_seconds: float = 1.0) -> FlowRunCounts:
    """Wait until no run of the deployment is due, pending or running (or ``timeout`` passes); the counts then."""
    deadline = time.monotonic() + timeout
    while True:
        counts = flow_runs(deployment, since=since)
        if counts.active == 0 or time.monotonic() > deadline:
            return counts
        time.sleep(poll_seconds)
