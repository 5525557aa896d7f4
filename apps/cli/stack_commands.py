"""``kuntaflow run`` (the main job) and ``kuntaflow up`` (the stack for a person), on ``apps.local_stack``.

Registered in ``apps/cli/main.py``.
"""

from __future__ import annotations

import os
import signal
import time
import warnings
from datetime import datetime
from typing import Annotated

import typer

from apps import demo
from kuntaflow.settings import KuntaflowSettings


def _quiet(*, prefect_logs: bool = False) -> None:
    """Our summary, not Prefect's chatter (unless ``prefect_logs``: the worker's runs log to the UI) or pysaml2's deprecation notices."""
    if not prefect_logs:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", module="saml2")
    warnings.filterwarnings("ignore", message=".*CFB has been moved.*")


def run_processes(names: tuple[str, ...] | None = None, samples: int | None = None) -> int:
    """The main job: every process's sample cases on a fresh local stack; 0 when all were as they should be."""
    _quiet()
    from apps.local_stack import local_stack  # noqa: PLC0415 (imports Prefect, which must see the logging level _quiet sets)

    began = time.monotonic()
    loaded = demo.modules(names or demo.PROCESSES)
    settings = KuntaflowSettings()
    queue_url = None
    if settings.database_url is None:  # each run its own queue file, so the sample citizens apply afresh
        run_dir = settings.resolved_data_dir / "runs" / datetime.now().strftime("%Y%m%d-%H%M%S")
        run_dir.mkdir(parents=True, exist_ok=True)
        queue_url = f"sqlite:///{run_dir / 'queue.db'}"
    typer.echo(f"Data directory: {settings.resolved_data_dir}")
    typer.echo("Starting the local stack: sandboxes, e-service, Prefect server, deployments, a worker and the task worker …")
    results = []
    with local_stack(queue_url=queue_url, deployments=demo.deployments(loaded), worker=True) as stack:
        typer.echo(
            f"  ready in {time.monotonic() - began:.0f} s: e-service {stack.eservice_url}, sandboxes {stack.sandboxes_url}/, Prefect {stack.prefect_ui_url}"
        )
        for module in loaded:
            count = samples if samples is not None else module.DEFAULT_COUNT
            typer.echo(f"Running {module.__name__.rsplit('.', 1)[-1]} with {count} sample cases …")
            results.append(module.run(stack, count=count))
    for result in results:
        typer.echo("")
        typer.secho(result.title, bold=True)
        for line in result.lines:
            typer.echo(f"  {line}")
    typer.echo("")
    if queue_url:
        typer.echo(f"Inspect this run's queue: KUNTAFLOW_DATABASE_URL={queue_url} .venv/bin/kuntaflow queue status")
    typer.echo(f"Total {time.monotonic() - began:.0f} s.")
    if all(result.ok for result in results):
        typer.secho("Every application reached DONE or BUSINESS_FAILED, decided as the rules say.", fg=typer.colors.GREEN)
        return 0
    typer.secho("Not everything went as it should: see NOT OK above.", fg=typer.colors.RED, err=True)
    return 1


def up(
    host: Annotated[str, typer.Option(help="Address the e-service, sandboxes and Prefect listen on.")] = "127.0.0.1",
    eservice_port: Annotated[int, typer.Option(help="E-service port (0: any free port).")] = 8000,
    sandbox_port: Annotated[int, typer.Option(help="Port for every sandbox (0: any free port).")] = 8080,
    prefect_port: Annotated[int, typer.Option(help="Prefect API and UI port (0: any free port).")] = 4200,
) -> None:
    """Keep the e-service, every sandbox, Prefect's UI and a worker running for a person until Ctrl+C."""
    _quiet(prefect_logs=True)
    from apps.local_stack import local_stack  # noqa: PLC0415 (imports Prefect, which must see the logging level _quiet sets)
    from connectors.servers import port_free  # noqa: PLC0415 (imports uvicorn: kept off the CLI's start-up)

    taken = [port for port in (eservice_port, sandbox_port, prefect_port) if port and not port_free(host, port)]
    if taken:
        typer.secho(f"Port(s) {', '.join(map(str, taken))} on {host} are in use: choose others (see --help) or 0 for any.", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)  # also when started where SIGINT is ignored (a background job)
    typer.echo("Starting the e-service, the sandboxes, Prefect, a worker and the task worker …")
    try:
        with local_stack(
            host=host,
            eservice_port=eservice_port or None,
            sandbox_port=sandbox_port or None,
            prefect_port=prefect_port or None,
            deployments=demo.deployments(demo.modules()),
            worker=True,
        ) as stack:
            typer.echo("Open:")
            for what, url in stack.addresses():
                typer.echo(f"  {what:<44} {url}")
            typer.echo(f"Prefect UI and API: basic auth; log in with {prefect_login_hint(stack.settings, embedded=stack.prefect_embedded)}")
            typer.echo(f"Queue: {stack.settings.queue_url.split('///')[-1]}   Robot logs: {stack.settings.robot_output_dir}")
            typer.echo("Applications sent on the e-service start the library-card deployment at once. Ctrl+C stops everything.", err=False)
            while True:
                if stack.worker is not None and stack.worker.poll() is not None:
                    typer.secho("The Prefect worker stopped; see .kuntaflow/prefect/worker.log.", fg=typer.colors.RED, err=True)
                    raise typer.Exit(code=1)
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    typer.echo("Stopped.")


def prefect_login_hint(settings, *, embedded: bool = True) -> str:
    """How a person logs in to the embedded Prefect UI, without printing the password."""
    if not embedded:
        return "your Prefect server's own credentials"
    where = "KUNTAFLOW_PREFECT_PASSWORD" if settings.prefect_password else f"the password in {settings.prefect_password_file}"
    return f"'{settings.prefect_user}:' followed by {where}"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
