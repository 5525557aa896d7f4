"""HR/payroll REST API v1 connector: employees, employments with payroll status, units and supervisors."""

from connectors.hr.client import HrClient
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
from connectors.hr.models import Employee, EmployeeCreate, EmployeeCreated, Employment, EmploymentCreate, EmploymentCreated, Unit
from connectors.hr.settings import HrSettings

__all__ = [
    "Employee",
    "EmployeeCreate",
    "EmployeeCreated",
    "EmployeeNotFoundError",
    "Employment",
    "EmploymentConflictError",
    "EmploymentCreate",
    "EmploymentCreated",
    "EmploymentNotFoundError",
    "HrAuthenticationError",
    "HrClient",
    "HrRejectedError",
    "HrSettings",
    "HrUnavailableError",
    "HrValidationError",
    "IdempotencyKeyReusedError",
    "Unit",
    "UnitNotFoundError",
]
