"""HR/payroll connector errors, on the shared hierarchy (connectors/errors.py)."""

from __future__ import annotations

from typing import Any

from connectors.errors import BusinessRuleError, IntegrationError, NotFoundError, TransientError


class HrUnavailableError(TransientError):
    """The HR system is down, slow, rate-limiting or answering 5xx; retry later."""

    default_code = "HR_UNAVAILABLE"


class HrAuthenticationError(IntegrationError):
    """The HR system refused the robot's client credentials, or the token it gave."""

    default_code = "HR_AUTHENTICATION"


class HrRejectedError(IntegrationError):
    """The HR system refused the request's shape (400): our bug or a changed contract."""

    default_code = "HR_REJECTED"


class HrValidationError(BusinessRuleError):
    """The HR system refused the data (422): an unknown unit, a cost centre of another unit, a
    fixed-term employment without an end date … ``code`` is the HR system's reason, upper-cased."""

    default_code = "HR_VALIDATION"


class IdempotencyKeyReusedError(IntegrationError):
    """The same Idempotency-Key came with a different request: two business acts share a key."""

    default_code = "IDEMPOTENCY_KEY_REUSED"


class EmploymentConflictError(BusinessRuleError):
    """The person already has an employment starting that day, with different terms: a person decides.

    ``existing_employment_id`` is the one HR has.
    """

    default_code = "EMPLOYMENT_CONFLICT"

    def __init__(self, message: str, *, existing_employment_id: int, differences: list[str], **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.existing_employment_id = existing_employment_id
        self.differences = list(differences)
        self.business_ids.setdefault("existing_employment_id", existing_employment_id)


class EmployeeNotFoundError(NotFoundError):
    default_code = "EMPLOYEE_NOT_FOUND"


class EmploymentNotFoundError(NotFoundError):
    default_code = "EMPLOYMENT_NOT_FOUND"


class UnitNotFoundError(NotFoundError):
    default_code = "UNIT_NOT_FOUND"
