"""State of the HR sandbox: client credentials and tokens, units, employees, employments, idempotency keys.

Tests inspect and drive it through ``app.state.store``: ``store.employees``, ``store.employments``,
``store.set_status(employment_id, "active")``, ``store.revoke_tokens()``. Employee records keep
the hetu (``hetu`` field, never printed); the API never gives it back. Every method takes the lock.
"""

from __future__ import annotations

import calendar
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.hr.sandbox.seed import DIVISION, SUPERVISORS, UNITS, test_hetu
from schemas.hetu import parse_hetu

FIRST_EMPLOYEE_ID = 500001
FIRST_EMPLOYMENT_ID = 7000001
STATUSES = ("registered", "approved", "transferred_to_payroll", "active", "ended", "cancelled")
DOCUMENTS = ("tax_card", "basic_information_form", "degree_certificate", "health_statement")


class HrApiError(Exception):
    """An answer other than success: ``{"error": {"code", "message", "details"}}`` with ``status``."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(status, code, message)
        self.status = status
        self.body = {"error": {"code": code, "message": message, "details": details or {}}}


@dataclass(repr=False)
class EmployeeRecord:
    employee_id: int
    hetu: str
    first_names: str
    last_name: str
    calling_name: str | None
    language: str
    private_email: str | None
    phone: str | None
    iban: str | None
    work_email: str | None
    created_at: datetime
    is_supervisor: bool = False

    def __repr__(self) -> str:
        return f"EmployeeRecord({self.employee_id})"


@dataclass
class Remembered:
    fingerprint: str
    status: int
    body: Any


@dataclass
class HrStore:
    """Everything the HR sandbox remembers."""

    clients: dict[str, str]
    token_ttl_seconds: int = 3600
    clock: Callable[[], float] = time.monotonic
    lock: threading.RLock = field(default_factory=threading.RLock)
    tokens: dict[str, float] = field(default_factory=dict)
    units: dict[str, dict[str, Any]] = field(default_factory=dict)
    employees: dict[int, EmployeeRecord] = field(default_factory=dict)
    employments: dict[int, dict[str, Any]] = field(default_factory=dict)
    idempotency: dict[str, Remembered] = field(default_factory=dict)
    replays: int = 0

    # ------------------------------------------------------------------ tokens

    def issue_token(self, client_id: str, client_secret: str) -> dict[str, Any]:
        with self.lock:
            expected = self.clients.get(client_id)
            if expected is None or not secrets.compare_digest(expected, client_secret):
                raise HrApiError(401, "invalid_client", "Client authentication failed")
            token = secrets.token_urlsafe(24)
            self.tokens[token] = self.clock() + self.token_ttl_seconds
            return {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl_seconds}

    def check_token(self, token: str) -> bool:
        with self.lock:
            expires = self.tokens.get(token)
            return expires is not None and self.clock() < expires

    def revoke_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    # ------------------------------------------------------------------ idempotency

    def replay(self, key: str | None, fingerprint: str) -> Remembered | None:
        """The remembered answer for a repeated key; a key reused for another request is a 422."""
        if key is None:
            return None
        with self.lock:
            remembered = self.idempotency.get(key)
            if remembered is None:
                return None
            if remembered.fingerprint != fingerprint:
                raise HrApiError(422, "idempotency_key_reused", "This Idempotency-Key was used with a different request")
            self.replays += 1
            return remembered

    def remember(self, key: str | None, fingerprint: str, status: int, body: Any) -> None:
        if key is not None:
            with self.lock:
                self.idempotency.setdefault(key, Remembered(fingerprint, status, body))

    # ------------------------------------------------------------------ units and employees

    def unit(self, unit_id: str) -> dict[str, Any]:
        unit = self.units.get(unit_id)
        if unit is None:
            raise HrApiError(404, "unit_not_found", "No such unit")
        return unit

    def employee(self, employee_id: int) -> EmployeeRecord:
        record = self.employees.get(employee_id)
        if record is None:
            raise HrApiError(404, "employee_not_found", "No such employee")
        return record

    def employee_json(self, record: EmployeeRecord) -> dict[str, Any]:
        with self.lock:
            current = [e for e in self._employments_of(record.employee_id) if e["status"] not in ("cancelled", "ended")]
            return {
                "employee_id": record.employee_id,
                "first_names": record.first_names,
                "last_name": record.last_name,
                "calling_name": record.calling_name,
                "birth_date": parse_hetu(record.hetu).birth_date.isoformat(),
                "language": record.language,
                "work_email": record.work_email,
                "private_email": record.private_email,
                "phone": record.phone,
                "job_title": current[0]["job_title"] if current else None,
                "created_at": _iso(record.created_at),
            }

    def add_employee(self, body: dict[str, Any]) -> EmployeeRecord:
        with self.lock:
            existing = next((r for r in self.employees.values() if r.hetu == body["hetu"]), None)
            if existing is not None:
                raise HrApiError(
                    409,
                    "employee_exists",
                    "A person with this henkilötunnus is already an employee",
                    {"employee_id": existing.employee_id, "employment_ids": [e["employment_id"] for e in self._employments_of(existing.employee_id)]},
                )
            employee_id = max(self.employees, default=FIRST_EMPLOYEE_ID - 1) + 1
            employee_id = max(employee_id, FIRST_EMPLOYEE_ID)
            record = EmployeeRecord(employee_id=employee_id, work_email=None, created_at=_now(), **body)
            self.employees[employee_id] = record
            return record

    # ------------------------------------------------------------------ employments

    def employment(self, employment_id: int) -> dict[str, Any]:
        record = self.employments.get(employment_id)
        if record is None:
            raise HrApiError(404, "employment_not_found", "No such employment")
        return record

    def employments_of(self, employee_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return self._employments_of(employee_id)

    def _employments_of(self, employee_id: int) -> list[dict[str, Any]]:
        return sorted((e for e in self.employments.values() if e["employee_id"] == employee_id), key=lambda e: e["start_date"], reverse=True)

    def add_employment(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            employee = self.employees.get(body["employee_id"])
            if employee is None:
                raise HrApiError(422, "unknown_employee", "employee_id does not name an employee", {"field": "employee_id"})
            unit = self.units.get(body["unit_id"])
            if unit is None:
                raise HrApiError(422, "unknown_unit", "unit_id does not name a unit", {"field": "unit_id"})
            cost_centre = body.get("cost_centre") or unit["default_cost_centre"]
            if cost_centre not in unit["cost_centres"]:
                raise HrApiError(
                    422, "cost_centre_not_in_unit", "The cost centre does not belong to the unit", {"field": "cost_centre", "allowed": unit["cost_centres"]}
                )
            supervisor_id = body.get("supervisor_id") or unit["supervisor_id"]
            supervisor = self.employees.get(supervisor_id)
            if supervisor is None or not supervisor.is_supervisor:
                raise HrApiError(422, "unknown_supervisor", "supervisor_id does not name a supervisor", {"field": "supervisor_id"})
            start, end = date.fromisoformat(body["start_date"]), _date_or_none(body.get("end_date"))
            if body["employment_type"] == "fixed_term" and end is None:
                raise HrApiError(422, "end_date_required", "A fixed-term employment needs an end date", {"field": "end_date"})
            if end is not None and end < start:
                raise HrApiError(422, "end_before_start", "The end date is before the start date", {"field": "end_date"})
            previous = self._employments_of(employee.employee_id)
            same_day = next((e for e in previous if e["start_date"] == start.isoformat() and e["status"] != "cancelled"), None)
            if same_day is not None:
                raise HrApiError(
                    409, "employment_exists", "The employee already has an employment starting that day", {"employment_id": same_day["employment_id"]}
                )
            missing = ["tax_card", "degree_certificate"]
            if employee.iban is None:
                missing.insert(1, "basic_information_form")
            if not any(e["status"] != "cancelled" for e in previous):
                missing.append("health_statement")  # a newcomer to the city: työhöntulotarkastus
            months = body["trial_period_months"]
            now = _now()
            record = {
                "employment_id": max(max(self.employments, default=0) + 1, FIRST_EMPLOYMENT_ID),
                "employee_id": employee.employee_id,
                "status": "registered",
                "start_date": start.isoformat(),
                "end_date": end.isoformat() if end else None,
                "employment_type": body["employment_type"],
                "relationship": body["relationship"],
                "job_title": body["job_title"],
                "title_code": body.get("title_code"),
                "unit_id": unit["unit_id"],
                "cost_centre": cost_centre,
                "supervisor_id": supervisor_id,
                "working_time_percent": body["working_time_percent"],
                "collective_agreement": body["collective_agreement"],
                "trial_period_months": months,
                "trial_period_ends": (_add_months(start, months) - timedelta(days=1)).isoformat() if months else None,
                "monthly_salary_eur": body.get("monthly_salary_eur"),
                "missing_documents": missing,
                "cancellation_reason": None,
                "created_at": _iso(now),
                "updated_at": _iso(now),
            }
            self.employments[record["employment_id"]] = record
            return dict(record)

    def cancel(self, employment_id: int, reason: str) -> dict[str, Any]:
        with self.lock:
            record = self.employment(employment_id)
            if record["status"] in ("active", "ended"):
                raise HrApiError(422, "employment_already_started", "An employment that has started is ended, not cancelled")
            if record["status"] != "cancelled":
                record.update(status="cancelled", cancellation_reason=reason, updated_at=_iso(_now()))
            return dict(record)

    def set_status(self, employment_id: int, status: str, missing_documents: Iterable[str] | None = None) -> dict[str, Any]:
        """Move an employment along (what payroll secretaries do in the real system)."""
        if status not in STATUSES:
            raise HrApiError(400, "invalid_status", f"status is one of {', '.join(STATUSES)}")
        with self.lock:
            record = self.employment(employment_id)
            record.update(status=status, updated_at=_iso(_now()))
            if missing_documents is not None:
                documents = list(missing_documents)
                if unknown := sorted(set(documents) - set(DOCUMENTS)):
                    raise HrApiError(400, "invalid_document", f"unknown documents: {', '.join(unknown)}")
                record["missing_documents"] = documents
            return dict(record)


def seeded_store(clients: dict[str, str], *, token_ttl_seconds: int = 3600) -> HrStore:
    """A store with the seed's units and supervisors."""
    store = HrStore(clients=dict(clients), token_ttl_seconds=token_ttl_seconds)
    for person in SUPERVISORS:
        store.employees[person.employee_id] = EmployeeRecord(
            employee_id=person.employee_id,
            hetu=test_hetu(person.born, person.individual),
            first_names=person.first_names,
            last_name=person.last_name,
            calling_name=None,
            language="fi",
            private_email=None,
            phone=None,
            iban=None,
            work_email=person.work_email,
            created_at=datetime(2015, 1, 1, tzinfo=UTC),
            is_supervisor=True,
        )
    for unit in UNITS:
        store.units[unit.unit_id] = {
            "unit_id": unit.unit_id,
            "name": unit.name,
            "name_sv": unit.name_sv,
            "division": DIVISION,
            "cost_centres": list(unit.cost_centres),
            "default_cost_centre": unit.cost_centres[0],
            "supervisor_id": unit.supervisor_id,
            "street_address": unit.street_address,
            "postal_code": unit.postal_code,
            "city": "Helsinki",
        }
    return store


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _date_or_none(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
