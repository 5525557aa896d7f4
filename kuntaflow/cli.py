"""The ``kuntaflow`` command: the operator's and the developer's way into the engine."""

from __future__ import annotations

import typer

from kuntaflow import cli_queue

app = typer.Typer(
    help="Kuntaflow: Prefect flows orchestrate Robot Framework robots for Finnish municipalities.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(cli_queue.app, name="queue")


if __name__ == "__main__":  # pragma: no cover
    app()
