"""``kuntaflow db …``: the work-item queue's database schema (Alembic migrations in kuntaflow/workitems/migrations).

Registered in ``apps/cli/main.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import WorkQueueError, current_revision, upgrade_database

app = typer.Typer(help="The work-item queue's database: its schema revision and migrations.", no_args_is_help=True)


@app.command()
def upgrade(
    revision: Annotated[str, typer.Option(help="The revision to migrate to; the newest by default.")] = "head",
) -> None:
    """Migrate the queue's database (KUNTAFLOW_DATABASE_URL, or SQLite in the data directory) to the
    newest schema. A database made before migrations is recognised and stamped, never re-created;
    one already there is left as it is. Run it before starting workers on a new release."""
    url = KuntaflowSettings().queue_url
    shown = make_url(url).render_as_string(hide_password=True)
    before = _or_exit(current_revision, url)
    after = _or_exit(upgrade_database, url, revision)
    if before == after:
        typer.echo(f"{shown}: at revision {after}, nothing to do.")
    else:
        typer.echo(f"{shown}: upgraded from revision {before or '(none)'} to {after}.")


@app.command()
def current() -> None:
    """Print the revision the queue's database is at ("none" before its first upgrade)."""
    typer.echo(_or_exit(current_revision, KuntaflowSettings().queue_url) or "none")


def _or_exit(action: Callable[..., str | None], *args: str) -> str | None:
    """``action(*args)``; a queue error is printed (it names the database without its password) and exits 2."""
    try:
        return action(*args)
    except WorkQueueError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2) from None
