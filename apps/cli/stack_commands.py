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
from apps.staff.settings import StaffSettings
from kuntaflow.prefect_deploy import deployment_names
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import WorkQueue, waits_for_a_person
from schemas.web_address import public_base_url


def _quiet(*, prefect_logs: bool = False) -> None:
    """Our summary, not Prefect's chatter (unless ``prefect_logs``: the worker's runs log to the UI) or pysaml2's and Authlib's deprecation notices."""
    if not prefect_logs:
        os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    warnings.filterwarnings("ignore", module="saml2")
    warnings.filterwarnings("ignore", message=".*CFB has been moved.*")
    warnings.filterwarnings("ignore", message="The httpx module is deprecated")  # Authlib announcing httpx2 at import


def run_processes(names: tuple[str, ...] | None = None, samples: int | None = None, *, staff_port: int | None = None) -> int:
    """The main job: every process's sample cases on a fresh local stack; 0 when all were as they should be."""
    _quiet()
    from apps.local_stack import local_stack  # noqa: PLC0415 (imports Prefect, which must see the logging level _quiet sets)
    from connectors.servers import port_free  # noqa: PLC0415 (imports uvicorn: kept off the CLI's start-up)

    staff_port, staff_url = staff_address(staff_port, None)
    if staff_port and not port_free("127.0.0.1", staff_port):
        typer.secho(f"The Desk's port {staff_port} is in use (kuntaflow up?): stop it, or pass --staff-port 0 for any.", fg=typer.colors.RED, err=True)
        return 1

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
    with local_stack(
        queue_url=queue_url, staff_port=staff_port or None, staff_public_url=staff_url, deployments=demo.deployments(loaded), worker=True
    ) as stack:
        typer.echo(
            f"  ready in {time.monotonic() - began:.0f} s: e-service {stack.eservice_url}, Desk {stack.staff_url}, sandboxes {stack.sandboxes_url}/, "
            f"Prefect {stack.prefect_ui_url}"
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
    for line in waiting_lines(queue_url or settings.queue_url, fresh_queue=queue_url is not None):
        typer.echo(line)
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
    staff_port: Annotated[int | None, typer.Option(help="Kuntaflow Desk port (default KUNTAFLOW_STAFF_PORT, 8010; 0: any free port).")] = None,
    staff_url: Annotated[
        str | None, typer.Option(help="The Desk's public address for e-mailed links and sign-in (default KUNTAFLOW_STAFF_PUBLIC_URL, else http://HOST:PORT).")
    ] = None,
) -> None:
    """Keep the e-service, every sandbox, Prefect's UI and a worker running for a person until Ctrl+C."""
    _quiet(prefect_logs=True)
    from apps.local_stack import local_stack  # noqa: PLC0415 (imports Prefect, which must see the logging level _quiet sets)
    from connectors.servers import port_free  # noqa: PLC0415 (imports uvicorn: kept off the CLI's start-up)

    try:
        staff_port, staff_url = staff_address(staff_port, staff_url)
    except ValueError as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
    taken = [port for port in (eservice_port, sandbox_port, prefect_port, staff_port) if port and not port_free(host, port)]
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
            staff_port=staff_port or None,
            staff_public_url=staff_url,
            deployments=deployment_names(),  # every deployment, the schedules and staff-digest too
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


def waiting_lines(queue_url: str, *, fresh_queue: bool) -> list[str]:
    """How many cases wait for a person, per process, and where staff handle them (Kuntaflow Desk)."""
    with WorkQueue(queue_url) as queue:
        waiting: dict[str, int] = {}
        for row in queue.state_summary(sorted(queue.counts())):
            if waits_for_a_person(row.process, row.state):
                waiting[row.process] = waiting.get(row.process, 0) + row.count
    if not any(waiting.values()):
        return ["No case waits for a person."]
    counts = ", ".join(f"{process} {count}" for process, count in waiting.items() if count)
    up = f"KUNTAFLOW_DATABASE_URL={queue_url} .venv/bin/kuntaflow up" if fresh_queue else ".venv/bin/kuntaflow up"
    return [
        f"Cases waiting for a person: {sum(waiting.values())} ({counts}).",
        f"  Staff handle them in Kuntaflow Desk: {up}, then open the staff pages' address it prints (/tapaukset);",
        "  or on the command line: kuntaflow queue list --state BUSINESS_FAILED (and --state ABANDONED; a citizen_reply waits NEW).",
    ]


def staff_address(port: int | None, url: str | None) -> tuple[int, str | None]:
    """The Desk's port and public address: the options, else ``KUNTAFLOW_STAFF_PORT``/``_PUBLIC_URL`` (a fixed
    address, so links e-mailed before a restart still work); no URL means ``http://HOST:PORT``.

    Raises:
        ValueError: ``url`` is not an absolute http(s) address without query or fragment.
    """
    settings = StaffSettings()
    if url is None and "public_url" in settings.model_fields_set:
        url = settings.public_url
    elif url is not None:
        url = public_base_url(url, setting="--staff-url", example="https://desk.example.fi")
    return (settings.port if port is None else port), url


def prefect_login_hint(settings, *, embedded: bool = True) -> str:
    """How a person logs in to the embedded Prefect UI, without printing the password."""
    if not embedded:
        return "your Prefect server's own credentials"
    where = "KUNTAFLOW_PREFECT_PASSWORD" if settings.prefect_password else f"the password in {settings.prefect_password_file}"
    return f"'{settings.prefect_user}:' followed by {where}"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
