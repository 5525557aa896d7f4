"""A local fake of the Helbit-like recruitment system (FastAPI): public open-jobs API, applications
API modelled on Greenhouse Harvest v1, and the recruiter web UI (connectors/helbit/sandbox/ui.py).

- ``GET /portal-api/recruitment/v2.3/open-jobs?client=helsinki&lang=fi_FI|sv_SE|en_US``: Helbit's
  published shape ``{"status": "OK", "jobAdvertisements": [{"jobAdvertisement": {…}, "link": {"url"}}]}``;
  an unknown client answers ``{"status": "ERROR", …}`` as the real one signals errors in ``status``.
- ``/api/v1`` (HTTP Basic, the API token as user name and an empty password; writes need
  ``On-Behalf-Of``): ``GET /jobs``, ``/jobs/{id}``, ``/jobs/{id}/stages``, ``/jobs/{id}/interview_slots``
  (Helbit's group-interview slots with capacity), ``GET /applications?job_id=&status=&per_page=&page=``
  (RFC 5988 ``Link`` pagination), ``GET /applications/{id}``, ``POST /applications/{id}/move``
  ``{from_stage_id, to_stage_id}``, ``POST /applications/{id}/reject`` ``{rejection_reason_id, notes}``,
  ``POST /applications/{id}/hire`` ``{start_date}``, ``GET /applications/{id}/scheduled_interviews``,
  ``GET /rejection_reasons``; ``POST /api/v2/scheduled_interviews`` ``{application_id,
  interview_slot_id}`` → 201, 200 with the application's existing interview, 409 ``slot_full``.
  Writes honour ``Idempotency-Key`` (a repeat gets the first answer, ``Idempotent-Replayed: true``).
  Errors are Greenhouse's ``{"message", "errors": [{"message", "field"}]}``.

For tests and people (never faulted): ``GET /_sandbox/state`` (counts), ``app.state.store``.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from connectors.helbit.sandbox.seed import CLIENT_ID
from connectors.helbit.sandbox.store import REJECTION_REASONS, HelbitApiError, HelbitStore
from connectors.helbit.sandbox.ui import ui
from connectors.helbit.settings import SANDBOX_API_TOKEN
from connectors.sandbox_api import api_error_handler, idempotent
from connectors.sandbox_support import FaultSpec, install_faults

OPEN_JOBS = "/portal-api/recruitment/v2.3/open-jobs"


class MoveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    from_stage_id: int
    to_stage_id: int


class RejectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rejection_reason_id: int
    notes: str | None = Field(default=None, max_length=2000)
    rejection_email: dict[str, Any] | None = None


class HireIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start_date: date
    opening_id: int | None = None
    close_reason_id: int | None = None


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    application_id: int
    interview_slot_id: int


def create_app(*, store: HelbitStore | None = None, today: date | None = None, api_token: str = SANDBOX_API_TOKEN, faults: FaultSpec | None = None) -> FastAPI:
    """Build a Helbit sandbox with its own seeded store (``today`` fixes the seed's dates)."""
    app = FastAPI(title="Helbit-like recruitment system (Kuntaflow sandbox)", version="2.3", docs_url="/docs")
    app.state.store = store or HelbitStore.seeded(today)
    app.state.api_token = api_token
    app.state.ui_secret = secrets.token_bytes(32)
    install_faults(app, faults, error_body=lambda status, message: {"message": message})
    app.add_exception_handler(HelbitApiError, api_error_handler('Basic realm="Helbit"'))
    app.add_exception_handler(RequestValidationError, _invalid)
    for router in (open_jobs, jobs, rejection_reasons, applications, scheduled_interviews, ui, sandbox_state):
        app.include_router(router)
    return app


async def _invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [{"message": problem["msg"], "field": ".".join(str(p) for p in problem["loc"][1:])} for problem in error.errors()]
    return JSONResponse({"message": "Validation error", "errors": errors}, status_code=422)


def _store(request: Request) -> HelbitStore:
    return request.app.state.store


def _authorized(request: Request) -> None:
    """HTTP Basic with the API token as the user name; writes also name the recruiter in ``On-Behalf-Of``."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    try:
        user, _, _ = base64.b64decode(value).decode().partition(":") if scheme.lower() == "basic" else ("", "", "")
    except (ValueError, UnicodeDecodeError):
        user = ""
    if not secrets.compare_digest(user, request.app.state.api_token):
        raise HelbitApiError(401, "Invalid Basic Auth credentials")
    if request.method != "GET" and not request.headers.get("on-behalf-of", "").isdigit():
        raise HelbitApiError(403, "The On-Behalf-Of header with a user id is required for writes")


async def _idempotent(request: Request, action: Callable[[HelbitStore], tuple[int, Any]]) -> JSONResponse:
    store = _store(request)
    return await idempotent(request, store, lambda: action(store), HelbitApiError)


# ---------------------------------------------------------------------------------- the public open-jobs API

open_jobs = APIRouter()


@open_jobs.get(OPEN_JOBS)
async def list_open_jobs(request: Request, client: str = "", lang: str = "fi_FI") -> JSONResponse:
    if client != CLIENT_ID:
        return JSONResponse({"status": "ERROR", "message": "Unknown client"})
    if lang not in ("fi_FI", "sv_SE", "en_US"):
        return JSONResponse({"status": "ERROR", "message": "Unsupported language"})
    store = _store(request)
    return JSONResponse({"status": "OK", "jobAdvertisements": [store.open_job_advertisement(job, lang) for job in store.jobs]})


# ---------------------------------------------------------------------------------- the applications API (v1)

jobs = APIRouter(prefix="/api/v1/jobs", dependencies=[Depends(_authorized)])


@jobs.get("")
async def list_jobs(request: Request, status: str | None = None) -> JSONResponse:
    store = _store(request)
    return JSONResponse([store.job_json(job) for job in store.jobs if status in (None, "open")])


@jobs.get("/{job_id}")
async def get_job(request: Request, job_id: int) -> JSONResponse:
    store = _store(request)
    return JSONResponse(store.job_json(store.job(job_id)))


@jobs.get("/{job_id}/stages")
async def job_stages(request: Request, job_id: int) -> JSONResponse:
    return JSONResponse(_store(request).stages_of(job_id))


@jobs.get("/{job_id}/interview_slots")
async def interview_slots(request: Request, job_id: int) -> JSONResponse:
    store = _store(request)
    with store.lock:
        return JSONResponse([store.slot_json(slot) for slot in store.slots_of(job_id)])


rejection_reasons = APIRouter(prefix="/api/v1/rejection_reasons", dependencies=[Depends(_authorized)])


@rejection_reasons.get("")
async def list_rejection_reasons() -> JSONResponse:
    return JSONResponse(list(REJECTION_REASONS))


applications = APIRouter(prefix="/api/v1/applications", dependencies=[Depends(_authorized)])


@applications.get("")
async def list_applications(
    request: Request,
    job_id: int | None = None,
    status: str | None = Query(default=None, pattern="^(active|rejected|hired|converted)$"),
    per_page: int = Query(default=100, ge=1, le=500),
    page: int = Query(default=1, ge=1),
) -> JSONResponse:
    store = _store(request)
    with store.lock:
        found = sorted(store.applications_of(job_id, status), key=lambda a: a.seed.application_id)
        chunk = [store.application_json(a) for a in found[(page - 1) * per_page : page * per_page]]
    links = []
    last = max(1, -(-len(found) // per_page))
    for rel, number in (("next", page + 1), ("prev", page - 1), ("last", last)):
        if 1 <= number <= last and (rel != "next" or page < last):
            links.append(f'<{request.url.include_query_params(page=number, per_page=per_page)}>; rel="{rel}"')
    return JSONResponse(chunk, headers={"Link": ", ".join(links)} if links else None)


@applications.get("/{application_id}")
async def get_application(request: Request, application_id: int) -> JSONResponse:
    store = _store(request)
    return JSONResponse(store.application_json(store.application(application_id)))


@applications.get("/{application_id}/scheduled_interviews")
async def application_interviews(request: Request, application_id: int) -> JSONResponse:
    return JSONResponse(_store(request).interviews_of(application_id))


@applications.post("/{application_id}/move")
async def move(request: Request, application_id: int, body: MoveIn) -> JSONResponse:
    return await _idempotent(request, lambda store: (200, store.application_json(store.move(application_id, body.from_stage_id, body.to_stage_id))))


@applications.post("/{application_id}/reject")
async def reject(request: Request, application_id: int, body: RejectIn) -> JSONResponse:
    return await _idempotent(request, lambda store: (200, store.application_json(store.reject(application_id, body.rejection_reason_id, body.notes))))


@applications.post("/{application_id}/hire")
async def hire(request: Request, application_id: int, body: HireIn) -> JSONResponse:
    return await _idempotent(request, lambda store: (200, store.application_json(store.hire(application_id, body.start_date))))


# ---------------------------------------------------------------------------------- interview booking (v2)

scheduled_interviews = APIRouter(prefix="/api/v2/scheduled_interviews", dependencies=[Depends(_authorized)])


@scheduled_interviews.post("")
async def schedule(request: Request, body: ScheduleIn) -> JSONResponse:
    return await _idempotent(request, lambda store: store.book(body.application_id, body.interview_slot_id))


# ---------------------------------------------------------------------------------- for tests and people

sandbox_state = APIRouter()


@sandbox_state.get("/_sandbox/state")
async def state(request: Request) -> JSONResponse:
    store = _store(request)
    with store.lock:
        return JSONResponse(
            {
                "jobs": {job.key: store.counts(job.job_id) for job in store.jobs},
                "scheduled_interviews": sum(1 for i in store.interviews.values() if i["status"] == "scheduled"),
                "exports": store.exports,
            }
        )
