"""Models for the HR/payroll REST API v1 (the API is described in connectors/hr/README.md).

``Create`` models are what the robot sends (unknown fields refused); read models ignore fields
they do not use, so a newer HR release adding fields does not break the robot. The API takes the
henkilötunnus once, when a person is created, and never gives it back: reads carry the birth date.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from schemas import Hetu
from schemas.redaction import HETU_PATTERN

Language = Literal["fi", "sv", "en"]
EmploymentType = Literal["permanent", "fixed_term"]
#: työsopimussuhde / virkasuhde
Relationship = Literal["employment_contract", "public_office"]
CollectiveAgreement = Literal["SOTE", "KVTES", "LS", "TS", "OVTES"]
EmploymentStatus = Literal["registered", "approved", "transferred_to_payroll", "active", "ended", "cancelled"]
#: The start documents payroll waits for (Talpa's checklist): verokortti, perustietoilmoitus
#: (with the bank account), työ- ja tutkintotodistukset, työhöntulotarkastuksen lausunto.
StartDocument = Literal["tax_card", "basic_information_form", "degree_certificate", "health_statement"]
OPEN_STATUSES: frozenset[str] = frozenset({"registered", "approved", "transferred_to_payroll", "active"})

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def check_iban(value: str) -> str:
    """A Finnish IBAN (FIkk + 14 digits), spaces removed, with its mod-97 check.

    Raises:
        ValueError: not a valid Finnish IBAN; the value is not repeated.
    """
    text = value.replace(" ", "").upper()
    if len(text) != 18 or not text.startswith("FI") or not text[2:].isdigit():
        raise ValueError("a Finnish IBAN is FI, two check digits and 14 digits")
    rearranged = text[4:] + "1518" + text[2:4]  # F=15, I=18
    if int(rearranged) % 97 != 1:
        raise ValueError("the IBAN's check digits do not match")
    return text


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Write(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    @model_validator(mode="after")
    def _hetu_only_where_it_belongs(self) -> Any:
        """A hetu typed into a name or a free-text field would spread through HR's records."""
        for name, value in self:
            if name != "hetu" and isinstance(value, str) and HETU_PATTERN.search(value):
                raise ValueError(f"{name} holds a henkilötunnus")
        return self


class Unit(_Read):
    """An organisation unit (toimintayksikkö) with its cost centres and supervisor."""

    unit_id: str
    name: str
    name_sv: str | None = None
    division: str
    cost_centres: list[str]
    default_cost_centre: str
    supervisor_id: int
    street_address: str | None = None
    postal_code: str | None = None
    city: str | None = None


class EmployeeCreate(_Write):
    """A person to add to HR. The hetu goes to HR once and is never read back."""

    hetu: Hetu
    first_names: Name
    last_name: Name
    calling_name: Name | None = None
    private_email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, max_length=20, pattern=r"^\+?[0-9 ]{6,19}$")
    language: Language = "fi"
    iban: str | None = None

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str | None) -> str | None:
        return None if value is None else check_iban(value)

    def __repr__(self) -> str:
        return f"EmployeeCreate(hetu=Hetu('******-****'), language={self.language!r})"

    __str__ = __repr__


class Employee(_Read):
    """A person as HR gives them back (no hetu)."""

    employee_id: int
    first_names: str
    last_name: str
    calling_name: str | None = None
    birth_date: date
    language: Language
    work_email: str | None = None
    private_email: str | None = None
    phone: str | None = None
    job_title: str | None = Field(default=None, description="Title of the person's current employment, if any.")
    created_at: datetime

    @property
    def display_name(self) -> str:
        return f"{self.calling_name or self.first_names.split()[0]} {self.last_name}"


class EmploymentCreate(_Write):
    """An employment (palvelussuhde) to register for a person HR already has."""

    employee_id: int = Field(gt=0)
    start_date: date
    end_date: date | None = Field(default=None, description="Required for a fixed-term employment.")
    employment_type: EmploymentType = "permanent"
    relationship: Relationship = "employment_contract"
    job_title: Name
    title_code: str | None = Field(default=None, max_length=20)
    unit_id: str = Field(min_length=1, max_length=40)
    cost_centre: str | None = Field(default=None, description="The unit's default when unset.")
    supervisor_id: int | None = Field(default=None, description="The unit's supervisor when unset.")
    working_time_percent: Decimal = Field(default=Decimal(100), gt=0, le=100, decimal_places=2)
    collective_agreement: CollectiveAgreement = "SOTE"
    trial_period_months: int = Field(default=6, ge=0, le=6, description="Helsinki appoints with a six-month trial period.")
    monthly_salary_eur: Decimal | None = Field(default=None, gt=0, decimal_places=2)

    @model_validator(mode="after")
    def _dates(self) -> EmploymentCreate:
        if self.employment_type == "fixed_term" and self.end_date is None:
            raise ValueError("a fixed-term employment needs an end_date")
        if self.end_date is not None and self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        return self


class Employment(_Read):
    """An employment as HR gives it back, with where it is on its way to payroll."""

    employment_id: int
    employee_id: int
    status: EmploymentStatus
    start_date: date
    end_date: date | None = None
    employment_type: EmploymentType
    relationship: Relationship
    job_title: str
    title_code: str | None = None
    unit_id: str
    cost_centre: str
    supervisor_id: int
    working_time_percent: Decimal
    collective_agreement: CollectiveAgreement
    trial_period_months: int
    trial_period_ends: date | None = None
    monthly_salary_eur: Decimal | None = None
    missing_documents: list[StartDocument] = Field(default_factory=list)
    cancellation_reason: str | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class EmployeeCreated(_Read):
    """``created`` is False when HR already had the person (a returning employee, or a resend)."""

    employee: Employee
    created: bool
    employment_ids: list[int] = Field(default_factory=list, description="The person's existing employments, when HR already had them.")


class EmploymentCreated(_Read):
    """``created`` is False when HR already had this employment (same person and start date, same terms)."""

    employment: Employment
    created: bool


class Cancellation(_Write):
    reason: str = Field(min_length=1, max_length=500)
