"""The recruiter UI's "export applicants to Excel" file: its columns, written by the sandbox and read by robots.

The export is where the application form's answers live (registration number, qualifications,
languages, availability, reference consent): the applications API does not give them, which is
why a robot reads them through the web UI. Headers are Helbit's Finnish ones; dates are real
Excel dates; several values in one cell are separated by ``;``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

EXPORT_SHEET = "Hakijat"
#: Column header → ExportedApplicant field, in the file's order.
EXPORT_COLUMNS: dict[str, str] = {
    "Hakemusnumero": "application_id",
    "Ehdokasnumero": "candidate_id",
    "Etunimet": "first_names",
    "Sukunimi": "last_name",
    "Syntymäaika": "birth_date",
    "Sähköposti": "email",
    "Puhelin": "phone",
    "Rekisteröintinumero (Terhikki/Suosikki)": "registration_number",
    "Koulutus": "qualifications",
    "Kielitaito": "languages",
    "Käytettävissä alkaen": "available_from",
    "Käytettävissä asti": "available_until",
    "Suostumus suosittelijoihin": "reference_consent",
    "Vaihe": "stage",
    "Tila": "status",
    "Hakemus saapui": "applied_at",
}
STATUS_LABELS = {"active": "Aktiivinen", "rejected": "Hylätty", "hired": "Palkattu"}
_FINNISH_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")


def _as_date(value: Any) -> Any:
    """An Excel date cell (datetime), an ISO date or a Finnish ``d.m.yyyy``; empty is None."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str) and (match := _FINNISH_DATE.match(value.strip())):
        day, month, year = map(int, match.groups())
        return date(year, month, day)
    return value


def _as_list(value: Any) -> Any:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(";") if part.strip()]
    return value


def _as_languages(value: Any) -> Any:
    """``suomi: äidinkieli; englanti: hyvä`` → ``{"suomi": "äidinkieli", "englanti": "hyvä"}``."""
    if isinstance(value, dict):
        return value
    skills: dict[str, str] = {}
    for part in _as_list(value):
        name, _, level = part.partition(":")
        skills[name.strip().lower()] = level.strip().lower()
    return skills


def _as_consent(value: Any) -> Any:
    if isinstance(value, str):
        return {"kyllä": True, "ei": False}.get(value.strip().lower(), value)
    return value


def _as_text(value: Any) -> Any:
    if value in (None, ""):
        return None
    if isinstance(value, float) and value.is_integer():  # a number cell read back as float
        value = int(value)
    return str(value).strip()


class ExportedApplicant(BaseModel):
    """One row of the export. ``registration_number`` is as the applicant typed it (may be wrong)."""

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    application_id: int
    candidate_id: int
    first_names: str = Field(min_length=1)
    last_name: str = Field(min_length=1)
    birth_date: Annotated[date, BeforeValidator(_as_date)]
    email: str | None = None
    phone: Annotated[str | None, BeforeValidator(_as_text)] = None
    registration_number: Annotated[str | None, BeforeValidator(_as_text)] = None
    qualifications: Annotated[list[str], BeforeValidator(_as_list)] = Field(default_factory=list)
    languages: Annotated[dict[str, str], BeforeValidator(_as_languages)] = Field(default_factory=dict)
    available_from: Annotated[date | None, BeforeValidator(_as_date)] = None
    available_until: Annotated[date | None, BeforeValidator(_as_date)] = None
    reference_consent: Annotated[bool, BeforeValidator(_as_consent)] = False
    stage: str | None = None
    status: str = "Aktiivinen"
    applied_at: datetime | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ExportedApplicant:
        """Build from a row keyed by the export's headers.

        Raises:
            KeyError: a column of the export is missing (the export format changed).
            pydantic.ValidationError: a cell does not hold what its column promises.
        """
        return cls.model_validate({field: row[header] for header, field in EXPORT_COLUMNS.items()})

    @property
    def is_active(self) -> bool:
        return self.status == STATUS_LABELS["active"]
