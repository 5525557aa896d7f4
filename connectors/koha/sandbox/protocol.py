"""The Koha REST API's protocol details the sandbox's routes share: request bodies, the OpenAPI validator's errors, query and paging parameters.

Koha validates every request against its OpenAPI spec (Mojolicious::Plugin::OpenAPI) before a controller runs;
a refused request gets ``{"errors": [{"message", "path"}], "status": 400}`` in JSON::Validator's words, which
:class:`SpecViolationError` and :func:`spec_errors` reproduce. Paging follows Koha's ``_page``/``_per_page``/``_order_by``
with ``X-Total-Count``, ``X-Base-Total-Count`` and ``Link`` headers.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from connectors.koha.sandbox.query import field_matches, like
from connectors.koha.sandbox.store import KohaApiError

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


class SpecViolationError(Exception):
    """A request the OpenAPI validator (Mojolicious::Plugin::OpenAPI) would refuse with 400."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors


TYPE_NAMES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "dict": "object", "list": "array", "NoneType": "null"}


def spec_errors(error: ValidationError, root: str) -> list[dict[str, str]]:
    """pydantic's errors in the words of JSON::Validator, which Koha's API uses."""
    out = []
    for problem in error.errors(include_url=False):
        loc = [str(part) for part in problem["loc"]]
        kind = problem["type"]
        got = TYPE_NAMES.get(type(problem.get("input")).__name__, "string")
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


def validate_body(model: type[BaseModel], payload: Any, root: str = "/body") -> BaseModel:
    try:
        return model.model_validate(payload)
    except ValidationError as error:
        raise SpecViolationError(spec_errors(error, root)) from None


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        raise SpecViolationError([{"message": "Missing property.", "path": "/body"}])
    try:
        return json.loads(raw)
    except ValueError:
        raise SpecViolationError([{"message": "Invalid JSON.", "path": "/body"}]) from None


def int_path(value: str, name: str) -> int:
    if not value.isdigit():
        raise SpecViolationError([{"message": "Expected integer - got string.", "path": f"/{name}"}])
    return int(value)


def embeds_of(request: Request, allowed: tuple[str, ...]) -> set[str]:
    header = request.headers.get("x-koha-embed")
    if not header:
        return set()
    wanted = {part.strip() for part in header.split(",") if part.strip()}
    unknown = sorted(wanted - set(allowed))
    if unknown:
        raise SpecViolationError([{"message": f"Not in enum list: {', '.join(allowed)}.", "path": "/x-koha-embed"}])
    return wanted


def queries_of(request: Request, body: Any) -> list[Any]:
    """Every JSON query of the request: each ``q`` parameter, the ``x-koha-query`` header, the body."""
    texts = list(request.query_params.getlist("q"))
    if header := request.headers.get("x-koha-query"):
        texts.append(header)
    found = []
    for text in texts:
        try:
            found.append(json.loads(text))
        except ValueError:
            raise KohaApiError(400, {"error": "Invalid JSON query", "error_code": "invalid_query"}) from None
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
        raise SpecViolationError([{"message": "Expected integer - got string.", "path": f"/{name}"}]) from None


def paginate(request: Request, rows: list[dict[str, Any]], base_total: int, default_order: str, *, declared: bool = True) -> JSONResponse:
    """One page of ``rows`` with Koha's X-Total-Count, X-Base-Total-Count and Link headers.

    ``declared=False`` is an operation whose spec declares no ``_page``/``_per_page``/``_order_by``
    (``GET /patron_categories``): Koha takes the reserved parameters from the validated input, which
    holds declared parameters only (Koha/REST/Plugin/Objects.pm ``search_rs``), so it ignores them and
    answers page 1 of RESTdefaultPageSize in its default order, whatever the client sent.
    """
    order_by = [part for value in request.query_params.getlist("_order_by") for part in value.split(",") if part] if declared else []
    for key in reversed(order_by or [default_order]):
        field = key.lstrip("+-")
        rows.sort(key=lambda row: (row.get(field) is None, str(row.get(field) or "").casefold()), reverse=key.startswith("-"))
    page = max(_int_param(request, "_page", 1), 1) if declared else 1
    per_page = _int_param(request, "_per_page", DEFAULT_PER_PAGE) if declared else DEFAULT_PER_PAGE
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


def match_param(value: Any, wanted: str, mode: str) -> bool:
    if isinstance(value, bool):
        return str(value).lower() in (wanted.lower(), "1" if value else "0")
    if mode == "exact":
        return field_matches(value, wanted)
    pattern = {"contains": f"%{wanted}%", "starts_with": f"{wanted}%", "ends_with": f"%{wanted}"}[mode]
    return like(value, pattern)
