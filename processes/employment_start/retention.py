"""The person vault's ``employee`` retention check: does the person still have an employment in HR?"""

from __future__ import annotations

from connectors.hr import HrClient
from connectors.hr.errors import EmployeeNotFoundError
from connectors.hr.models import OPEN_STATUSES
from schemas.person_vault import Relation, VaultEntry


class OpenEmployment:
    """Live while HR lists an employment of the employee (the relationship's ref) that is registered,
    approved, transferred to payroll or active; ended and cancelled ones are not. Raises HR's errors
    when HR cannot answer, so the person is kept."""

    def __init__(self, hr: HrClient) -> None:
        self.hr = hr

    def __call__(self, entry: VaultEntry, relation: Relation) -> bool:
        try:
            employments = self.hr.list_employments(int(relation.ref))
        except EmployeeNotFoundError:
            return False
        return any(employment.status in OPEN_STATUSES for employment in employments)
