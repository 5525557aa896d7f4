"""A local fake of the HR/payroll REST API v1 (FastAPI). The API is described in connectors/hr/README.md.

Routes under ``/api/v1``: ``POST /oauth/token``; ``GET /units``, ``GET /units/{unit_id}``; ``POST
/employees`` (409 ``employee_exists`` with the existing ``employee_id`` and ``employment_ids``), ``GET
/employees/{employee_id}``; ``POST /employments`` (409 ``employment_exists`` with the existing
``employment_id`` for the same person and start date; 422 for data HR refuses), ``GET
/employments?employee_id=``, ``GET /employments/{employment_id}``, ``POST
/employments/{employment_id}/cancellation``. Writes honour ``Idempotency-Key``: a repeated key
gets the first answer again (``Idempotent-Replayed: true``); the key with another request is a
422 ``idempotency_key_reused``. Errors are ``{"error": {"code", "message", "details"}}``; a
malformed request is a 400 ``invalid_request`` naming fields, never their values.

For tests and people (never faulted): ``POST /_sandbox/employments/{id}/status`` moves an
employment along (``{"status", "missing_documents"}``), ``POST /_sandbox/tokens/revoke``, ``GET
/_sandbox/employments``. ``app.state.store`` is the :class:`HrStore`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.hr.models import check_iban
from connectors.hr.sandbox.store import HrApiError, HrStore, seeded_store
from connectors.hr.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from connectors.sandbox_api import api_error_handler, idempotent
from connectors.sandbox_support import FaultSpec, install_faults
from schemas.hetu import parse_hetu

API = "/api/v1"
Text100 = Annotated[str, Field(min_length=1, max_length=100)]


class EmployeeIn(BaseModel):
    """``POST /employees`` body."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    hetu: str = Field(description="Henkilötunnus; stored, never returned.")
    first_names: Text100
    last_name: Text100
    calling_name: Text100 | None = None
    language: Literal["fi", "sv", "en"] = "fi"
    private_email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    iban: str | None = Field(default=None, description="Finnish IBAN for salary payments.")


class EmploymentIn(BaseModel):
    """``POST /employments`` body."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)
    employee_id: int
    start_date: date
    end_date: date | None = None
    employment_type: Literal["permanent", "fixed_term"]
    relationship: Literal["employment_contract", "public_office"]
    job_title: Text100
    title_code: str | None = Field(default=None, max_length=20)
    unit_id: str = Field(min_length=1, max_length=40)
    cost_centre: str | None = None
    supervisor_id: int | None = None
    working_time_percent: Decimal = Field(gt=0, le=100)
    collective_agreement: Literal["SOTE", "KVTES", "LS", "TS", "OVTES"]
    trial_period_months: int = Field(ge=0, le=6)
    monthly_salary_eur: Decimal | None = Field(default=None, gt=0)


class CancellationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str
    missing_documents: list[str] | None = None


def create_app(
    *,
    clients: dict[str, SecretStr] | None = None,
    token_ttl_seconds: int = 3600,
    faults: FaultSpec | None = None,
) -> FastAPI:
    """Build an HR sandbox with its own seeded store.

    Args:
        clients: client id → secret; the sandbox's own pair by default.
        faults: fault injection; by default from ``KUNTAFLOW_SANDBOX_FAULT_*``.
    """
    credentials = clients or {SANDBOX_CLIENT_ID: SANDBOX_CLIENT_SECRET}
    store = seeded_store({cid: secret.get_secret_value() for cid, secret in credentials.items()}, token_ttl_seconds=token_ttl_seconds)
    app = FastAPI(title="HR/payroll REST API v1 (Kuntaflow sandbox)", version="1", docs_url="/docs")
    app.state.store = store
    install_faults(app, faults, error_body=lambda status, message: {"error": {"code": "sandbox_fault", "message": message, "details": {}}})
    app.add_exception_handler(HrApiError, api_error_handler("Bearer"))
    app.add_exception_handler(RequestValidationError, _invalid)
    for router in (oauth, units, employees, employments, sandbox):
        app.include_router(router)
    return app


async def _invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    fields = [{"field": ".".join(str(p) for p in problem["loc"]), "problem": problem["msg"]} for problem in error.errors()]
    body = {"error": {"code": "invalid_request", "message": "The request does not match the API", "details": {"fields": fields}}}
    return JSONResponse(body, status_code=400)


def _store(request: Request) -> HrStore:
    return request.app.state.store


def _authorized(request: Request) -> None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not _store(request).check_token(token.strip()):
        raise HrApiError(401, "invalid_token", "A valid bearer token is required")


# ---------------------------------------------------------------------------------- oauth

oauth = APIRouter(prefix=f"{API}/oauth")


@oauth.post("/token")
async def token(
    request: Request, grant_type: Annotated[str, Form()], client_id: Annotated[str, Form()] = "", client_secret: Annotated[str, Form()] = ""
) -> JSONResponse:
    if grant_type != "client_credentials":
        raise HrApiError(400, "unsupported_grant_type", "Only client_credentials is supported")
    return JSONResponse(_store(request).issue_token(client_id, client_secret))


# ---------------------------------------------------------------------------------- units

units = APIRouter(prefix=f"{API}/units", dependencies=[Depends(_authorized)])


@units.get("")
async def list_units(request: Request) -> JSONResponse:
    return JSONResponse(sorted(_store(request).units.values(), key=lambda u: u["unit_id"]))


@units.get("/{unit_id}")
async def get_unit(request: Request, unit_id: str) -> JSONResponse:
    return JSONResponse(_store(request).unit(unit_id))


# ---------------------------------------------------------------------------------- employees

employees = APIRouter(prefix=f"{API}/employees", dependencies=[Depends(_authorized)])


@employees.post("", status_code=201)
async def create_employee(request: Request, body: EmployeeIn) -> JSONResponse:
    store = _store(request)
    return await idempotent(request, store, lambda: (201, store.employee_json(store.add_employee(_checked_employee(body)))), HrApiError)


def _checked_employee(body: EmployeeIn) -> dict[str, Any]:
    """The employee's values once HR has checked them: a valid hetu, and a Finnish IBAN in its normal form."""
    values = body.model_dump()
    try:
        parse_hetu(values["hetu"])
    except ValueError:
        raise HrApiError(422, "invalid_hetu", "hetu is not a valid henkilötunnus", {"field": "hetu"}) from None
    if values["iban"] is not None:
        try:
            values["iban"] = check_iban(values["iban"])
        except ValueError:
            raise HrApiError(422, "invalid_iban", "iban is not a valid Finnish IBAN", {"field": "iban"}) from None
    return values


@employees.get("/{employee_id}")
async def get_employee(request: Request, employee_id: int) -> JSONResponse:
    store = _store(request)
    return JSONResponse(store.employee_json(store.employee(employee_id)))


# ---------------------------------------------------------------------------------- employments

employments = APIRouter(prefix=f"{API}/employments", dependencies=[Depends(_authorized)])


@employments.post("", status_code=201)
async def create_employment(request: Request, body: EmploymentIn) -> JSONResponse:
    store = _store(request)
    return await idempotent(request, store, lambda: (201, store.add_employment(jsonable_encoder(body))), HrApiError)


@employments.get("")
async def list_employments(request: Request, employee_id: int) -> JSONResponse:
    return JSONResponse(jsonable_encoder(_store(request).employments_of(employee_id)))


@employments.get("/{employment_id}")
async def get_employment(request: Request, employment_id: int) -> JSONResponse:
    return JSONResponse(jsonable_encoder(_store(request).employment(employment_id)))


@employments.post("/{employment_id}/cancellation")
async def cancel_employment(request: Request, employment_id: int, body: CancellationIn) -> JSONResponse:
    store = _store(request)
    return await idempotent(request, store, lambda: (200, store.cancel(employment_id, body.reason)), HrApiError)


# ---------------------------------------------------------------------------------- for tests and people

sandbox = APIRouter(prefix="/_sandbox")


@sandbox.post("/employments/{employment_id}/status")
async def set_status(request: Request, employment_id: int, body: StatusIn) -> JSONResponse:
    return JSONResponse(jsonable_encoder(_store(request).set_status(employment_id, body.status, body.missing_documents)))


@sandbox.post("/tokens/revoke", status_code=204)
async def revoke(request: Request) -> None:
    _store(request).revoke_tokens()


@sandbox.get("/employments")
async def all_employments(request: Request) -> JSONResponse:
    return JSONResponse(jsonable_encoder(list(_store(request).employments.values())))
