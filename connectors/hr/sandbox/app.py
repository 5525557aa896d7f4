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

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.hr.models import check_iban
from connectors.hr.sandbox.store import HrApiError, fingerprint, seeded_store
from connectors.hr.settings import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
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

    @app.exception_handler(HrApiError)
    async def _failure(request: Request, failure: HrApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if failure.status == 401 else None
        return JSONResponse(failure.body, status_code=failure.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        fields = [{"field": ".".join(str(p) for p in problem["loc"]), "problem": problem["msg"]} for problem in error.errors()]
        body = {"error": {"code": "invalid_request", "message": "The request does not match the API", "details": {"fields": fields}}}
        return JSONResponse(body, status_code=400)

    def authorized(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not store.check_token(token.strip()):
            raise HrApiError(401, "invalid_token", "A valid bearer token is required")

    async def idempotent(request: Request, action: Callable[[], tuple[int, Any]]) -> JSONResponse:
        key = request.headers.get("idempotency-key")
        print_ = fingerprint(request.method, request.url.path, await request.body())
        remembered = store.replay(key, print_)
        if remembered is not None:
            return JSONResponse(remembered.body, status_code=remembered.status, headers={"Idempotent-Replayed": "true"})
        try:
            status, body = action()
        except HrApiError as failure:
            status, body = failure.status, failure.body
        body = jsonable_encoder(body)
        store.remember(key, print_, status, body)
        return JSONResponse(body, status_code=status)

    @app.post(f"{API}/oauth/token")
    async def token(grant_type: Annotated[str, Form()], client_id: Annotated[str, Form()] = "", client_secret: Annotated[str, Form()] = "") -> JSONResponse:
        if grant_type != "client_credentials":
            raise HrApiError(400, "unsupported_grant_type", "Only client_credentials is supported")
        return JSONResponse(store.issue_token(client_id, client_secret))

    api = APIRouter(prefix=API, dependencies=[Depends(authorized)])

    @api.get("/units")
    async def list_units() -> JSONResponse:
        return JSONResponse(sorted(store.units.values(), key=lambda u: u["unit_id"]))

    @api.get("/units/{unit_id}")
    async def get_unit(unit_id: str) -> JSONResponse:
        return JSONResponse(store.unit(unit_id))

    @api.post("/employees", status_code=201)
    async def create_employee(request: Request, body: EmployeeIn) -> JSONResponse:
        def act() -> tuple[int, Any]:
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
            return 201, store.employee_json(store.add_employee(values))

        return await idempotent(request, act)

    @api.get("/employees/{employee_id}")
    async def get_employee(employee_id: int) -> JSONResponse:
        return JSONResponse(store.employee_json(store.employee(employee_id)))

    @api.post("/employments", status_code=201)
    async def create_employment(request: Request, body: EmploymentIn) -> JSONResponse:
        return await idempotent(request, lambda: (201, store.add_employment(jsonable_encoder(body))))

    @api.get("/employments")
    async def list_employments(employee_id: int) -> JSONResponse:
        return JSONResponse(jsonable_encoder(store.employments_of(employee_id)))

    @api.get("/employments/{employment_id}")
    async def get_employment(employment_id: int) -> JSONResponse:
        return JSONResponse(jsonable_encoder(store.employment(employment_id)))

    @api.post("/employments/{employment_id}/cancellation")
    async def cancel_employment(request: Request, employment_id: int, body: CancellationIn) -> JSONResponse:
        return await idempotent(request, lambda: (200, store.cancel(employment_id, body.reason)))

    app.include_router(api)

    @app.post("/_sandbox/employments/{employment_id}/status")
    async def set_status(employment_id: int, body: StatusIn) -> JSONResponse:
        return JSONResponse(jsonable_encoder(store.set_status(employment_id, body.status, body.missing_documents)))

    @app.post("/_sandbox/tokens/revoke", status_code=204)
    async def revoke() -> None:
        store.revoke_tokens()

    @app.get("/_sandbox/employments")
    async def all_employments() -> JSONResponse:
        return JSONResponse(jsonable_encoder(list(store.employments.values())))

    return app
