"""The local stack: every sandbox, the e-service and Prefect, wired together on the embedded defaults.

``kuntaflow run`` and ``kuntaflow up`` start it with nothing started by hand:

- the all-sandboxes server (``connectors.sandbox_server``, every ``/<connector>/``, the e-mail
  sandbox's SMTP side included) on one port;
- the citizen e-service (``eservice``) on another;
- Prefect: the embedded server (or ``PREFECT_API_URL``), the tag concurrency limits, and, when
  asked, ``prefect.yaml``'s deployments with a worker that runs them.

Every port is chosen before anything starts, because some addresses are baked in when an app is
built: the e-service's ACS URL in its SAML metadata, the sandbox IdP's entityID and endpoints, the
SMTP port. Each sandbox package says what points its connector at it (``client_environment`` in
``connectors/<name>/sandbox``), so a new connector plugs in by itself. The environment is set in
this process for the block and inherited by the worker, its flow runs and their robots.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from connectors.oidc.settings import staff_redirects
from connectors.sandbox_server import client_environment
from connectors.sandbox_server import create_app as create_sandboxes
from connectors.servers import free_port, serve_in_thread
from kuntaflow.prefect_deploy import PROJECT_DIR, cancel_missed_runs, deploying, ensure_concurrency_limits, ensure_work_pool, process_worker, task_worker
from kuntaflow.prefect_server import embedded_prefect
from kuntaflow.settings import KuntaflowSettings, environment
from kuntaflow.workitems import upgrade_database
from schemas.redaction import install as install_redaction
from schemas.web_address import public_base_url


@dataclass
class Stack:
    """What is running, where, and the environment that points everything at it."""

    settings: KuntaflowSettings
    sandboxes_url: str
    eservice_url: str
    prefect_api_url: str
    environment: dict[str, str]
    sandbox_app: Any = field(repr=False)
    eservice_app: Any = field(repr=False)
    staff_url: str = ""
    worker: Any = field(default=None, repr=False)
    prefect_embedded: bool = True

    @property
    def prefect_ui_url(self) -> str:
        return self.prefect_api_url.removesuffix("/api")

    def sandbox(self, name: str) -> Any:
        """The app of a mounted sandbox (``app.state.store`` holds its records).

        Raises:
            KeyError: no such sandbox, or it could not be built, or the sandboxes run in another process.
        """
        if self.sandbox_app is None:
            raise KeyError(f"sandbox {name}: the sandboxes at {self.sandboxes_url} run in another process")
        mounted = self.sandbox_app.state.sandboxes[name]
        if mounted.app is None:
            raise KeyError(f"sandbox {name} could not be built: {mounted.error}")
        return mounted.app

    def sandbox_url(self, name: str) -> str:
        return f"{self.sandboxes_url}/{name}"

    def addresses(self) -> list[tuple[str, str]]:
        """(what, URL) for a person to open: the e-service, the sandboxes and their pages, Prefect's UI."""
        found = [("E-service (apply for a library card)", self.eservice_url), ("Sandboxes (index)", f"{self.sandboxes_url}/")]
        for mounted in self.sandbox_app.state.sandboxes.values() if self.sandbox_app is not None else ():
            if mounted.app is None:
                continue
            for label, path in mounted.pages:
                if path != "/docs":
                    found.append((f"{mounted.title.split(' · ')[-1]}: {label.split(' · ')[-1]}", f"{self.sandboxes_url}{mounted.prefix}{path}"))
        if self.staff_url:
            found.append(("Kuntaflow Desk (staff sign in, cases waiting for a person; supervisors' links)", self.staff_url))
        found.append(("Prefect UI", self.prefect_ui_url))
        return found


def stack_environment(*, data_dir: Path, sandboxes_url: str, eservice_url: str, queue_url: str | None = None, staff_url: str | None = None) -> dict[str, str]:
    """The settings that point the engine, the e-service and every connector at this stack."""
    values = {
        "KUNTAFLOW_DATA_DIR": str(data_dir),  # absolute: the worker's flow runs work in KUNTAFLOW_HOME
        "KUNTAFLOW_HOME": str(PROJECT_DIR),
        "KUNTAFLOW_ESERVICE_BASE_URL": eservice_url,
        "KUNTAFLOW_SUOMIFI_BASE_URL": eservice_url,  # the SP's ACS/SLO/metadata URLs
    }
    if queue_url is not None:
        values["KUNTAFLOW_DATABASE_URL"] = queue_url
    if staff_url is not None:  # the staff app's public address: every e-mailed link and the OIDC redirects are built on it
        values["KUNTAFLOW_STAFF_PUBLIC_URL"] = staff_url  # the supervisors' links too (EmploymentStartSettings.staff_url)
        values |= staff_redirects(staff_url)
    return values | client_environment(sandboxes_url)


@contextmanager
def local_stack(
    *,
    host: str = "127.0.0.1",
    sandbox_port: int | None = None,
    sandboxes_url: str | None = None,
    eservice_port: int | None = None,
    queue_url: str | None = None,
    prefect_port: int | None = None,
    staff_port: int | None = None,
    staff_public_url: str | None = None,
    deployments: Sequence[str] = (),
    worker: bool = False,
    eservice_trigger: Any = None,
) -> Iterator[Stack]:
    """Start the stack, yield it, stop everything in reverse order.

    Args:
        host: where the sandboxes and the e-service listen.
        sandbox_port, eservice_port, prefect_port, staff_port: fixed ports; free ones are chosen when unset.
        sandboxes_url: the sandboxes are served by another process at this address (a benchmark that
            measures the flow's process alone starts them in their own, with this block's environment);
            none are served here and ``Stack.sandbox_app`` is None.
        staff_public_url: the address staff reach the staff app at, when it is not ``http://{host}:{staff_port}``
            (a proxy); e-mailed links and the sign-in redirects use it.
        queue_url: the work-item queue (and e-service sessions) database; the engine's when unset.
        deployments: ``prefect.yaml`` deployments to deploy on the server (``prefect deploy``).
        worker: run a process worker on the ``kuntaflow`` pool and Prefect's task worker for the
            warm path's background tasks (flows/task_worker.py) for the block.
        eservice_trigger: what starts the flow when an application is queued; by default
            ``KUNTAFLOW_ESERVICE_TRIGGER`` (the warm path's background task).

    Raises:
        PrefectServerError: the embedded Prefect server did not start.
        DeployError: ``prefect deploy`` failed.
        RuntimeError: a server did not start.
    """
    served_elsewhere = sandboxes_url is not None
    sandboxes_url = sandboxes_url or f"http://{host}:{sandbox_port or free_port(host)}"
    eservice_url = f"http://{host}:{eservice_port or free_port(host)}"
    staff_port = staff_port or free_port(host)
    staff_url = (
        public_base_url(staff_public_url, setting="--staff-url", example="https://desk.example.fi") if staff_public_url else f"http://{host}:{staff_port}"
    )
    data_dir = KuntaflowSettings().resolved_data_dir
    values = stack_environment(data_dir=data_dir, sandboxes_url=sandboxes_url, eservice_url=eservice_url, queue_url=queue_url, staff_url=staff_url)
    with environment(values), ExitStack() as stack:
        stack.enter_context(_sigint_not_ignored())
        install_redaction()
        settings = KuntaflowSettings()
        # Migrate the queue once here, before the worker, the e-service and the robots open it.
        upgrade_database(settings.queue_url)
        embedded = settings.external_prefect_api_url is None
        prefect_api_url = _start_prefect(stack, settings, port=prefect_port, pool=bool(deployments) or worker, worker=worker)
        with deploying(deployments, log_path=settings.resolved_data_dir / "prefect" / "deploy.log"):
            # The worker and `prefect deploy` start (Python processes) while the apps are built here.
            process = (
                stack.enter_context(process_worker(log_path=settings.resolved_data_dir / "prefect" / "worker.log", limit=settings.worker_limit))
                if worker
                else None
            )
            if worker:  # the warm path: the e-service's background tasks run here
                stack.enter_context(task_worker(log_path=settings.resolved_data_dir / "prefect" / "task-worker.log"))
            sandbox_app, eservice_app = _serve_apps(stack, host, (None if served_elsewhere else sandboxes_url, eservice_url, staff_port), eservice_trigger)
        yield Stack(
            settings=settings,
            sandboxes_url=sandboxes_url,
            eservice_url=eservice_url,
            prefect_api_url=prefect_api_url,
            environment={**values, "PREFECT_API_URL": prefect_api_url},
            sandbox_app=sandbox_app,
            eservice_app=eservice_app,
            staff_url=staff_url,
            worker=process,
            prefect_embedded=embedded,
        )


def _start_prefect(stack: ExitStack, settings: KuntaflowSettings, *, port: int | None, pool: bool, worker: bool) -> str:
    """Prefect's API URL, with the tag concurrency limits and (when deploying or running a worker) the work pool in place."""
    prefect_api_url = stack.enter_context(embedded_prefect(settings, port=port))
    ensure_concurrency_limits()
    if pool:
        ensure_work_pool()
    if settings.external_prefect_api_url is None and worker:
        cancel_missed_runs()  # an embedded server's schedule ran on while the stack was down
    return prefect_api_url


def _serve_apps(stack: ExitStack, host: str, urls: tuple[str | None, str, int], eservice_trigger: Any) -> tuple[Any, Any]:
    """Build and serve the sandboxes (unless their URL is None: served elsewhere), the e-service and the staff
    pages on their ports; (sandboxes app or None, e-service app).

    The e-service and the staff pages are imported here, not at the top: their imports (FastAPI, pysaml2, the
    engine's queue) then run while the worker and ``prefect deploy`` processes start, instead of before them.
    """
    from apps.eservice.app import create_app as create_eservice  # noqa: PLC0415 (imported while the worker starts, see above)
    from apps.staff import create_app as create_staff  # noqa: PLC0415 (imported while the worker starts, see above)

    sandboxes_url, eservice_url, staff_port = urls
    sandbox_app = None
    if sandboxes_url is not None:
        sandbox_app = create_sandboxes()
        stack.enter_context(serve_in_thread(sandbox_app, host=host, port=_port(sandboxes_url)))
    eservice_app = create_eservice(trigger=eservice_trigger)
    stack.enter_context(serve_in_thread(eservice_app, host=host, port=_port(eservice_url)))
    stack.enter_context(serve_in_thread(create_staff(), host=host, port=staff_port))
    return sandbox_app, eservice_app


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


@contextmanager
def _sigint_not_ignored() -> Iterator[None]:
    """A SIGINT ignored here (a job started in the background by a script) would be ignored by the
    worker and the Prefect server too, and they are stopped with SIGINT: handle it for the block."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
