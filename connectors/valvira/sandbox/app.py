"""A local fake of the professional register lookup (FastAPI), seeded by connectors/helbit/sandbox/seed.py.

``GET /api/v1/professionals/{registration_number}`` → the person with every right (404 ``not_found``);
``GET /api/v1/professionals?last_name=&first_name=&birth_date=`` → matching people (a name alone
lists the namesakes; ``first_name`` matches any of the first names). Header ``X-Api-Key`` (401
``unauthorized``). Rights carry ``status`` ``valid|limited|expired``. Unlike the public
JulkiTerhikki this employer lookup also shows expired rights and birth dates (assumption; the
employer must confirm the right person, domain.md §4.1). ``GET /_sandbox/professionals`` is the
same search without the key, for a person to open (never faulted).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import date, datetime
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse

from connectors.helbit.sandbox.seed import HELSINKI, RegisterEntry, recruitment_world
from connectors.sandbox_support import FaultSpec, install_faults
from connectors.valvira.settings import SANDBOX_API_KEY

_REGISTERS = {"Lähihoitaja": "Suosikki", "Sosionomi": "Suosikki"}


def entry_json(entry: RegisterEntry) -> dict[str, Any]:
    return {
        "registration_number": entry.registration_number,
        "last_name": entry.last_name,
        "first_names": entry.first_names,
        "birth_date": entry.birth_date.isoformat(),
        "rights": [
            {
                "profession": r.profession,
                "kind": r.kind,
                "register": _REGISTERS.get(r.profession, "Terhikki"),
                "valid_from": r.valid_from.isoformat(),
                "valid_until": r.valid_until.isoformat() if r.valid_until else None,
                "status": r.status,
                "limitation": r.limitation,
            }
            for r in entry.rights
        ],
    }


def create_app(*, today: date | None = None, api_key: str = SANDBOX_API_KEY, faults: FaultSpec | None = None) -> FastAPI:
    """Build the register sandbox for ``today``'s seed (the same day as the Helbit sandbox's)."""
    world = recruitment_world(today or datetime.now(HELSINKI).date())
    by_number = {entry.registration_number: entry for entry in world.register}
    by_surname: dict[str, list[RegisterEntry]] = defaultdict(list)
    for entry in world.register:
        by_surname[entry.last_name.lower()].append(entry)
    app = FastAPI(title="Professional register lookup (Kuntaflow sandbox)", version="1", docs_url="/docs")
    app.state.register = by_number
    install_faults(app, faults, error_body=lambda status, message: {"error": {"code": "sandbox_fault", "message": message}})

    @app.middleware("http")
    async def api_key_required(request: Request, call_next: Any) -> Any:
        if request.url.path.startswith(f"{request.scope.get('root_path', '')}/api/") and not secrets.compare_digest(
            request.headers.get("x-api-key", "").encode(), api_key.encode()
        ):
            return JSONResponse({"error": {"code": "unauthorized", "message": "A valid X-Api-Key is required"}}, status_code=401)
        return await call_next(request)

    @app.get("/api/v1/professionals/{registration_number}")
    async def by_registration_number(registration_number: str) -> JSONResponse:
        entry = by_number.get(registration_number)
        if entry is None:
            return JSONResponse({"error": {"code": "not_found", "message": "No professional with that registration number"}}, status_code=404)
        return JSONResponse(entry_json(entry))

    @app.get("/_sandbox/professionals")
    @app.get("/api/v1/professionals")
    async def search(last_name: str = Query(min_length=2), first_name: str = "", birth_date: date | None = None) -> JSONResponse:
        wanted = first_name.strip().lower()
        found = [
            e
            for e in by_surname.get(last_name.strip().lower(), [])
            if (not wanted or wanted in e.first_names.lower().split()) and (birth_date is None or e.birth_date == birth_date)
        ]
        return JSONResponse([entry_json(e) for e in found[:100]])

    return app
