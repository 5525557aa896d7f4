"""A local fake of the Koha REST API v1 patron subset (FastAPI), faithful to shared/specs/koha.

Routes (under ``/api/v1``): ``POST /oauth/token``; ``GET|POST /patrons``; ``GET|PUT|DELETE
/patrons/{patron_id}``; ``GET|POST|PUT /patrons/{patron_id}/extended_attributes``; ``PATCH|DELETE
/patrons/{patron_id}/extended_attributes/{extended_attribute_id}``; ``POST
/patrons/{patron_id}/password``; ``GET /libraries``, ``GET /libraries/{library_id}``, ``GET
/patron_categories``. Errors have Koha's shapes: ``{"error", "error_code"}`` from controllers and
``{"errors": [{"message", "path"}], "status": 400}`` from the OpenAPI validator. Faults come from
connectors/sandbox_support.py; ``app.state.store`` is the state a test inspects.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import SecretStr

from connectors.koha.sandbox.pages import install_pages
from connectors.koha.sandbox.protocol import SpecViolationError
from connectors.koha.sandbox.query import InvalidQueryError
from connectors.koha.sandbox.routes import ROUTERS
from connectors.koha.sandbox.seed import seed
from connectors.koha.sandbox.store import KohaApiError, KohaStore
from connectors.sandbox_api import api_error_handler
from connectors.sandbox_people import Population
from connectors.sandbox_support import FaultSpec, install_faults
from schemas.data_home import DataHome


def create_app(
    *,
    salt: SecretStr | None = None,
    faults: FaultSpec | None = None,
    hetu_key_attribute: str = "SOTU",
    guarantor_attribute: str = "TAKAAJA",
    seeded: bool = True,
    people: Population | None = None,
) -> FastAPI:
    """Build a Koha sandbox with its own store.

    Args:
        salt: the hetu-key salt the connector uses, so seeded patrons are found by key; by
            default the engine's (``DataHome().salt()``).
        faults: fault injection; by default from ``KUNTAFLOW_SANDBOX_FAULT_*``.
        people: whose Koha patrons are seeded; by default ``sandbox_population()``
            (``KUNTAFLOW_SANDBOX_POPULATION_*``).
    """
    store = KohaStore(guarantor_attribute=guarantor_attribute)
    if seeded:
        seed(store, salt if salt is not None else DataHome().salt(), hetu_key_attribute=hetu_key_attribute, people=people)

    app = FastAPI(title="Koha REST API v1 (Kuntaflow sandbox)", version="1", docs_url="/docs")
    app.state.store = store
    install_faults(app, faults, error_body=_fault_body)
    app.add_exception_handler(KohaApiError, api_error_handler())
    app.add_exception_handler(SpecViolationError, _spec_violation)
    app.add_exception_handler(InvalidQueryError, _invalid_query)
    for router in ROUTERS:
        app.include_router(router)
    install_pages(app, store, hetu_key_attribute=hetu_key_attribute)
    return app


def _fault_body(status: int, message: str) -> dict[str, str]:
    return {"error": message, "error_code": "internal_server_error" if status >= 500 else "sandbox_fault"}


async def _spec_violation(request: Request, violation: Exception) -> JSONResponse:
    assert isinstance(violation, SpecViolationError)
    return JSONResponse({"errors": violation.errors, "status": 400}, status_code=400)


async def _invalid_query(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"error": f"Invalid query: {error}", "error_code": "invalid_query"}, status_code=400)
