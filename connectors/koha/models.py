"""Pydantic models for the Koha REST API v1 patron subset.

Contract: shared/specs/koha/api/v1/swagger/definitions/{patron,patron_extended_attribute}.yaml
(libraries and patron categories follow Koha's definitions/library.yaml and
definitions/patron_category.yaml upstream). Read models ignore fields they do not use, so a newer
Koha adding fields does not break the robot; write models forbid unknown fields, as Koha's
``additionalProperties: false`` does.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from schemas.redaction import HETU_PATTERN

Code10 = Annotated[str, StringConstraints(min_length=1, max_length=10)]
_PHONE = re.compile(r"\+?[0-9]+")


class _Read(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Write(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="after")
    def _never_a_hetu(self) -> Any:
        """The library system never gets a raw henkilötunnus (Finnish installs keep it in a vault)."""
        for name, value in self:
            if isinstance(value, str):
                texts = [value]
            elif isinstance(value, list):
                texts = [item.value for item in value if isinstance(getattr(item, "value", None), str)]
            else:
                continue
            if any(HETU_PATTERN.search(text) for text in texts):
                raise ValueError(f"{name} holds a henkilötunnus; Koha gets only the hetu key")
        return self


class ExtendedAttribute(_Read):
    """A patron extended attribute: ``type`` is the attribute type code (e.g. SOTU)."""

    extended_attribute_id: int | None = None
    type: str
    value: str


class ExtendedAttributeIn(_Write):
    type: Code10
    value: str = Field(min_length=1, max_length=255)


class Patron(_Read):
    """A Koha patron as the API returns it (fields the processes use)."""

    patron_id: int
    cardnumber: str | None = None
    userid: str | None = None
    surname: str | None = None
    firstname: str | None = None
    date_of_birth: date | None = None
    library_id: str
    category_id: str
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    lang: str | None = None
    date_enrolled: date | None = None
    expiry_date: date | None = None
    relationship_type: str | None = None
    restricted: bool | None = None
    expired: bool | None = None
    extended_attributes: list[ExtendedAttribute] = Field(default_factory=list)

    def attribute_values(self, code: str) -> list[str]:
        return [attribute.value for attribute in self.extended_attributes if attribute.type == code]


class PatronCreate(_Write):
    """A new patron. Koha requires surname, library and category; the rest is what a card needs."""

    surname: str = Field(min_length=1)
    firstname: str | None = None
    date_of_birth: date | None = None
    library_id: Code10
    category_id: Code10
    cardnumber: str | None = Field(default=None, min_length=1, max_length=32)
    userid: str | None = Field(default=None, min_length=1, max_length=75)
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = None
    mobile: str | None = None
    sms_number: str | None = Field(default=None, max_length=50)
    address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    lang: str | None = None
    relationship_type: str | None = Field(default=None, max_length=100)
    staff_notes: str | None = None
    opac_notes: str | None = None
    extended_attributes: list[ExtendedAttributeIn] = Field(default_factory=list)

    @field_validator("phone", "mobile", "sms_number")
    @classmethod
    def _digits_and_a_leading_plus(cls, value: str | None) -> str | None:
        """Koha-Suomi practice: phone fields hold digits and a leading + only."""
        if value is None:
            return None
        compact = re.sub(r"[\s()-]", "", value)
        if not _PHONE.fullmatch(compact):
            raise ValueError("a phone number holds digits and an optional leading +")
        return compact


class GuarantorLink(BaseModel):
    """Who answers for a child patron, and how they are related (e.g. huoltaja)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    guarantor_id: int = Field(gt=0)
    relationship: str = Field(default="huoltaja", min_length=1, max_length=100)


class Library(_Read):
    library_id: str
    name: str
    address1: str | None = None
    postal_code: str | None = None
    city: str | None = None
    email: str | None = None
    phone: str | None = None
    public: bool | None = None
    pickup_location: bool | None = None


class PatronCategory(_Read):
    """A patron category. Koha's API gives ``lower_age_limit`` as a boolean (it is a tinyint(1) in the
    database), so only the upper limit is a number here."""

    patron_category_id: str
    name: str | None = None
    category_type: str | None = None
    enrolment_period: float | None = None
    enrolment_period_date: date | None = None
    upper_age_limit: float | None = None
    lower_age_limit: bool | None = None
    can_be_guarantee: bool | None = None
    min_password_length: float | None = None

    @property
    def is_child(self) -> bool:
        return self.category_type == "C"
