"""The ``kuntaflow`` command: the operator's and the developer's way into the engine."""

from __future__ import annotations

import os
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from apps import demo
from apps.cli import db_commands as cli_db
from apps.cli import queue_commands as cli_queue
from apps.cli import sandbox_commands as cli_sandbox
from apps.cli import stack_commands as cli_stack
from kuntaflow.privacy_sweep import clear_finished_payloads as clear_payloads
from kuntaflow.privacy_sweep import files_swept, sweep
from kuntaflow.robot_results import RobotLogError, build_log
from kuntaflow.settings import KuntaflowSettings
from processes.payload_retention import KEPT_PAYLOAD_FIELDS
from schemas.redaction import install as install_redaction

app = typer.Typer(
    help="Kuntaflow: Prefect flows orchestrate Robot Framework robots for Finnish municipalities.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(cli_queue.app, name="queue")
app.add_typer(cli_db.app, name="db")
app.command()(cli_sandbox.sandbox)
app.command("up")(cli_stack.up)


@app.command()
def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the API and UI.")] = 4200,
) -> None:
    """Run Prefect's server and UI for a person, with its database in the data directory."""
    from kuntaflow.prefect_server import serve_ui  # noqa: PLC0415 (Prefect's server: seconds to import, kept off the CLI's start-up)

    settings = KuntaflowSettings()
    typer.echo(f"Prefect UI: http://{host}:{port}  (API http://{host}:{port}/api; Ctrl+C stops it)")
    typer.echo(f"Basic auth on the UI and the API: log in with {cli_stack.prefect_login_hint(settings)}")
    typer.echo(f"To send flow runs here: export PREFECT_API_URL=http://{host}:{port}/api PREFECT_API_AUTH_STRING=<user:password>")
    raise typer.Exit(code=serve_ui(host=host, port=port))


@app.command("run")
def run_main_job(
    job: Annotated[
        str,
        typer.Option(help="main: every process's sample cases (apps/demo); a process name (library_card) for one; installation-check: the engine's self-test."),
    ] = "main",
    samples: Annotated[int | None, typer.Option(help="Sample cases per process (default: each process's own, 60 library-card applications).")] = None,
    batch_size: Annotated[int, typer.Option(help="installation-check: work items per robot batch.")] = 5,
    staff_port: Annotated[int | None, typer.Option(help="Kuntaflow Desk port (default KUNTAFLOW_STAFF_PORT, 8010; 0: any free port).")] = None,
) -> None:
    """Run the main job on the embedded defaults and print what happened.

    main: the local stack (sandboxes, e-service, Prefect with the prefect.yaml deployments and a
    worker) and each process's sample cases submitted the way they arrive in production; exits 0
    only when every case ended DONE or BUSINESS_FAILED as its rules say.
    installation-check: sample cases through the queue, a Prefect flow and robot subprocesses.
    """
    if job != "installation-check":
        if job != "main" and job not in demo.PROCESSES:
            raise typer.BadParameter(f"choose main, installation-check or one of {', '.join(demo.PROCESSES)}", param_hint="--job")
        raise typer.Exit(code=cli_stack.run_processes(None if job == "main" else (job,), samples, staff_port=staff_port))
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")  # our summary, not Prefect's chatter; set before Prefect is imported
    from kuntaflow.prefect_server import embedded_prefect  # noqa: PLC0415 (imports Prefect, which reads PREFECT_LOGGING_LEVEL set just above)

    install_redaction()
    settings = KuntaflowSettings()
    typer.echo(f"Data directory: {settings.resolved_data_dir}")
    typer.echo("Starting Prefect (embedded server unless PREFECT_API_URL is set) …")
    with embedded_prefect(settings) as api_url:
        from flows.installation_check import enqueue_samples, installation_check  # noqa: PLC0415 (a Prefect flow: after the logging level is set)

        typer.echo(f"Prefect API: {api_url}")
        with settings.work_queue() as queue:
            ids = enqueue_samples(queue)
            typer.echo(f"Installation check: {len(ids)} sample cases in the queue; running the flow …")
            summary = installation_check(batch_size=batch_size)
            items = [queue.get(item_id) for item_id in ids]
    _print_outcomes(items, summary.robot_logs)
    unfinished = [item for item in items if item.state.value not in ("DONE", "BUSINESS_FAILED")]
    if unfinished:
        typer.secho(f"{len(unfinished)} case(s) did not finish: see `kuntaflow queue list`.", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)
    typer.secho("Every case ended DONE or BUSINESS_FAILED.", fg=typer.colors.GREEN)


def _print_outcomes(items, robot_logs: list[str]) -> None:
    typer.echo("")
    typer.echo("Outcomes:")
    for (state, code), count in sorted(Counter((i.state.value, i.error_code or "-") for i in items).items()):
        typer.echo(f"  {state:<18} {code:<24} {count:>4}")
    retried = [i for i in items if i.attempts > 1]
    typer.echo(f"  retried after a transient failure: {len(retried)}")
    if robot_logs:
        typer.echo("Robot logs of this run (build one with kuntaflow robot-log PATH):")
        for log in robot_logs:
            typer.echo(f"  {log}")
    typer.echo("Inspect the queue: .venv/bin/kuntaflow queue status | list | show ID")


@app.command("new-process")
def new_process(
    name: Annotated[str, typer.Argument(help="The process's name: lower-case words joined by underscores, e.g. book_returns.")],
    title: Annotated[str | None, typer.Option(help="How people call it (Finnish), e.g. 'Palautusmuistutukset'.")] = None,
    root: Annotated[Path, typer.Option(help="The project to add it to.")] = Path(),
) -> None:
    """Add a process in the project's shape: schema, service, robot, flow, deployment, sample and flow test (docs/adding-a-process.md)."""
    from apps.cli.new_process import NewProcessError, generate  # noqa: PLC0415 (only this command needs it)

    try:
        written = generate(name, root.resolve(), title=title)
    except NewProcessError as error:
        raise typer.BadParameter(str(error), param_hint="NAME") from None
    for path in written:
        typer.echo(f"  {path.relative_to(root.resolve())}")
    typer.echo(f"Next: .venv/bin/python -m pytest -n 0 tests/flows/test_{name}.py, then docs/adding-a-process.md.")


@app.command("robot-log")
def robot_log(
    where: Annotated[Path, typer.Argument(help="A robot run's folder, or its log.html as the run summary names it.")],
) -> None:
    """Build a robot run's log.html and report.html from its masked output.xml (robots do not build
    them for every batch) and print where the log is; built once, then reused."""
    try:
        typer.echo(str(build_log(where)))
    except RobotLogError as error:
        typer.secho(str(error), fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from None


@app.command("privacy-sweep")
def privacy_sweep(
    folder: Annotated[str | None, typer.Argument(help="What to look through; default: the data directory.")] = None,
    clear_finished_payloads: Annotated[
        bool,
        typer.Option(
            "--clear-finished-payloads",
            help="First clear the personal data of work items finished more than KUNTAFLOW_PAYLOAD_RETENTION_DAYS ago, "
            "as the nightly personal-data-retention deployment does.",
        ),
    ] = False,
) -> None:
    """Look through every file Kuntaflow wrote (databases, robot outputs, workbooks, logs) for a
    henkilötunnus; print where each is (never the code) and exit 1 if any is found."""
    settings = KuntaflowSettings()
    root = Path(folder) if folder else settings.resolved_data_dir
    if not root.is_dir():
        raise typer.BadParameter(f"{root} is not a folder", param_hint="FOLDER")
    if clear_finished_payloads:
        with settings.work_queue() as queue:
            retention = timedelta(days=settings.payload_retention_days)
            cleared = clear_payloads(queue, retention=retention, keep=KEPT_PAYLOAD_FIELDS, actor="kuntaflow privacy-sweep")
        before = f"{cleared.finished_before:%Y-%m-%d %H:%M} UTC"
        typer.echo(f"{len(cleared.cleared)} finished work items lost their payload's personal data (finished before {before}).")
    findings = sweep(root)
    for finding in findings:
        typer.echo(str(finding))
    typer.echo(f"{files_swept(root)} files under {root}: {len(findings)} henkilötunnus found.")
    raise typer.Exit(code=1 if findings else 0)


if __name__ == "__main__":  # pragma: no cover
    app()
