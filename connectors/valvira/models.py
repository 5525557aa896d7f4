"""Models of the professional register lookup (Valvira's JulkiTerhikki/JulkiSuosikki-like, domain.md §4.1)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

#: The register's technical 11-digit registration number.
REGISTRATION_NUMBER = r"^\d{11}$"


class RightStatus(StrEnum):
    VALID = "valid"
    LIMITED = "limited"
    EXPIRED = "expired"


class RightToPractise(BaseModel):
    """One right: a licensed profession (laillistettu) or a protected title (nimikesuojattu)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)
    profession: str
    kind: str
    register_name: str = Field(alias="register", description="Terhikki (health) or Suosikki (social welfare).")
    valid_from: date
    valid_until: date | None = None
    status: RightStatus
    limitation: str | None = None

    def in_force_on(self, day: date) -> bool:
        """Valid or limited, and within its dates on ``day``."""
        return self.status is not RightStatus.EXPIRED and self.valid_from <= day and (self.valid_until is None or day <= self.valid_until)


class Professional(BaseModel):
    """A person in the register with their rights."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    registration_number: str = Field(pattern=REGISTRATION_NUMBER)
    last_name: str
    first_names: str
    birth_date: date
    rights: list[RightToPractise] = Field(default_factory=list)

    def __repr__(self) -> str:
        return f"Professional({self.registration_number})"
