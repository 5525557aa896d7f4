"""The Desk's actions (POST only, each with the CSRF token, the item's version and a reason).

Every action is the queue's own operator action with the signed-in member's ``actor`` in the audit
trail, on the version of the item the member's page showed: if a colleague or a robot changed the
item since, the queue refuses (nothing is written) and the page says so, showing the item as it is
now. Showing a henkilötunnus writes an access-log entry with the stated reason before the page is
made; nothing about the item changes.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from apps.csrf import FIELD as CSRF_FIELD
from apps.eservice.web import SmallForm
from apps.staff.desk.labels import rejection_text
from apps.staff.desk.pages import desk_of, notify, render
from apps.staff.desk.payloads import FieldRejectedError, corrected_payload, personal_details
from apps.staff.desk.views import FilterError, Member, item_filter, item_page, load_item
from apps.staff.identity import StaffMember
from apps.staff.pages import check_csrf, translator
from kuntaflow.workitems import InvalidTransitionError, ItemChangedError, SubjectKind, WorkItem, WorkQueue

actions = APIRouter()

#: An action: (queue, item, member, form, version) -> the notice key to show after it.
Action = Callable[[WorkQueue, WorkItem, StaffMember, dict[str, str], int], str]


def _reason(form: dict[str, str]) -> str:
    return form.get("reason", "").strip()


def _take(queue: WorkQueue, item: WorkItem, member: StaffMember, form: dict[str, str], version: int) -> str:
    queue.assign(item.id, assignee=member.actor, actor=member.actor, expected_version=version)
    return "done_take"


def _give_back(queue: WorkQueue, item: WorkItem, member: StaffMember, form: dict[str, str], version: int) -> str:
    queue.assign(item.id, assignee=None, actor=member.actor, expected_version=version)
    return "done_give_back"


def _retry(queue: WorkQueue, item: WorkItem, member: StaffMember, form: dict[str, str], version: int) -> str:
    queue.retry(item.id, reason=_reason(form), actor=member.actor, expected_version=version)
    return "done_retry"


def _mark_done(queue: WorkQueue, item: WorkItem, member: StaffMember, form: dict[str, str], version: int) -> str:
    queue.mark_done(item.id, reason=_reason(form), actor=member.actor, expected_version=version)
    return "done_mark_done"


def _abandon(queue: WorkQueue, item: WorkItem, member: StaffMember, form: dict[str, str], version: int) -> str:
    queue.abandon(item.id, reason=_reason(form), actor=member.actor, expected_version=version)
    return "done_abandon"


def _note(queue: WorkQueue, item: WorkItem, member: StaffMember, form: dict[str, str], version: int) -> str:
    queue.record(item.id, actor=member.actor, action="note", reason=_reason(form), expected_version=version)
    return "done_note"


def _edit(queue: WorkQueue, item: WorkItem, member: StaffMember, form: dict[str, str], version: int) -> str:
    if not _reason(form):
        raise ValueError("a correction needs a reason")
    field = form.get("field", "")
    payload = corrected_payload(item.process, item.payload, field, form.get("value", ""))
    queue.edit_payload(item.id, payload, reason=f"{field}: {_reason(form)}", actor=member.actor, expected_version=version)
    return "done_edit"


#: The actions by the last part of their address, ``/tapaukset/{id}/{name}``.
ACTIONS: dict[str, Action] = {
    "kasittelen": _take,
    "vapauta": _give_back,
    "uudelleen": _retry,
    "valmis": _mark_done,
    "keskeyta": _abandon,
    "muistiinpano": _note,
    "korjaa": _edit,
}


def _version(form: dict[str, str]) -> int:
    text = form.get("version", "")
    if not text.isdigit():
        raise HTTPException(400)
    return int(text)


@actions.post("/tapaukset/{item_id}/henkilotunnus", response_class=HTMLResponse)
def reveal_hetu(request: Request, member: Member, item_id: int, form: SmallForm) -> HTMLResponse:
    """The case's page with its henkilötunnus shown, after the reason went into the access log."""
    check_csrf(request, form.get(CSRF_FIELD))
    desk = desk_of(request)
    with desk.open_queue() as queue:
        item = load_item(request, queue, member, item_id)
        try:
            with desk.access_log(queue) as log:
                log.record(
                    actor=member.actor, action="show_hetu", subject_kind=SubjectKind.WORK_ITEM, subject_id=item.id, purpose=_reason(form), process=item.process
                )
        except ValueError:
            return item_page(request, queue, item, status=422, problem="problem_reason_missing")
        page = item_page(request, queue, item, revealed=personal_details(item.payload))
    page.headers["Cache-Control"] = "no-store"
    return page


@actions.post("/tapaukset/uudelleenyritys", response_class=HTMLResponse)
def bulk_retry(request: Request, member: Member, form: SmallForm) -> Response:
    """Retry the set the member confirmed: the filter, up to the newest item the confirmation counted."""
    check_csrf(request, form.get(CSRF_FIELD))
    params = {name: form.get(name, "") for name in ("process", "state", "error_code", "reference", "older_than_days")}
    try:
        matching = item_filter(request, member, params)
    except FilterError as error:
        raise HTTPException(422, str(error).removeprefix("error_")) from None
    up_to = form.get("up_to_id", "")
    if not up_to.isdigit():
        raise HTTPException(400)
    with desk_of(request).open_queue() as queue:
        try:
            retried = queue.retry_matching(matching, up_to_id=int(up_to), reason=_reason(form), actor=member.actor)
        except ValueError:
            count, _ = queue.count(matching, states=sorted(WorkQueue.RETRYABLE))
            return render(request, "bulk_retry.html", status=422, params=params, count=count, up_to_id=int(up_to), problem="problem_reason_missing")
    return render(request, "bulk_done.html", retried=retried, params=params)


@actions.post("/tapaukset/{item_id}/{action}", response_class=HTMLResponse)
def act(request: Request, member: Member, item_id: int, action: str, form: SmallForm) -> Response:
    """Apply one action; afterwards back to the case's page (303), or the page with why not."""
    check_csrf(request, form.get(CSRF_FIELD))
    if action not in ACTIONS:
        raise HTTPException(404)
    version = _version(form)
    with desk_of(request).open_queue() as queue:
        item = load_item(request, queue, member, item_id)
        try:
            notice = ACTIONS[action](queue, item, member, form, version)
        except ItemChangedError:
            return item_page(request, queue, queue.get(item_id), status=409, problem="problem_changed")
        except InvalidTransitionError:
            return item_page(request, queue, queue.get(item_id), status=409, problem="problem_not_now")
        except FieldRejectedError as error:
            problem_text = rejection_text(translator(request), item.process, error)
            return item_page(request, queue, item, status=422, problem="problem_field_rejected", problem_text=problem_text, form=form)
        except ValueError:
            return item_page(request, queue, item, status=422, problem="problem_reason_missing", form=form)
    notify(request, notice)
    return RedirectResponse(f"/tapaukset/{item_id}", status_code=303)
