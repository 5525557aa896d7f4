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

import base64
import binascii
import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from connectors.koha.sandbox.pages import install_pages
from connectors.koha.sandbox.query import InvalidQuery, field_matches, like, matches
from connectors.koha.sandbox.seed import seed
from connectors.koha.sandbox.store import KohaFailure, KohaStore
from connectors.sandbox_people import Population
from connectors.sandbox_support import FaultSpec, install_faults

API = "/api/v1"
PATRON_EMBEDS = ("extended_attributes", "checkouts+count", "overdues+count", "account_balance", "library")
DEFAULT_PER_PAGE = 20  # Koha's RESTdefaultPageSize


def _iso_date(value: str | None) -> str | None:
    if value is not None:
        date.fromisoformat(value)
    return value


def _iso_datetime(value: str | None) -> str | None:
    if value is not None:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


Text = StrictStr | None
DateText = Annotated[StrictStr | None, AfterValidator(_iso_date)]
DateTimeText = Annotated[StrictStr | None, AfterValidator(_iso_datetime)]


class AttributeBody(BaseModel):
    """definitions/patron_extended_attribute.yaml"""

    model_config = ConfigDict(extra="forbid")
    extended_attribute_id: StrictInt | None = None
    type: StrictStr
    value: StrictStr


class PatronBody(BaseModel):
    """definitions/patron.yaml as a request body: ``additionalProperties: false``, three required fields."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    patron_id: StrictInt | None = None
    cardnumber: Text = None
    surname: Text
    firstname: Text = None
    preferred_name: Text = None
    middle_name: Text = None
    title: Text = None
    other_name: Text = None
    initials: Text = None
    pronouns: Text = None
    street_number: Text = None
    street_type: Text = None
    address: Text = None
    address2: Text = None
    city: Text = None
    state: Text = None
    postal_code: Text = None
    country: Text = None
    email: Text = None
    phone: Text = None
    mobile: Text = None
    fax: Text = None
    secondary_email: Text = None
    secondary_phone: Text = None
    altaddress_street_number: Text = None
    altaddress_street_type: Text = None
    altaddress_address: Text = None
    altaddress_address2: Text = None
    altaddress_city: Text = None
    altaddress_state: Text = None
    altaddress_postal_code: Text = None
    altaddress_country: Text = None
    altaddress_email: Text = None
    altaddress_phone: Text = None
    date_of_birth: DateText = None
    library_id: StrictStr = Field(max_length=10)
    category_id: StrictStr = Field(max_length=10)
    date_enrolled: DateText = None
    expiry_date: DateText = None
    date_renewed: DateText = None
    incorrect_address: StrictBool | None = None
    patron_card_lost: StrictBool | None = None
    expired: StrictBool | None = None
    restricted: StrictBool | None = None
    staff_notes: Text = None
    relationship_type: StrictStr | None = Field(default=None, max_length=100)
    gender: StrictStr | None = Field(default=None, max_length=1)
    userid: Text = None
    opac_notes: Text = None
    altaddress_notes: StrictStr | None = Field(default=None, max_length=255)
    statistics_1: StrictStr | None = Field(default=None, max_length=80)
    statistics_2: StrictStr | None = Field(default=None, max_length=80)
    autorenew_checkouts: StrictBool | None = None
    altcontact_firstname: Text = None
    altcontact_surname: Text = None
    altcontact_address: Text = None
    altcontact_address2: Text = None
    altcontact_city: Text = None
    altcontact_state: Text = None
    altcontact_postal_code: Text = None
    altcontact_country: Text = None
    altcontact_phone: Text = None
    sms_number: StrictStr | None = Field(default=None, max_length=50)
    sms_provider_id: StrictInt | None = None
    privacy: StrictInt | None = None
    privacy_guarantor_checkouts: StrictBool | None = None
    privacy_guarantor_fines: StrictBool | None = None
    check_previous_checkout: Literal["yes", "no", "inherit"] | None = None
    updated_on: DateTimeText = None
    last_seen: DateTimeText = None
    lang: StrictStr | None = None
    login_attempts: StrictInt | None = None
    overdrive_auth_token: Text = None
    anonymized: StrictBool | None = None
    extended_attributes: list[AttributeBody] | None = None
    checkouts_count: StrictInt | None = None
    overdues_count: StrictInt | None = None
    account_balance: StrictInt | StrictFloat | None = None
    library: dict[str, Any] | None = None
    protected: StrictBool | None = None
    strings: dict[str, Any] | None = Field(default=None, alias="_strings")


class PasswordBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    password: StrictStr
    password_2: StrictStr


class AttributeValueBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    value: StrictStr | None = None


# --------------------------------------------------------------------------------- helpers


class SpecViolation(Exception):
    """A request the OpenAPI validator (Mojolicious::Plugin::OpenAPI) would refuse with 400."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


_TYPE_NAMES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "dict": "object", "list": "array", "NoneType": "null"}


def _spec_errors(error: ValidationError, root: str) -> list[dict[str, str]]:
    """pydantic's errors in the words of JSON::Validator, which Koha's API uses."""
    out = []
    for problem in error.errors(include_url=False):
        loc = [str(part) for part in problem["loc"]]
        kind = problem["type"]
        got = _TYPE_NAMES.get(type(problem.get("input")).__name__, "string")
        if kind == "missing":
            message = "Missing property."
        elif kind == "extra_forbidden":
            message, loc = f"Properties not allowed: {loc[-1]}.", loc[:-1]
        elif kind == "string_too_long":
            message = f"String is too long: {len(problem['input'])}/{problem['ctx']['max_length']}."
        elif kind.endswith("_type") or kind.endswith("_parsing"):
            expected = {"string_type": "string", "int_type": "integer", "bool_type": "boolean", "float_type": "number"}.get(kind, "valid value")
            message = f"Expected {expected} - got {got}."
        elif kind == "literal_error":
            message = f"Not in enum list: {problem['ctx']['expected']}."
        elif kind == "value_error":
            message = (
                "Does not match date format."
                if "date" in str(problem.get("msg", "")).lower() or "isoformat" in str(problem.get("msg", ""))
                else str(problem["msg"])
            )
        else:
            message = str(problem["msg"])
        out.append({"message": message, "path": "/".join([root, *loc])})
    return out


def _validate(model: type[BaseModel], payload: Any, root: str = "/body") -> BaseModel:
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise SpecViolation(_spec_errors(error, root)) from None


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise SpecViolation([{"message": "Missing property.", "path": "/body"}])
    try:
        return json.loads(raw)
    except ValueError:
        raise SpecViolation([{"message": "Invalid JSON.", "path": "/body"}]) from None


def _int_path(value: str, name: str) -> int:
    if not value.isdigit():
        raise SpecViolation([{"message": "Expected integer - got string.", "path": f"/{name}"}])
    return int(value)


def _embeds(request: Request, allowed: tuple[str, ...]) -> set[str]:
    header = request.headers.get("x-koha-embed")
    if not header:
        return set()
    wanted = {part.strip() for part in header.split(",") if part.strip()}
    unknown = sorted(wanted - set(allowed))
    if unknown:
        raise SpecViolation([{"message": f"Not in enum list: {', '.join(allowed)}.", "path": "/x-koha-embed"}])
    return wanted


def _queries(request: Request, body: Any) -> list[Any]:
    """Every JSON query of the request: each ``q`` parameter, the ``x-koha-query`` header, the body."""
    texts = list(request.query_params.getlist("q"))
    if header := request.headers.get("x-koha-query"):
        texts.append(header)
    found = []
    for text in texts:
        try:
            found.append(json.loads(text))
        except ValueError:
            raise KohaFailure(400, {"error": "Invalid JSON query", "error_code": "invalid_query"}) from None
    if body not in (None, b"", {}):
        found.append(body)
    return found


def _int_param(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise SpecViolation([{"message": "Expected integer - got string.", "path": f"/{name}"}]) from None


def _paginate(request: Request, rows: list[dict[str, Any]], base_total: int, default_order: str) -> JSONResponse:
    order_by = [part for value in request.query_params.getlist("_order_by") for part in value.split(",") if part]
    for key in reversed(order_by or [default_order]):
        field = key.lstrip("+-")
        rows.sort(key=lambda row: (row.get(field) is None, str(row.get(field) or "").casefold()), reverse=key.startswith("-"))
    page = max(_int_param(request, "_page", 1), 1)
    per_page = _int_param(request, "_per_page", DEFAULT_PER_PAGE)
    total = len(rows)
    chunk = rows if per_page == -1 else rows[(page - 1) * per_page : page * per_page]
    headers = {"X-Total-Count": str(total), "X-Base-Total-Count": str(base_total)}
    if per_page > 0:
        links = []
        last = max((total + per_page - 1) // per_page, 1)
        url = request.url
        for rel, target in (("first", 1), ("prev", page - 1), ("next", page + 1), ("last", last)):
            if 1 <= target <= last and not (rel == "prev" and page == 1) and not (rel == "next" and page >= last):
                links.append(f'<{url.include_query_params(_page=target, _per_page=per_page)}>; rel="{rel}"')
        if links:
            headers["Link"] = ", ".join(links)
    return JSONResponse(chunk, headers=headers)


def _match_param(value: Any, wanted: str, mode: str) -> bool:
    if isinstance(value, bool):
        return str(value).lower() in (wanted.lower(), "1" if value else "0")
    if mode == "exact":
        return field_matches(value, wanted)
    pattern = {"contains": f"%{wanted}%", "starts_with": f"{wanted}%", "ends_with": f"%{wanted}"}[mode]
    return like(value, pattern)


# --------------------------------------------------------------------------------- the app


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
    if salt is None:
        from schemas.data_home import DataHome

        salt = DataHome().salt()
    store = KohaStore(guarantor_attribute=guarantor_attribute)
    if seeded:
        seed(store, salt, hetu_key_attribute=hetu_key_attribute, people=people)

    app = FastAPI(title="Koha REST API v1 (Kuntaflow sandbox)", version="1", docs_url="/docs")
    app.state.store = store
    install_faults(
        app, faults, error_body=lambda status, message: {"error": message, "error_code": "internal_server_error" if status >= 500 else "sandbox_fault"}
    )

    @app.exception_handler(KohaFailure)
    async def _koha_failure(request: Request, failure: KohaFailure) -> JSONResponse:
        return JSONResponse(failure.body, status_code=failure.status)

    @app.exception_handler(SpecViolation)
    async def _spec_violation(request: Request, violation: SpecViolation) -> JSONResponse:
        return JSONResponse({"errors": violation.errors, "status": 400}, status_code=400)

    @app.exception_handler(InvalidQuery)
    async def _invalid_query(request: Request, error: InvalidQuery) -> JSONResponse:
        return JSONResponse({"error": f"Invalid query: {error}", "error_code": "invalid_query"}, status_code=400)

    def authorize(request: Request, *needed: str) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, credentials = header.partition(" ")
        key = None
        if scheme.lower() == "bearer":
            key = store.key_for_token(credentials.strip())
        elif scheme.lower() == "basic":
            userid, password = _basic(credentials)
            key = store.key_for_login(userid, password)
        if key is None:
            raise KohaFailure(401, {"error": "Authentication failure."})
        if not key.allows(needed):
            flag, _, sub = needed[0].partition(":")
            raise KohaFailure(
                403,
                {"error": "Authorization failure. Missing required permission(s).", "required_permissions": {flag: sub or "1"}},
            )

    # ------------------------------------------------------------------ oauth

    @app.post(f"{API}/oauth/token")
    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            client_id, client_secret = _basic(header[6:])
        if form.get("grant_type") is None:
            raise SpecViolation([{"message": "Missing property.", "path": "/grant_type"}])
        if form.get("grant_type") != "client_credentials":
            raise KohaFailure(400, {"error": "Unimplemented grant type"})
        return JSONResponse(store.issue_token(str(client_id or ""), str(client_secret or "")))

    # ------------------------------------------------------------------ patrons

    def render_patron(record: dict[str, Any], embeds: set[str]) -> dict[str, Any]:
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

    @app.get(f"{API}/patrons")
    async def list_patrons(request: Request) -> JSONResponse:
        authorize(request, "borrowers:edit_borrowers", "tools:label_creator", "serials:routing", "acquisition:order_manage")
        embeds = _embeds(request, PATRON_EMBEDS)
        raw = await request.body()
        body = json.loads(raw) if raw.strip() else None
        queries = _queries(request, body)
        mode = request.query_params.get("_match", "contains")
        if mode not in ("contains", "exact", "starts_with", "ends_with"):
            raise SpecViolation([{"message": "Not in enum list: contains, exact, starts_with, ends_with.", "path": "/_match"}])
        filters = {k: v for k, v in request.query_params.items() if not k.startswith("_") and k != "q"}
        with store.lock:
            base_total = len(store.patrons)
            candidates = _attribute_value_candidates(store, queries) if "extended_attributes" in embeds else None
            if candidates is None:
                records = [dict(r) for r in store.patrons.values()]
            else:  # what an index on the attribute value gives Koha: only the patrons holding it
                records = [dict(store.patrons[pid]) for pid in sorted(candidates) if pid in store.patrons]
            selected = []
            for record in records:
                if not all(name in record and _match_param(record[name], wanted, mode) for name, wanted in filters.items()):
                    continue
                if queries and not any(
                    all(matches(q, row) for q in queries) for row in _joined_rows(record, embeds, store.attributes.of_patron(record["patron_id"]))
                ):
                    continue
                selected.append(render_patron(record, embeds))
        return _paginate(request, selected, base_total, "patron_id")

    @app.post(f"{API}/patrons", status_code=201)
    async def add_patron(request: Request) -> JSONResponse:
        authorize(request, "borrowers:edit_borrowers")
        body = _validate(PatronBody, await _json_body(request)).model_dump(exclude_unset=True, by_alias=True)
        record = store.add_patron(body)
        return JSONResponse(record, status_code=201, headers={"Location": f"{request.url}/{record['patron_id']}"})

    @app.get(f"{API}/patrons/{{patron_id}}")
    async def get_patron(request: Request, patron_id: str) -> JSONResponse:
        authorize(request, "borrowers:edit_borrowers")
        embeds = _embeds(request, ("extended_attributes",))
        return JSONResponse(render_patron(store.patron(_int_path(patron_id, "patron_id")), embeds))

    @app.put(f"{API}/patrons/{{patron_id}}")
    async def update_patron(request: Request, patron_id: str) -> JSONResponse:
        authorize(request, "borrowers")
        pid = _int_path(patron_id, "patron_id")
        body = _validate(PatronBody, await _json_body(request)).model_dump(exclude_unset=True, by_alias=True)
        return JSONResponse(store.update_patron(pid, body))

    @app.delete(f"{API}/patrons/{{patron_id}}", status_code=204)
    async def delete_patron(request: Request, patron_id: str) -> Response:
        authorize(request, "borrowers:delete_borrowers")
        store.delete_patron(_int_path(patron_id, "patron_id"))
        return Response(status_code=204)

    @app.post(f"{API}/patrons/{{patron_id}}/password")
    async def set_password(request: Request, patron_id: str) -> JSONResponse:
        authorize(request, "borrowers")
        pid = _int_path(patron_id, "patron_id")
        body = _validate(PasswordBody, await _json_body(request))
        assert isinstance(body, PasswordBody)
        store.set_password(pid, body.password, body.password_2)
        return JSONResponse("", status_code=200)

    # ------------------------------------------------------------------ extended attributes

    @app.get(f"{API}/patrons/{{patron_id}}/extended_attributes")
    async def list_attributes(request: Request, patron_id: str) -> JSONResponse:
        authorize(request, "borrowers:edit_borrowers")
        pid = _int_path(patron_id, "patron_id")
        store.patron(pid)
        return JSONResponse(store.patron_attributes(pid))

    @app.post(f"{API}/patrons/{{patron_id}}/extended_attributes", status_code=201)
    async def add_attribute(request: Request, patron_id: str) -> JSONResponse:
        authorize(request, "borrowers:edit_borrowers")
        pid = _int_path(patron_id, "patron_id")
        body = _validate(AttributeBody, await _json_body(request)).model_dump(exclude_unset=True)
        return JSONResponse(store.add_attribute(pid, body), status_code=201)

    @app.put(f"{API}/patrons/{{patron_id}}/extended_attributes")
    async def overwrite_attributes(request: Request, patron_id: str) -> JSONResponse:
        authorize(request, "borrowers:edit_borrowers")
        pid = _int_path(patron_id, "patron_id")
        payload = await _json_body(request)
        if not isinstance(payload, list):
            raise SpecViolation([{"message": f"Expected array - got {_TYPE_NAMES.get(type(payload).__name__, 'string')}.", "path": "/body"}])
        items = [_validate(AttributeBody, item, f"/body/{i}").model_dump(exclude_unset=True) for i, item in enumerate(payload)]
        return JSONResponse(store.overwrite_attributes(pid, items))

    @app.patch(f"{API}/patrons/{{patron_id}}/extended_attributes/{{attribute_id}}")
    async def update_attribute(request: Request, patron_id: str, attribute_id: str) -> JSONResponse:
        authorize(request, "borrowers:edit_borrowers")
        pid = _int_path(patron_id, "patron_id")
        aid = _int_path(attribute_id, "extended_attribute_id")
        body = _validate(AttributeValueBody, await _json_body(request))
        assert isinstance(body, AttributeValueBody)
        if body.value is None:
            raise KohaFailure(400, {"error": "Missing value"})
        return JSONResponse(store.update_attribute(pid, aid, body.value))

    @app.delete(f"{API}/patrons/{{patron_id}}/extended_attributes/{{attribute_id}}", status_code=204)
    async def delete_attribute(request: Request, patron_id: str, attribute_id: str) -> Response:
        authorize(request, "borrowers:edit_borrowers")
        store.delete_attribute(_int_path(patron_id, "patron_id"), _int_path(attribute_id, "extended_attribute_id"))
        return Response(status_code=204)

    # ------------------------------------------------------------------ reference data

    @app.get(f"{API}/libraries")
    async def list_libraries(request: Request) -> JSONResponse:
        authorize(request, "catalogue")
        rows = sorted((dict(r) for r in store.libraries.values()), key=lambda r: r["library_id"])
        for query in _queries(request, None):
            rows = [r for r in rows if matches(query, r)]
        return _paginate(request, rows, len(store.libraries), "library_id")

    @app.get(f"{API}/libraries/{{library_id}}")
    async def get_library(request: Request, library_id: str) -> JSONResponse:
        authorize(request, "catalogue")
        library = store.libraries.get(library_id)
        if library is None:
            raise KohaFailure(404, {"error": "Library not found"})
        return JSONResponse(library)

    @app.get(f"{API}/patron_categories")
    async def list_categories(request: Request) -> JSONResponse:
        authorize(request, "parameters:manage_patron_categories")
        rows = [dict(c) for c in store.categories.values()]
        return _paginate(request, rows, len(rows), "patron_category_id")

    install_pages(app, store, hetu_key_attribute=hetu_key_attribute)
    return app


def _basic(credentials: str) -> tuple[str, str]:
    try:
        userid, _, password = base64.b64decode(credentials.strip()).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    return userid, password


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
