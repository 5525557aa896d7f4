"""Typed client for the HR/payroll REST API v1: units, employees, employments.

Contract: connectors/hr/README.md ("The API"), served faithfully by connectors/hr/sandbox. Every
write carries an ``Idempotency-Key`` (the HR system replays the first answer to a repeated key), so
writes are resent after timeouts and 5xx. A person HR already has (409 on ``POST /employees``) and
an employment already registered for the same start date (409 on ``POST /employments``) are not
errors: the methods return the existing record with ``created=False``.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from connectors.errors import AutomationError, IntegrationError
from connectors.hr.auth import ClientCredentialsAuth
from connectors.hr.errors import (
    EmployeeNotFoundError,
    EmploymentConflictError,
    EmploymentNotFoundError,
    HrAuthenticationError,
    HrRejectedError,
    HrUnavailableError,
    HrValidationError,
    IdempotencyKeyReusedError,
    UnitNotFoundError,
)
from connectors.hr.models import (
    Cancellation,
    Employee,
    EmployeeCreate,
    EmployeeCreated,
    Employment,
    EmploymentCreate,
    EmploymentCreated,
    Unit,
)
from connectors.hr.settings import HrSettings
from connectors.http import ConnectorClient, ErrorDetails, RetryPolicy
from schemas.redaction import HETU_PATTERN

SYSTEM = "hr"
logger = logging.getLogger("connectors.hr")
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
#: Terms that make an employment "the same" when HR already has one for the person and start date.
_SAME_TERMS = ("unit_id", "job_title", "employment_type", "relationship", "end_date")


class ApiErrorBody(BaseModel):
    """``{"error": {"code", "message", "details"}}``: the HR API's error shape."""

    model_config = ConfigDict(extra="ignore")
    code: str = "unknown"
    message: str = ""
    details: dict[str, Any] = Field(default_factory=dict)


class HrClient(ConnectorClient):
    """HR/payroll REST API v1. Contract: connectors/hr/README.md."""

    def __init__(self, settings: HrSettings | None = None, *, transport: httpx.BaseTransport | None = None, retry: RetryPolicy | None = None) -> None:
        self.settings = settings or HrSettings()
        self.auth = ClientCredentialsAuth(
            f"{self.settings.base_url}/oauth/token",
            self.settings.client_id,
            self.settings.client_secret,
            system=SYSTEM,
            unavailable=HrUnavailableError,
            refused=HrAuthenticationError,
        )
        self.api = self.api_client(
            self.settings, system=SYSTEM, auth=self.auth, error_mapper=_map_hr_error, transient_error=HrUnavailableError, transport=transport, retry=retry
        )

    # ------------------------------------------------------------------ units

    def list_units(self) -> list[Unit]:
        return self.api.request_model(list[Unit], "GET", "/units")

    def get_unit(self, unit_id: str) -> Unit:
        """Raises: UnitNotFoundError."""
        return self.api.request_model(Unit, "GET", f"/units/{_segment(unit_id)}", business_ids={"unit_id": unit_id})

    # ------------------------------------------------------------------ employees

    def create_employee(self, new: EmployeeCreate, *, idempotency_key: str) -> EmployeeCreated:
        """Add a person to HR, or find the one HR already has (same hetu).

        Raises:
            HrValidationError: HR refused the data (e.g. an invalid bank account).
            IdempotencyKeyReusedError: the key was used before for a different request.
            HrUnavailableError: HR is down or slow, after retries.
        """
        payload = new.model_dump(mode="json", exclude_none=True)
        payload["hetu"] = new.hetu.value
        ids = {"idempotency_key": idempotency_key}
        response = self.api.request("POST", "/employees", json=payload, headers=_idempotency(idempotency_key), resend=True, accept={409}, business_ids=ids)
        if response.status_code == 409:
            existing = self._conflict(response, ids)
            employee_id = _int_detail(existing, "employee_id", response, ids)
            listed = existing.details.get("employment_ids")
            employment_ids = [i for i in listed if isinstance(i, int) and not isinstance(i, bool)] if isinstance(listed, list) else []
            logger.info("hr: the person is already employee %s", employee_id)
            return EmployeeCreated(employee=self.get_employee(employee_id), created=False, employment_ids=employment_ids)
        return EmployeeCreated(employee=self.api.decode(response, Employee, business_ids=ids), created=True)

    def get_employee(self, employee_id: int) -> Employee:
        """Raises: EmployeeNotFoundError."""
        return self.api.request_model(Employee, "GET", f"/employees/{int(employee_id)}", business_ids={"employee_id": employee_id})

    # ------------------------------------------------------------------ employments

    def create_employment(self, new: EmploymentCreate, *, idempotency_key: str) -> EmploymentCreated:
        """Register an employment, or find the one HR already has for the person and start date.

        Raises:
            EmploymentConflictError: HR has an employment for that person and day with other terms.
            HrValidationError: an unknown unit, supervisor or employee, a cost centre of another unit …
            IdempotencyKeyReusedError: the key was used before for a different request.
            HrUnavailableError: HR is down or slow, after retries.
        """
        ids = {"idempotency_key": idempotency_key, "employee_id": new.employee_id}
        response = self.api.request(
            "POST",
            "/employments",
            json=new.model_dump(mode="json", exclude_none=True),
            headers=_idempotency(idempotency_key),
            resend=True,
            accept={409},
            business_ids=ids,
        )
        if response.status_code != 409:
            return EmploymentCreated(employment=self.api.decode(response, Employment, business_ids=ids), created=True)
        existing_id = _int_detail(self._conflict(response, ids), "employment_id", response, ids)
        existing = self.get_employment(existing_id)
        differences = [name for name in _SAME_TERMS if getattr(new, name) != getattr(existing, name)]
        if differences:
            raise EmploymentConflictError(
                f"hr: employee {new.employee_id} already has employment {existing_id} starting {new.start_date.isoformat()} "
                f"with other terms ({', '.join(differences)})",
                existing_employment_id=existing_id,
                differences=differences,
                status_code=409,
                business_ids=ids,
            )
        logger.info("hr: employment %s was already registered", existing_id)
        return EmploymentCreated(employment=existing, created=False)

    def get_employment(self, employment_id: int) -> Employment:
        """The employment with its status and missing start documents.

        Raises:
            EmploymentNotFoundError: no such employment.
        """
        return self.api.request_model(Employment, "GET", f"/employments/{int(employment_id)}", business_ids={"employment_id": employment_id})

    def list_employments(self, employee_id: int) -> list[Employment]:
        """The person's employments, newest start first."""
        return self.api.request_model(
            list[Employment], "GET", "/employments", params={"employee_id": int(employee_id)}, business_ids={"employee_id": employee_id}
        )

    def cancel_employment(self, employment_id: int, reason: str, *, idempotency_key: str) -> Employment:
        """Cancel an employment that has not started (the hire fell through). Cancelling twice is the same.

        Raises:
            HrValidationError: ``EMPLOYMENT_ALREADY_STARTED`` once the employment is active or ended.
            EmploymentNotFoundError: no such employment.
        """
        return self.api.request_model(
            Employment,
            "POST",
            f"/employments/{int(employment_id)}/cancellation",
            json=Cancellation(reason=reason).model_dump(),
            headers=_idempotency(idempotency_key),
            resend=True,
            business_ids={"employment_id": employment_id, "idempotency_key": idempotency_key},
        )

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _conflict(response: httpx.Response, ids: dict[str, Any]) -> ApiErrorBody:
        body = _error_body(response)
        if body is None:
            raise _unexpected(response, ids, "a 409 without the error object")
        return body


def _idempotency(key: str) -> dict[str, str]:
    if not _KEY.match(key) or HETU_PATTERN.search(key):
        raise ValueError("an idempotency key is 1-255 printable ASCII characters without spaces, and never holds a henkilötunnus")
    return {"Idempotency-Key": key}


def _segment(value: str) -> str:
    if not value or "/" in value or HETU_PATTERN.search(value):
        raise ValueError("not an id")
    return value


def _error_body(response: httpx.Response) -> ApiErrorBody | None:
    try:
        payload = response.json()
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("error"), dict):
        return None
    try:
        return ApiErrorBody.model_validate(payload["error"])
    except ValidationError:
        return None


def _unexpected(response: httpx.Response, ids: dict[str, Any], what: str) -> IntegrationError:
    return IntegrationError(
        f"{SYSTEM}: {response.request.method} {response.request.url.path} answered {response.status_code} with {what}",
        code="UNEXPECTED_RESPONSE",
        status_code=response.status_code,
        business_ids=ids,
        body=response.text,
    )


def _int_detail(body: ApiErrorBody, name: str, response: httpx.Response, ids: dict[str, Any]) -> int:
    value = body.details.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _unexpected(response, ids, f"a conflict that does not name the existing {name}")
    return value


_NOT_FOUND = {"employees": EmployeeNotFoundError, "employments": EmploymentNotFoundError, "units": UnitNotFoundError}


def _map_hr_error(response: httpx.Response, details: ErrorDetails) -> AutomationError | None:
    status = response.status_code
    where = f"{response.request.method} {response.request.url.path.split('/api/v1', 1)[-1]}"
    body = _error_body(response)
    said = f": {body.message}" if body and body.message else ""
    code = body.code.upper() if body and body.code.replace("_", "").isalnum() else None
    if status in (401, 403):
        return HrAuthenticationError(f"{SYSTEM}: {where} answered {status}{said}", code="HR_FORBIDDEN" if status == 403 else "HR_UNAUTHORIZED", **details)
    if status == 404:
        parts = [p for p in response.request.url.path.split("/") if p]
        kind = next((_NOT_FOUND[p] for p in reversed(parts) if p in _NOT_FOUND), None)
        if kind is not None:
            return kind(f"{SYSTEM}: {where}: not found", **details)
        return None
    if status == 400:
        return HrRejectedError(f"{SYSTEM}: {where} rejected{said}", code=code or "HR_REJECTED", **details)
    if status == 422:
        if code == "IDEMPOTENCY_KEY_REUSED":
            return IdempotencyKeyReusedError(f"{SYSTEM}: {where}{said}", **details)
        return HrValidationError(f"{SYSTEM}: {where} refused{said}", code=code or "HR_VALIDATION", **details)
    return None
