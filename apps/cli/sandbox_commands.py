"""``kuntaflow sandbox``: every connector sandbox on one port, for robots and for a person to look at.

Register with ``app.command()(cli_sandbox.sandbox)``; ``python -m apps.cli.sandbox_commands`` runs it alone.
"""

from __future__ import annotations

from typing import Annotated

import typer

DEFAULT_PORT = 8080


def sandbox(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for every sandbox (each under /<connector>/).")] = DEFAULT_PORT,
    only: Annotated[list[str] | None, typer.Option("--only", help="Serve only this connector's sandbox (repeatable).")] = None,
) -> None:
    """Serve the sandboxes of the city's systems (Suomi.fi, Koha, …) on one port until Ctrl+C."""
    # Kept off the CLI's start-up: uvicorn and every sandbox's FastAPI app take a second or more to import.
    import uvicorn  # noqa: PLC0415 (heavy, only for this command)

    from connectors.sandbox_server import create_app  # noqa: PLC0415 (heavy, only for this command)
    from connectors.servers import port_free  # noqa: PLC0415 (imports uvicorn)

    if not port_free(host, port):
        typer.secho(f"Port {port} on {host} is in use: choose another with --port.", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)
    app = create_app(only=only)
    root = f"http://{host}:{port}"
    typer.echo(f"Sandboxes: {root}/  (open this in a browser; Ctrl+C stops them)")
    for entry in app.state.sandboxes.values():
        if entry.error:
            typer.secho(f"  {entry.name:<20} could not start: {entry.error}", fg=typer.colors.RED, err=True)
        else:
            typer.echo(f"  {entry.name:<20} {root}{entry.prefix}")
    if not app.state.sandboxes:
        typer.secho("No sandbox packages found under connectors/.", fg=typer.colors.YELLOW, err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")


if __name__ == "__main__":
    typer.run(sandbox)
