"""The Desk's pages (GET: nothing changes): the dashboard, the list, a case, the bulk-retry confirmation, the access log."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from apps.i18n import HELSINKI
from apps.staff.access import ensure_may_handle, require_administrator, require_member, staff_settings
from apps.staff.desk.labels import checkpoint_label, field_label, step_label, trail_reason, value_text
from apps.staff.desk.pages import desk_of, render
from apps.staff.desk.payloads import editable_fields, personal_details, shown_fields
from apps.staff.identity import StaffMember
from apps.staff.pages import translator
from kuntaflow.robot_results import OUTPUT_XML, RobotLogError, build_log
from kuntaflow.robot_runner import run_output_dir
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import AuditEntry, ItemFilter, ItemNotFoundError, ItemState, WorkItem, WorkQueue, waiting_states
from schemas.workdays import working_days_between

#: Items on one list page.
PAGE_SIZE = 50

#: The signed-in member (sign-in first, else); every Desk route depends on it (``apps.staff.access``).
Member = Annotated[StaffMember, Depends(require_member)]
#: An administrator (403 for anyone else).
Administrator = Annotated[StaffMember, Depends(require_administrator)]


def processes_of(request: Request, member: StaffMember) -> list[str]:
    """The processes whose cases ``member`` sees, in a stable order."""
    return sorted(member.processes(staff_settings(request).role_processes))


pages = APIRouter()


# --------------------------------------------------------------------------- dashboard


@dataclass(frozen=True)
class ProcessOverview:
    process: str
    counts: dict[ItemState, int]
    waiting: int
    oldest_wait_working_days: int | None
    #: The waiting cases' list links to this state (a robot's process: BUSINESS_FAILED; people's: NEW).
    waiting_state: ItemState


def overview(queue: WorkQueue, processes: list[str], today: datetime) -> list[ProcessOverview]:
    """Per process: items by state, how many wait for a person, and the longest wait in working days."""
    rows = queue.state_summary(processes)
    result = []
    for process in processes:
        mine = [row for row in rows if row.process == process]
        states = waiting_states(process)
        waiting = [row for row in mine if row.state in states]
        oldest = min((row.oldest_since for row in waiting if row.oldest_since), default=None)
        days = working_days_between(oldest.astimezone(HELSINKI).date(), today.astimezone(HELSINKI).date()) if oldest else None
        counts = {row.state: row.count for row in mine}
        listed = next((state for state in states if counts.get(state)), states[0])
        result.append(ProcessOverview(process, counts, sum(row.count for row in waiting), days, listed))
    return result


@pages.get("/", response_class=HTMLResponse)
def dashboard(request: Request, member: Member) -> HTMLResponse:
    with desk_of(request).open_queue() as queue:
        processes = overview(queue, processes_of(request, member), datetime.now(UTC))
    return render(request, "dashboard.html", processes=processes, states=list(ItemState))


# --------------------------------------------------------------------------- the list


class FilterError(ValueError):
    """A list filter's value is not one the list understands; the key names the translated message."""


def item_filter(request: Request, member: StaffMember, params: dict[str, str]) -> ItemFilter:
    """The filter the query asks for, limited to the member's processes.

    Raises:
        HTTPException(403): a process the member does not handle.
        FilterError: a state or an age that is not one.
    """
    process = params.get("process") or ""
    if process:
        ensure_may_handle(request, member, process)
    state = None
    if params.get("state"):
        try:
            state = ItemState.parse(params["state"])
        except ValueError:
            raise FilterError("error_filter_bad_state") from None
    created_before = None
    if params.get("older_than_days"):
        text = params["older_than_days"].strip()
        if not text.isdigit() or int(text) > 3650:
            raise FilterError("error_filter_bad_age")
        created_before = datetime.now(UTC) - timedelta(days=int(text))
    return ItemFilter(
        processes=frozenset([process] if process else processes_of(request, member)),
        state=state,
        error_code=(params.get("error_code") or "").strip().upper() or None,
        reference_prefix=(params.get("reference") or "").strip() or None,
        created_before=created_before,
    )


FILTER_FIELDS = ("process", "state", "error_code", "reference", "older_than_days")


def _filter_params(request: Request) -> dict[str, str]:
    return {name: request.query_params.get(name, "") for name in FILTER_FIELDS}


@pages.get("/tapaukset", response_class=HTMLResponse)
def item_list(request: Request, member: Member, before: int | None = None) -> HTMLResponse:
    params = _filter_params(request)
    context: dict[str, Any] = {"params": params, "processes": processes_of(request, member), "states": list(ItemState)}
    try:
        matching = item_filter(request, member, params)
    except FilterError as error:
        return render(request, "list.html", status=422, problem=str(error), items=[], next_url=None, bulk_url=None, **context)
    with desk_of(request).open_queue() as queue:
        found = queue.page(matching, before_id=before, limit=PAGE_SIZE)
        retryable, _ = queue.count(matching, states=sorted(WorkQueue.RETRYABLE)) if matching.error_code or matching.state else (0, None)
    query = {name: value for name, value in params.items() if value}
    next_url = f"/tapaukset?{urlencode({**query, 'before': found.next_before_id})}" if found.next_before_id else None
    bulk_url = f"/tapaukset/uudelleenyritys?{urlencode(query)}" if retryable else None
    return render(request, "list.html", items=found.items, next_url=next_url, bulk_url=bulk_url, retryable=retryable, problem=None, **context)


@pages.get("/tapaukset/uudelleenyritys", response_class=HTMLResponse)
def bulk_retry_confirmation(request: Request, member: Member) -> HTMLResponse:
    """How many items a bulk retry of this filter would send back to the robots; the form does it."""
    params = _filter_params(request)
    try:
        matching = item_filter(request, member, params)
    except FilterError as error:
        raise HTTPException(422, str(error).removeprefix("error_")) from None
    with desk_of(request).open_queue() as queue:
        count, up_to_id = queue.count(matching, states=sorted(WorkQueue.RETRYABLE))
    return render(request, "bulk_retry.html", params=params, count=count, up_to_id=up_to_id or 0, problem=None)


# --------------------------------------------------------------------------- a case


def _known_links(desk_ui: str | None, item: WorkItem, checkpoints: dict[str, dict[str, Any]]) -> dict[str, str]:
    """The Prefect flow run and the robot's log, when the item's output or checkpoints name them."""
    found: dict[str, str] = {}
    for data in [item.output or {}, *checkpoints.values()]:
        for key in ("flow_run_id", "robot_log"):
            if isinstance(data.get(key), str) and key not in found:
                found[key] = data[key]
    links = {}
    if "flow_run_id" in found and desk_ui:
        links["flow_run"] = f"{desk_ui}/runs/flow-run/{found['flow_run_id']}"
    if "robot_log" in found:
        links["robot_log"] = found["robot_log"]
    return links


#: A Prefect run id inside a batch's lease owner (flows/robot_task.prefect_run_name): a flow run, or a background task run.
_PREFECT_RUN = re.compile(r"-(task-)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})-b\d+-")


def robot_runs(desk_engine: KuntaflowSettings, trail: list[AuditEntry]) -> list[tuple[int, AuditEntry, Path | None]]:
    """Each attempt a robot started on the item: (number, the start, its output folder when still there).

    A robot batch's run id is its lease owner, the actor of the item's ``start`` rows, so the robot's
    output is found from the audit trail alone (kuntaflow.robot_runner.run_output_dir); its log.html is
    built from output.xml when someone opens it.
    """
    starts = [entry for entry in trail if entry.action == "start"]
    found = []
    for number, entry in enumerate(starts, 1):
        folder = run_output_dir(entry.actor, desk_engine)
        found.append((number, entry, folder if (folder / OUTPUT_XML).is_file() else None))
    return found


def prefect_run_link(prefect_ui: str | None, actor: str) -> str | None:
    """The Prefect UI page of the run a robot batch (named by its lease owner) belonged to."""
    match = _PREFECT_RUN.search(actor)
    if not match or not prefect_ui:
        return None
    kind = "task-run" if match.group(1) else "flow-run"
    return f"{prefect_ui}/runs/{kind}/{match.group(2)}"


def item_page(
    request: Request,
    queue: WorkQueue,
    item: WorkItem,
    *,
    status: int = 200,
    problem: str | None = None,
    problem_text: str | None = None,
    revealed: list[tuple[str, str]] | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    """A case's page: state, error and its meaning, data (masked), checkpoints, audit trail, actions."""
    checkpoints = queue.checkpoints(item.id)
    trail = queue.audit(item.id)
    t = translator(request)

    def field_name(path: str) -> str:
        return field_label(t, item.process, path)

    return render(
        request,
        "item.html",
        status=status,
        item=item,
        fields=shown_fields(item.payload, field_name, lambda path, value: value_text(t, path, value)),
        shown_value=lambda value, key: value_text(t, key, value),
        field_name=field_name,
        checkpoint_name=lambda key: checkpoint_label(t, key),
        step_name=lambda step: step_label(t, step),
        trail_reason=lambda entry: trail_reason(t, item.process, entry.action, entry.reason),
        has_personal=bool(personal_details(item.payload)),
        editable=editable_fields(item.process, item.payload),
        checkpoints=checkpoints,
        trail=trail,
        robot_runs=[
            (number, entry, folder is not None, prefect_run_link(desk_of(request).prefect_ui_url, entry.actor))
            for number, entry, folder in robot_runs(desk_of(request).engine, trail)
        ],
        links=_known_links(desk_of(request).prefect_ui_url, item, checkpoints),
        retryable=item.state in WorkQueue.RETRYABLE,
        closable=item.state not in (ItemState.DONE, ItemState.IN_PROGRESS),
        abandonable=item.state in (ItemState.NEW, ItemState.BUSINESS_FAILED, ItemState.APPLICATION_FAILED),
        problem=problem,
        problem_text=problem_text,
        revealed=revealed,
        form=form or {},
    )


def load_item(request: Request, queue: WorkQueue, member: StaffMember, item_id: int) -> WorkItem:
    """The case, when the member's roles handle its process.

    Raises:
        HTTPException(404): no such case; HTTPException(403): not the member's process.
    """
    try:
        item = queue.get(item_id)
    except ItemNotFoundError:
        raise HTTPException(404) from None
    ensure_may_handle(request, member, item.process)
    return item


@pages.get("/tapaukset/{item_id}", response_class=HTMLResponse)
def show_item(request: Request, member: Member, item_id: int) -> HTMLResponse:
    with desk_of(request).open_queue() as queue:
        return item_page(request, queue, load_item(request, queue, member, item_id))


@pages.get("/tapaukset/{item_id}/robottiloki/{number}")
def robot_log(request: Request, member: Member, item_id: int, number: int) -> FileResponse:
    """A robot's log.html of one attempt on the case (masked as the runner wrote it), in a sandbox of its own.

    The log is Robot Framework's page, which needs its own scripts: it is served with a CSP sandbox, a
    unique origin with no access to the staff app's cookies or pages.
    """
    with desk_of(request).open_queue() as queue:
        load_item(request, queue, member, item_id)
        trail = queue.audit(item_id)
    for found, _, folder in robot_runs(desk_of(request).engine, trail):
        if found == number and folder is not None:
            try:
                log = build_log(folder)  # built once, on first opening (robots do not build it per batch)
            except RobotLogError:
                raise HTTPException(404, "this attempt's robot log cannot be built: the robot was stopped while writing it") from None
            return FileResponse(log, media_type="text/html", headers={"Content-Security-Policy": "sandbox allow-scripts", "Cache-Control": "no-store"})
    raise HTTPException(404)


# --------------------------------------------------------------------------- the access log


@pages.get("/kayttoloki", response_class=HTMLResponse)
def access_log(request: Request, member: Administrator, before: int | None = None) -> HTMLResponse:
    """Who looked at whose personal data, when and why: for administrators."""
    desk = desk_of(request)
    with desk.open_queue() as queue, desk.access_log(queue) as log:
        entries = log.entries(before_id=before, limit=PAGE_SIZE)
    next_url = f"/kayttoloki?before={entries[-1].id}" if len(entries) == PAGE_SIZE else None
    return render(request, "access_log.html", entries=entries, next_url=next_url)
