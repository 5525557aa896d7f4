"""Models for the service desk REST API v1 (the API is described in connectors/servicedesk/README.md).

A request is one ticket: an IT account with its access profile, an access card, named keys, or
equipment. ``external_reference`` is the idempotency key: creating a request with a reference the
desk already has returns that ticket. Nothing here carries a henkilötunnus; people are named and
identified by their HR employee id.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from connectors.servicedesk.catalog import EquipmentKind, RequestType
from schemas.redaction import HETU_PATTERN

TicketState = Literal["new", "in_progress", "done", "cancelled"]
OPEN_STATES: frozenset[str] = frozenset({"new", "in_progress"})
Reference = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[\x21-\x7e]+$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _no_hetu(value: Any, where: str = "") -> None:
    if isinstance(value, str) and HETU_PATTERN.search(value):
        raise ValueError(f"{where or 'a field'} holds a henkilötunnus; the service desk never gets one")
    if isinstance(value, BaseModel):
        for name, item in value:
            _no_hetu(item, name)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _no_hetu(item, where)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)


class _Write(_Model):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    @model_validator(mode="after")
    def _never_a_hetu(self) -> Any:
        for name, value in self:
            _no_hetu(value, name)
        return self


class Person(_Write):
    """Whom the request is for: a new employee as HR knows them."""

    employee_id: int | None = Field(default=None, gt=0, description="HR's employee id, once HR has the person.")
    first_names: Text
    last_name: Text
    job_title: Text
    unit_id: str = Field(min_length=1, max_length=40)
    start_date: date


class ItAccountDetails(_Write):
    """User account (AD, e-mail, licences) with the access profile of the person's title."""

    kind: Literal["it_account"] = "it_account"
    access_profile: str = Field(min_length=1, max_length=40, description="catalog.access_profile_for(title).code")
    systems: list[Text] = Field(default_factory=list)
    email_account: bool = True


class AccessCardDetails(_Write):
    """Access card (kulkukortti) with the areas it opens."""

    kind: Literal["access_card"] = "access_card"
    areas: list[Text] = Field(min_length=1)
    photo_needed: bool = True


class KeysDetails(_Write):
    """Named physical keys."""

    kind: Literal["keys"] = "keys"
    keys: list[Text] = Field(min_length=1)


class EquipmentItem(_Write):
    kind: EquipmentKind
    quantity: int = Field(default=1, ge=1, le=10)
    note: str | None = Field(default=None, max_length=200)


class EquipmentDetails(_Write):
    """Devices to deliver before the first day."""

    kind: Literal["equipment"] = "equipment"
    items: list[EquipmentItem] = Field(min_length=1)


Details = Annotated[ItAccountDetails | AccessCardDetails | KeysDetails | EquipmentDetails, Field(discriminator="kind")]


class ServiceRequestCreate(_Write):
    """One request to open. ``external_reference`` names the business act, e.g. ``employment_start:42:keys``."""

    external_reference: Reference
    person: Person
    due_date: date
    details: Details
    description: str | None = Field(default=None, max_length=2000)

    @property
    def type(self) -> RequestType:
        return self.details.kind


class Comment(_Model):
    comment_id: int
    kind: Literal["comment", "reminder"]
    text: str
    author: str
    created_at: datetime


class Ticket(_Model):
    """A service-desk ticket as the desk gives it back."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    ticket_id: str
    type: RequestType
    state: TicketState
    title: str
    external_reference: str
    person: Person
    details: Details
    due_date: date
    assignment_group: str
    requested_by: str
    description: str | None = None
    reminders: int = 0
    comments: list[Comment] = Field(default_factory=list)
    resolution: str | None = None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def is_overdue(self, today: date) -> bool:
        """Still open after its due date."""
        return self.is_open and today > self.due_date


class TicketCreated(_Model):
    """``created`` is False when the desk already had a request with this external reference."""

    ticket: Ticket
    created: bool
