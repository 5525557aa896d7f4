"""A local fake of the service desk REST API v1 (FastAPI). The API is described in connectors/servicedesk/README.md.

Routes under ``/api/v1`` (HTTP Basic: operator account + application password): ``POST /requests``
(201 a new ticket, 200 the ticket the ``external_reference`` already names, 409
``reference_conflict`` when it names a different request, 422 ``unknown_access_profile`` /
``due_date_in_past``); ``GET /tickets?employee_id=&external_reference=&state=open|all|<state>``;
``GET /tickets/{id}``; ``POST /tickets/{id}/comments`` (``kind`` comment or reminder; with an
``external_reference`` a repeat is 200 with the first; 422 ``ticket_closed``); ``POST
/tickets/{id}/cancellation``. Errors are ``{"error": {"code", "message"}}``; a malformed request is
a 400 ``invalid_request`` naming the fields.

For tests and people (never faulted): ``POST /_sandbox/tickets/{id}/state`` (JSON ``{"state",
"resolution"}`` or the page's form) and the ticket board ``GET /_sandbox/tickets`` (HTML, Finnish
first). ``app.state.store`` is the :class:`DeskStore`.
"""

from __future__ import annotations

import base64
import binascii
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.sandbox_api import api_error_handler
from connectors.sandbox_support import FaultSpec, install_faults
from connectors.servicedesk.sandbox.store import STATES, DeskApiError, DeskStore
from connectors.servicedesk.settings import SANDBOX_APP_PASSWORD, SANDBOX_USERNAME

API = "/api/v1"
TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
Text = Annotated[str, Field(min_length=1, max_length=200)]


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    employee_id: int | None = None
    first_names: Text
    last_name: Text
    job_title: Text
    unit_id: str = Field(min_length=1, max_length=40)
    start_date: date


class ItAccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["it_account"]
    access_profile: str = Field(min_length=1, max_length=40)
    systems: list[Text] = []
    email_account: bool = True


class AccessCardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["access_card"]
    areas: list[Text] = Field(min_length=1)
    photo_needed: bool = True


class KeysIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["keys"]
    keys: list[Text] = Field(min_length=1)


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["laptop", "desktop", "phone", "tablet", "headset"]
    quantity: int = Field(default=1, ge=1, le=10)
    note: str | None = Field(default=None, max_length=200)


class EquipmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["equipment"]
    items: list[ItemIn] = Field(min_length=1)


class RequestIn(BaseModel):
    """``POST /requests`` body."""

    model_config = ConfigDict(extra="forbid")
    type: Literal["it_account", "access_card", "keys", "equipment"]
    external_reference: str = Field(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")
    requested_by: Text
    person: PersonIn
    due_date: date
    details: Annotated[ItAccountIn | AccessCardIn | KeysIn | EquipmentIn, Field(discriminator="kind")]
    description: str | None = Field(default=None, max_length=2000)


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["comment", "reminder"] = "comment"
    text: str = Field(min_length=1, max_length=4000)
    external_reference: str | None = Field(default=None, min_length=1, max_length=255)


class CancellationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


def create_app(*, accounts: dict[str, SecretStr] | None = None, faults: FaultSpec | None = None, today: date | None = None) -> FastAPI:
    """Build a service desk sandbox with its own store.

    Args:
        accounts: operator → application password; the sandbox's own by default.
        faults: fault injection; by default from ``KUNTAFLOW_SANDBOX_FAULT_*``.
        today: the desk's date for due-date checks; the real date by default.
    """
    logins = accounts or {SANDBOX_USERNAME: SANDBOX_APP_PASSWORD}
    app = FastAPI(title="Service desk REST API v1 (Kuntaflow sandbox)", version="1", docs_url="/docs")
    app.state.store = DeskStore(accounts={user: secret.get_secret_value() for user, secret in logins.items()}, today=today)
    install_faults(app, faults, error_body=lambda status, message: {"error": {"code": "sandbox_fault", "message": message}})
    app.add_exception_handler(DeskApiError, api_error_handler('Basic realm="servicedesk"'))
    app.add_exception_handler(RequestValidationError, _invalid)
    for router in (requests, tickets, sandbox):
        app.include_router(router)
    return app


async def _invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    fields = "; ".join(f"{'.'.join(str(p) for p in problem['loc'])}: {problem['msg']}" for problem in error.errors()[:10])
    return JSONResponse({"error": {"code": "invalid_request", "message": fields}}, status_code=400)


def _store(request: Request) -> DeskStore:
    return request.app.state.store


def _operator(request: Request) -> str:
    """The operator's name from HTTP Basic with their application password."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    try:
        user, _, password = base64.b64decode(credentials.strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        user, password = "", ""
    if scheme.lower() != "basic" or not _store(request).check_login(user, password):
        raise DeskApiError(401, "unauthorized", "Operator login failed")
    return user


Operator = Annotated[str, Depends(_operator)]

# ---------------------------------------------------------------------------------- requests

requests = APIRouter(prefix=f"{API}/requests")


@requests.post("", status_code=201)
async def create_request(request: Request, body: RequestIn, _: Operator) -> JSONResponse:
    ticket, created = _store(request).create(body.model_dump(mode="json"))
    return JSONResponse(ticket, status_code=201 if created else 200)


# ---------------------------------------------------------------------------------- tickets

tickets = APIRouter(prefix=f"{API}/tickets")


@tickets.get("")
async def list_tickets(
    request: Request, _: Operator, employee_id: int | None = None, external_reference: str | None = None, state: str = "open"
) -> JSONResponse:
    if state not in ("open", "all", *STATES):
        raise DeskApiError(400, "invalid_request", "state is open, all, or a ticket state")
    return JSONResponse(_store(request).find(employee_id=employee_id, external_reference=external_reference, state=state))


@tickets.get("/{ticket_id}")
async def get_ticket(request: Request, ticket_id: str, _: Operator) -> JSONResponse:
    return JSONResponse(_store(request).ticket(ticket_id))


@tickets.post("/{ticket_id}/comments", status_code=201)
async def add_comment(request: Request, ticket_id: str, body: CommentIn, user: Operator) -> JSONResponse:
    comment, created = _store(request).comment(ticket_id, body.kind, body.text, user, body.external_reference)
    return JSONResponse(comment, status_code=201 if created else 200)


@tickets.post("/{ticket_id}/cancellation")
async def cancel(request: Request, ticket_id: str, body: CancellationIn, _: Operator) -> JSONResponse:
    return JSONResponse(_store(request).cancel(ticket_id, body.reason))


# ---------------------------------------------------------------------------------- for tests and people

sandbox = APIRouter(prefix="/_sandbox")


@sandbox.post("/tickets/{ticket_id}/state", name="set_state")
async def set_state(request: Request, ticket_id: str) -> Response:
    store = _store(request)
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.json()
        return JSONResponse(store.set_state(ticket_id, str(body.get("state")), body.get("resolution")))
    form = await request.form()
    store.set_state(ticket_id, str(form.get("state")), str(form.get("resolution") or "") or None)
    return RedirectResponse(request.url_for("board"), status_code=303)


@sandbox.get("/tickets", response_class=HTMLResponse, name="board")
async def board(request: Request) -> Response:
    store = _store(request)
    found = sorted(store.find(employee_id=None, external_reference=None, state="all"), key=lambda t: t["ticket_id"], reverse=True)
    today = (store.today or date.today()).isoformat()
    return TEMPLATES.TemplateResponse(request, "tickets.html", {"tickets": found, "states": STATES, "today": today})
