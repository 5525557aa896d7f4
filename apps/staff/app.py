"""Staff pages (FastAPI, no JavaScript): Kuntaflow Desk, and the supervisor's confirmation through a signed link.

The Desk (``apps.staff.desk``, its README) is where signed-in staff handle the cases that wait
for a person; it needs the signed session cookie this app sets (``KUNTAFLOW_STAFF_SECRET_KEY``, or a
key generated once into the data directory).

``GET /vahvistus/{token}`` shows what is being confirmed and a short form; ``POST`` records the
answer (flows/employment_confirmation.py): the confirmation work item is closed, who confirmed and
when goes into both items' audit trails, and a Prefect run waiting on it is resumed. GET never
confirms anything (mail scanners open links). The link is one-time: once confirmed, it shows who
confirmed and when, and records nothing more. An incomplete form is shown again with the reason
(422); a forged, altered or expired link gets 400 and records nothing. No henkilötunnus is ever
on these pages: the token carries item ids only.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from apps.eservice.web import PageError
from apps.staff.desk import ROUTERS as DESK_ROUTERS
from apps.staff.desk.access import SignInRequiredError
from apps.staff.desk.pages import HERE as DESK_HERE
from apps.staff.desk.pages import build_desk, render
from apps.staff.settings import StaffSettings
from kuntaflow.settings import KuntaflowSettings
from kuntaflow.workitems import ItemNotFoundError, ItemState, WorkQueue
from processes.employment_start.confirmation import (
    ConfirmationAnswer,
    ConfirmationResult,
    EmploymentStartSettings,
    LinkError,
    confirmation_problem,
    read_token,
    record_confirmation,
    resume_waiting_run,
)
from schemas.employee import CONFIRMATION_PROCESS

_PAGE = """<!doctype html>
<html lang="fi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} – Kuntaflow</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}
.error{{border-left:4px solid #b00020;padding:.5rem 1rem;background:#fdecea}}label{{display:block;margin-top:1rem}}
input[type=text],textarea{{width:100%;padding:.4rem;font-size:1rem}}button{{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem}}</style>
</head><body><main><h1>{title}</h1>{body}</main></body></html>"""


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status)


def create_app(
    settings: EmploymentStartSettings | None = None,
    *,
    queue_factory: Callable[[], WorkQueue] | None = None,
    staff_settings: StaffSettings | None = None,
    engine_settings: KuntaflowSettings | None = None,
) -> FastAPI:
    """The staff app. ``queue_factory`` defaults to the engine settings' queue."""
    engine = engine_settings or KuntaflowSettings()
    staff = staff_settings or StaffSettings()
    app = FastAPI(title="Kuntaflow – henkilöstön sivut", docs_url=None, redoc_url=None, openapi_url=None, lifespan=_lifespan)
    app.state.link_settings = settings or EmploymentStartSettings()
    app.state.open_queue = queue_factory or engine.work_queue
    app.state.staff_settings = staff
    app.state.desk = build_desk(staff, app.state.open_queue, engine)
    secret = staff.secret_key or engine.generated_secret("staff-secret.key", lambda: secrets.token_urlsafe(48))
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret.get_secret_value(),
        session_cookie="kuntaflow_staff",
        max_age=8 * 3600,  # a working day
        same_site="lax",
        https_only=staff.public_url.startswith("https://"),
    )
    app.middleware("http")(_security_headers)
    app.mount("/desk-static", StaticFiles(directory=str(DESK_HERE / "static")), name="desk-static")
    app.add_exception_handler(SignInRequiredError, _sign_in_first)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(PageError, _page_error)
    app.include_router(confirmation)
    for router in DESK_ROUTERS:
        app.include_router(router)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Hold the queue's database while serving: each request's queue then reuses the pooled connections
    (the shared engine closes its pool when its last holder closes)."""
    with app.state.open_queue():
        yield


async def _security_headers(request: Request, call_next):
    response = await call_next(request)
    response.headers.setdefault(
        "Content-Security-Policy", "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if not request.url.path.startswith("/desk-static"):
        response.headers.setdefault("Cache-Control", "no-store")  # pages hold personal data
    return response


def _sign_in_first(request: Request, error: Exception) -> RedirectResponse:
    assert isinstance(error, SignInRequiredError)
    return RedirectResponse(error.location, status_code=303)


#: The message of each refusal, by HTTP status (translation keys).
_REFUSALS = {400: "error_bad_request", 403: "error_forbidden", 404: "error_not_found", 405: "error_not_found", 422: "error_bad_request"}


def _http_error(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail if isinstance(error.detail, str) and error.detail.startswith("filter_") else None
    return render(request, "message.html", status=error.status_code, key=_REFUSALS.get(error.status_code, "error"), detail=detail)


def _page_error(request: Request, error: Exception) -> HTMLResponse:
    assert isinstance(error, PageError)
    return render(request, "message.html", status=error.status_code, key="error_csrf" if error.key == "csrf" else "error_bad_request", detail=None)


def _confirmation(request: Request, queue: WorkQueue, token: str) -> tuple[int, dict] | HTMLResponse:
    """The confirmation item the link names, or the page saying why the link is no good."""
    try:
        item_id, supervisor_id = read_token(token, request.app.state.link_settings)
        item = queue.get(item_id)
    except LinkError as error:
        return _page("Linkki ei kelpaa", f'<p class="error">{html.escape(str(error))}</p>', 400)
    except ItemNotFoundError:
        return _page("Linkki ei kelpaa", '<p class="error">Vahvistettavaa asiaa ei löydy.</p>', 404)
    if item.process != CONFIRMATION_PROCESS or item.payload.get("supervisor_id") != supervisor_id:
        return _page("Linkki ei kelpaa", '<p class="error">Linkki ei kuulu tähän vahvistukseen.</p>', 400)
    return item_id, item.payload


@contextmanager
def _opened(request: Request, token: str) -> Iterator[tuple[WorkQueue, tuple[int, dict] | HTMLResponse]]:
    """A queue for this request (closed afterwards) and what the link leads to."""
    with request.app.state.open_queue() as queue:
        yield queue, _confirmation(request, queue, token)


def _form(token: str, payload: dict, *, problem: str = "", confirmed_by: str | None = None, note: str = "", status: int = 200) -> HTMLResponse:
    name = payload.get("supervisor_name", "") if confirmed_by is None else confirmed_by
    body = (
        (f'<div class="error" role="alert"><p>{html.escape(problem)}</p></div>' if problem else "")
        + f"<p><strong>{html.escape(payload['employee_name'])}</strong>, {html.escape(payload['title'])}, "
        f"{html.escape(payload['unit_name'])}: aloittaa {html.escape(str(payload['start_date']))}.</p>"
        "<p>Tarkista sähköpostin liitteenä oleva perehdytyssuunnitelma ja palvelupyynnöt.</p>"
        f'<form method="post" action="/vahvistus/{html.escape(token)}">'
        '<label for="confirmed_by">Vahvistajan nimi</label>'
        f'<input type="text" id="confirmed_by" name="confirmed_by" value="{html.escape(name)}" required>'
        '<label><input type="checkbox" name="plan_confirmed" value="true"> Perehdytyssuunnitelma ja tilaukset on tarkistettu</label>'
        f'<label for="note">Huomiot HR:lle (valinnainen)</label><textarea id="note" name="note" rows="3">{html.escape(note)}</textarea>'
        '<button type="submit">Vahvista</button></form>'
    )
    return _page("Uuden työntekijän perehdytyksen vahvistus", body, status)


def _already(queue: WorkQueue, item_id: int) -> HTMLResponse:
    confirmed = queue.checkpoints(item_id).get("confirmed") or {}
    who = html.escape(str(confirmed.get("by", "")))
    return _page("Vahvistettu", f"<p>Perehdytys on jo vahvistettu{(': ' + who) if who else ''}. Kiitos!</p>")


#: The supervisor's confirmation link: GET shows, POST records.
confirmation = APIRouter(prefix="/vahvistus")


@confirmation.get("/{token}", response_class=HTMLResponse)
def show(request: Request, token: str) -> HTMLResponse:
    with _opened(request, token) as (queue, found):
        if isinstance(found, HTMLResponse):
            return found
        item_id, payload = found
        if queue.get(item_id).state is ItemState.DONE:
            return _already(queue, item_id)
        return _form(token, payload)


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
            return _form(token, payload, problem=confirmation_problem(error), confirmed_by=confirmed_by, note=note, status=422)
        result = record_confirmation(queue, item_id, confirmed_by=answer.confirmed_by, via="sähköpostilinkki", note=answer.note)
        if result is ConfirmationResult.ALREADY_CONFIRMED:
            return _already(queue, item_id)
        if result is ConfirmationResult.BUSY:
            return _form(token, payload, problem="Vahvistusta käsitellään juuri nyt; lähetä lomake hetken kuluttua uudelleen.", status=409)
        resume_waiting_run(queue, item_id, {"confirmed_by": answer.confirmed_by, "plan_confirmed": True, "note": answer.note})
        return _page("Kiitos!", f"<p>Vahvistus on kirjattu: {html.escape(answer.confirmed_by)}. Henkilöstöpalvelut näkee sen.</p>")
