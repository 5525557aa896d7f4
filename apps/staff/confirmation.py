"""The supervisor confirms an employment start through a signed link (no sign-in: the link is the key).

``GET /vahvistus/{token}`` shows what is being confirmed and a short form; ``POST`` records the
answer (flows/employment_confirmation.py): the confirmation work item is closed, who confirmed and
when goes into both items' audit trails, and a Prefect run waiting on it is resumed. GET never
confirms anything (mail scanners open links). The link is one-time: once confirmed, it shows who
confirmed and when, and records nothing more. An incomplete form is shown again with the reason
(422); a forged, altered or expired link gets 400 and records nothing. No henkilötunnus is ever
on these pages: the token carries item ids only. The pages follow the person's language
(fi/sv/en) and show dates the Finnish way.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from apps.staff.pages import page, render, translator
from kuntaflow.workitems import ItemNotFoundError, ItemState, WorkQueue
from processes.employment_start.confirmation import (
    ConfirmationAnswer,
    ConfirmationResult,
    LinkError,
    confirmation_problem_codes,
    read_token,
    record_confirmation,
    resume_waiting_run,
)
from schemas.employee import CONFIRMATION_PROCESS


def _confirmation(request: Request, queue: WorkQueue, token: str) -> tuple[int, dict] | HTMLResponse:
    """The confirmation item the link names, or the page saying why the link is no good."""
    try:
        item_id, supervisor_id = read_token(token, request.app.state.link_settings)
        item = queue.get(item_id)
    except LinkError as error:
        return page(request, "link_invalid_title", f"link_{error.kind}", status=400)
    except ItemNotFoundError:
        return page(request, "link_invalid_title", "link_not_found", status=404)
    if item.process != CONFIRMATION_PROCESS or item.payload.get("supervisor_id") != supervisor_id:
        return page(request, "link_invalid_title", "link_not_this", status=400)
    return item_id, item.payload


@contextmanager
def _opened(request: Request, token: str) -> Iterator[tuple[WorkQueue, tuple[int, dict] | HTMLResponse]]:
    """A queue for this request (closed afterwards) and what the link leads to."""
    with request.app.state.open_queue() as queue:
        yield queue, _confirmation(request, queue, token)


def _form(
    request: Request, token: str, payload: dict, *, problems: Sequence[str] = (), confirmed_by: str | None = None, note: str = "", status: int = 200
) -> HTMLResponse:
    t = translator(request)
    return render(
        request,
        "confirmation.html",
        status=status,
        title=t("confirm_title"),
        token=token,
        payload=payload,
        problems=[t(f"confirm_problem_{code}") for code in problems],
        confirmed_by=payload.get("supervisor_name", "") if confirmed_by is None else confirmed_by,
        note=note,
    )


def _already(request: Request, queue: WorkQueue, item_id: int) -> HTMLResponse:
    confirmed = queue.checkpoints(item_id).get("confirmed") or {}
    return page(request, "confirmed_title", "already_confirmed", who=str(confirmed.get("by", "")) or "–")


#: The supervisor's confirmation link: GET shows, POST records.
confirmation = APIRouter(prefix="/vahvistus")


@confirmation.get("/{token}", response_class=HTMLResponse)
def show(request: Request, token: str) -> HTMLResponse:
    with _opened(request, token) as (queue, found):
        if isinstance(found, HTMLResponse):
            return found
        item_id, payload = found
        if queue.get(item_id).state is ItemState.DONE:
            return _already(request, queue, item_id)
        return _form(request, token, payload)


@confirmation.post("/{token}", response_class=HTMLResponse)
def confirm(
    request: Request,
    token: str,
    confirmed_by: Annotated[str, Form(max_length=100)] = "",
    plan_confirmed: Annotated[bool, Form()] = False,
    note: Annotated[str, Form(max_length=500)] = "",
) -> HTMLResponse:
    with _opened(request, token) as (queue, found):
        if isinstance(found, HTMLResponse):
            return found
        item_id, payload = found
        try:
            answer = ConfirmationAnswer(confirmed_by=confirmed_by, plan_confirmed=plan_confirmed, note=note)
        except ValidationError as error:
            return _form(request, token, payload, problems=confirmation_problem_codes(error), confirmed_by=confirmed_by, note=note, status=422)
        result = record_confirmation(queue, item_id, confirmed_by=answer.confirmed_by, via="sähköpostilinkki", note=answer.note)
        if result is ConfirmationResult.ALREADY_CONFIRMED:
            return _already(request, queue, item_id)
        if result is ConfirmationResult.BUSY:
            return _form(request, token, payload, problems=["busy"], confirmed_by=confirmed_by, note=note, status=409)
        resume_waiting_run(queue, item_id, {"confirmed_by": answer.confirmed_by, "plan_confirmed": True, "note": answer.note})
        return page(request, "thanks_title", "thanks", who=answer.confirmed_by)
