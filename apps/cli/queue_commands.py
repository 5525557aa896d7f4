"""``kuntaflow queue …``: what operators see of the work-item queue and how they act on it.

Every action names its reason, which goes into the item's audit trail with the operator's name.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemState, WorkQueue, WorkQueueError
from schemas.reason_meanings import meaning, with_meaning
from schemas.recruitment import still_missing
from schemas.redaction import redact_value

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
    with _queue() as queue:
        counts = queue.counts()
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
        with _queue() as queue:
            items = queue.list(process=process, state=state, limit=limit)
    except (ValueError, WorkQueueError) as exc:
        _fail(str(exc))
    for item in items:
        error = f"  {with_meaning(item.error_code)}" if item.error_code else ""
        typer.echo(f"{item.id:>8}  {item.process:<20} {item.state.value:<19} attempts={item.attempts}{error}")
    if not items:
        typer.echo("No items match.")


@app.command()
def show(item_id: int) -> None:
    """One item: fields, payload (henkilötunnus masked), checkpoints and audit trail."""
    try:
        with _queue() as queue:
            item = queue.get(item_id)
            steps = queue.checkpoints(item_id)
            trail = queue.audit(item_id)
    except WorkQueueError as exc:
        _fail(str(exc))
    fields = item.model_dump(mode="json", exclude={"payload", "output"})
    typer.echo(json.dumps(fields, indent=2))
    if item.error_code:
        typer.echo(f"meaning: {meaning(item.error_code)}")
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
    with _queue() as queue:
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


def _value(text: str) -> object:
    """A ``--set`` value: JSON when it parses (numbers, true/false, lists), the text otherwise."""
    try:
        return json.loads(text)
    except ValueError:
        return text


@app.command("edit-payload")
def edit_payload(
    item_id: int,
    reason: ReasonOption,
    set_fields: Annotated[list[str] | None, typer.Option("--set", help="FIELD=VALUE (a JSON value or text); repeatable.")] = None,
    ask: Annotated[
        list[str] | None, typer.Option("--ask", help="FIELD to type in at a hidden prompt (for a henkilötunnus: never on the command line); repeatable.")
    ] = None,
    from_file: Annotated[str | None, typer.Option("--file", help="A JSON object of fields to set.")] = None,
    then_retry: Annotated[bool, typer.Option("--retry", help="Then send the item back to NEW with fresh attempts.")] = False,
) -> None:
    """Correct or complete a case's data (e.g. a hire from the recruitment system that lacks the
    henkilötunnus, unit and supervisor); the fields given replace the payload's, and a hire's
    ``missing`` list drops what was added. Nothing is shown back but the field names."""
    changes: dict[str, object] = {}
    if from_file:
        try:
            loaded = json.loads(Path(from_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            _fail(f"cannot read {from_file} as JSON: {type(exc).__name__}")
        if not isinstance(loaded, dict):
            _fail(f"{from_file} must hold a JSON object of fields")
        changes |= loaded
    for pair in set_fields or []:
        name, sep, text = pair.partition("=")
        if not sep or not name.strip():
            _fail(f"--set needs FIELD=VALUE, not {redact_value(pair)!r}")
        changes[name.strip()] = _value(text)
    for name in ask or []:
        changes[name] = _value(typer.prompt(name, hide_input=True))
    if not changes:
        _fail("nothing to change: give --set, --ask or --file")
    with _queue() as queue:
        try:
            payload = dict(queue.get(item_id).payload)
            payload |= changes
            if (missing := still_missing(payload)) is not None:
                payload["missing"] = missing
            queue.edit_payload(item_id, payload, reason=reason, actor=_actor())
            if then_retry:
                queue.retry(item_id, reason=reason, actor=_actor())
        except (ValueError, WorkQueueError) as exc:
            _fail(redact_value(str(exc)))
        typer.echo(f"work item {item_id}: {', '.join(sorted(changes))} changed; {queue.get(item_id).state.value}")
