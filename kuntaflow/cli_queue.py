"""``kuntaflow queue …``: what operators see of the work-item queue and how they act on it.

Every action names its reason, which goes into the item's audit trail with the operator's name.
"""

from __future__ import annotations

import getpass
import json
from typing import Annotated

import typer

from kuntaflow.redaction import redact_value
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState, WorkQueue, WorkQueueError

app = typer.Typer(help="Inspect the work-item queue and act on single cases.", no_args_is_help=True)

ReasonOption = Annotated[str, typer.Option("--reason", "-r", help="Why; recorded in the audit trail.")]


def _queue() -> WorkQueue:
    settings = KuntaflowSettings()
    try:
        return settings.work_queue()
    except WorkQueueError as exc:
        _fail(str(exc))


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def _actor() -> str:
    return f"operator:{getpass.getuser()}"


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json", help="Machine-readable counts.")] = False) -> None:
    """Counts of items by process and state."""
    counts = _queue().counts()
    if as_json:
        typer.echo(json.dumps(counts, indent=2))
        return
    if not counts:
        typer.echo("The queue is empty.")
        return
    states = [state.value for state in ItemState]
    width = max(len(p) for p in counts) + 2
    typer.echo("process".ljust(width) + "".join(s.rjust(20) for s in states))
    for process, by_state in counts.items():
        typer.echo(process.ljust(width) + "".join(str(by_state[s]).rjust(20) for s in states))


@app.command("list")
def list_items(
    process: Annotated[str | None, typer.Option("--process", "-p", help="Only this process.")] = None,
    state: Annotated[str | None, typer.Option("--state", "-s", help="Only this state, e.g. BUSINESS_FAILED.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
) -> None:
    """Items, newest first: id, process, state, attempts and error code (no personal data)."""
    try:
        items = _queue().list(process=process, state=state, limit=limit)
    except (ValueError, WorkQueueError) as exc:
        _fail(str(exc))
    for item in items:
        error = f"  {item.error_code}" if item.error_code else ""
        typer.echo(f"{item.id:>8}  {item.process:<20} {item.state.value:<19} attempts={item.attempts}{error}")
    if not items:
        typer.echo("No items match.")


@app.command()
def show(item_id: int) -> None:
    """One item: fields, payload (henkilötunnus masked), checkpoints and audit trail."""
    queue = _queue()
    try:
        item = queue.get(item_id)
        steps = queue.checkpoints(item_id)
        trail = queue.audit(item_id)
    except WorkQueueError as exc:
        _fail(str(exc))
    fields = item.model_dump(mode="json", exclude={"payload", "output"})
    typer.echo(json.dumps(fields, indent=2))
    typer.echo("payload: " + json.dumps(redact_value(item.payload), indent=2, ensure_ascii=False))
    if item.output is not None:
        typer.echo("output: " + json.dumps(redact_value(item.output), indent=2, ensure_ascii=False))
    typer.echo("checkpoints: " + json.dumps(redact_value(steps), indent=2, ensure_ascii=False))
    typer.echo("audit:")
    for entry in trail:
        change = f"{entry.from_state.value if entry.from_state else '-'} -> {entry.to_state.value if entry.to_state else '-'}"
        reason = f"  ({entry.reason})" if entry.reason else ""
        typer.echo(f"  {entry.at.isoformat()}  {entry.actor:<24} {entry.action:<16} {change}{reason}")


def _operator_action(name: str, item_id: int, reason: str) -> None:
    queue = _queue()
    try:
        getattr(queue, name)(item_id, reason=reason, actor=_actor())
    except (ValueError, WorkQueueError) as exc:
        _fail(str(exc))
    typer.echo(f"work item {item_id}: {queue.get(item_id).state.value}")


@app.command()
def retry(item_id: int, reason: ReasonOption) -> None:
    """Send a failed or abandoned item back to NEW with fresh attempts."""
    _operator_action("retry", item_id, reason)


@app.command("mark-done")
def mark_done(item_id: int, reason: ReasonOption) -> None:
    """Record that a person handled the case: DONE."""
    _operator_action("mark_done", item_id, reason)


@app.command()
def abandon(item_id: int, reason: ReasonOption) -> None:
    """Stop working on the case: ABANDONED."""
    _operator_action("abandon", item_id, reason)
