"""The Koha sandbox's REST routes, one router per resource of the Koha REST API v1.

Each route reaches the sandbox's state through ``request.app.state.store``, so the routers are plain
module-level objects that any number of sandbox apps (each with its own store) include.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from connectors.koha.sandbox.protocol import (
    PATRON_EMBEDS,
    TYPE_NAMES,
    AttributeBody,
    AttributeValueBody,
    PasswordBody,
    PatronBody,
    SpecViolationError,
    embeds_of,
    int_path,
    json_body,
    match_param,
    paginate,
    queries_of,
    validate_body,
)
from connectors.koha.sandbox.query import matches
from connectors.koha.sandbox.store import KohaApiError, KohaStore

API = "/api/v1"


def _store(request: Request) -> KohaStore:
    return request.app.state.store


def _authorize(request: Request, *needed: str) -> None:
    """Koha's permission check: a bearer token or basic login, then one of the ``needed`` permissions."""
    store = _store(request)
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    key = None
    if scheme.lower() == "bearer":
        key = store.key_for_token(credentials.strip())
    elif scheme.lower() == "basic":
        userid, password = _basic(credentials)
        key = store.key_for_login(userid, password)
    if key is None:
        raise KohaApiError(401, {"error": "Authentication failure."})
    if not key.allows(needed):
        flag, _, sub = needed[0].partition(":")
        raise KohaApiError(
            403,
            {"error": "Authorization failure. Missing required permission(s).", "required_permissions": {flag: sub or "1"}},
        )


def _basic(credentials: str) -> tuple[str, str]:
    try:
        userid, _, password = base64.b64decode(credentials.strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return userid, password


# ---------------------------------------------------------------------------------- oauth

oauth = APIRouter(prefix=f"{API}/oauth")


@oauth.post("/token")
async def token(request: Request) -> JSONResponse:
    form = await request.form()
    client_id, client_secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        client_id, client_secret = _basic(header[6:])
    if form.get("grant_type") is None:
        raise SpecViolationError([{"message": "Missing property.", "path": "/grant_type"}])
    if form.get("grant_type") != "client_credentials":
        raise KohaApiError(400, {"error": "Unimplemented grant type"})
    return JSONResponse(_store(request).issue_token(str(client_id or ""), str(client_secret or "")))


# ---------------------------------------------------------------------------------- patrons

patrons = APIRouter(prefix=f"{API}/patrons")


def _render_patron(store: KohaStore, record: dict[str, Any], embeds: set[str]) -> dict[str, Any]:
    out = dict(record)
    if "extended_attributes" in embeds:
        out["extended_attributes"] = store.patron_attributes(record["patron_id"])
    if "checkouts+count" in embeds:
        out["checkouts_count"] = 0
    if "overdues+count" in embeds:
        out["overdues_count"] = 0
    if "account_balance" in embeds:
        out["account_balance"] = 0
    if "library" in embeds:
        out["library"] = store.libraries.get(record["library_id"])
    return out


@patrons.get("")
async def list_patrons(request: Request) -> JSONResponse:
    _authorize(request, "borrowers:edit_borrowers", "tools:label_creator", "serials:routing", "acquisition:order_manage")
    store = _store(request)
    embeds = embeds_of(request, PATRON_EMBEDS)
    raw = await request.body()
    queries = queries_of(request, json.loads(raw) if raw.strip() else None)
    mode = request.query_params.get("_match", "contains")
    if mode not in ("contains", "exact", "starts_with", "ends_with"):
        raise SpecViolationError([{"message": "Not in enum list: contains, exact, starts_with, ends_with.", "path": "/_match"}])
    filters = {k: v for k, v in request.query_params.items() if not k.startswith("_") and k != "q"}
    with store.lock:
        base_total = len(store.patrons)
        candidates = _attribute_value_candidates(store, queries) if "extended_attributes" in embeds else None
        if candidates is None:
            records = [dict(r) for r in store.patrons.values()]
        else:  # what an index on the attribute value gives Koha: only the patrons holding it
            records = [dict(store.patrons[pid]) for pid in sorted(candidates) if pid in store.patrons]
        selected = [
            _render_patron(store, record, embeds)
            for record in records
            if all(name in record and match_param(record[name], wanted, mode) for name, wanted in filters.items())
            and (not queries or _matches_any_row(store, record, embeds, queries))
        ]
    return paginate(request, selected, base_total, "patron_id")


def _matches_any_row(store: KohaStore, record: dict[str, Any], embeds: set[str], queries: list[Any]) -> bool:
    """Whether one row of the patron joined with its embeds matches every query, as Koha's SQL would."""
    rows = _joined_rows(record, embeds, store.attributes.of_patron(record["patron_id"]))
    return any(all(matches(q, row) for q in queries) for row in rows)


@patrons.post("", status_code=201)
async def add_patron(request: Request) -> JSONResponse:
    _authorize(request, "borrowers:edit_borrowers")
    body = validate_body(PatronBody, await json_body(request)).model_dump(exclude_unset=True, by_alias=True)
    record = _store(request).add_patron(body)
    return JSONResponse(record, status_code=201, headers={"Location": f"{request.url}/{record['patron_id']}"})


@patrons.get("/{patron_id}")
async def get_patron(request: Request, patron_id: str) -> JSONResponse:
    _authorize(request, "borrowers:edit_borrowers")
    embeds = embeds_of(request, ("extended_attributes",))
    store = _store(request)
    return JSONResponse(_render_patron(store, store.patron(int_path(patron_id, "patron_id")), embeds))


@patrons.put("/{patron_id}")
async def update_patron(request: Request, patron_id: str) -> JSONResponse:
    _authorize(request, "borrowers")
    pid = int_path(patron_id, "patron_id")
    body = validate_body(PatronBody, await json_body(request)).model_dump(exclude_unset=True, by_alias=True)
    return JSONResponse(_store(request).update_patron(pid, body))


@patrons.delete("/{patron_id}", status_code=204)
async def delete_patron(request: Request, patron_id: str) -> Response:
    _authorize(request, "borrowers:delete_borrowers")
    _store(request).delete_patron(int_path(patron_id, "patron_id"))
    return Response(status_code=204)


def _attribute_value_candidates(store: KohaStore, queries: list[Any]) -> set[int] | None:
    """The patrons that can match: those holding the attribute value a query asks for as plain text
    equality (``{"extended_attributes.attribute": "…"}``), or ``None`` when no query does (scan all).

    Every query must match the same joined row, so one such condition narrows the search; the full
    query is still evaluated on each candidate.
    """
    for query in queries:
        if isinstance(query, dict) and isinstance(value := query.get("extended_attributes.attribute"), str):
            return {a["patron_id"] for a in store.attributes.with_value(value)}
    return None


def _joined_rows(record: dict[str, Any], embeds: set[str], attributes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows a SQL LEFT JOIN of the patron with its embedded attributes (``attributes``, the patron's own) would give."""
    if "extended_attributes" not in embeds:
        return [record]
    if not attributes:
        return [record | {"extended_attributes.code": None, "extended_attributes.attribute": None, "extended_attributes.id": None}]
    return [
        record | {"extended_attributes.code": a["type"], "extended_attributes.attribute": a["value"], "extended_attributes.id": a["extended_attribute_id"]}
        for a in attributes
    ]


# ---------------------------------------------------------------------------------- password

password = APIRouter(prefix=f"{API}/patrons")


@password.post("/{patron_id}/password")
async def set_password(request: Request, patron_id: str) -> JSONResponse:
    _authorize(request, "borrowers")
    pid = int_path(patron_id, "patron_id")
    body = validate_body(PasswordBody, await json_body(request))
    assert isinstance(body, PasswordBody)
    _store(request).set_password(pid, body.password, body.password_2)
    return JSONResponse("", status_code=200)


# ---------------------------------------------------------------------------------- extended attributes

extended_attributes = APIRouter(prefix=f"{API}/patrons/{{patron_id}}/extended_attributes")


@extended_attributes.get("")
async def list_attributes(request: Request, patron_id: str) -> JSONResponse:
    _authorize(request, "borrowers:edit_borrowers")
    pid = int_path(patron_id, "patron_id")
    store = _store(request)
    store.patron(pid)
    return JSONResponse(store.patron_attributes(pid))


@extended_attributes.post("", status_code=201)
async def add_attribute(request: Request, patron_id: str) -> JSONResponse:
    _authorize(request, "borrowers:edit_borrowers")
    pid = int_path(patron_id, "patron_id")
    body = validate_body(AttributeBody, await json_body(request)).model_dump(exclude_unset=True)
    return JSONResponse(_store(request).add_attribute(pid, body), status_code=201)


@extended_attributes.put("")
async def overwrite_attributes(request: Request, patron_id: str) -> JSONResponse:
    _authorize(request, "borrowers:edit_borrowers")
    pid = int_path(patron_id, "patron_id")
    payload = await json_body(request)
    if not isinstance(payload, list):
        raise SpecViolationError([{"message": f"Expected array - got {TYPE_NAMES.get(type(payload).__name__, 'string')}.", "path": "/body"}])
    items = [validate_body(AttributeBody, item, f"/body/{i}").model_dump(exclude_unset=True) for i, item in enumerate(payload)]
    return JSONResponse(_store(request).overwrite_attributes(pid, items))


@extended_attributes.patch("/{attribute_id}")
async def update_attribute(request: Request, patron_id: str, attribute_id: str) -> JSONResponse:
    _authorize(request, "borrowers:edit_borrowers")
    pid = int_path(patron_id, "patron_id")
    aid = int_path(attribute_id, "extended_attribute_id")
    body = validate_body(AttributeValueBody, await json_body(request))
    assert isinstance(body, AttributeValueBody)
    if body.value is None:
        raise KohaApiError(400, {"error": "Missing value"})
    return JSONResponse(_store(request).update_attribute(pid, aid, body.value))


@extended_attributes.delete("/{attribute_id}", status_code=204)
async def delete_attribute(request: Request, patron_id: str, attribute_id: str) -> Response:
    _authorize(request, "borrowers:edit_borrowers")
    _store(request).delete_attribute(int_path(patron_id, "patron_id"), int_path(attribute_id, "extended_attribute_id"))
    return Response(status_code=204)


# ---------------------------------------------------------------------------------- reference data

libraries = APIRouter(prefix=f"{API}/libraries")


@libraries.get("")
async def list_libraries(request: Request) -> JSONResponse:
    _authorize(request, "catalogue")
    store = _store(request)
    rows = sorted((dict(r) for r in store.libraries.values()), key=lambda r: r["library_id"])
    for query in queries_of(request, None):
        rows = [r for r in rows if matches(query, r)]
    return paginate(request, rows, len(store.libraries), "library_id")


@libraries.get("/{library_id}")
async def get_library(request: Request, library_id: str) -> JSONResponse:
    _authorize(request, "catalogue")
    library = _store(request).libraries.get(library_id)
    if library is None:
        raise KohaApiError(404, {"error": "Library not found"})
    return JSONResponse(library)


patron_categories = APIRouter(prefix=f"{API}/patron_categories")


@patron_categories.get("")
async def list_categories(request: Request) -> JSONResponse:
    _authorize(request, "parameters:manage_patron_categories")
    rows = [dict(c) for c in _store(request).categories.values()]
    return paginate(request, rows, len(rows), "patron_category_id", declared=False)


#: In the order the app includes them; each is one resource of the API.
ROUTERS = (oauth, patrons, password, extended_attributes, libraries, patron_categories)
