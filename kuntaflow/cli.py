"""The ``kuntaflow`` command: the operator's and the developer's way into the engine."""

from __future__ import annotations

from typing import Annotated

import typer

from kuntaflow import cli_queue

app = typer.Typer(
    help="Kuntaflow: Prefect flows orchestrate Robot Framework robots for Finnish municipalities.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(cli_queue.app, name="queue")


@app.command()
def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for the API and UI.")] = 4200,
) -> None:
    """Run Prefect's server and UI for a person, with its database in the data directory."""
    from kuntaflow.prefect_server import serve_ui

    typer.echo(f"Prefect UI: http://{host}:{port}  (API http://{host}:{port}/api; Ctrl+C stops it)")
    typer.echo(f"To send flow runs here: export PREFECT_API_URL=http://{host}:{port}/api")
    raise typer.Exit(code=serve_ui(host=host, port=port))


if __name__ == "__main__":  # pragma: no cover
    app()
